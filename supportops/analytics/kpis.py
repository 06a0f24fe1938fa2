"""KPI selectors: pure reads of the outcome ledger (`Outcome`, one row per conversation) for
the dashboards, the drill-down lists and the exports.

Every figure is a share `numerator / denominator` of the filtered outcome rows, and both
sides are one `Q` each (`figure_population`). The dashboard counts them in one query and the
drill-down list of a figure is exactly the rows its numerator counts, so a list and the number
that links to it can never disagree.

Definitions (also written on the dashboard page):

- **First-contact resolution**: of the conversations whose outcome is final (the
  repeat-contact window has passed), the share that was resolved (the customer confirmed the
  bot's answer, or a person resolved it as solved, with or without the bot first) and was
  never reopened. A repeat contact within the window is its own outcome, so it is not
  resolved; an answer the customer never confirmed is not resolved either (silence is not
  resolution).
- **Confirmed resolution rate**: resolved by the customer's confirmation or by a person,
  over all conversations.
- **Contained** (the bot's own measure): AI-first conversations no person took part in.
  Split into *confirmed by the customer* and *the gap*: contained but never confirmed
  resolved (unconfirmed answers, abandoned, rejected, repeat contacts). Contained = confirmed
  + gap, over the AI-first conversations.
- **CSAT** for bot-handled (AI-first, contained), human-handled (AI-first, a person took
  part) and control (human-only arm) conversations: mean score (1-5) and the share of 4-5
  among answered ratings, and the response rate (rated / asked).
- **Repeat contacts** and **abandonment**: the share of conversations with that outcome.
- **Escalation rate** (AI-first): conversations handed to a person, by category (share of
  the category) and by the first handoff's trigger (share of all AI-first conversations).
- **Time to first response** (from the customer's first message to the first bot or person
  reply, by who replied first) and **time to resolution** (to the confirmation or a
  person's resolve; bot = contained, people = a person took part), p50 and p90, in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Aggregate,
    Avg,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
)

from supportops.accounts.models import Workspace
from supportops.conversations.models import Conversation, ConversationEvent, CsatRequest

from .filters import FilterError, Filters
from .ledger import RESOLVED, repeat_window_get
from .models import Outcome
from .selectors import COST_PER_RESOLUTION_BASIS, ResolutionCost, cost_per_resolution

Kind = Outcome.Kind
CONFIRMED = (Kind.RESOLVED_BY_BOT_CONFIRMED, Kind.RESOLVED_AFTER_HANDOFF, Kind.RESOLVED_BY_HUMAN)
AI_FIRST = Q(arm=Conversation.Arm.AI_FIRST)
ESCALATED = ~Q(first_handoff_trigger="")
NO_CATEGORY = "(none)"  # how an uncategorised conversation's segment is written in a URL
CSAT_SEGMENTS = {
    "bot": AI_FIRST & Q(contained=True),
    "human": AI_FIRST & Q(contained=False),
    "control": Q(arm=Conversation.Arm.HUMAN_ONLY),
}
CSAT_LABELS = {"bot": "Bot-handled", "human": "Human-handled", "control": "Control (human only)"}
WHO = {"bot": "Bot", "person": "People"}
SATISFIED_FROM = 4
PERCENTILES = (("p50", 0.5), ("p90", 0.9))

FIGURES = {
    "conversations": "Conversations",
    "fcr": "First-contact resolution",
    "confirmed": "Confirmed resolution rate",
    "contained": "Contained (no person took part)",
    "bot_confirmed": "Contained and confirmed by the customer",
    "gap": "Gap: contained but not confirmed resolved",
    "repeat": "Repeat contacts",
    "abandoned": "Abandoned",
    "provisional": "Provisional (window not passed yet)",
    "escalated": "Escalated to a person",
    "csat_asked": "Asked for a rating",
    "csat_answered": "Rated",
    "escalation_category": "Escalation rate by category",
    "escalation_trigger": "Escalations by trigger",
    "first_response": "Time to first response",
    "resolution_time": "Time to resolution",
}
SEGMENTED = {
    "csat_asked": set(CSAT_SEGMENTS),
    "csat_answered": set(CSAT_SEGMENTS),
    "first_response": set(WHO),
    "resolution_time": set(WHO),
}


class Percentile(Aggregate):  # type: ignore[type-arg]
    """PostgreSQL's percentile_cont (linear interpolation), computed in the database."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


