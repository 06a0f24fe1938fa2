"""Publishing through the real stack: commit → Redis → Celery worker → embeddings in PostgreSQL."""

from __future__ import annotations

import pytest

from supportops.knowledge.models import Article, Chunk
from supportops.knowledge.search import search
from supportops.knowledge.services import article_create
from tests.conftest import wait_for


@pytest.mark.django_db(transaction=True)
def test_a_published_article_is_embedded_by_the_worker(workspace, owner, celery_worker_process):
    article = article_create(
        workspace=workspace,
        owner=owner,
        publish=True,
        title="Can I change my delivery address?",
        body="Before dispatch, edit the address under Account > Orders > Change address.",
    )
    assert Chunk.objects.filter(article=article, embedding__isnull=True).exists()

    wait_for(lambda: Article.objects.get(pk=article.pk).index_state == Article.IndexState.READY)

    assert not Chunk.objects.filter(article=article, embedding__isnull=True).exists()
    hits = search(workspace=workspace, query="ship it to a different place", mode="vector").hits
    assert hits[0].article_id == article.pk
