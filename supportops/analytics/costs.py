"""Cost lines: what each conversation cost, in model use and in people's time.

The contract dashboards and exports read (rows are written only here):

- `CostLine` (analytics.models), several per conversation, each one part of its cost:
    kind        "model": the bot turns of one provider at one price row
                "copilot": the co-pilot's drafts, model rewrites and summaries for the
                           agent (inbox.CopilotCall) of one provider at one price row
                "agent": one agent's handling time at one rate row
    key         the provider key as the bot turn recorded it ("extractive",
                "openai:<model>"), or "agent:<user id>"
    agent       the agent (kind "agent"), else null
    turns, prompt_tokens, completion_tokens   (kinds "model" and "copilot"; a co-pilot
                call counts as one turn)
    seconds     handling seconds (kind "agent")
    price, rate the ModelPrice / HandlingRate row applied (null: none was in effect,
                the line's amount is 0 and ConversationCost.unpriced is set)
    amount_usd  Decimal, 8 places
    started_at, channel, arm   copied from the conversation, to group without joins
  Sum `amount_usd` per conversation, group, month, ... ; a conversation with no lines cost 0.
- `ConversationCost`, one per conversation: model_usd (bot turns and co-pilot), agent_usd,
  total_usd,
  handling_seconds, unpriced (the sums of its lines, and what the computation saw).
- `selectors.cost_per_resolution(...)`: cost of all conversations of a group divided by its
  confirmed plus unconfirmed resolutions from the ledger.

How the amounts are made:

- Model: each finished bot turn (not one the bot skipped) is priced by the `ModelPrice`
  of its provider key whose `effective_from` is the latest on or before the turn's date:
  tokens x the price per million input / output tokens, plus `per_thousand_turns` / 1000
  per turn (the extractive provider costs only its compute, set that way). The co-pilot's
  calls are priced the same way, by the same price rows, on lines of their own.
- Agent: handling runs from a person's claim to the resolve (each claim after a resolve or
  a reopen starts another stretch). Within a stretch every message and event is a moment
  of activity; the time between two moments counts, unless it is longer than the
  workspace's idle gap (`AnalyticsSettings.idle_gap_minutes`, 10 by default): then the
  whole pause is idle and not counted. The time counts for whoever held the conversation
  at the start of the interval, at that person's rate in effect on that day: their own
  rate, else their team's (the inbox queue the conversation was routed to), else the
  workspace default.

History is not rewritten silently: prices and rates change by a new row from a date, and a
recomputation after such a change reprices only conversations with activity on or after
that date (`cost_lines_reprice`); a conversation keeps the prices of the days its turns
and handling happened. Refreshing with nothing new changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from supportops.accounts.models import Workspace
from supportops.bot.models import BotTurn
from supportops.conversations.models import Conversation, ConversationEvent, Message
from supportops.inbox.models import CopilotCall, Routing
from supportops.integrations.llm import COST_QUANTUM

from .models import (
    DEFAULT_IDLE_GAP_MINUTES,
    EXTRACTIVE,
    AnalyticsSettings,
    ConversationCost,
    CostLine,
    HandlingRate,
    ModelPrice,
    Outcome,
)

_Dated = TypeVar("_Dated", ModelPrice, HandlingRate)
_MILLION = Decimal(1_000_000)
_THOUSAND = Decimal(1000)
_HOUR_S = Decimal(3600)


def idle_gap_get(*, workspace: Workspace | int) -> timedelta:
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    minutes = (
        AnalyticsSettings.objects.filter(workspace_id=workspace_id)
        .values_list("idle_gap_minutes", flat=True)
        .first()
    )
    return timedelta(minutes=minutes or DEFAULT_IDLE_GAP_MINUTES)


def _day(moment: datetime) -> date:
    return timezone.localdate(moment)


def _in_effect(rows: list[_Dated], day: date) -> _Dated | None:
    """The row with the latest `effective_from` on or before `day` (rows sorted newest first)."""
    return next((row for row in rows if row.effective_from <= day), None)


# --- Handling time ------------------------------------------------------------------------------


def handling_intervals(
    *, conversation: Conversation, idle_gap: timedelta
) -> list[tuple[datetime, float, int | None]]:
    """(start, seconds, agent id) of each counted interval of people's handling, read from
    the conversation's event log and messages (see the module docstring for the rules)."""
    moments: list[tuple[datetime, int, str, dict]] = [
        (e.at, e.pk, e.kind, e.data or {})
        for e in ConversationEvent.objects.filter(conversation=conversation).only(
            "at", "kind", "data"
        )
    ]
    moments += [
        (at, 0, "message", {})
        for at in Message.objects.filter(conversation=conversation).values_list(
            "created_at", flat=True
        )
    ]
    # Events before messages at the same instant: a claim by reply precedes its message.
    moments.sort(key=lambda m: (m[0], 0 if m[2] != "message" else 1, m[1]))
    out: list[tuple[datetime, float, int | None]] = []
    holder: int | None = None
    last: datetime | None = None
    for at, _pk, kind, data in moments:
        if last is not None:
            gap = at - last
            if timedelta(0) < gap <= idle_gap:
                out.append((last, gap.total_seconds(), holder))
            last = at
        if kind == ConversationEvent.Kind.CLAIMED:
            holder = data.get("user_id") if isinstance(data.get("user_id"), int) else holder
            if last is None:
                last = at
        elif kind == ConversationEvent.Kind.RESOLVED:
            last = None
    return out