class Seconds(Func):
    """`a - b` of two timestamps in seconds."""

    template = "EXTRACT(EPOCH FROM (%(expressions)s))::double precision"
    arg_joiner = " - "
    output_field = FloatField()


def outcomes_filtered(*, workspace: Workspace, filters: Filters) -> QuerySet[Outcome]:
    """The workspace's outcome rows the filters select, with what the figures need beside
    the ledger's own columns (reopened, rating asked and answered, the score)."""
    conversation = OuterRef("conversation_id")
    return (
        Outcome.objects.filter(workspace=workspace)
        .filter(filters.q())
        .annotate(
            reopened=Exists(
                ConversationEvent.objects.filter(
                    conversation_id=conversation, kind=ConversationEvent.Kind.REOPENED
                )
            ),
            csat_asked=Exists(CsatRequest.objects.filter(conversation_id=conversation)),
            csat_answered=Exists(
                CsatRequest.objects.filter(conversation_id=conversation, answered_at__isnull=False)
            ),
            csat_score=F("conversation__csat__score"),
        )
    )


def _who(segment: str) -> Q:
    return Q(contained=True) if segment == "bot" else Q(contained=False)


def figure_population(figure: str, segment: str = "") -> tuple[Q, Q]:
    """(numerator, denominator) of a figure, as filters on `outcomes_filtered` rows. Unknown
    figures and segments are a FilterError."""
    if figure not in FIGURES:
        raise FilterError(f"There is no figure called {figure!r}.")
    if figure in SEGMENTED and segment not in SEGMENTED[figure]:
        allowed = ", ".join(sorted(SEGMENTED[figure]))
        raise FilterError(f"The figure {figure!r} needs a segment: one of {allowed}.")
    final = Q(final=True)
    everything = Q()
    simple: dict[str, tuple[Q, Q]] = {
        "conversations": (everything, everything),
        "fcr": (final & Q(outcome__in=CONFIRMED, reopened=False), final),
        "confirmed": (Q(outcome__in=CONFIRMED), everything),
        "contained": (AI_FIRST & Q(contained=True), AI_FIRST),
        "bot_confirmed": (
            AI_FIRST & Q(contained=True, outcome=Kind.RESOLVED_BY_BOT_CONFIRMED),
            AI_FIRST,
        ),
        "gap": (
            AI_FIRST & Q(contained=True) & ~Q(outcome=Kind.RESOLVED_BY_BOT_CONFIRMED),
            AI_FIRST,
        ),
        "repeat": (Q(outcome=Kind.REPEAT_CONTACT), everything),
        "abandoned": (Q(outcome=Kind.ABANDONED), everything),
        "provisional": (Q(final=False), everything),
        "escalated": (AI_FIRST & ESCALATED, AI_FIRST),
    }
    if figure in simple:
        return simple[figure]
    if figure in ("csat_asked", "csat_answered"):
        base = CSAT_SEGMENTS[segment]
        if figure == "csat_asked":
            return base & Q(csat_asked=True), base
        return base & Q(csat_answered=True), base & Q(csat_asked=True)
    if figure == "escalation_category":
        if not segment:
            raise FilterError("The figure 'escalation_category' needs a category as segment.")
        category = Q(category="" if segment == NO_CATEGORY else segment)
        return AI_FIRST & category & ESCALATED, AI_FIRST & category
    if figure == "escalation_trigger":
        if not segment:
            raise FilterError("The figure 'escalation_trigger' needs a trigger as segment.")
        return AI_FIRST & Q(first_handoff_trigger=segment), AI_FIRST
    if figure == "first_response":
        responded = Q(first_response_by=segment, first_response_at__isnull=False)
        return responded, responded
    resolved = Q(outcome__in=RESOLVED, resolved_at__isnull=False) & _who(segment)
    return resolved, resolved


@dataclass(frozen=True)
class Share:
    """`n` of `of`, and where its conversations are listed."""

    n: int
    of: int
    figure: str
    segment: str = ""

    @property
    def rate(self) -> float | None:
        return self.n / self.of if self.of else None


