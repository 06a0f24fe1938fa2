"""Daily rollups: what the KPI dashboards read for past days.

Design
------
Two tables, each a sum of ledger rows one workspace x day x arm x channel x category:

- `DailyRollup`: outcome rows by the day they *started* (in the workspace's time zone, the
  dashboards' `Filters.since/until`), split once more by `contained` (no person took part),
  because the figures' populations are cut by arm and contained: bot-handled = AI first and
  contained, human-handled = AI first and not contained, control = the human-only arm;
  resolution time by bot = contained. With `contained` a dimension every figure is a plain
  sum of columns: conversations, final, first-contact resolutions, confirmed, contained and
  confirmed by the customer, repeat contacts, abandoned, escalated, escalations by first
  trigger (a JSON map `{trigger: n}`), CSAT asked / answered / scored / score sum / 4-5.
- `DailyCostRollup`: conversations by the day they were *created* (the basis of
  `selectors.cost_per_resolution`, which the cost figures use), with model and agent cost
  sums, handling seconds, confirmed and unconfirmed resolutions, provisional, unpriced and
  uncosted counts.

The dashboards' filters are a date range, arm, channel and category (`filters.Filters`):
each is a dimension of both tables, so every combination is answered by summing rows. The
issue also names queue and agent filters; the dashboards do not offer them yet. When they
do, they become two more dimensions of `DailyRollup` (the first handoff's queue, the agent
who resolved it): the rows stay additive, only more of them.

Each month is also summed once more (`MonthlyRollup`, the same columns, rebuilt after any of
its days), so a year-long period sums 12 monthly rows per cell and at most 60 daily ones at
its ends instead of 365 daily rows; a month is read only while every day of it is built and
its sum is newer than each of them (`RollupMonth`), else its days are.

Percentiles cannot be summed, so each row keeps three fixed-bucket histograms (time to first
response by the bot, by a person, time to resolution; the `contained` dimension tells bot
from people): bucket 0 holds times under 1 s, bucket k (1..96) holds [2^((k-1)/4),
2^(k/4)) s, the last bucket everything from 2^24 s (194 days) on. A percentile is read from
the merged histogram: the bucket holding the `ceil(f * n)`-th smallest time, which is the
bucket of PostgreSQL's `percentile_disc(f)` on the raw times, shown as the bucket's
geometric middle (2^((k-1/2)/4) s; within 9% of the exact value). `rollup_compare` checks
exactly that: the bucket read from the rollups is the bucket of the direct
`percentile_disc` (the direct dashboard figure, `kpis_overview_direct`, interpolates with
`percentile_cont` and lies in the same or a neighbouring bucket).

Building
--------
`rollup_day(workspace=, day=)` recomputes one past day with a few grouped queries and
replaces its rows in one transaction (idempotent: run twice, same rows). The beat task
`analytics.tasks.rollups_refresh` calls `rollups_build` for every workspace: it builds the
past days that have no `RollupDay` yet and rebuilds the days touched since the watermark
(outcomes or costs recomputed, ratings asked or answered; less a safety margin for
transactions still open), so an outcome finalised 48 h later rebuilds its old day. Nightly
it also rebuilds the last week and any day whose row counts no longer match (deleted
conversations). A change of the workspace's time zone drops and rebuilds everything.

Reading
-------
`kpis_from_rollups` sums the rollup rows of the built past days of the period and computes
today (and any past day not built yet) live from the ledger with the same grouped queries
that build a day, then merges the two. A built day reflects changes up to the last beat run.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Func, IntegerField, Max, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from supportops.accounts.models import Workspace
from supportops.conversations.models import Conversation, CsatRequest, CsatResponse

from .filters import Filters, workspace_timezone
from .kpis import (
    CONFIRMED,
    CSAT_SEGMENTS,
    ESCALATED,
    FIGURES,
    NO_CATEGORY,
    PERCENTILES,
    SATISFIED_FROM,
    SEGMENTED,
    CostFigures,
    Csat,
    Overview,
    Percentile,
    Seconds,
    Share,
    Timing,
    kpi_costs_direct,
    kpis_overview_direct,
    outcomes_filtered,
)
from .ledger import RESOLVED, repeat_window_get
from .models import (
    HISTOGRAM_BUCKETS,
    DailyCostRollup,
    DailyRollup,
    MonthlyRollup,
    Outcome,
    RollupDay,
    RollupMonth,
    RollupState,
)
from .selectors import COST_PER_RESOLUTION_BASIS, UNCONFIRMED, ResolutionCost

PER_OCTAVE = 4
SLACK = timedelta(minutes=10)  # outcomes computed this long before a build may commit after it
VERIFY_RECENT_DAYS = 7
Kind = Outcome.Kind
ARM_AI = "ai_first"
ARM_CONTROL = "human_only"

# --- Histograms -----------------------------------------------------------------------------------


class Bucket(Func):
    """The histogram bucket of a number of seconds (see the module docstring)."""

    template = (
        "(CASE WHEN (%(expressions)s) IS NULL THEN NULL WHEN (%(expressions)s) < 1 THEN 0 "
        "ELSE LEAST("
        f"{HISTOGRAM_BUCKETS - 1}, 1 + FLOOR({PER_OCTAVE} * LN(%(expressions)s) / LN(2))"
        ")::integer END)"
    )
    output_field = IntegerField()


class PercentileDisc(Percentile):
    function = "percentile_disc"


def histogram_bucket(histogram: list[int], fraction: float) -> int | None:
    """The bucket holding the ceil(fraction * n)-th smallest value (percentile_disc's rank)."""
    n = sum(histogram)
    if not n:
        return None
    rank = max(1, math.ceil(fraction * n))
    seen = 0
    for k, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            return k
    return len(histogram) - 1


def bucket_seconds(k: int) -> float:
    """What a bucket stands for on the page: its geometric middle."""
    return 0.5 if k == 0 else 2 ** ((k - 0.5) / PER_OCTAVE)


# name -> (population, the timestamp the time runs to)
HISTOGRAMS: dict[str, tuple[Q, str]] = {
    "first_response_bot": (
        Q(first_response_by="bot", first_response_at__isnull=False),
        "first_response_at",
    ),
    "first_response_person": (
        Q(first_response_by="person", first_response_at__isnull=False),
        "first_response_at",
    ),
    "resolution": (Q(outcome__in=RESOLVED, resolved_at__isnull=False), "resolved_at"),
}

# --- Cells: the additive counts of one group of outcome rows --------------------------------------

ANSWERED = Q(csat_answered=True, csat_score__isnull=False)
COUNTS: dict[str, Q] = {
    "conversations": Q(),
    "final": Q(final=True),
    "fcr": Q(final=True, outcome__in=CONFIRMED, reopened=False),
    "confirmed": Q(outcome__in=CONFIRMED),
    "bot_confirmed": Q(outcome=Kind.RESOLVED_BY_BOT_CONFIRMED),
    "repeat": Q(outcome=Kind.REPEAT_CONTACT),
    "abandoned": Q(outcome=Kind.ABANDONED),
    "escalated": ESCALATED,
    "csat_asked": Q(csat_asked=True),
    "csat_answered": Q(csat_answered=True),
    "csat_scored": ANSWERED,
    "csat_satisfied": ANSWERED & Q(csat_score__gte=SATISFIED_FROM),
}
SUMS = (*COUNTS, "csat_score_sum")
OUTCOME_DIMS = ("arm", "channel", "category", "contained")
READ_DIMS = ("arm", "category", "contained")


@dataclass
class Cell:
    counts: Counter[str] = field(default_factory=Counter)
    triggers: Counter[str] = field(default_factory=Counter)
    histograms: dict[str, list[int]] = field(
        default_factory=lambda: {name: [0] * HISTOGRAM_BUCKETS for name in HISTOGRAMS}
    )

    def add(self, other: Cell) -> None:
        self.counts.update(other.counts)
        self.triggers.update(other.triggers)
        for name, values in other.histograms.items():
            mine = self.histograms[name]
            for k, v in enumerate(values):
                mine[k] += v


def _outcome_cells(rows: QuerySet[Outcome], dims: tuple[str, ...]) -> dict[tuple, Cell]:
    """The counts of `outcomes_filtered` rows grouped by `dims`: one query for the counts,
    one for the triggers, one per histogram (set-based; no loop over conversations)."""
    cells: dict[tuple, Cell] = {}

    def cell(row: dict[str, Any]) -> Cell:
        return cells.setdefault(tuple(row[d] for d in dims), Cell())

    # Prefixed: an aggregate named like an annotation (csat_asked) would shadow it in filters.
    aggregates: dict[str, Any] = {
        f"n_{name}": Count("pk", filter=q) if q else Count("pk") for name, q in COUNTS.items()
    }
    aggregates["n_csat_score_sum"] = Coalesce(Sum("csat_score", filter=ANSWERED), 0)
    for row in rows.values(*dims).annotate(**aggregates).order_by():
        cell(row).counts.update({name: row[f"n_{name}"] for name in SUMS})
    for row in (
        rows.filter(ESCALATED)
        .values(*dims, "first_handoff_trigger")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        cell(row).triggers[row["first_handoff_trigger"]] += row["n"]
    for name, (population, until) in HISTOGRAMS.items():
        for row in (
            rows.filter(population)
            .annotate(bucket=Bucket(Seconds(F(until), F("started_at"))))
            .values(*dims, "bucket")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            cell(row).histograms[name][row["bucket"]] += row["n"]
    return cells


def _sql(queryset: QuerySet[Any]) -> tuple[str, tuple[Any, ...]]:
    return queryset.query.sql_with_params()


def _rollup_cells(rows: QuerySet[Any], group: tuple[str, ...] = READ_DIMS) -> dict[tuple, Cell]:
    """The same cells summed from rollup rows (daily or monthly), grouped by `group`."""
    cells: dict[tuple, Cell] = {}
    dims = ", ".join(group)
    width = len(group)
    for row in rows.values(*group).annotate(**{n: Sum(n) for n in SUMS}).order_by():
        key = tuple(row[d] for d in group)
        cells.setdefault(key, Cell()).counts.update({n: row[n] or 0 for n in SUMS})
    sql, params = _sql(rows.filter(escalated__gt=0).values(*group, "triggers"))
    triggers_sql = (
        f"SELECT {dims}, t.key, SUM(t.value::bigint) FROM ({sql}) r, "  # noqa: S608 - names are ours
        f"jsonb_each_text(r.triggers) t GROUP BY {dims}, t.key"
    )
    names = list(HISTOGRAMS)
    hist_sql, hist_params = _sql(rows.values(*group, *names))
    histogram_sql = (
        f"SELECT {dims}, h.i, {', '.join(f'SUM(h.{n})' for n in names)} FROM ({hist_sql}) r, "  # noqa: S608
        f"unnest({', '.join('r.' + n for n in names)}) WITH ORDINALITY "
        f"h({', '.join(names)}, i) WHERE {' OR '.join(f'h.{n} <> 0' for n in names)} "
        f"GROUP BY {dims}, h.i"
    )
    with connection.cursor() as cursor:
        cursor.execute(triggers_sql, params)
        for *key, trigger, n in cursor.fetchall():
            cells.setdefault(tuple(key), Cell()).triggers[trigger] += int(n)
        cursor.execute(histogram_sql, hist_params)
        for row in cursor.fetchall():
            key, i, values = tuple(row[:width]), row[width], row[width + 1 :]
            cell = cells.setdefault(key, Cell())
            for name, value in zip(names, values, strict=True):
                if value:
                    cell.histograms[name][i - 1] += int(value)
    return cells


# --- Cost cells -----------------------------------------------------------------------------------

COST_SUMS = (
    "conversations",
    "model_usd",
    "agent_usd",
    "handling_seconds",
    "confirmed",
    "unconfirmed",
    "provisional",
    "unpriced",
    "uncosted",
)


def _cost_aggregates() -> dict[str, Any]:
    """The sums of `selectors.cost_per_resolution`, per group of conversations."""
    return {
        "conversations": Count("pk"),
        "model_usd": Coalesce(Sum("cost__model_usd"), Value(Decimal(0))),
        "agent_usd": Coalesce(Sum("cost__agent_usd"), Value(Decimal(0))),
        "handling_seconds": Coalesce(Sum("cost__handling_seconds"), 0),
        "confirmed": Count("pk", filter=Q(outcome__outcome__in=CONFIRMED)),
        "unconfirmed": Count("pk", filter=Q(outcome__outcome__in=UNCONFIRMED)),
        "provisional": Count("pk", filter=Q(outcome__final=False)),
        "unpriced": Count("pk", filter=Q(cost__unpriced=True)),
        "uncosted": Count("pk", filter=Q(cost__isnull=True)),
    }


def _conversations(*, workspace: Workspace, filters: Filters) -> QuerySet[Conversation]:
    rows = Conversation.objects.filter(
        workspace=workspace, created_at__gte=filters.since, created_at__lt=filters.until
    )
    for name in ("arm", "channel", "category"):
        if getattr(filters, name):
            rows = rows.filter(**{name: getattr(filters, name)})
    return rows


def _cost_cells(rows: QuerySet[Any], dims: tuple[str, ...], aggregates: dict[str, Any]) -> dict:
    out: dict[tuple, Counter] = {}
    for row in rows.values(*dims).annotate(**aggregates).order_by():
        out.setdefault(tuple(row[d] for d in dims), Counter()).update(
            {n: row[n] or 0 for n in COST_SUMS}
        )
    return out


# --- Building -------------------------------------------------------------------------------------


def _local_today(tz: tzinfo) -> date:
    return timezone.now().astimezone(tz).date()


def _tz_name(tz: tzinfo) -> str:
    return str(getattr(tz, "key", tz))


def rollup_day(*, workspace: Workspace, day: date, month: bool = True) -> RollupDay:
    """Recompute one past day's rollup rows (idempotent: delete and insert in one
    transaction), and its month's sum unless `month` is False (`rollups_build` sums each
    month once after its days). Today and later days are computed live, never rolled up."""
    tz = workspace_timezone(workspace=workspace)
    if day >= _local_today(tz):
        raise ValueError(f"{day} is not a past day: today is computed live, not rolled up")
    filters = Filters(start=day, end=day, tz=tz)
    now = timezone.now()
    cells = _outcome_cells(outcomes_filtered(workspace=workspace, filters=filters), OUTCOME_DIMS)
    costs = _cost_cells(
        _conversations(workspace=workspace, filters=filters),
        ("arm", "channel", "category"),
        _cost_aggregates(),
    )
    with transaction.atomic():
        # One build of a workspace's day at a time (the delete + insert of two would clash).
        RollupState.objects.get_or_create(workspace=workspace, defaults={"timezone": _tz_name(tz)})
        RollupState.objects.select_for_update().filter(workspace=workspace).first()
        DailyRollup.objects.filter(workspace=workspace, day=day).delete()
        DailyCostRollup.objects.filter(workspace=workspace, day=day).delete()
        DailyRollup.objects.bulk_create(
            _outcome_rows(DailyRollup, cells, workspace=workspace, day=day)
        )
        DailyCostRollup.objects.bulk_create(
            [
                DailyCostRollup(
                    workspace=workspace,
                    day=day,
                    arm=arm,
                    channel=channel,
                    category=category,
                    **{name: sums[name] for name in COST_SUMS},
                )
                for (arm, channel, category), sums in costs.items()
            ]
        )
        built, _ = RollupDay.objects.update_or_create(
            workspace=workspace,
            day=day,
            defaults={
                "built_at": now,
                "outcomes": sum(c.counts["conversations"] for c in cells.values()),
                "conversations": sum(s["conversations"] for s in costs.values()),
            },
        )
    if month:
        rollup_month(workspace=workspace, month=day.replace(day=1))
    return built


def _outcome_rows(
    model: type[Any], cells: dict[tuple, Any], *, skip_empty: bool = False, **key: Any
) -> list[Any]:
    """DailyRollup or MonthlyRollup rows of `cells` (keyed by OUTCOME_DIMS), under `key`
    (workspace and day or month); with `skip_empty`, cells that counted no conversation
    are left out."""
    return [
        model(
            **key,
            arm=arm,
            channel=channel,
            category=category,
            contained=contained,
            triggers=dict(sorted(cell.triggers.items())),
            **{name: cell.counts[name] for name in SUMS},
            **cell.histograms,
        )
        for (arm, channel, category, contained), cell in cells.items()
        if cell.counts["conversations"] or not skip_empty
    ]


def _next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def rollup_month(*, workspace: Workspace, month: date) -> None:
    """Sum a month's DailyRollup rows into its MonthlyRollup rows (delete and insert, under
    the same lock as a day's build, so the month is never older than its days)."""
    with transaction.atomic():
        RollupState.objects.get_or_create(workspace=workspace)
        RollupState.objects.select_for_update().filter(workspace=workspace).first()
        days = DailyRollup.objects.filter(
            workspace=workspace, day__gte=month, day__lt=_next_month(month)
        )
        cells = _rollup_cells(days, OUTCOME_DIMS)
        MonthlyRollup.objects.filter(workspace=workspace, month=month).delete()
        MonthlyRollup.objects.bulk_create(
            _outcome_rows(MonthlyRollup, cells, skip_empty=True, workspace=workspace, month=month)
        )
        RollupMonth.objects.update_or_create(
            workspace=workspace, month=month, defaults={"built_at": timezone.now()}
        )


def _days(rows: QuerySet[Any], field_name: str, tz: tzinfo) -> set[date]:
    return set(
        rows.annotate(local_day=TruncDate(field_name, tzinfo=tz))
        .values_list("local_day", flat=True)
        .distinct()
    )


def rollup_days_changed(*, workspace: Workspace, since: datetime, tz: tzinfo) -> set[date]:
    """Days (both bases: outcomes' start, conversations' creation) whose figures may have
    changed since `since`: outcomes or costs recomputed, ratings asked, answered or given."""
    outcomes = Outcome.objects.filter(workspace=workspace)
    changed_outcomes = outcomes.filter(computed_at__gte=since)
    changed_costs = outcomes.filter(
        conversation__cost__computed_at__gte=since, conversation__cost__workspace=workspace
    )
    csat = outcomes.filter(
        conversation_id__in=CsatRequest.objects.filter(workspace=workspace)
        .filter(Q(asked_at__gte=since) | Q(answered_at__gte=since))
        .values("conversation_id")
    ) | outcomes.filter(
        conversation_id__in=CsatResponse.objects.filter(
            workspace=workspace, created_at__gte=since
        ).values("conversation_id")
    )
    days: set[date] = set()
    for rows in (changed_outcomes, changed_costs, csat):
        days |= _days(rows, "started_at", tz)
        days |= _days(rows, "conversation__created_at", tz)
    # Conversations with no outcome yet (they count in the cost figures).
    days |= _days(
        Conversation.objects.filter(workspace=workspace, cost__computed_at__gte=since),
        "created_at",
        tz,
    )
    return days


def _count_mismatches(*, workspace: Workspace, tz: tzinfo) -> set[date]:
    built = {
        d: (o, c)
        for d, o, c in RollupDay.objects.filter(workspace=workspace).values_list(
            "day", "outcomes", "conversations"
        )
    }
    outcomes = dict(
        Outcome.objects.filter(workspace=workspace)
        .annotate(local_day=TruncDate("started_at", tzinfo=tz))
        .values("local_day")
        .annotate(n=Count("pk"))
        .values_list("local_day", "n")
    )
    conversations = dict(
        Conversation.objects.filter(workspace=workspace)
        .annotate(local_day=TruncDate("created_at", tzinfo=tz))
        .values("local_day")
        .annotate(n=Count("pk"))
        .values_list("local_day", "n")
    )
    return {
        day
        for day in set(built) | set(outcomes) | set(conversations)
        if built.get(day, (0, 0)) != (outcomes.get(day, 0), conversations.get(day, 0))
    }


@transaction.atomic
def _mark_empty(*, workspace: Workspace, days: list[date]) -> None:
    if not days:
        return
    RollupState.objects.select_for_update().filter(workspace=workspace).first()
    DailyRollup.objects.filter(workspace=workspace, day__in=days).delete()
    DailyCostRollup.objects.filter(workspace=workspace, day__in=days).delete()
    RollupDay.objects.filter(workspace=workspace, day__in=days).delete()
    now = timezone.now()
    RollupDay.objects.bulk_create(
        [RollupDay(workspace=workspace, day=day, built_at=now) for day in days]
    )


def rollups_build(
    *, workspace: Workspace, verify: bool = False, now: datetime | None = None
) -> list[date]:
    """Build the past days that are missing or changed since the last build (see the module
    docstring); with `verify` also the last week and any day whose counts drifted. Returns
    the days rebuilt."""
    now = now or timezone.now()
    tz = workspace_timezone(workspace=workspace)
    today = _local_today(tz)
    state, _ = RollupState.objects.get_or_create(
        workspace=workspace, defaults={"timezone": _tz_name(tz)}
    )
    if state.timezone != _tz_name(tz):
        with transaction.atomic():  # days are cut differently now: start again
            DailyRollup.objects.filter(workspace=workspace).delete()
            DailyCostRollup.objects.filter(workspace=workspace).delete()
            RollupDay.objects.filter(workspace=workspace).delete()
            MonthlyRollup.objects.filter(workspace=workspace).delete()
            RollupMonth.objects.filter(workspace=workspace).delete()
            state.timezone, state.watermark = _tz_name(tz), None
            state.save(update_fields=["timezone", "watermark"])
    built = set(RollupDay.objects.filter(workspace=workspace).values_list("day", flat=True))
    first = [
        Outcome.objects.filter(workspace=workspace).aggregate(m=Min("started_at"))["m"],
        Conversation.objects.filter(workspace=workspace).aggregate(m=Min("created_at"))["m"],
    ]
    days: set[date] = set()
    starts = [moment.astimezone(tz).date() for moment in first if moment is not None]
    if starts:
        day = min(starts)
        while day < today:
            if day not in built:
                days.add(day)
            day += timedelta(days=1)
    if state.watermark is not None:
        days |= rollup_days_changed(workspace=workspace, since=state.watermark - SLACK, tz=tz)
    if verify:
        days |= {today - timedelta(days=n) for n in range(1, VERIFY_RECENT_DAYS + 1)}
        days |= _count_mismatches(workspace=workspace, tz=tz)
    done = sorted(d for d in days if d is not None and d < today)
    if done:
        # Days with no outcome and no conversation are marked built without a query each.
        with_data = _days(Outcome.objects.filter(workspace=workspace), "started_at", tz)
        with_data |= _days(Conversation.objects.filter(workspace=workspace), "created_at", tz)
        _mark_empty(workspace=workspace, days=[d for d in done if d not in with_data])
        for day in done:
            if day in with_data:
                rollup_day(workspace=workspace, day=day, month=False)
        for month in sorted({day.replace(day=1) for day in done}):
            rollup_month(workspace=workspace, month=month)
    RollupState.objects.filter(pk=state.pk).update(watermark=now, built_at=timezone.now())
    return done


# --- Reading --------------------------------------------------------------------------------------


def _live_ranges(*, workspace: Workspace, filters: Filters) -> tuple[date | None, list[Filters]]:
    """(the last day read from rollups, the periods computed live): past days of the period
    with a built rollup are read from it, everything else (today, days not built) live."""
    today = _local_today(filters.tz)
    last_rolled = min(filters.end, today - timedelta(days=1))
    built: set[date] = set()
    if last_rolled >= filters.start:
        built = set(
            RollupDay.objects.filter(
                workspace=workspace, day__gte=filters.start, day__lte=last_rolled
            ).values_list("day", flat=True)
        )
    ranges: list[Filters] = []
    day, run_start = filters.start, None
    while day <= filters.end:
        live = day not in built
        if live and run_start is None:
            run_start = day
        if not live and run_start is not None:
            ranges.append(_with_period(filters, run_start, day - timedelta(days=1)))
            run_start = None
        if day >= today:  # today and later: one run to the end
            if run_start is None:
                run_start = day
            break
        day += timedelta(days=1)
    if run_start is not None:
        ranges.append(_with_period(filters, run_start, filters.end))
    return (last_rolled if built else None), ranges


def _whole_months(*, workspace: Workspace, start: date, last: date) -> list[date]:
    """The months lying wholly in [start, last] whose every day is built and whose sum is
    newer than each of its days: read from MonthlyRollup instead of 28-31 daily rows."""
    first = start if start.day == 1 else _next_month(start)
    candidates = []
    month = first
    while _next_month(month) - timedelta(days=1) <= last:
        candidates.append(month)
        month = _next_month(month)
    if not candidates:
        return []
    days = {
        row["month"]: row
        for row in RollupDay.objects.filter(
            workspace=workspace, day__gte=candidates[0], day__lt=_next_month(candidates[-1])
        )
        .annotate(month=TruncMonth("day"))
        .values("month")
        .annotate(n=Count("pk"), newest=Max("built_at"))
    }
    built = dict(
        RollupMonth.objects.filter(workspace=workspace, month__in=candidates).values_list(
            "month", "built_at"
        )
    )
    out = []
    for month in candidates:
        row = days.get(month)
        length = (_next_month(month) - month).days
        if row and row["n"] == length and month in built and built[month] >= row["newest"]:
            out.append(month)
    return out


def _with_period(filters: Filters, start: date, end: date) -> Filters:
    return Filters(
        start=start,
        end=end,
        tz=filters.tz,
        arm=filters.arm,
        channel=filters.channel,
        category=filters.category,
    )


def _rollup_rows(model: Any, workspace: Workspace, filters: Filters, last: date) -> QuerySet:
    rows = model.objects.filter(workspace=workspace, day__gte=filters.start, day__lte=last)
    for name in ("arm", "channel", "category"):
        if getattr(filters, name):
            rows = rows.filter(**{name: getattr(filters, name)})
    return rows


def _share(cells: dict[tuple, Cell], figure: str, segment: str, n: Any, of: Any) -> Share:
    def total(spec: Any) -> int:
        where, column = spec
        return sum(c.counts[column] for key, c in cells.items() if where(*key))

    return Share(n=total(n), of=total(of), figure=figure, segment=segment)


def _anywhere(arm: str, category: str, contained: bool) -> bool:
    return True


def _ai(arm: str, category: str, contained: bool) -> bool:
    return arm == ARM_AI


def _bot(arm: str, category: str, contained: bool) -> bool:
    return arm == ARM_AI and contained


CSAT_WHERE = {
    "bot": _bot,
    "human": lambda arm, category, contained: arm == ARM_AI and not contained,
    "control": lambda arm, category, contained: arm == ARM_CONTROL,
}


def overview_from_cells(cells: dict[tuple, Cell], *, filters: Filters, window_hours: float):
    """Every dashboard figure from cells keyed by (arm, category, contained): the same
    `Overview` that `kpis_overview_direct` computes from the ledger."""
    overview = Overview(filters=filters, window_hours=window_hours)
    everything = (_anywhere, "conversations")
    ai = (_ai, "conversations")
    bot = (_bot, "conversations")
    simple = {
        "conversations": (everything, everything),
        "fcr": ((_anywhere, "fcr"), (_anywhere, "final")),
        "confirmed": ((_anywhere, "confirmed"), everything),
        "contained": (bot, ai),
        "bot_confirmed": ((_bot, "bot_confirmed"), ai),
        "repeat": ((_anywhere, "repeat"), everything),
        "abandoned": ((_anywhere, "abandoned"), everything),
        "escalated": ((_ai, "escalated"), ai),
    }
    for figure in FIGURES:
        if figure in ("escalation_category", "escalation_trigger", *SEGMENTED):
            continue
        if figure == "gap":
            contained = _share(cells, "", "", bot, ai)
            confirmed = _share(cells, "", "", (_bot, "bot_confirmed"), ai)
            share = Share(n=contained.n - confirmed.n, of=contained.of, figure="gap")
        elif figure == "provisional":
            final = _share(cells, "", "", (_anywhere, "final"), everything)
            share = Share(n=final.of - final.n, of=final.of, figure="provisional")
        else:
            n, of = simple[figure]
            share = _share(cells, figure, "", n, of)
        overview.shares[figure] = share
    for segment in CSAT_SEGMENTS:
        where = CSAT_WHERE[segment]
        overview.shares[f"csat_asked_{segment}"] = _share(
            cells, "csat_asked", segment, (where, "csat_asked"), (where, "conversations")
        )
        overview.shares[f"csat_answered_{segment}"] = _share(
            cells, "csat_answered", segment, (where, "csat_answered"), (where, "csat_asked")
        )
    for segment in CSAT_SEGMENTS:
        where = CSAT_WHERE[segment]
        scored = sum(c.counts["csat_scored"] for k, c in cells.items() if where(*k))
        score_sum = sum(c.counts["csat_score_sum"] for k, c in cells.items() if where(*k))
        satisfied = sum(c.counts["csat_satisfied"] for k, c in cells.items() if where(*k))
        overview.csat.append(
            Csat(
                segment=segment,
                asked=overview.shares[f"csat_asked_{segment}"],
                answered=overview.shares[f"csat_answered_{segment}"],
                mean=score_sum / scored if scored else None,
                satisfied=satisfied / scored if scored else None,
            )
        )
    categories: dict[str, Counter[str]] = {}
    triggers: Counter[str] = Counter()
    for (arm, category, _contained), cell in cells.items():
        if arm != ARM_AI:
            continue
        counts = categories.setdefault(category, Counter())
        counts["total"] += cell.counts["conversations"]
        counts["escalated"] += cell.counts["escalated"]
        triggers.update(cell.triggers)
    for category, counts in sorted(categories.items(), key=lambda kv: (-kv[1]["total"], kv[0])):
        if counts["total"]:
            overview.by_category.append(
                Share(
                    n=counts["escalated"],
                    of=counts["total"],
                    figure="escalation_category",
                    segment=category or NO_CATEGORY,
                )
            )
    ai_total = overview.shares["escalated"].of
    for trigger, count in sorted(triggers.items(), key=lambda kv: (-kv[1], kv[0])):
        if count:
            overview.by_trigger.append(
                Share(n=count, of=ai_total, figure="escalation_trigger", segment=trigger)
            )

    def merged(name: str, where: Any) -> list[int]:
        out = [0] * HISTOGRAM_BUCKETS
        for key, cell in cells.items():
            if where(*key):
                for k, v in enumerate(cell.histograms[name]):
                    out[k] += v
        return out

    def timing(who: str, histogram: list[int]) -> Timing:
        buckets = {name: histogram_bucket(histogram, f) for name, f in PERCENTILES}
        values = {n: None if k is None else bucket_seconds(k) for n, k in buckets.items()}
        return Timing(
            who=who,
            n=sum(histogram),
            p50=values["p50"],
            p90=values["p90"],
            p50_bucket=buckets["p50"],
            p90_bucket=buckets["p90"],
        )

    overview.first_response = [
        timing("bot", merged("first_response_bot", _anywhere)),
        timing("person", merged("first_response_person", _anywhere)),
    ]
    overview.resolution = [
        timing("bot", merged("resolution", lambda a, c, contained: contained)),
        timing("person", merged("resolution", lambda a, c, contained: not contained)),
    ]
    return overview


def kpis_from_rollups(*, workspace: Workspace, filters: Filters) -> Overview:
    """The dashboard figures: built past days from the rollups, the rest live, merged."""
    last_rolled, live = _live_ranges(workspace=workspace, filters=filters)
    cells: dict[tuple, Cell] = {}
    if last_rolled is not None:
        months = _whole_months(workspace=workspace, start=filters.start, last=last_rolled)
        daily = _rollup_rows(DailyRollup, workspace, filters, last_rolled)
        for month in months:
            daily = daily.exclude(day__gte=month, day__lt=_next_month(month))
        cells = _rollup_cells(daily)
        if months:
            monthly = MonthlyRollup.objects.filter(workspace=workspace, month__in=months)
            for name in ("arm", "channel", "category"):
                if getattr(filters, name):
                    monthly = monthly.filter(**{name: getattr(filters, name)})
            for key, cell in _rollup_cells(monthly).items():
                cells.setdefault(key, Cell()).add(cell)
    for period in live:
        rows = outcomes_filtered(workspace=workspace, filters=period)
        for key, cell in _outcome_cells(rows, READ_DIMS).items():
            cells.setdefault(key, Cell()).add(cell)
    window = repeat_window_get(workspace=workspace).total_seconds() / 3600
    return overview_from_cells(cells, filters=filters, window_hours=window)


def costs_from_rollups(*, workspace: Workspace, filters: Filters) -> CostFigures:
    """`kpis.kpi_costs_direct`'s figures from the cost rollups plus today live."""
    last_rolled, live = _live_ranges(workspace=workspace, filters=filters)
    dims = ("arm", "category")
    cells: dict[tuple, Counter] = {}
    if last_rolled is not None:
        rows = _rollup_rows(DailyCostRollup, workspace, filters, last_rolled)
        cells = _cost_cells(rows, dims, {n: Sum(n) for n in COST_SUMS})
    for period in live:
        found = _cost_cells(
            _conversations(workspace=workspace, filters=period), dims, _cost_aggregates()
        )
        for key, sums in found.items():
            cells.setdefault(key, Counter()).update(sums)

    def row(group: str, sums: Counter) -> ResolutionCost:
        model = Decimal(sums["model_usd"])
        agent = Decimal(sums["agent_usd"])
        return ResolutionCost(
            group=group,
            key=(group,),
            conversations=sums["conversations"],
            model_usd=model,
            agent_usd=agent,
            total_usd=model + agent,
            confirmed=sums["confirmed"],
            unconfirmed=sums["unconfirmed"],
            provisional=sums["provisional"],
            unpriced=sums["unpriced"],
            uncosted=sums["uncosted"],
        )

    def grouped(index: int | None) -> dict[str, Counter]:
        out: dict[str, Counter] = {}
        for key, sums in cells.items():
            out.setdefault("" if index is None else key[index], Counter()).update(sums)
        return {k: v for k, v in out.items() if v["conversations"]}

    total = grouped(None)
    return CostFigures(
        basis=COST_PER_RESOLUTION_BASIS,
        total=row("", total[""]) if total else None,
        by_arm=[row(k, v) for k, v in sorted(grouped(0).items())],
        by_category=[row(k, v) for k, v in sorted(grouped(1).items())],
    )


# --- Rollup against a direct count ----------------------------------------------------------------


def _direct_timing_buckets(*, workspace: Workspace, filters: Filters) -> dict[str, tuple]:
    """(n, p50 bucket, p90 bucket) of each timing, straight from the ledger: the bucket of
    PostgreSQL's percentile_disc on the raw times."""
    rows = outcomes_filtered(workspace=workspace, filters=filters)
    out = {}
    for name, (population, until) in HISTOGRAMS.items():
        for who, where in (("bot", Q(contained=True)), ("person", Q(contained=False))):
            if name.startswith("first_response"):
                if not name.endswith(who):
                    continue
                selected, label = rows.filter(population), f"first_response:{who}"
            else:
                selected, label = rows.filter(population & where), f"resolution:{who}"
            seconds = Seconds(F(until), F("started_at"))
            values = selected.aggregate(
                n=Count("pk"),
                **{p: Bucket(PercentileDisc(seconds, f)) for p, f in PERCENTILES},
            )
            out[label] = (values["n"], values["p50"], values["p90"])
    return out


def rollup_compare(*, workspace: Workspace, filters: Filters) -> list[str]:
    """Every figure the dashboards show, from the rollups (plus today live) and counted
    directly from the ledger: the differences, in words (empty when they agree). Means are
    compared to 1e-9; percentiles by bucket (see the module docstring)."""
    diffs: list[str] = []
    rolled = kpis_from_rollups(workspace=workspace, filters=filters)
    direct = kpis_overview_direct(workspace=workspace, filters=filters)

    def same(what: str, a: Any, b: Any) -> None:
        if a != b:
            diffs.append(f"{what}: rollup {a!r} != direct {b!r}")

    def close(what: str, a: float | None, b: float | None) -> None:
        if (a is None) != (b is None) or (a is not None and abs(a - float(b)) > 1e-9):  # type: ignore[arg-type]
            diffs.append(f"{what}: rollup {a!r} != direct {b!r}")

    def pairs(shares: list[Share]) -> dict[str, tuple[int, int]]:
        return {s.segment: (s.n, s.of) for s in shares}

    same(
        "shares",
        {k: (s.n, s.of) for k, s in rolled.shares.items()},
        {k: (s.n, s.of) for k, s in direct.shares.items()},
    )
    for mine, theirs in zip(rolled.csat, direct.csat, strict=True):
        close(f"csat mean {mine.segment}", mine.mean, theirs.mean)
        close(f"csat satisfied {mine.segment}", mine.satisfied, theirs.satisfied)
    same("escalation by category", pairs(rolled.by_category), pairs(direct.by_category))
    same("escalation by trigger", pairs(rolled.by_trigger), pairs(direct.by_trigger))
    buckets = _direct_timing_buckets(workspace=workspace, filters=filters)
    for figure, timings in (
        ("first_response", rolled.first_response),
        ("resolution", rolled.resolution),
    ):
        for t in timings:
            read = (t.n, t.p50_bucket, t.p90_bucket)
            same(f"{figure} {t.who}", read, buckets[f"{figure}:{t.who}"])
    rolled_costs = costs_from_rollups(workspace=workspace, filters=filters)
    direct_costs = kpi_costs_direct(workspace=workspace, filters=filters)
    same("cost total", rolled_costs.total, direct_costs.total)
    same(
        "cost by arm",
        {r.group: r for r in rolled_costs.by_arm},
        {r.group: r for r in direct_costs.by_arm},
    )
    same(
        "cost by category",
        {r.group: r for r in rolled_costs.by_category},
        {r.group: r for r in direct_costs.by_category},
    )
    return diffs
