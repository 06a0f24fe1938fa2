from __future__ import annotations

from celery import shared_task

from supportops.lib.outage import DATABASE_RETRY

from . import services


# The job is claimed by a conditional update: a second delivery finds it running or done and
# does nothing; a run whose worker died is taken over once it is stale (services.STALE_RUN).
@shared_task(**DATABASE_RETRY, acks_late=True, time_limit=3600)
def export_job_run(job_id: int) -> int | None:
    job = services.export_job_run(job_id=job_id)
    return job.rows_done if job else None


@shared_task
def exports_expire() -> int:
    return services.exports_expire()