# --- The computation ----------------------------------------------------------------------------


@dataclass
class _Line:
    kind: str
    key: str
    agent_id: int | None = None
    price: ModelPrice | None = None
    rate: HandlingRate | None = None
    turns: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    amount: Decimal = field(default_factory=Decimal)

    def signature(self) -> tuple:
        return (
            self.kind,
            self.key,
            self.agent_id,
            self.price.pk if self.price else None,
            self.rate.pk if self.rate else None,
            self.turns,
            self.prompt_tokens,
            self.completion_tokens,
            round(self.seconds),
            self.amount.quantize(COST_QUANTUM),
        )


def _prices(conversation: Conversation) -> dict[str, list[ModelPrice]]:
    prices: dict[str, list[ModelPrice]] = defaultdict(list)
    for row in ModelPrice.objects.filter(workspace_id=conversation.workspace_id).order_by(
        "-effective_from"
    ):
        prices[row.key].append(row)
    return prices


def _priced_lines(
    kind: str,
    calls: list[tuple[str, int, int, datetime]],
    prices: dict[str, list[ModelPrice]],
) -> tuple[list[_Line], bool]:
    """(provider key, prompt tokens, completion tokens, when) per call, as lines of `kind`:
    one per provider key and price row in effect on the call's day."""
    lines: dict[tuple[str, int | None], _Line] = {}
    unpriced = False
    for key, prompt_tokens, completion_tokens, at in calls:
        price = _in_effect(prices.get(key, []), _day(at))
        unpriced = unpriced or price is None
        line = lines.setdefault(
            (key, price.pk if price else None), _Line(kind=kind, key=key, price=price)
        )
        line.turns += 1
        line.prompt_tokens += prompt_tokens
        line.completion_tokens += completion_tokens
    for line in lines.values():
        if line.price is not None:
            line.amount = (
                (
                    Decimal(line.prompt_tokens) * line.price.input_per_mtok
                    + Decimal(line.completion_tokens) * line.price.output_per_mtok
                )
                / _MILLION
                + Decimal(line.turns) * line.price.per_thousand_turns / _THOUSAND
            ).quantize(COST_QUANTUM)
    return list(lines.values()), unpriced


def _model_lines(conversation: Conversation) -> tuple[list[_Line], bool]:
    prices = _prices(conversation)
    # A turn the bot skipped (a person has the conversation, the control arm) computed
    # nothing and costs nothing.
    turns = BotTurn.objects.filter(conversation=conversation, status=BotTurn.Status.DONE).exclude(
        action=BotTurn.Action.SKIP
    )
    bot = [
        (t.provider or EXTRACTIVE, t.prompt_tokens, t.completion_tokens, t.created_at)
        for t in turns.only("provider", "prompt_tokens", "completion_tokens", "created_at")
    ]
    copilot = list(
        CopilotCall.objects.filter(conversation=conversation)
        .order_by("pk")
        .values_list("provider", "prompt_tokens", "completion_tokens", "created_at")
    )
    bot_lines, bot_unpriced = _priced_lines(CostLine.Kind.MODEL, bot, prices)
    copilot_lines, copilot_unpriced = _priced_lines(CostLine.Kind.COPILOT, copilot, prices)
    return bot_lines + copilot_lines, bot_unpriced or copilot_unpriced


def _agent_lines(conversation: Conversation) -> tuple[list[_Line], bool, int]:
    intervals = handling_intervals(
        conversation=conversation, idle_gap=idle_gap_get(workspace=conversation.workspace_id)
    )
    if not intervals:
        return [], False, 0
    rates = list(
        HandlingRate.objects.filter(workspace_id=conversation.workspace_id).order_by(
            "-effective_from"
        )
    )
    queue_id = (
        Routing.objects.filter(handoff__conversation=conversation)
        .order_by("-created_at")
        .values_list("queue_id", flat=True)
        .first()
    )
    lines: dict[tuple[int | None, int | None], _Line] = {}
    unpriced = False
    total = 0.0
    for start, seconds, agent_id in intervals:
        day = _day(start)
        rate = (
            _in_effect([r for r in rates if agent_id and r.agent_id == agent_id], day)
            or _in_effect([r for r in rates if queue_id and r.queue_id == queue_id], day)
            or _in_effect([r for r in rates if not r.agent_id and not r.queue_id], day)
        )
        unpriced = unpriced or rate is None
        line = lines.setdefault(
            (agent_id, rate.pk if rate else None),
            _Line(
                kind=CostLine.Kind.AGENT,
                key=f"agent:{agent_id}" if agent_id else "agent:unknown",
                agent_id=agent_id,
                rate=rate,
            ),
        )
        line.seconds += seconds
        total += seconds
    for line in lines.values():
        if line.rate is not None:
            line.amount = (Decimal(round(line.seconds)) * line.rate.hourly_cost / _HOUR_S).quantize(
                COST_QUANTUM
            )
    return list(lines.values()), unpriced, round(total)


