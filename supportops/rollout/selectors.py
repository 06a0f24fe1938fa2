"""Reads for rollout: scoped to the workspace, so an id from another workspace is not found
(404). `bot_gate` is what the bot turn and the conversation start read on every message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, F, Q, QuerySet, Value, When
from django.http import Http404
from django.utils.text import slugify

from supportops.accounts.models import AuditLog, Workspace
from supportops.conversations.models import Conversation
from supportops.knowledge.models import Category as ArticleCategory

from .models import Assignment, Phase, Plan, RolloutSettings, SuiteCase, SuiteRun


def rollout_settings_get(*, workspace: Workspace | int) -> RolloutSettings:
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    settings, _ = RolloutSettings.objects.get_or_create(workspace_id=workspace_id)
    return settings


@dataclass(frozen=True)
class Scope:
    """The categories the bot may handle under one phase, and the help-centre categories of
    the same name (or slug) its retrieval is limited to. When no help-centre category has
    such a name, retrieval is not limited (the gate on the message's category still is)."""

    phase_id: int
    phase_name: str
    status: str
    categories: tuple[str, ...]
    article_category_ids: tuple[int, ...]

    def enables(self, category: str) -> bool:
        folded = category.casefold()
        return bool(folded) and any(folded == c.casefold() for c in self.categories)

    def as_scores(self) -> dict[str, Any]:
        return {
            "id": self.phase_id,
            "name": self.phase_name,
            "categories": list(self.categories),
            "retrieval_limited": bool(self.article_category_ids),
        }


def phase_scope(*, phase: Phase) -> Scope:
    names = [str(c) for c in phase.categories or []]
    folded = {n.casefold() for n in names} | {slugify(n) for n in names}
    ids = [
        pk
        for pk, name, slug in ArticleCategory.objects.filter(
            workspace_id=phase.workspace_id
        ).values_list("pk", "name", "slug")
        if name.casefold() in folded or slug.casefold() in folded
    ]
    return Scope(
        phase_id=phase.pk,
        phase_name=phase.name,
        status=phase.status,
        categories=tuple(names),
        article_category_ids=tuple(sorted(ids)),
    )


@dataclass(frozen=True)
class Gate:
    """What the bot may do in a workspace right now.

    `stop` names why it may not answer at all (the kill switch, a paused phase), with a
    reason for people; otherwise `scope` limits it to the live phase's categories (None: no
    phase is live or paused, and the bot is not limited by rollout)."""

    stop: str = ""
    reason: str = ""
    scope: Scope | None = None
    phase: Phase | None = None


def bot_gate(*, workspace: Workspace | int, settings: RolloutSettings | None = None) -> Gate:
    """`settings`: the workspace's rollout settings when the caller has read them already."""
    from .models import BOT_PAUSED, PHASE_PAUSED

    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    if settings is None:
        settings = rollout_settings_get(workspace=workspace_id)
    if settings.bot_paused:
        return Gate(stop=BOT_PAUSED, reason="the bot is paused for the whole workspace")
    # One query for both: the live phase if there is one, else the most recently paused.
    phase = (
        Phase.objects.filter(
            workspace_id=workspace_id, status__in=(Phase.Status.LIVE, Phase.Status.PAUSED)
        )
        .select_related("plan")
        .order_by(
            Case(When(status=Phase.Status.LIVE, then=Value(0)), default=Value(1)),
            F("paused_at").desc(nulls_last=True),
        )
        .first()
    )
    if phase is not None and phase.status == Phase.Status.LIVE:
        return Gate(scope=phase_scope(phase=phase), phase=phase)
    if phase is not None:
        return Gate(
            stop=PHASE_PAUSED,
            reason=f"the rollout phase {phase.name!r} is paused",
            phase=phase,
        )
    return Gate()


# --- Pages ----------------------------------------------------------------------------------


def plan_list(*, workspace: Workspace) -> QuerySet[Plan]:
    return Plan.objects.filter(workspace=workspace).annotate(phase_count=Count("phases"))


def plan_get(*, workspace: Workspace, plan_id: int) -> Plan:
    plan = Plan.objects.filter(workspace=workspace, pk=plan_id).first()
    if plan is None:
        raise Http404("plan not found")
    return plan


def phase_get(*, workspace: Workspace, phase_id: int) -> Phase:
    phase = Phase.objects.select_related("plan").filter(workspace=workspace, pk=phase_id).first()
    if phase is None:
        raise Http404("phase not found")
    return phase


def phases_of(*, plan: Plan) -> list[Phase]:
    return list(plan.phases.order_by("position", "pk"))


def live_phase(*, workspace: Workspace) -> Phase | None:
    return Phase.objects.filter(workspace=workspace, status=Phase.Status.LIVE).first()


def guardrail_pauses(*, workspace: Workspace) -> list[Phase]:
    """Phases a guardrail paused and nobody has resumed or completed yet (the banner)."""
    return list(
        Phase.objects.filter(
            workspace=workspace, status=Phase.Status.PAUSED, paused_by_guardrail=True
        ).select_related("plan")
    )


def plan_audit(*, plan: Plan, limit: int = 200) -> list[AuditLog]:
    """Every change to the plan, its phases, the suite threshold and the kill switch, and to
    the bot's trigger settings (which change what a phase does)."""
    rows = AuditLog.objects.filter(workspace_id=plan.workspace_id).filter(
        Q(action__startswith="rollout.") | Q(action="bot_settings.update")
    )
    return [
        row
        for row in rows.select_related("actor").order_by("-created_at", "-pk")[: limit * 3]
        if row.details.get("plan_id") in (plan.pk, None)
    ][:limit]


def suite_case_list(*, workspace: Workspace) -> QuerySet[SuiteCase]:
    return SuiteCase.objects.filter(workspace=workspace).order_by("pk")


def suite_case_get(*, workspace: Workspace, case_id: int) -> SuiteCase:
    case = SuiteCase.objects.filter(workspace=workspace, pk=case_id).first()
    if case is None:
        raise Http404("test case not found")
    return case


def suite_run_get(*, workspace: Workspace, run_id: int) -> SuiteRun:
    run = SuiteRun.objects.select_related("phase").filter(workspace=workspace, pk=run_id).first()
    if run is None:
        raise Http404("suite run not found")
    return run


def suite_run_latest(*, phase: Phase) -> SuiteRun | None:
    return phase.suite_runs.order_by("-created_at", "-pk").first()


def customers_between(*, workspace: Workspace | int, low: float, high: float) -> int:
    """Customers with conversations whose bucket lies in [low, high): those whose arm
    flips when the control share moves between the two."""
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    low, high = min(low, high), max(low, high)
    if low == high:
        return 0
    return (
        Assignment.objects.filter(workspace_id=workspace_id, bucket__gte=low, bucket__lt=high)
        .values("customer_id")
        .distinct()
        .count()
    )


def case_source_get(*, workspace: Workspace, conversation_id: int) -> Conversation:
    """The conversation a test case is made from. Only managers and admins add cases, and
    they open every conversation of their workspace (as in the inbox); an id of another
    workspace is 404."""
    conversation = (
        Conversation.objects.select_related("customer", "workspace")
        .filter(workspace=workspace, pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise Http404("conversation not found")
    return conversation
