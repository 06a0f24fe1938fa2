from __future__ import annotations

from celery import shared_task


@shared_task(
    autoretry_for=(OSError,),  # SMTP and connection errors
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
    time_limit=60,
)
def followup_email_send(message_id: int) -> str:
    from .followup import message_email_send

    return "sent" if message_email_send(message_id=message_id) else "nothing to do"
