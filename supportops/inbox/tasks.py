from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def handoff_packet_enrich(handoff_id: int) -> str:
    """The chat model's summary and suggested reply for a handoff packet (LLM provider)."""
    from .generated import handoff_packet_enrich as enrich

    return "enriched" if enrich(handoff_id=handoff_id) else "nothing to do"
