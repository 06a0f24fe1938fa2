from __future__ import annotations

from celery import shared_task

from supportops.lib.outage import DATABASE_RETRY, DATABASE_UNAVAILABLE

from . import followup, generated


@shared_task(**DATABASE_RETRY, acks_late=True, time_limit=120, soft_time_limit=100)
def handoff_packet_enrich(handoff_id: int) -> str:
    """The chat model's summary and suggested reply for a handoff packet (LLM provider)."""
    return "enriched" if generated.handoff_packet_enrich(handoff_id=handoff_id) else "nothing to do"


@shared_task(
    autoretry_for=(OSError, *DATABASE_UNAVAILABLE),  # SMTP, connection and database errors
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=10,
    acks_late=True,
    time_limit=60,
)
def followup_email_send(message_id: int) -> str:
    return "sent" if followup.message_email_send(message_id=message_id) else "nothing to do"


@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
    time_limit=60,
)
def csat_email_send(request_id: int) -> str:
    """The resolve email with one-click rating links (email conversations)."""
    return "sent" if followup.csat_email_send(request_id=request_id) else "nothing to do"