def _seen(conversation: Conversation) -> tuple[int, int]:
    event = (
        ConversationEvent.objects.filter(conversation=conversation)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    message = (
        Message.objects.filter(conversation=conversation)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return event or 0, message or 0


def cost_lines_refresh(*, conversation: Conversation) -> ConversationCost:
    """Compute the conversation's cost lines and store them if they changed (idempotent:
    with nothing new, nothing is written)."""
    seen_event, seen_message = _seen(conversation)
    model, model_unpriced = _model_lines(conversation)
    agent, agent_unpriced, handling_seconds = _agent_lines(conversation)
    lines = model + agent
    model_usd = sum((line.amount for line in model), Decimal(0))
    agent_usd = sum((line.amount for line in agent), Decimal(0))
    now = timezone.now()
    with transaction.atomic():
        summary = (
            ConversationCost.objects.select_for_update()
            .filter(conversation_id=conversation.pk)
            .first()
        )
        stored = sorted(
            _Line(
                kind=row.kind,
                key=row.key,
                agent_id=row.agent_id,
                price=row.price,
                rate=row.rate,
                turns=row.turns,
                prompt_tokens=row.prompt_tokens,
                completion_tokens=row.completion_tokens,
                seconds=row.seconds,
                amount=row.amount_usd,
            ).signature()
            for row in CostLine.objects.filter(conversation_id=conversation.pk).select_related(
                "price", "rate"
            )
        )
        values = {
            "model_usd": model_usd,
            "agent_usd": agent_usd,
            "total_usd": model_usd + agent_usd,
            "handling_seconds": handling_seconds,
            "unpriced": model_unpriced or agent_unpriced,
            "seen_event_id": seen_event,
            "seen_message_id": seen_message,
        }
        same_lines = stored == sorted(line.signature() for line in lines)
        if summary is not None and same_lines:
            changed = [k for k, v in values.items() if getattr(summary, k) != v]
            if not changed:
                return summary
            for name in changed:
                setattr(summary, name, values[name])
            summary.computed_at = now
            summary.save(update_fields=[*changed, "computed_at"])
            return summary
        if summary is None:
            summary = ConversationCost.objects.create(
                workspace_id=conversation.workspace_id,
                conversation_id=conversation.pk,
                computed_at=now,
                **values,
            )
        else:
            for name, value in values.items():
                setattr(summary, name, value)
            summary.computed_at = now
            summary.save()
        CostLine.objects.filter(conversation_id=conversation.pk).delete()
        CostLine.objects.bulk_create(
            CostLine(
                workspace_id=conversation.workspace_id,
                conversation_id=conversation.pk,
                kind=line.kind,
                key=line.key,
                agent_id=line.agent_id,
                price=line.price,
                rate=line.rate,
                turns=line.turns,
                prompt_tokens=line.prompt_tokens,
                completion_tokens=line.completion_tokens,
                seconds=round(line.seconds),
                amount_usd=line.amount,
                started_at=conversation.created_at,
                channel=conversation.channel,
                arm=conversation.arm,
                computed_at=now,
            )
            for line in lines
        )
        return summary


def cost_lines_reprice(*, workspace: Workspace | int, since: date) -> int:
    """After a price or rate from `since` was set: recompute the conversations with any
    activity on or after that day (earlier ones used earlier prices and stay as they
    are). Returns how many were recomputed."""
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    start = timezone.make_aware(datetime.combine(since, datetime.min.time()))
    ids = (
        Conversation.objects.filter(workspace_id=workspace_id)
        .filter(Q(last_message_at__gte=start) | Q(events__at__gte=start))
        .values_list("pk", flat=True)
        .distinct()
    )
    count = 0
    for conversation in Conversation.objects.filter(pk__in=list(ids)).iterator():
        cost_lines_refresh(conversation=conversation)
        count += 1
    return count


def costs_due(*, workspace: Workspace | None = None) -> list[int]:
    """Conversations whose ledger outcome saw more than their cost lines did (or that have
    none yet): the on-commit refresh missed them."""
    outcomes = Outcome.objects.all()
    if workspace is not None:
        outcomes = outcomes.filter(workspace=workspace)
    # A co-pilot call adds no message or event: one newer than the computation is unseen.
    copilot_since = CopilotCall.objects.filter(
        conversation_id=OuterRef("conversation_id"),
        created_at__gt=OuterRef("conversation__cost__computed_at"),
    )
    stale = outcomes.filter(
        Q(conversation__cost__isnull=True)
        | Q(conversation__cost__seen_event_id__lt=F("seen_event_id"))
        | Q(conversation__cost__seen_message_id__lt=F("seen_message_id"))
        | Exists(copilot_since)
    )
    return sorted(stale.values_list("conversation_id", flat=True))


def costs_sweep_run(*, workspace: Workspace | None = None) -> int:
    count = 0
    for conversation in Conversation.objects.filter(pk__in=costs_due(workspace=workspace)):
        cost_lines_refresh(conversation=conversation)
        count += 1
    return count
