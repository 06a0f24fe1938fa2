from __future__ import annotations

from celery import shared_task

from supportops.integrations.embeddings import EmbeddingError


@shared_task(
    autoretry_for=(EmbeddingError, ConnectionError),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
    time_limit=120,
)
def bot_turn(message_id: int) -> str:
    from .turn import bot_turn_run

    turn = bot_turn_run(message_id=message_id)
    # None: the message is gone (its conversation was deleted) or is not the customer's.
    return turn.action if turn is not None else "nothing to do"
