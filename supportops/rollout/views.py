"""Rollout pages: plans and their phases, the kill switch, test cases and suite runs.

Managers and admins change; agents and finance read; outsiders get 404 (`workspace_view`).
Every change goes through `services` (atomic, audited) and is listed on the plan's page with
its values before and after. The categories a phase may enable are the bot's issue
categories, read through `supportops.flows` (the bot and inbox sit above this app).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from supportops import flows
from supportops.accounts.access import workspace_view
from supportops.accounts.models import Role, Workspace
from supportops.lib.htmx import wants_fragment

from . import selectors, services, suites
from .models import Phase, SuiteCase
from .suites import SuiteFileError

READERS = (Role.ADMIN, Role.MANAGER, Role.AGENT, Role.FINANCE)
EDITORS = services.EDITORS
SUGGESTED_CONTROL_PERCENT = 20
SUGGEST_MIN_HANDLED = 5  # conversations the bot handled before a category's rate is trusted


def _workspace(request: HttpRequest) -> Workspace:
    return request.workspace  # type: ignore[attr-defined]  # set by workspace_view


def _can_edit(request: HttpRequest) -> bool:
    return request.membership.role in EDITORS  # type: ignore[attr-defined]


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    workspace = _workspace(request)
    context = {
        "section": "rollout",
        "can_edit": _can_edit(request),
        "rollout_settings": selectors.rollout_settings_get(workspace=workspace),
        "guardrail_pauses": selectors.guardrail_pauses(workspace=workspace),
        **context,
    }
    return render(request, template, context, status=status)


def _date(value: str, field: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise services.RolloutError(f"“{value}” is not a date (YYYY-MM-DD).", field) from None


def suggest_first_phase(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One or two low-risk categories: the most traffic the bot handles without handing
    off (never a high-stakes one), with a 20% control group."""
    scored = []
    for row in rows:
        if row["is_high_stakes"] or row["conversations"] == 0:
            continue
        handled = row["bot_handled"]
        rate = row["escalations"] / handled if handled >= SUGGEST_MIN_HANDLED else None
        row["escalation_rate"] = rate
        score = row["conversations"] * (1 - (rate if rate is not None else 0.5))
        scored.append((score, row))
    if not scored:
        return None
    scored.sort(key=lambda item: (-item[0], item[1]["name"]))
    picks = [row for _, row in scored[:2]]
    return {
        "categories": [row["name"] for row in picks],
        "control_percent": SUGGESTED_CONTROL_PERCENT,
        "why": [
            f"{row['name']}: {row['conversations']} conversations in 30 days"
            + (
                f", the bot handed off {row['escalation_rate']:.0%} of those it handled"
                if row.get("escalation_rate") is not None
                else ", too few handled by the bot to judge its hand-off rate"
            )
            for row in picks
        ],
    }


# --- Overview: plans, the kill switch, the suite threshold -------------------------------------


@workspace_view(*READERS)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    workspace = _workspace(request)
    return _page(
        request,
        "rollout/index.html",
        {
            "plans": selectors.plan_list(workspace=workspace),
            "live": selectors.live_phase(workspace=workspace),
            "case_count": selectors.suite_case_list(workspace=workspace).count(),
        },
    )


@workspace_view(*EDITORS)
@require_POST
def plan_create(request: HttpRequest) -> HttpResponse:
    workspace = _workspace(request)
    try:
        plan = services.plan_create(
            workspace=workspace,
            actor=request.user,
            name=request.POST.get("name", ""),
            description=request.POST.get("description", ""),
        )
    except services.RolloutError as exc:
        return _page(
            request,
            "rollout/index.html",
            {
                "plans": selectors.plan_list(workspace=workspace),
                "live": selectors.live_phase(workspace=workspace),
                "plan_error": str(exc),
                "case_count": selectors.suite_case_list(workspace=workspace).count(),
            },
            status=400,
        )
    messages.success(request, f"Plan “{plan.name}” created. Add its first phase.")
    return redirect("rollout:plan", workspace_slug=workspace.slug, plan_id=plan.pk)


@workspace_view(*EDITORS)
@require_POST
def kill_switch(request: HttpRequest) -> HttpResponse:
    workspace = _workspace(request)
    reason = request.POST.get("reason", "")
    try:
        if request.POST.get("action") == "resume":
            services.bot_resume(workspace=workspace, actor=request.user, reason=reason)
            messages.success(request, "The bot is answering again.")
        else:
            services.bot_pause(workspace=workspace, actor=request.user, reason=reason)
            messages.warning(
                request,
                "The bot is paused for the whole workspace: new conversations go to people, "
                "open ones on the customer's next message.",
            )
    except services.RolloutError as exc:
        messages.error(request, str(exc))
    return redirect(request.POST.get("next") or reverse("rollout:index", args=[workspace.slug]))