@dataclass(frozen=True)
class Timing:
    who: str  # "bot" | "person"
    n: int
    p50: float | None
    p90: float | None
    # From the rollups: the histogram bucket the percentile lies in (`rollups.py`); the
    # direct computation leaves them None.
    p50_bucket: int | None = None
    p90_bucket: int | None = None


@dataclass(frozen=True)
class Csat:
    segment: str
    asked: Share  # asked / conversations in the segment
    answered: Share  # answered / asked: the response rate
    mean: float | None
    satisfied: float | None  # share of 4-5 among the answered


@dataclass
class Overview:
    filters: Filters
    window_hours: float
    shares: dict[str, Share] = field(default_factory=dict)
    csat: list[Csat] = field(default_factory=list)
    by_category: list[Share] = field(default_factory=list)
    by_trigger: list[Share] = field(default_factory=list)
    first_response: list[Timing] = field(default_factory=list)
    resolution: list[Timing] = field(default_factory=list)


def _count(q: Q) -> Count:
    return Count("pk", filter=q) if q else Count("pk")


def _timings(rows: QuerySet[Outcome], figure: str, until: str) -> list[Timing]:
    seconds = Seconds(F(until), F("started_at"))
    out = []
    for who in WHO:
        population, _ = figure_population(figure, who)
        values = rows.filter(population).aggregate(
            n=Count("pk"), **{name: Percentile(seconds, fraction) for name, fraction in PERCENTILES}
        )
        out.append(Timing(who=who, n=values["n"], p50=values["p50"], p90=values["p90"]))
    return out


def kpis_overview(*, workspace: Workspace, filters: Filters) -> Overview:
    """Every dashboard figure for the filters, as the dashboards show them: past days from
    the daily rollups, today live (`rollups.kpis_from_rollups`)."""
    from .rollups import kpis_from_rollups  # rollups builds on this module's definitions

    return kpis_from_rollups(workspace=workspace, filters=filters)


def kpis_overview_direct(*, workspace: Workspace, filters: Filters) -> Overview:
    """Every dashboard figure counted straight from the ledger, in a handful of queries
    (what the rollups are checked against; percentiles exact, interpolated)."""
    rows = outcomes_filtered(workspace=workspace, filters=filters)
    overview = Overview(
        filters=filters,
        window_hours=repeat_window_get(workspace=workspace).total_seconds() / 3600,
    )
    wanted: dict[str, tuple[str, str, Q]] = {}
    for figure in FIGURES:
        if figure in ("escalation_category", "escalation_trigger", *SEGMENTED):
            continue
        numerator, denominator = figure_population(figure)
        wanted[f"{figure}__n"] = (figure, "", numerator)
        wanted[f"{figure}__of"] = (figure, "", denominator)
    for segment in CSAT_SEGMENTS:
        for figure in ("csat_asked", "csat_answered"):
            numerator, denominator = figure_population(figure, segment)
            wanted[f"{figure}_{segment}__n"] = (figure, segment, numerator)
            wanted[f"{figure}_{segment}__of"] = (figure, segment, denominator)
    aggregates: dict[str, Any] = {key: _count(q) for key, (_, _, q) in wanted.items()}
    for segment, population in CSAT_SEGMENTS.items():
        answered = population & Q(csat_answered=True, csat_score__isnull=False)
        aggregates[f"mean_{segment}"] = Avg("csat_score", filter=answered)
        aggregates[f"scored_{segment}"] = Count("pk", filter=answered)
        aggregates[f"satisfied_{segment}"] = Count(
            "pk", filter=answered & Q(csat_score__gte=SATISFIED_FROM)
        )
    values = rows.aggregate(**aggregates)
    for key, (figure, segment, _) in wanted.items():
        if key.endswith("__n"):
            name = key[: -len("__n")]
            overview.shares[name] = Share(
                n=values[key], of=values[f"{name}__of"], figure=figure, segment=segment
            )
    for segment in CSAT_SEGMENTS:
        scored = values[f"scored_{segment}"]
        overview.csat.append(
            Csat(
                segment=segment,
                asked=overview.shares[f"csat_asked_{segment}"],
                answered=overview.shares[f"csat_answered_{segment}"],
                mean=values[f"mean_{segment}"],
                satisfied=values[f"satisfied_{segment}"] / scored if scored else None,
            )
        )
    ai_rows = rows.filter(AI_FIRST)
    for row in (
        ai_rows.values("category")
        .annotate(total=Count("pk"), escalated=Count("pk", filter=ESCALATED))
        .order_by("-total", "category")
    ):
        overview.by_category.append(
            Share(
                n=row["escalated"],
                of=row["total"],
                figure="escalation_category",
                segment=row["category"] or NO_CATEGORY,
            )
        )
    ai_total = overview.shares["escalated"].of
    for trigger_row in (
        ai_rows.filter(ESCALATED)
        .values("first_handoff_trigger")
        .annotate(n=Count("pk"))
        .order_by("-n", "first_handoff_trigger")
    ):
        overview.by_trigger.append(
            Share(
                n=trigger_row["n"],
                of=ai_total,
                figure="escalation_trigger",
                segment=trigger_row["first_handoff_trigger"],
            )
        )
    overview.first_response = _timings(rows, "first_response", "first_response_at")
    overview.resolution = _timings(rows, "resolution_time", "resolved_at")
    return overview


