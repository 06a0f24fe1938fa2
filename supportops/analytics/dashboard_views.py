"""KPI dashboards (admins, managers and finance). Every figure links to the conversations page
(`conversation_views`) narrowed to exactly its conversations. Outsiders get 404
(`workspace_view`); bad filter values get the page with a message and status 400."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from supportops.accounts.access import workspace_view
from supportops.accounts.models import Role, Workspace
from supportops.conversations.models import Conversation
from supportops.lib.htmx import wants_fragment

from . import charts
from .filters import FilterError, Filters, filters_parse
from .kpis import (
    CSAT_LABELS,
    WHO,
    CostFigures,
    kpi_costs,
    kpis_overview,
)

DASHBOARD_ROLES = (Role.ADMIN, Role.MANAGER, Role.FINANCE)
AREAS = {
    "overview": "Overview",
    "resolution": "Resolution",
    "satisfaction": "Satisfaction",
    "escalations": "Escalations",
    "speed": "Speed",
    "cost": "Cost",
}


def _workspace(request: HttpRequest) -> Workspace:
    return request.workspace  # type: ignore[attr-defined]  # set by workspace_view


def _filter_choices() -> dict[str, Any]:
    return {
        "arms": Conversation.Arm.choices,
        "channels": Conversation.Channel.choices,
    }


def _drill_link(workspace: Workspace, filters: Filters) -> charts.Link:
    base = reverse("conversations:list", args=[workspace.slug])

    def link(figure: str, segment: str) -> str:
        return f"{base}?{filters.query(figure=figure, segment=segment)}"

    return link


def _charts(overview: Any, link: charts.Link) -> dict[str, dict[str, Any]]:
    shares = overview.shares
    figures = {
        "resolution": charts.figure_resolution(
            confirmed=shares["confirmed"],
            bot_confirmed=shares["bot_confirmed"],
            gap=shares["gap"],
            link=link,
        ),
        "csat": charts.figure_csat(csat=overview.csat, link=link),
        "escalation_category": charts.figure_escalation(
            shares=overview.by_category, title="Escalation rate by category", link=link
        ),
        "escalation_trigger": charts.figure_escalation(
            shares=overview.by_trigger,
            title="Escalations by trigger (share of AI-first conversations)",
            link=link,
        ),
        "times": charts.figure_times(
            first=overview.first_response, resolution=overview.resolution, link=link
        ),
    }
    return {name: charts.chart_spec(fig) for name, fig in figures.items()}


def _cost_tables(costs: CostFigures, filters: Filters) -> list[dict[str, Any]]:
    """The cost tables by arm and by category: each row's label and the link to the list of
    exactly its conversations (none for uncategorised ones: the filter cannot say that)."""
    arms = dict(Conversation.Arm.choices)
    tables = []
    for dimension, title, rows in (
        ("arm", "By arm", costs.by_arm),
        ("category", "By category", costs.by_category),
    ):
        out = []
        for row in rows:
            if dimension == "arm":
                label = str(arms.get(row.group, row.group))
            else:
                label = row.group or "Uncategorised"
            query = filters.query(**{dimension: row.group}) if row.group else ""
            out.append({"label": label, "row": row, "query": query})
        tables.append({"dimension": dimension, "title": title, "rows": out})
    return tables


@workspace_view(*DASHBOARD_ROLES)
@vary_on_headers("HX-Request")
@require_GET
def dashboard(request: HttpRequest, area: str = "overview") -> HttpResponse:
    workspace = _workspace(request)
    if area not in AREAS:
        raise Http404("no such dashboard")
    context: dict[str, Any] = {
        "section": "dashboards",
        "area": area,
        "area_label": AREAS[area],
        "areas": AREAS,
        "params": request.GET,
        **_filter_choices(),
    }
    status = 200
    try:
        filters = filters_parse(request.GET, workspace=workspace)
    except FilterError as exc:
        context["error"] = str(exc)
        status = 400
    else:
        overview = kpis_overview(workspace=workspace, filters=filters)
        link = _drill_link(workspace, filters)
        costs = kpi_costs(workspace=workspace, filters=filters)
        context |= {
            "filters": filters,
            "overview": overview,
            "costs": costs,
            "cost_tables": _cost_tables(costs, filters),
            "charts": _charts(overview, link),
            "links": {
                name: link(share.figure, share.segment) for name, share in overview.shares.items()
            },
            "csat_rows": [
                {
                    "label": CSAT_LABELS[c.segment],
                    "csat": c,
                    "asked_url": link("csat_asked", c.segment),
                    "answered_url": link("csat_answered", c.segment),
                }
                for c in overview.csat
            ],
            "category_rows": [(s, link(s.figure, s.segment)) for s in overview.by_category],
            "trigger_rows": [(s, link(s.figure, s.segment)) for s in overview.by_trigger],
            "timing_rows": [
                (label, WHO[t.who], t, link(figure, t.who))
                for label, figure, timings in (
                    ("First response", "first_response", overview.first_response),
                    ("Resolution", "resolution_time", overview.resolution),
                )
                for t in timings
            ],
            "query": filters.query(),
        }
    if wants_fragment(request):
        return render(request, "analytics/dashboard.html#dashboard-figures", context, status=status)
    return render(request, "analytics/dashboard.html", context, status=status)
