"""CSV exports, streamed from the database.

Each export is opened by a service that writes its audit row (who, which export, which
filters) and returns the CSV as an iterator of text chunks. The rows come from a server-side
cursor (`.iterator(chunk_size=...)`), so memory stays flat however many conversations there
are. The `csv` module writes the rows; any text cell a spreadsheet would execute (starting
with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with an apostrophe. Times
are ISO 8601 in the workspace's time zone, which the header row names. No message text is
ever exported.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth

from supportops.accounts.models import Role, Workspace
from supportops.accounts.services import Actor, audit_log_write, real_user
from supportops.analytics.filters import Filters
from supportops.analytics.kpis import CONFIRMED, drilldown_outcomes
from supportops.analytics.models import Outcome
from supportops.analytics.selectors import ResolutionCost, cost_per_resolution
from supportops.conversations.models import Message

EXPORT_ROLES = (Role.ADMIN, Role.MANAGER, Role.FINANCE)
CHUNK_ROWS = 2000  # rows fetched from the server-side cursor at a time
LINES_PER_WRITE = 500  # CSV lines sent to the client at a time
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportError(ValueError):
    """An export that may not run; the message says why."""


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, made inert with a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Line:
    """A file-like object whose write returns the line, so csv.writer yields text."""

    def write(self, value: str) -> str:
        return value


def csv_stream(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The header, then every row, as CSV text chunks (a few hundred rows each)."""
    writer = csv.writer(_Line())
    yield writer.writerow(header)
    buffer: list[str] = []
    for row in rows:
        buffer.append(writer.writerow([neutralise(cell) for cell in row]))
        if len(buffer) >= LINES_PER_WRITE:
            yield "".join(buffer)
            buffer = []
    if buffer:
        yield "".join(buffer)


def _check(workspace: Workspace, actor: Actor) -> None:
    person = real_user(actor)
    if (
        person is None
        or not workspace.memberships.filter(user=person, role__in=EXPORT_ROLES).exists()
    ):
        raise ExportError("Only admins, managers and finance may export.")


def _iso(value: datetime | None, filters: Filters) -> str:
    return value.astimezone(filters.tz).isoformat(timespec="seconds") if value else ""


def _seconds(later: datetime | None, earlier: datetime) -> str:
    return f"{(later - earlier).total_seconds():.0f}" if later else ""


CONVERSATION_COLUMNS = [
    "conversation_id",
    "customer_id",
    "started_at",
    "first_response_at",
    "resolved_at",
    "last_event_at",
    "channel",
    "arm",
    "category",
    "outcome",
    "final",
    "why",
    "first_handoff_trigger",
    "first_response_by",
    "first_response_s",
    "resolution_s",
    "resolution",
    "repeat_conversation_id",
    "csat_score",
    "prompt_tokens",
    "completion_tokens",
    "handling_minutes",
    "model_cost",
    "agent_cost",
    "cost",
    "cost_unpriced",
]
DATE_COLUMNS = {"started_at", "first_response_at", "resolved_at", "last_event_at"}
MONEY_COLUMNS = {
    "model_cost",
    "agent_cost",
    "cost",
    "cost_per_resolution",
    "cost_per_conversation",
}


def _header(columns: list[str], filters: Filters) -> list[str]:
    out = []
    for name in columns:
        if name in DATE_COLUMNS or name == "month":
            name = f"{name} ({filters.tz})"
        elif name in MONEY_COLUMNS:
            name = f"{name} (USD)"
        out.append(name)
    return out


def _usd(amount: Decimal | None) -> str:
    """An amount as it is stored (8 places, trailing zeros dropped to at least 2)."""
    if amount is None:
        return ""
    text = f"{amount:.8f}".rstrip("0")
    whole, _, places = text.partition(".")
    return f"{whole}.{places.ljust(2, '0')}"


def _minutes(seconds: int | None) -> str:
    return "" if seconds is None else f"{Decimal(seconds) / 60:.2f}"


def _tokens(field: str) -> Coalesce:
    per_conversation = (
        Message.objects.filter(conversation_id=OuterRef("conversation_id"))
        .order_by()
        .values("conversation_id")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(per_conversation, output_field=IntegerField()), 0)


