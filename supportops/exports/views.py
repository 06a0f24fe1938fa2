"""CSV downloads (admins, managers, finance; agents 403, outsiders 404): the exports page and
the two streamed files. Bad filter values get the page with a message and status 400."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from supportops.accounts.access import workspace_view
from supportops.accounts.models import Workspace
from supportops.analytics.filters import FilterError, Filters, filters_parse
from supportops.conversations.models import Conversation

from .services import EXPORT_ROLES, export_conversations_open, export_finance_summary_open


def _workspace(request: HttpRequest) -> Workspace:
    return request.workspace  # type: ignore[attr-defined]  # set by workspace_view


def _context(request: HttpRequest) -> dict[str, Any]:
    return {
        "section": "exports",
        "params": request.GET,
        "arms": Conversation.Arm.choices,
        "channels": Conversation.Channel.choices,
    }


@workspace_view(*EXPORT_ROLES)
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    context = _context(request)
    try:
        filters = filters_parse(request.GET, workspace=_workspace(request))
    except FilterError as exc:
        return render(request, "exports/index.html", context | {"error": str(exc)}, status=400)
    return render(
        request, "exports/index.html", context | {"filters": filters, "query": filters.query()}
    )


def _download(
    request: HttpRequest, name: str, open_export: Callable[[Filters], Iterator[str]]
) -> HttpResponse:
    workspace = _workspace(request)
    try:
        filters = filters_parse(request.GET, workspace=workspace)
        lines = open_export(filters)
    except FilterError as exc:
        return render(
            request, "exports/index.html", _context(request) | {"error": str(exc)}, status=400
        )
    stamp = timezone.now().astimezone(filters.tz).strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    filename = f"{workspace.slug}-{name}-{filters.start}-{filters.end}-{stamp}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response  # type: ignore[return-value]  # a streamed response serves like one


@workspace_view(*EXPORT_ROLES)
@require_GET
def conversations_csv(request: HttpRequest) -> HttpResponse:
    workspace = _workspace(request)
    figure = (request.GET.get("figure") or "conversations").strip()
    segment = (request.GET.get("segment") or "").strip()
    return _download(
        request,
        "conversations",
        lambda filters: export_conversations_open(
            workspace=workspace,
            actor=request.user,
            filters=filters,
            figure=figure,
            segment=segment,
        ),
    )


@workspace_view(*EXPORT_ROLES)
@require_GET
def finance_summary_csv(request: HttpRequest) -> HttpResponse:
    workspace = _workspace(request)
    return _download(
        request,
        "finance-summary",
        lambda filters: export_finance_summary_open(
            workspace=workspace, actor=request.user, filters=filters
        ),
    )