def drilldown_outcomes(
    *, workspace: Workspace, filters: Filters, figure: str, segment: str = ""
) -> QuerySet[Outcome]:
    """The rows a figure's number counts (its numerator), newest first."""
    numerator, _ = figure_population(figure, segment)
    return (
        outcomes_filtered(workspace=workspace, filters=filters)
        .filter(numerator)
        .order_by("-started_at", "-pk")
    )


def figure_count(overview: Overview, figure: str, segment: str = "") -> int:
    """How many rows `drilldown_outcomes` lists for the figure, read from an overview of the
    same filters: the figure's own number (its numerator), so a list reached from a figure
    says the number the figure showed without counting its rows again."""
    if figure == "escalation_category":
        return next((s.n for s in overview.by_category if s.segment == segment), 0)
    if figure == "escalation_trigger":
        return next((s.n for s in overview.by_trigger if s.segment == segment), 0)
    if figure in ("first_response", "resolution_time"):
        timings = overview.first_response if figure == "first_response" else overview.resolution
        return next((t.n for t in timings if t.who == segment), 0)
    share = overview.shares.get(f"{figure}_{segment}" if figure in SEGMENTED else figure)
    if share is None:
        raise ValueError(f"no figure {figure!r} (segment {segment!r}) in the overview")
    return share.n


@dataclass(frozen=True)
class CostFigures:
    """Cost per resolution and per conversation of the filtered conversations: all of them
    (`total`, None when the filters select none), by arm and by category. Each row is a
    `selectors.ResolutionCost`; `basis` is the sentence saying what is divided by what."""

    basis: str
    total: ResolutionCost | None
    by_arm: list[ResolutionCost] = field(default_factory=list)
    by_category: list[ResolutionCost] = field(default_factory=list)


def kpi_costs(*, workspace: Workspace, filters: Filters) -> CostFigures:
    """The one place the dashboards read cost figures from: the daily cost rollups for past
    days and today live (`rollups.costs_from_rollups`), equal to `kpi_costs_direct`."""
    from .rollups import costs_from_rollups

    return costs_from_rollups(workspace=workspace, filters=filters)


def kpi_costs_direct(*, workspace: Workspace, filters: Filters) -> CostFigures:
    """The cost figures straight from the cost lines (`ConversationCost`) through
    `selectors.cost_per_resolution`, under the dashboard's filters (period in the
    workspace's time zone, arm, channel, category)."""

    def rows(group_by: str) -> list[ResolutionCost]:
        return cost_per_resolution(
            workspace=workspace,
            since=filters.since,
            until=filters.until,
            group_by=group_by,
            arm=filters.arm,
            channel=filters.channel,
            category=filters.category,
            tz=filters.tz,
        )

    total = rows("")
    return CostFigures(
        basis=COST_PER_RESOLUTION_BASIS,
        total=total[0] if total else None,
        by_arm=rows("arm"),
        by_category=rows("category"),
    )
