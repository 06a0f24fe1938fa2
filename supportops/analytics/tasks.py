"""Thin Celery tasks of the outcome ledger and the rollout readout's guardrails: ids in, one
service call."""

from __future__ import annotations

from datetime import date, timedelta

from celery import shared_task

from supportops.accounts.models import Workspace
from supportops.conversations.models import Conversation
from supportops.lib.outage import DATABASE_RETRY
from supportops.rollout.models import Phase

from . import readout
from .analysis import analyses_sweep_run, analysis_refresh
from .costs import cost_lines_refresh, cost_lines_reprice, costs_sweep_run
from .ledger import (
    customer_earlier_in_window,
    outcome_refresh,
    outcome_up_to_date,
    outcomes_sweep_run,
)
from .rollups import rollups_build
from .theme_reports import theme_report_run


@shared_task(**DATABASE_RETRY, acks_late=True, time_limit=120)
def outcome_refresh_task(conversation_id: int, earlier: bool = False) -> str:
    """Recompute one conversation's outcome; with `earlier`, also those of the customer's
    earlier conversations whose window it falls in (it may be a repeat contact of them)."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return "nothing to do"
    if not earlier and outcome_up_to_date(conversation=conversation):
        return "up to date"  # an earlier refresh already saw all there is (and costed it)
    outcome = outcome_refresh(conversation=conversation)
    # The cost lines change with the same events and messages as the outcome.
    cost_lines_refresh(conversation=conversation)
    if conversation.status == Conversation.Status.RESOLVED:
        # Resolved or ended: analyse it now (quiet ones are found by the analysis sweep).
        analysis_refresh_task.delay(conversation.pk)
    if earlier:
        for other in Conversation.objects.filter(
            pk__in=customer_earlier_in_window(conversation=conversation)
        ):
            outcome_refresh(conversation=other)
    return outcome.outcome if outcome is not None else "no outcome yet"


@shared_task(**DATABASE_RETRY, acks_late=True, time_limit=120)
def cost_lines_refresh_task(conversation_id: int) -> str:
    """Recompute one conversation's cost lines (after a co-pilot call: it adds no message
    or event, so the outcome refresh would skip it)."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return "nothing to do"
    cost_lines_refresh(conversation=conversation)
    return "done"


@shared_task(acks_late=True, time_limit=1800)
def outcomes_sweep() -> int:
    """Beat: outcomes whose window has passed become final, and anything the on-commit
    refreshes missed is recomputed, cost lines too. Idempotent: a second run finds nothing
    to change."""
    return outcomes_sweep_run() + costs_sweep_run()


@shared_task(**DATABASE_RETRY, acks_late=True, time_limit=3600)
def cost_lines_reprice_task(workspace_id: int, since: str) -> int:
    """A price, rate or the idle gap changed from `since` (ISO date): recompute the cost
    lines of conversations with activity from that day."""
    return cost_lines_reprice(workspace=workspace_id, since=date.fromisoformat(since))


@shared_task(**DATABASE_RETRY, acks_late=True, time_limit=300)
def analysis_refresh_task(conversation_id: int) -> str:
    """Analyse one conversation (sentiment, trend, category, rejections, gap, summary)."""
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return "nothing to do"
    return analysis_refresh(conversation=conversation).summary


@shared_task(acks_late=True, time_limit=3 * 3600)
def analyses_sweep(lookback_hours: float = 48) -> int:
    """Beat: analyse conversations that went quiet or were resolved and have no analysis,
    or one older than their last message or event (every few minutes over two days, and
    nightly over 30 days for anything missed)."""
    return analyses_sweep_run(lookback=timedelta(hours=lookback_hours))


@shared_task(acks_late=True, time_limit=3 * 3600)
def theme_report_task(report_id: int) -> str:
    """Find one theme report's themes, with its progress stored as it goes."""
    report = theme_report_run(report_id=report_id)
    return report.status if report is not None else "nothing to do"


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


@shared_task(**DATABASE_RETRY, acks_late=True, time_limit=3600)
def rollups_build_task(workspace_id: int, verify: bool = False) -> int:
    """Build one workspace's missing and changed daily rollups; returns the days rebuilt."""
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return 0
    return len(rollups_build(workspace=workspace, verify=verify))


@shared_task
def rollups_refresh(verify: bool = False) -> int:
    """Beat: bring every workspace's daily rollups up to date (each in its own task);
    nightly with `verify` (the last week again, and days whose counts drifted)."""
    ids = list(Workspace.objects.values_list("pk", flat=True))
    for workspace_id in ids:
        rollups_build_task.delay(workspace_id, verify)
    return len(ids)
