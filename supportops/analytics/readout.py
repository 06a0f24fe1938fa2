"""The rollout readout: AI-first against control for one phase, by intention to treat.

Every conversation the phase assigned counts in its arm (AI-first includes the bot's
hand-offs), limited to the phase's categories (control conversations carry the category the
classifier gave them silently) and to final outcomes (a provisional one may still become a
repeat contact). The statistics are `supportops.rollout.stats`: always-valid intervals, so
the error rate holds under daily looks. The guardrail check reads the same figures and
pauses the phase through the rollout service when a limit is crossed with confidence.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import plotly.graph_objects as go
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Cast, Extract, TruncDate
from django.utils import timezone

from supportops.accounts.models import Membership, Role
from supportops.conversations.models import Conversation, CsatRequest
from supportops.rollout import stats
from supportops.rollout.models import Phase
from supportops.rollout.services import phase_pause

from .ledger import repeat_window_get
from .models import Outcome

logger = logging.getLogger(__name__)

K = Outcome.Kind
RESOLVED = [
    K.RESOLVED_BY_BOT_CONFIRMED,
    K.RESOLVED_BY_BOT_UNCONFIRMED,
    K.RESOLVED_AFTER_HANDOFF,
    K.RESOLVED_BY_HUMAN,
]
# Confirmed by the customer ("Yes, solved") or judged solved by a person.
CONFIRMED = [K.RESOLVED_BY_BOT_CONFIRMED, K.RESOLVED_AFTER_HANDOFF, K.RESOLVED_BY_HUMAN]
DEFAULT_BASELINE = 0.5  # no control data yet: the rate with the most variance (safe side)
TRAFFIC_DAYS = 30


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    kind: str  # "rate" (shown in points) or "mean"
    unit: str
    higher_is_better: bool = True


METRICS = [
    Metric("fcr", "First-contact resolution", "rate", "points"),
    Metric("confirmed", "Confirmed resolution", "rate", "points"),
    Metric("repeat", "Repeat contact within 48 h", "rate", "points", higher_is_better=False),
    Metric("csat", "CSAT (mean, 1-5)", "mean", ""),
    Metric("csat_response", "CSAT response rate", "rate", "points"),
    Metric("first_response", "Time to first response", "mean", "minutes", False),
    Metric("resolution", "Time to resolution", "mean", "minutes", False),
]


def _minutes(end: str) -> Any:
    return (
        Extract(ExpressionWrapper(F(end) - F("started_at"), output_field=DurationField()), "epoch")
        / 60.0
    )


def _aggregates() -> dict[str, Any]:
    score = Cast("rating", FloatField())
    first = _minutes("first_response_at")
    resolved = _minutes("resolved_at")
    return {
        "n": Count("pk"),
        "fcr": Count("pk", filter=Q(outcome__in=RESOLVED)),
        "confirmed": Count("pk", filter=Q(outcome__in=CONFIRMED)),
        "repeat": Count("pk", filter=Q(outcome=K.REPEAT_CONTACT)),
        "csat_asked": Count("pk", filter=Q(rating_asked=True)),
        # The response rate counts answers to a request; the mean, every rating given.
        "csat_answered": Count("pk", filter=Q(rating_asked=True, rating__isnull=False)),
        "csat_n": Count("pk", filter=Q(rating__isnull=False)),
        "csat_sum": Sum(score),
        "csat_sq": Sum(score * score),
        "first_n": Count("pk", filter=Q(first_response_at__isnull=False)),
        "first_sum": Sum(first),
        "first_sq": Sum(first * first),
        "resolved_n": Count("pk", filter=Q(resolved_at__isnull=False)),
        "resolved_sum": Sum(resolved),
        "resolved_sq": Sum(resolved * resolved),
    }


def phase_outcomes(*, phase: Phase) -> QuerySet[Outcome]:
    """Final outcomes of the conversations the phase assigned, in its categories, with the
    conversation's rating: `rating_asked` (a rating was asked on any channel) and `rating`
    (the customer's latest score, if any)."""
    return Outcome.objects.filter(
        workspace_id=phase.workspace_id,
        conversation__assignment__phase=phase,
        category__in=list(phase.categories or []),
        final=True,
    ).annotate(
        rating_asked=Exists(
            CsatRequest.objects.filter(conversation_id=OuterRef("conversation_id"))
        ),
        rating=F("conversation__csat__score"),
    )


def arm_data(row: dict[str, Any] | None) -> dict[str, stats.ArmData]:
    row = row or {}
    n = int(row.get("n") or 0)

    def sums(prefix: str) -> stats.ArmData:
        return stats.ArmData.from_sums(
            int(row.get(f"{prefix}_n") or 0),
            float(row.get(f"{prefix}_sum") or 0.0),
            float(row.get(f"{prefix}_sq") or 0.0),
        )

    return {
        "fcr": stats.ArmData.from_proportion(int(row.get("fcr") or 0), n),
        "confirmed": stats.ArmData.from_proportion(int(row.get("confirmed") or 0), n),
        "repeat": stats.ArmData.from_proportion(int(row.get("repeat") or 0), n),
        "csat": sums("csat"),
        "csat_response": stats.ArmData.from_proportion(
            int(row.get("csat_answered") or 0), int(row.get("csat_asked") or 0)
        ),
        "first_response": sums("first"),
        "resolution": sums("resolved"),
    }


@dataclass
class MetricResult:
    metric: Metric
    ai: stats.ArmData
    control: stats.ArmData
    comparison: stats.Comparison | None

    @property
    def scale(self) -> float:
        return 100.0 if self.metric.kind == "rate" else 1.0

    def shown(self, value: float) -> str:
        return f"{value * self.scale:.1f}" if self.metric.kind == "rate" else f"{value:.2f}"

    @property
    def verdict(self) -> str:
        return verdict(self.metric, self.comparison, self.ai, self.control)


def verdict(
    metric: Metric,
    comparison: stats.Comparison | None,
    ai: stats.ArmData,
    control: stats.ArmData,
) -> str:
    """One plain sentence: "AI-first resolves 4.1 points more on first contact, between 1.2
    and 7.0"."""
    if comparison is None:
        return (
            f"Too few conversations to compare yet ({ai.n} AI-first, {control.n} control; "
            f"at least {stats.MIN_PER_ARM} each)."
        )
    scale = 100.0 if metric.kind == "rate" else 1.0
    digits = 1 if metric.kind == "rate" else 2
    d, low, high = (
        round(x * scale, digits) for x in (comparison.difference, comparison.low, comparison.high)
    )
    unit = f" {metric.unit}" if metric.unit else ""
    what = metric.label[0].lower() + metric.label[1:]
    if not comparison.significant:
        return (
            f"No difference shown in {what} yet: AI-first minus control is between {low} and "
            f"{high}{unit} (now {d:+}{unit})."
        )
    direction = "higher" if d > 0 else "lower"
    good = (d > 0) == metric.higher_is_better
    return (
        f"AI-first is {abs(d)}{unit} {direction} on {what}, between {low} and {high}"
        f"{unit} ({'better' if good else 'worse'} than control)."
    )


@dataclass
class Power:
    baseline: float
    baseline_source: str
    effect: float
    control_share: float
    needed: stats.SampleSize | None
    daily: float
    days: float | None
    error: str = ""


def daily_traffic(*, phase: Phase, days: int = TRAFFIC_DAYS) -> float:
    since = timezone.now() - timedelta(days=days)
    count = Conversation.objects.filter(
        workspace_id=phase.workspace_id,
        created_at__gte=since,
        category__in=list(phase.categories or []),
    ).count()
    return count / days


def power_plan(
    *,
    phase: Phase,
    baseline: float | None = None,
    effect_pts: float | None = None,
    control_share: float | None = None,
    control_fcr: stats.ArmData | None = None,
) -> Power:
    """Conversations per arm needed to detect the phase's minimum effect on first-contact
    resolution at 80% power with the readout's always-valid test, and days at the
    current traffic in the phase's categories."""
    source = "entered"
    if baseline is None:
        if control_fcr is not None and control_fcr.n >= stats.MIN_PER_ARM:
            baseline, source = min(max(control_fcr.mean, 0.02), 0.98), "the control group so far"
        else:
            baseline, source = DEFAULT_BASELINE, "no control data yet: 50%, the safe side"
    effect = (effect_pts if effect_pts is not None else phase.min_effect_pts) / 100
    share = phase.control_share if control_share is None else control_share
    daily = daily_traffic(phase=phase)
    try:
        needed = stats.sample_size_per_arm(baseline=baseline, effect=effect, control_share=share)
    except ValueError as exc:
        return Power(baseline, source, effect, share, None, daily, None, str(exc))
    days = needed.total / daily if daily > 0 else None
    return Power(baseline, source, effect, share, needed, daily, days)


@dataclass
class Readout:
    phase: Phase
    results: list[MetricResult]
    power: Power
    underpowered: bool
    n_ai: int
    n_control: int
    provisional: int
    series: list[dict[str, Any]] = field(default_factory=list)
    method: str = stats.METHOD


def metrics_for(*, phase: Phase) -> list[Metric]:
    """The readout's metrics, the repeat contact named with the workspace's window (the
    ledger's `AnalyticsSettings`, 48 h unless a manager changed it)."""
    hours = round(repeat_window_get(workspace=phase.workspace_id).total_seconds() / 3600)
    return [
        replace(m, label=f"Repeat contact within {hours} h") if m.key == "repeat" else m
        for m in METRICS
    ]


def readout_build(*, phase: Phase, with_series: bool = True) -> Readout:
    outcomes = phase_outcomes(phase=phase)
    rows: dict[str, dict[str, Any]] = {
        r["arm"]: dict(r) for r in outcomes.values("arm").annotate(**_aggregates())
    }
    ai = arm_data(rows.get(Conversation.Arm.AI_FIRST))
    control = arm_data(rows.get(Conversation.Arm.HUMAN_ONLY))
    power = power_plan(phase=phase, control_fcr=control["fcr"])
    planned = power.needed.total if power.needed else 2 * stats.MIN_PER_ARM
    results = [
        MetricResult(
            m,
            ai[m.key],
            control[m.key],
            stats.compare(ai[m.key], control[m.key], planned_total=planned),
        )
        for m in metrics_for(phase=phase)
    ]
    n_ai, n_control = ai["fcr"].n, control["fcr"].n
    underpowered = power.needed is None or (
        n_ai < power.needed.ai or n_control < power.needed.control
    )
    provisional = Outcome.objects.filter(
        workspace_id=phase.workspace_id, conversation__assignment__phase=phase, final=False
    ).count()
    readout = Readout(phase, results, power, underpowered, n_ai, n_control, provisional)
    if with_series:
        readout.series = difference_series(phase=phase, planned_total=planned)
    return readout


def difference_series(*, phase: Phase, planned_total: int) -> list[dict[str, Any]]:
    """Per day, the cumulative first-contact resolution and repeat-contact differences with
    their always-valid intervals (what the readout said on each day)."""
    daily = (
        phase_outcomes(phase=phase)
        .annotate(day=TruncDate("started_at"))
        .values("day", "arm")
        .annotate(
            n=Count("pk"),
            fcr=Count("pk", filter=Q(outcome__in=RESOLVED)),
            repeat=Count("pk", filter=Q(outcome=K.REPEAT_CONTACT)),
        )
        .order_by("day")
    )
    totals: dict[str, dict[str, int]] = {
        arm: {"n": 0, "fcr": 0, "repeat": 0} for arm in Conversation.Arm.values
    }
    days: dict[date, list[dict[str, Any]]] = {}
    for row in daily:
        days.setdefault(row["day"], []).append(dict(row))
    series = []
    for day in sorted(days):
        for counts in days[day]:
            for key in ("n", "fcr", "repeat"):
                totals[counts["arm"]][key] += counts[key]
        point: dict[str, Any] = {"day": day}
        for key in ("fcr", "repeat"):
            comparison = stats.compare(
                stats.ArmData.from_proportion(totals["ai_first"][key], totals["ai_first"]["n"]),
                stats.ArmData.from_proportion(totals["human_only"][key], totals["human_only"]["n"]),
                planned_total=planned_total,
            )
            point[key] = comparison
        series.append(point)
    return series


def figure_difference(series: list[dict[str, Any]], key: str, title: str) -> go.Figure:
    """The difference in points over time with its always-valid 95% band."""
    points = [(p["day"], p[key]) for p in series if p[key] is not None]
    days = [d for d, _ in points]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=days + days[::-1],
            y=[c.high * 100 for _, c in points] + [c.low * 100 for _, c in points][::-1],
            fill="toself",
            mode="lines",  # a band: no markers on its edges
            fillcolor="rgba(37, 99, 235, 0.15)",
            line={"width": 0},
            name="95% always-valid interval",
            hoverinfo="skip",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=days,
            y=[c.difference * 100 for _, c in points],
            mode="lines+markers",
            name="AI-first minus control",
        )
    )
    figure.add_hline(y=0, line={"dash": "dot", "color": "#666"})
    figure.update_layout(
        title=title, yaxis_title="points", height=320, margin={"l": 50, "r": 20, "t": 50, "b": 40}
    )
    return figure


