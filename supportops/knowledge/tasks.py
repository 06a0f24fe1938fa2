from __future__ import annotations

from celery import shared_task

from supportops.integrations.embeddings import EmbeddingError
from supportops.lib.outage import DATABASE_RETRY, DATABASE_UNAVAILABLE

from . import services


@shared_task(
    autoretry_for=(EmbeddingError, ConnectionError, *DATABASE_UNAVAILABLE),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
    acks_late=True,
    time_limit=600,
)
def article_embed(article_id: int) -> int:
    return services.article_embed(article_id=article_id)


# The job is claimed by a conditional update: a retry after the claim does nothing, one before
# it (the database was away when the task started) runs the import.
@shared_task(**DATABASE_RETRY, acks_late=True, time_limit=3600)
def import_job_run(job_id: int) -> None:
    from .importing import import_job_run as run

    run(job_id=job_id)


@shared_task
def chunks_embed_sweep() -> int:
    """Re-queue embedding for chunks that a lost task left without a vector."""
    pending = services.articles_missing_embeddings()
    for article_id in pending:
        article_embed.delay(article_id)
    return len(pending)


@shared_task(**DATABASE_RETRY, acks_late=True, time_limit=300)
def lexicon_refresh(workspace_id: int) -> int:
    from . import lexicon

    return len(lexicon.refresh(workspace_id))