@transaction.atomic
def export_conversations_open(
    *,
    workspace: Workspace,
    actor: Actor,
    filters: Filters,
    figure: str = "conversations",
    segment: str = "",
) -> Iterator[str]:
    """One row per conversation the filters (and a dashboard figure, when given) select.
    Audited now; the rows are read as the iterator is consumed."""
    _check(workspace, actor)
    rows = drilldown_outcomes(
        workspace=workspace, filters=filters, figure=figure, segment=segment
    ).annotate(prompt=_tokens("prompt_tokens"), completion=_tokens("completion_tokens"))
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action="export.conversations",
        details={**filters.as_json(), "figure": figure, "segment": segment},
    )
    header = _header(CONVERSATION_COLUMNS, filters)
    values = rows.values_list(
        "conversation_id",
        "customer_id",
        "started_at",
        "first_response_at",
        "resolved_at",
        "last_event_at",
        "channel",
        "arm",
        "category",
        "outcome",
        "final",
        "why__rule",
        "first_handoff_trigger",
        "first_response_by",
        "resolution",
        "repeat_conversation_id",
        "csat_score",
        "prompt",
        "completion",
        "conversation__cost__handling_seconds",
        "conversation__cost__model_usd",
        "conversation__cost__agent_usd",
        "conversation__cost__total_usd",
        "conversation__cost__unpriced",
    )

    def lines() -> Iterator[list[Any]]:
        for (
            conversation_id,
            customer_id,
            started,
            first,
            resolved,
            last,
            channel,
            arm,
            category,
            outcome,
            final,
            rule,
            trigger,
            first_by,
            resolution,
            repeat_id,
            csat,
            prompt,
            completion,
            handling_seconds,
            model_usd,
            agent_usd,
            total_usd,
            unpriced,
        ) in values.iterator(chunk_size=CHUNK_ROWS):
            yield [
                conversation_id,
                customer_id,
                _iso(started, filters),
                _iso(first, filters),
                _iso(resolved, filters),
                _iso(last, filters),
                channel,
                arm,
                category,
                outcome,
                "final" if final else "provisional",
                rule or "",
                trigger,
                first_by,
                _seconds(first, started),
                _seconds(resolved, started),
                resolution,
                repeat_id or "",
                csat if csat is not None else "",
                prompt,
                completion,
                # Empty cost cells: the conversation's cost lines are not computed yet.
                _minutes(handling_seconds),
                _usd(model_usd),
                _usd(agent_usd),
                _usd(total_usd),
                "" if unpriced is None else ("yes" if unpriced else "no"),
            ]

    return csv_stream(header, lines())


FINANCE_KINDS = [
    Outcome.Kind.RESOLVED_BY_BOT_CONFIRMED,
    Outcome.Kind.RESOLVED_BY_BOT_UNCONFIRMED,
    Outcome.Kind.RESOLVED_AFTER_HANDOFF,
    Outcome.Kind.RESOLVED_BY_HUMAN,
    Outcome.Kind.REPEAT_CONTACT,
    Outcome.Kind.NOT_RESOLVED,
    Outcome.Kind.ABANDONED,
]
FINANCE_COLUMNS = [
    "month",
    "arm",
    "category",
    "conversations",
    *[str(kind) for kind in FINANCE_KINDS],
    "confirmed_resolutions",
    "resolutions",
    "model_cost",
    "agent_cost",
    "cost_per_resolution",
    "cost_per_conversation",
]


@transaction.atomic
def export_finance_summary_open(
    *, workspace: Workspace, actor: Actor, filters: Filters
) -> Iterator[str]:
    """Per month (in the workspace's time zone), arm and category: conversations, outcomes
    by kind, confirmed resolutions, and the cost columns from the cost lines through
    `cost_per_resolution` (resolutions = confirmed plus unconfirmed, its divisor; a group
    without resolutions has "no resolutions" as its cost per resolution, not 0)."""
    _check(workspace, actor)
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action="export.finance_summary",
        details=filters.as_json(),
    )
    grouped = (
        Outcome.objects.filter(workspace=workspace)
        .filter(filters.q())
        .annotate(month=TruncMonth("started_at", tzinfo=filters.tz))
        .values("month", "arm", "category")
        .annotate(
            conversations=Count("pk"),
            confirmed=Count("pk", filter=Q(outcome__in=CONFIRMED)),
            **{str(kind): Count("pk", filter=Q(outcome=kind)) for kind in FINANCE_KINDS},
        )
        .order_by("month", "arm", "category")
    )

    # One row per month, arm and category: few enough to hold while the rows stream.
    costs: dict[tuple[str, ...], ResolutionCost] = {
        row.key: row
        for row in cost_per_resolution(
            workspace=workspace,
            since=filters.since,
            until=filters.until,
            group_by=("month", "arm", "category"),
            arm=filters.arm,
            channel=filters.channel,
            category=filters.category,
            tz=filters.tz,
        )
    }

    def lines() -> Iterator[list[Any]]:
        for grouped_row in grouped.iterator(chunk_size=CHUNK_ROWS):
            row: dict[str, Any] = dict(grouped_row)
            month = row["month"].astimezone(filters.tz).strftime("%Y-%m")
            cost = costs.get((month, row["arm"], row["category"]))
            yield [
                month,
                row["arm"],
                row["category"],
                row["conversations"],
                *[row[str(kind)] for kind in FINANCE_KINDS],
                row["confirmed"],
                *_finance_costs(cost),
            ]

    header = _header(FINANCE_COLUMNS, filters)
    return csv_stream(header, lines())


def _finance_costs(cost: ResolutionCost | None) -> list[Any]:
    """resolutions, model, agent, per resolution and per conversation of a group."""
    if cost is None:  # the ledger has the group but no conversation started in it (edge of a day)
        return ["", "", "", "", ""]
    per_resolution = cost.per_resolution_usd
    return [
        cost.resolutions,
        _usd(cost.model_usd),
        _usd(cost.agent_usd),
        "no resolutions" if per_resolution is None else _usd(per_resolution),
        _usd(cost.per_conversation_usd),
    ]