@workspace_view(*EDITORS)
@require_POST
def threshold_set(request: HttpRequest) -> HttpResponse:
    workspace = _workspace(request)
    try:
        services.suite_threshold_set(
            workspace=workspace, actor=request.user, percent=request.POST.get("threshold", "")
        )
        messages.success(request, "Pass threshold saved.")
    except services.RolloutError as exc:
        messages.error(request, str(exc))
    return redirect("rollout:cases", workspace_slug=workspace.slug)


# --- A plan and its phases -------------------------------------------------------------------


def _plan_page(
    request: HttpRequest, plan_id: int, status: int = 200, **context: Any
) -> HttpResponse:
    workspace = _workspace(request)
    plan = selectors.plan_get(workspace=workspace, plan_id=plan_id)
    categories = flows.rollout_categories(workspace=workspace)
    phases = selectors.phases_of(plan=plan)
    for phase in phases:
        phase.latest_run = selectors.suite_run_latest(phase=phase)  # type: ignore[attr-defined]
        phase.blocker = (  # type: ignore[attr-defined]
            services.promotion_blocker(phase=phase) if phase.status == Phase.Status.TESTING else ""
        )
    return _page(
        request,
        "rollout/plan.html",
        {
            "plan": plan,
            "phases": phases,
            "categories": categories,
            "suggestion": suggest_first_phase([dict(r) for r in categories])
            if not phases
            else None,
            "audit": selectors.plan_audit(plan=plan),
            "case_count": selectors.suite_case_list(workspace=workspace).count(),
            "form": context.pop("form", {}),
            **context,
        },
        status=status,
    )


@workspace_view(*READERS)
@require_GET
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    return _plan_page(request, plan_id)


def _phase_values(request: HttpRequest) -> dict[str, Any]:
    post = request.POST
    values: dict[str, Any] = {
        "name": post.get("name", ""),
        "categories": post.getlist("categories"),
        "control_share": post.get("control_share", ""),
        "starts_on": _date(post.get("starts_on", ""), "starts_on"),
        "ends_on": _date(post.get("ends_on", ""), "ends_on"),
    }
    for key in services.GUARDRAIL_RANGES:
        if key in post:
            values[key] = post.get(key, "").strip()
    return values


@workspace_view(*EDITORS)
@require_POST
def phase_create(request: HttpRequest, plan_id: int) -> HttpResponse:
    workspace = _workspace(request)
    plan = selectors.plan_get(workspace=workspace, plan_id=plan_id)
    try:
        phase = services.phase_create(
            plan=plan,
            actor=request.user,
            known_categories=flows.rollout_category_names(workspace=workspace),
            **_phase_values(request),
        )
    except services.RolloutError as exc:
        return _plan_page(
            request,
            plan_id,
            status=400,
            phase_error=str(exc),
            phase_error_field=exc.field,
            form=request.POST,
        )
    messages.success(request, f"Phase “{phase.name}” added as a draft.")
    return redirect("rollout:plan", workspace_slug=workspace.slug, plan_id=plan.pk)


@workspace_view(*EDITORS)
@require_POST
def phase_update(request: HttpRequest, phase_id: int) -> HttpResponse:
    workspace = _workspace(request)
    phase = selectors.phase_get(workspace=workspace, phase_id=phase_id)
    values = _phase_values(request)
    if phase.status in (Phase.Status.LIVE, Phase.Status.PAUSED):
        values = {k: v for k, v in values.items() if k in services.LIVE_EDITABLE}
    try:
        change = services.phase_update(
            phase=phase,
            actor=request.user,
            known_categories=flows.rollout_category_names(workspace=workspace),
            **values,
        )
    except services.RolloutError as exc:
        return _plan_page(
            request,
            phase.plan_id,
            status=400,
            edit_error=str(exc),
            edit_phase_id=phase.pk,
        )
    if not change.changes:
        messages.info(request, "Nothing changed.")
    elif change.customers_moved is not None:
        messages.success(
            request,
            f"Saved. The control share moved {change.customers_moved} customer"
            f"{'s' if change.customers_moved != 1 else ''} with conversations between the arms "
            "(only those between the old and the new share).",
        )
    else:
        messages.success(request, "Phase saved.")
    return redirect("rollout:plan", workspace_slug=workspace.slug, plan_id=phase.plan_id)


TRANSITIONS = {
    "test": services.phase_start_testing,
    "draft": services.phase_back_to_draft,
    "promote": services.phase_promote,
    "complete": services.phase_complete,
}


