"""The conversations page (`conversation_list`): every conversation a member may see, with
search and filters in the URL; also the list behind every dashboard figure. Managers, admins
and agents read it with text (search, snippets, links to the conversation); finance without.
Outsiders get 404 (`workspace_view`); bad filter values get the page with a message and 400."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import cached_property
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from supportops.accounts.access import workspace_view
from supportops.accounts.models import Membership, Role
from supportops.conversations.models import Conversation
from supportops.inbox.services import MANAGING_ROLES
from supportops.lib.htmx import wants_fragment

from .conversation_list import (
    CSAT_CHOICES,
    TRIGGERS,
    ListFilters,
    agents_for_filter,
    conversation_list,
    list_filters_parse,
    may_read_text,
    search_snippets,
)
from .filters import FilterError
from .kpis import FIGURES, figure_count, kpis_overview
from .models import Outcome

LIST_ROLES = (Role.ADMIN, Role.MANAGER, Role.AGENT, Role.FINANCE)
EXPORT_ROLES = (Role.ADMIN, Role.MANAGER, Role.FINANCE)
PAGE_SIZE = 50
SEES_EVERY_CONVERSATION = (*MANAGING_ROLES, Role.FINANCE)


class CountedPaginator(Paginator):
    """A paginator told its count (a list reached from a figure: the figure's number)."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


def _paginator(rows: Any, membership: Membership, filters: ListFilters) -> Paginator:
    """A figure's list, with no filter of the list's own, by a member who sees every
    conversation, lists exactly the rows the figure counts (`kpis.drilldown_outcomes`): its
    count is the figure's number, read from the rollups like the dashboard (a few small
    queries) rather than by counting up to a year of rows again. Otherwise rows are counted."""
    if filters.figure and membership.role in SEES_EVERY_CONVERSATION and not filters.narrowed:
        overview = kpis_overview(workspace=membership.workspace, filters=filters.base)
        count = figure_count(overview, filters.figure, filters.segment)
        return CountedPaginator(rows, PAGE_SIZE, count=count)
    return Paginator(rows, PAGE_SIZE)


@workspace_view(*LIST_ROLES)
@vary_on_headers("HX-Request")
@require_GET
def conversation_list_page(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    workspace = membership.workspace
    figure = (request.GET.get("figure") or "").strip()
    segment = (request.GET.get("segment") or "").strip()
    reads_text = may_read_text(membership)
    context: dict[str, Any] = {
        "section": "conversations",
        "params": request.GET,
        "figure": figure,
        "segment": segment,
        "figure_label": FIGURES.get(figure, figure),
        "can_open": reads_text,
        "can_search": reads_text,
        "can_export": membership.role in EXPORT_ROLES,
        "arms": Conversation.Arm.choices,
        "channels": Conversation.Channel.choices,
        "statuses": Conversation.Status.choices,
        "outcomes": Outcome.Kind.choices,
        "triggers": sorted(TRIGGERS.items()),
        "csat_choices": list(CSAT_CHOICES.items()),
        "agents": agents_for_filter(workspace=workspace),
    }
    status = 200
    try:
        filters = list_filters_parse(request.GET, workspace=workspace)
        rows = conversation_list(membership=membership, filters=filters)
        page = _paginator(rows, membership, filters).get_page(request.GET.get("page"))
    except FilterError as exc:
        context["error"] = str(exc)
        status = 403 if request.GET.get("q") and not reads_text else 400
    else:
        labels = dict(Outcome.Kind.choices)
        snippets = (
            search_snippets(conversation_ids=[c.pk for c in page.object_list], text=filters.q)
            if filters.q
            else {}
        )
        for conversation in page.object_list:
            kind = getattr(conversation, "outcome_kind", "") or ""  # an annotation
            conversation.outcome_label = labels.get(kind, "")  # type: ignore[attr-defined]
            conversation.started_local = conversation.created_at.astimezone(  # type: ignore[attr-defined]
                filters.base.tz
            )
            conversation.snippet = snippets.get(conversation.pk, "")  # type: ignore[attr-defined]
        context |= {
            "filters": filters.base,
            "list_filters": filters,
            "page": page,
            "query": filters.base.query(figure=figure, segment=segment),
            "dashboard_query": filters.base.query(),
        }
    if wants_fragment(request):
        return render(
            request, "analytics/conversation_list.html#conversation-list", context, status=status
        )
    return render(request, "analytics/conversation_list.html", context, status=status)
