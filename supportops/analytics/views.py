"""Pages of the analytics app: costs (cost per resolution and per conversation) and the
price table. Managers, admins and finance read both; managers and admins edit prices.
No page here shows message text: finance reads it too."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from supportops.accounts.access import workspace_view
from supportops.accounts.models import Role, Workspace
from supportops.inbox.models import Queue
from supportops.lib.htmx import wants_fragment

from .costs import idle_gap_get
from .forms import CostFilterForm, HandlingRateForm, IdleGapForm, ModelPriceForm, ThemePeriodForm
from .models import ThemeReport
from .selectors import (
    COST_PER_RESOLUTION_BASIS,
    COST_READERS,
    conversation_costs_list,
    cost_per_resolution,
    price_table,
)
from .services import (
    COST_EDITORS,
    AnalyticsError,
    handling_rate_set,
    idle_gap_update,
    model_price_set,
)
from .theme_reports import (
    default_period,
    theme_article_draft,
    theme_report_request,
    theme_reports_list,
)

PAGE_SIZE = 50


def _workspace(request: HttpRequest) -> Workspace:
    return request.workspace  # type: ignore[attr-defined,no-any-return]  # workspace_view


def _start(day: Any) -> datetime | None:
    return timezone.make_aware(datetime.combine(day, time.min)) if day else None


@workspace_view(*COST_READERS)
@require_GET
def costs(request: HttpRequest) -> HttpResponse:
    """Cost per resolution for a period and grouping, and each conversation's cost."""
    workspace = _workspace(request)
    form = CostFilterForm(request.GET or None)
    since = until = None
    group_by = ""
    status = 200
    if form.is_bound:
        if form.is_valid():
            since = _start(form.cleaned_data["since"])
            until = _start(form.cleaned_data["until"])
            group_by = form.cleaned_data["group_by"] or ""
        else:
            status = 400
    rows = cost_per_resolution(workspace=workspace, since=since, until=until, group_by=group_by)
    page = Paginator(
        conversation_costs_list(workspace=workspace, since=since, until=until), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    context = {
        "section": "finance",
        "form": form,
        "rows": rows,
        "basis": COST_PER_RESOLUTION_BASIS,
        "page": page,
        "may_open_conversations": request.membership.role != Role.FINANCE,  # type: ignore[attr-defined]
    }
    return render(request, "analytics/costs.html", context, status=status)


def _member_choices(workspace: Workspace) -> list[tuple[int, str]]:
    return [
        (m.user_id, m.user.email)
        for m in workspace.memberships.select_related("user").order_by("user__email")
        if m.role in (Role.AGENT, Role.MANAGER, Role.ADMIN)
    ]


@workspace_view(*COST_READERS)
def prices(request: HttpRequest) -> HttpResponse:
    """The price table: model prices, handling rates and the idle gap, each from a date."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    workspace = _workspace(request)
    may_edit = request.membership.role in COST_EDITORS  # type: ignore[attr-defined]
    if request.method == "POST" and not may_edit:
        raise PermissionDenied("only managers and admins change prices")
    agents = _member_choices(workspace)
    queues = list(Queue.objects.filter(workspace=workspace).values_list("pk", "name"))
    action = request.POST.get("action", "")
    data = request.POST if request.method == "POST" else None
    price_form = ModelPriceForm(data if action == "price" else None)
    rate_form = HandlingRateForm(data if action == "rate" else None, agents=agents, queues=queues)
    gap_form = IdleGapForm(
        data if action == "idle_gap" else None,
        initial={"idle_gap_minutes": int(idle_gap_get(workspace=workspace).total_seconds() // 60)},
    )
    error, status = "", 200
    if request.method == "POST":
        try:
            if action == "price" and price_form.is_valid():
                model_price_set(workspace=workspace, actor=request.user, **price_form.cleaned_data)
                return redirect("analytics:prices", workspace_slug=workspace.slug)
            if action == "rate" and rate_form.is_valid():
                handling_rate_set(
                    workspace=workspace,
                    actor=request.user,
                    hourly_cost=rate_form.cleaned_data["hourly_cost"],
                    effective_from=rate_form.cleaned_data["effective_from"],
                    **rate_form.target(),
                )
                return redirect("analytics:prices", workspace_slug=workspace.slug)
            if action == "idle_gap" and gap_form.is_valid():
                idle_gap_update(
                    workspace=workspace,
                    actor=request.user,
                    minutes=gap_form.cleaned_data["idle_gap_minutes"],
                )
                return redirect("analytics:prices", workspace_slug=workspace.slug)
            if action not in ("price", "rate", "idle_gap"):
                error = "Unknown form."
        except AnalyticsError as exc:
            error = str(exc)
        status = 400
    context = {
        "section": "finance",
        "may_edit": may_edit,
        "error": error,
        "price_form": price_form,
        "rate_form": rate_form,
        "gap_form": gap_form,
        **price_table(workspace=workspace),
    }
    return render(request, "analytics/prices.html", context, status=status)


# --- Themes (managers and admins) ---------------------------------------------------------------

THEME_ROLES = (Role.ADMIN, Role.MANAGER)


@workspace_view(*THEME_ROLES)
def themes(request: HttpRequest) -> HttpResponse:
    """Ask for a period's themes (found in Celery) and see the reports, newest first."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    workspace = _workspace(request)
    since, until = default_period()
    form = ThemePeriodForm(request.POST or None, initial={"since": since, "until": until})
    error, status = "", 200
    if request.method == "POST":
        if form.is_valid():
            try:
                report = theme_report_request(
                    workspace=workspace, actor=request.user, **form.cleaned_data
                )
                return redirect("analytics:theme-report", workspace.slug, report.pk)
            except AnalyticsError as exc:
                error = str(exc)
        status = 400
    context = {
        "section": "inbox",
        "form": form,
        "error": error,
        "reports": theme_reports_list(workspace=workspace),
    }
    return render(request, "analytics/themes.html", context, status=status)


@workspace_view(*THEME_ROLES)
@vary_on_headers("HX-Request")
@require_GET
def theme_report(request: HttpRequest, report_id: int) -> HttpResponse:
    """One report: its progress while it runs (the fragment polls itself), then its themes."""
    workspace = _workspace(request)
    report = get_object_or_404(ThemeReport, workspace=workspace, pk=report_id)
    write = reverse("knowledge:article-create", args=[workspace.slug])
    rows = [
        (theme, f"{write}?{urlencode(draft)}" if (draft := theme_article_draft(theme)) else "")
        for theme in (report.result or {}).get("themes", [])
    ]
    context = {"section": "inbox", "report": report, "rows": rows}
    if wants_fragment(request):
        return render(request, "analytics/theme_report.html#report", context)
    return render(request, "analytics/theme_report.html", context)
