"""Thin Celery tasks of the outcome ledger and the rollout readout's guardrails: ids in, one
service call."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from supportops.conversations.models import Conversation
from supportops.rollout.models import Phase

from . import readout
from .ledger import customer_earlier_in_window, outcome_refresh, outcomes_sweep_run


@shared_task(
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
    time_limit=120,
)
def outcome_refresh_task(conversation_id: int, earlier: bool = False) -> str:
    """Recompute one conversation's outcome; with `earlier`, also those of the customer's
    earlier conversations whose window it falls in (it may be a repeat contact of them)."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return "nothing to do"
    outcome = outcome_refresh(conversation=conversation)
    if earlier:
        for other in Conversation.objects.filter(
            pk__in=customer_earlier_in_window(conversation=conversation)
        ):
            outcome_refresh(conversation=other)
    return outcome.outcome if outcome is not None else "no outcome yet"


@shared_task(acks_late=True, time_limit=1800)
def outcomes_sweep() -> int:
    """Beat: outcomes whose window has passed become final, and anything the on-commit
    refreshes missed is recomputed. Idempotent: a second run finds nothing to change."""
    return outcomes_sweep_run()


@shared_task(acks_late=True, time_limit=300)
def guardrails_check(phase_id: int) -> list[str]:
    """Pause one live rollout phase whose readout crosses a guardrail with confidence."""
    return readout.guardrails_enforce(phase_id=phase_id)


@shared_task
def guardrails_check_live() -> int:
    """Beat: check every live phase (each in its own task)."""
    ids = list(Phase.objects.filter(status=Phase.Status.LIVE).values_list("pk", flat=True))
    for phase_id in ids:
        guardrails_check.delay(phase_id)
    return len(ids)