@workspace_view(*EDITORS)
@require_POST
def phase_action(request: HttpRequest, phase_id: int, action: str) -> HttpResponse:
    workspace = _workspace(request)
    phase = selectors.phase_get(workspace=workspace, phase_id=phase_id)
    plan_id = phase.plan_id
    reason = request.POST.get("reason", "")
    try:
        if action in TRANSITIONS:
            TRANSITIONS[action](phase=phase, actor=request.user)
        elif action == "pause":
            services.phase_pause(phase=phase, actor=request.user, reason=reason)
        elif action == "resume":
            services.phase_resume(phase=phase, actor=request.user, reason=reason)
        elif action == "delete":
            services.phase_delete(phase=phase, actor=request.user)
        elif action == "run":
            services.suite_run_create(phase=phase, actor=request.user)
        else:
            return HttpResponse("unknown action", status=404)
    except services.RolloutError as exc:
        return _plan_page(
            request, plan_id, status=400, action_error=str(exc), action_phase=phase_id
        )
    done = {
        "test": "Phase is in testing: run the suite, then promote it.",
        "draft": "Phase is a draft again.",
        "promote": "Phase is live.",
        "complete": "Phase complete.",
        "pause": "Phase paused: the bot hands every conversation to people until resumed.",
        "resume": "Phase is live again.",
        "delete": "Phase deleted.",
        "run": "Suite run started.",
    }[action]
    messages.success(request, done)
    return redirect("rollout:plan", workspace_slug=workspace.slug, plan_id=plan_id)


@workspace_view(*READERS)
@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    workspace = _workspace(request)
    run = selectors.suite_run_get(workspace=workspace, run_id=run_id)
    context = {"run": run, "results": list(run.results.all()) if run.status == "done" else []}
    if wants_fragment(request):
        return render(
            request, "rollout/run.html#run-progress", {**context, "can_edit": _can_edit(request)}
        )
    return _page(request, "rollout/run.html", {**context, "article_ids": _article_pks(workspace)})


def _article_pks(workspace: Workspace) -> dict[str, int]:
    from supportops.knowledge.models import Article

    rows = Article.objects.filter(workspace=workspace).values_list("pk", "external_id")
    return {**{str(pk): pk for pk, _ in rows}, **{ext: pk for pk, ext in rows if ext}}


# --- Test cases --------------------------------------------------------------------------------


def _cases_page(request: HttpRequest, status: int = 200, **context: Any) -> HttpResponse:
    workspace = _workspace(request)
    return _page(
        request,
        "rollout/cases.html",
        {
            "cases": selectors.suite_case_list(workspace=workspace),
            "expects": SuiteCase.Expect.choices,
            "triggers": suites.HANDOFF_TRIGGERS,
            **context,
        },
        status=status,
    )


@workspace_view(*READERS)
@require_GET
def cases(request: HttpRequest) -> HttpResponse:
    return _cases_page(request)


@workspace_view(*EDITORS)
@require_POST
def cases_import(request: HttpRequest) -> HttpResponse:
    workspace = _workspace(request)
    upload = request.FILES.get("file")
    if upload is None:
        return _cases_page(request, status=400, import_error="Choose a .csv or .jsonl file.")
    try:
        created = suites.suite_cases_import(
            workspace=workspace,
            actor=request.user,
            filename=upload.name or "",
            data=upload.read(),
            known_categories=flows.rollout_category_names(workspace=workspace),
        )
    except SuiteFileError as exc:
        return _cases_page(request, status=400, import_error=str(exc), import_line=exc.line)
    except services.RolloutError as exc:
        return _cases_page(request, status=403, import_error=str(exc))
    messages.success(
        request, f"Imported {len(created)} test case{'s' if len(created) != 1 else ''}."
    )
    return redirect("rollout:cases", workspace_slug=workspace.slug)


@workspace_view(*EDITORS)
@require_POST
def case_delete(request: HttpRequest, case_id: int) -> HttpResponse:
    workspace = _workspace(request)
    case = selectors.suite_case_get(workspace=workspace, case_id=case_id)
    suites.suite_case_delete(case=case, actor=request.user)
    messages.success(request, "Test case deleted.")
    return redirect("rollout:cases", workspace_slug=workspace.slug)


@workspace_view(*EDITORS)
@require_POST
def case_from_conversation(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """One click on a conversation's page: its customer messages and the result a person
    judged right (confirmed answer, the hand-off's trigger) become a test case."""
    workspace = _workspace(request)
    conversation = selectors.case_source_get(workspace=workspace, conversation_id=conversation_id)
    draft = suites.case_from_conversation(conversation=conversation)
    if request.POST.get("expect"):
        draft.expect = request.POST["expect"]
        draft.trigger = request.POST.get("trigger", draft.trigger)
        draft.article = request.POST.get("article", draft.article)
        draft.category = request.POST.get("category", draft.category)
    try:
        case = suites.suite_case_create(
            workspace=workspace,
            actor=request.user,
            draft=draft,
            known_categories=flows.rollout_category_names(workspace=workspace),
            source_conversation=conversation,
        )
    except services.RolloutError as exc:
        messages.error(request, f"Not added to the test suite: {exc}")
    else:
        messages.success(
            request, f"Added to the test suite as case {case.pk} ({case.get_expect_display()})."
        )
    return redirect(request.POST.get("next") or reverse("rollout:cases", args=[workspace.slug]))