def chart_data(figure: go.Figure) -> dict[str, Any]:
    """The figure as plain JSON data for the page (`json_script`): `static/js/charts.js`
    draws it, since the Content-Security-Policy runs no inline script."""
    data: dict[str, Any] = json.loads(figure.to_json())
    return data


# --- Guardrails -------------------------------------------------------------------------------


def guardrail_breaches(readout: Readout) -> list[str]:
    """Limits the AI-first arm crossed with confidence (the whole interval past the limit)."""
    phase = readout.phase
    by_key = {r.metric.key: r.comparison for r in readout.results}
    found = []
    repeat = by_key["repeat"]
    if (
        phase.max_repeat_increase_pts is not None
        and repeat is not None
        and repeat.low * 100 > phase.max_repeat_increase_pts
    ):
        found.append(
            f"repeat contacts are {repeat.difference * 100:.1f} points above control "
            f"(at least {repeat.low * 100:.1f}; the limit is {phase.max_repeat_increase_pts:g})"
        )
    csat = by_key["csat"]
    if phase.max_csat_drop is not None and csat is not None and csat.high < -phase.max_csat_drop:
        found.append(
            f"CSAT is {-csat.difference:.2f} below control (at least {-csat.high:.2f}; the "
            f"limit is {phase.max_csat_drop:g})"
        )
    fcr = by_key["fcr"]
    if (
        phase.max_fcr_drop_pts is not None
        and fcr is not None
        and fcr.high * 100 < -phase.max_fcr_drop_pts
    ):
        found.append(
            f"first-contact resolution is {-fcr.difference * 100:.1f} points below "
            f"control (at least {-fcr.high * 100:.1f}; the limit is "
            f"{phase.max_fcr_drop_pts:g})"
        )
    return found


