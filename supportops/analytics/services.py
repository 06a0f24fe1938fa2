"""Writes of the analytics app's own settings (the ledger's rows are written by `ledger`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from functools import partial

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from supportops.accounts.models import Role, Workspace
from supportops.accounts.services import Actor, audit_log_write, real_user
from supportops.inbox.models import Queue

from .models import EXTRACTIVE, AnalyticsSettings, HandlingRate, ModelPrice

MAX_WINDOW_HOURS = 24 * 30


class AnalyticsError(ValueError):
    """A setting that cannot be saved; the message says why."""


@transaction.atomic
def analytics_settings_update(
    *, workspace: Workspace, actor: Actor, repeat_window_hours: int
) -> AnalyticsSettings:
    """Change the repeat-contact window (admins and managers). Outcomes already final stay
    as they are; provisional ones use the new window at their next refresh."""
    person = real_user(actor)
    if (
        person is None
        or not workspace.memberships.filter(
            user=person, role__in=(Role.ADMIN, Role.MANAGER)
        ).exists()
    ):
        raise AnalyticsError("Only admins and managers may change the repeat-contact window.")
    if isinstance(repeat_window_hours, bool) or not 1 <= repeat_window_hours <= MAX_WINDOW_HOURS:
        raise AnalyticsError(f"The window must be 1 to {MAX_WINDOW_HOURS} hours.")
    row, _ = AnalyticsSettings.objects.select_for_update().get_or_create(workspace=workspace)
    before = row.repeat_window_hours
    row.repeat_window_hours = repeat_window_hours
    row.save()
    audit_log_write(
        workspace=workspace,
        actor=person,
        action="analytics.repeat_window",
        target=row,
        details={"from": before, "to": repeat_window_hours},
    )
    return row


# --- Prices, rates and the idle gap of cost lines (costs.py) ------------------------------------

PRICE_MAX = Decimal("1000000")
COST_EDITORS = (Role.ADMIN, Role.MANAGER)


def _require_editor(workspace: Workspace, actor: Actor, what: str) -> User:
    person = real_user(actor)
    if (
        person is None
        or not workspace.memberships.filter(user=person, role__in=COST_EDITORS).exists()
    ):
        raise AnalyticsError(f"Only admins and managers may change {what}.")
    return person


def _amount(value: Decimal | int | str, name: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise AnalyticsError(f"{name} must be a number.") from exc
    if not amount.is_finite() or amount < 0 or amount > PRICE_MAX:
        raise AnalyticsError(f"{name} must be between 0 and {PRICE_MAX:,}.")
    return amount


def _reprice_on_commit(workspace: Workspace, since: date) -> None:
    from .tasks import cost_lines_reprice_task

    transaction.on_commit(partial(cost_lines_reprice_task.delay, workspace.pk, since.isoformat()))


@transaction.atomic
def model_price_set(
    *,
    workspace: Workspace,
    actor: Actor,
    provider: str,
    model: str = "",
    input_per_mtok: Decimal | int | str = 0,
    output_per_mtok: Decimal | int | str = 0,
    per_thousand_turns: Decimal | int | str = 0,
    effective_from: date,
) -> ModelPrice:
    """A provider's price from `effective_from` on (admins and managers; audited). Turns
    before that day keep the price they had; a row for the same day is replaced. The
    conversations with activity from that day are recomputed in Celery."""
    person = _require_editor(workspace, actor, "prices")
    if provider not in ModelPrice.Provider.values:
        raise AnalyticsError(f"Unknown provider {provider!r}.")
    model = (model or "").strip()
    if provider == EXTRACTIVE and model:
        raise AnalyticsError("The extractive provider has no model name.")
    if provider != EXTRACTIVE and not model:
        raise AnalyticsError("Give the model's name as the bot records it (LLM_MODEL).")
    values = {
        "input_per_mtok": _amount(input_per_mtok, "The input price"),
        "output_per_mtok": _amount(output_per_mtok, "The output price"),
        "per_thousand_turns": _amount(per_thousand_turns, "The compute per 1,000 turns"),
    }
    existing = (
        ModelPrice.objects.select_for_update()
        .filter(workspace=workspace, provider=provider, model=model, effective_from=effective_from)
        .first()
    )
    before = {k: str(getattr(existing, k)) for k in values} if existing else None
    row, _ = ModelPrice.objects.update_or_create(
        workspace=workspace,
        provider=provider,
        model=model,
        effective_from=effective_from,
        defaults={**values, "created_by": person},
    )
    audit_log_write(
        workspace=workspace,
        actor=person,
        action="analytics.model_price",
        target=row,
        details={
            "key": row.key,
            "effective_from": effective_from.isoformat(),
            "from": before,
            "to": {k: str(v) for k, v in values.items()},
        },
    )
    _reprice_on_commit(workspace, effective_from)
    return row


@transaction.atomic
def handling_rate_set(
    *,
    workspace: Workspace,
    actor: Actor,
    hourly_cost: Decimal | int | str,
    effective_from: date,
    agent_id: int | None = None,
    queue_id: int | None = None,
) -> HandlingRate:
    """An hour of handling's cost from `effective_from` on, for one agent, one team (inbox
    queue) or everyone (neither); audited, recomputed like prices."""
    person = _require_editor(workspace, actor, "handling rates")
    if agent_id and queue_id:
        raise AnalyticsError("A rate is for one agent or one team, not both.")
    if agent_id and not workspace.memberships.filter(user_id=agent_id).exists():
        raise AnalyticsError("That person is not a member of this workspace.")
    if queue_id and not Queue.objects.filter(workspace=workspace, pk=queue_id).exists():
        raise AnalyticsError("That team (queue) does not exist in this workspace.")
    cost = _amount(hourly_cost, "The hourly cost")
    if cost != cost.quantize(Decimal("0.01")):
        raise AnalyticsError("The hourly cost has at most two decimals.")
    existing = (
        HandlingRate.objects.select_for_update()
        .filter(
            Q(agent_id=agent_id) if agent_id else Q(agent__isnull=True),
            Q(queue_id=queue_id) if queue_id else Q(queue__isnull=True),
            workspace=workspace,
            effective_from=effective_from,
        )
        .first()
    )
    before = str(existing.hourly_cost) if existing else None
    if existing is None:
        row = HandlingRate.objects.create(
            workspace=workspace,
            agent_id=agent_id or None,
            queue_id=queue_id or None,
            hourly_cost=cost,
            effective_from=effective_from,
            created_by=person,
        )
    else:
        row = existing
        row.hourly_cost, row.created_by = cost, person
        row.save(update_fields=["hourly_cost", "created_by"])
    audit_log_write(
        workspace=workspace,
        actor=person,
        action="analytics.handling_rate",
        target=row,
        details={
            "applies_to": row.applies_to,
            "effective_from": effective_from.isoformat(),
            "from": before,
            "to": str(cost),
        },
    )
    _reprice_on_commit(workspace, effective_from)
    return row


@transaction.atomic
def idle_gap_update(*, workspace: Workspace, actor: Actor, minutes: int) -> AnalyticsSettings:
    """How long a pause may be and still count as handling time (audited). Costs from
    today on are recomputed; earlier conversations keep theirs."""
    person = _require_editor(workspace, actor, "the idle gap")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 24 * 60:
        raise AnalyticsError("The idle gap must be 1 to 1440 minutes.")
    row, _ = AnalyticsSettings.objects.select_for_update().get_or_create(workspace=workspace)
    before = row.idle_gap_minutes
    if before == minutes:
        return row
    row.idle_gap_minutes = minutes
    row.save()
    audit_log_write(
        workspace=workspace,
        actor=person,
        action="analytics.idle_gap",
        target=row,
        details={"from": before, "to": minutes},
    )
    _reprice_on_commit(workspace, timezone.localdate())
    return row