def guardrails_enforce(*, phase_id: int) -> list[str]:
    """Pause a live phase whose readout crosses a guardrail with confidence, record why and
    tell the managers by email (the pages show a banner). Returns what was crossed."""
    phase = Phase.objects.select_related("workspace").filter(pk=phase_id).first()
    if phase is None or phase.status != Phase.Status.LIVE:
        return []
    breaches = guardrail_breaches(readout_build(phase=phase, with_series=False))
    if not breaches:
        return []
    reason = "Guardrail: " + "; ".join(breaches) + "."
    phase_pause(phase=phase, actor=None, reason=reason, guardrail=True)
    managers = list(
        Membership.objects.filter(
            workspace_id=phase.workspace_id, role__in=[Role.ADMIN, Role.MANAGER]
        ).values_list("user__email", flat=True)
    )
    if managers:
        url = f"{settings.SITE_URL}/w/{phase.workspace.slug}/rollout/plans/{phase.plan_id}/"
        send_mail(
            subject=f"Rollout phase “{phase.name}” paused by a guardrail",
            message=(
                f"The phase “{phase.name}” of {phase.workspace.name} was paused: {reason}\n\n"
                "The bot hands every conversation to people until a manager resumes or "
                f"completes the phase.\n\n{url}"
            ),
            from_email=None,
            recipient_list=[m for m in managers if m],
        )
    return breaches
