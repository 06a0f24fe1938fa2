"""CSV downloads (admins, managers, finance; agents 403, outsiders 404): the exports page, the
two streamed files, and per-conversation exports too large to stream (more rows than
settings.EXPORT_STREAM_MAX_ROWS), prepared in the background with a progress bar. Bad filter
values get the page with a message and status 400."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from supportops.accounts.access import workspace_view
from supportops.accounts.models import Workspace
from supportops.analytics.filters import FilterError, Filters, filters_parse
from supportops.conversations.models import Conversation
from supportops.lib.htmx import wants_fragment

from .services import (
    EXPORT_ROLES,
    ExportError,
    export_conversations_count,
    export_conversations_open,
    export_finance_summary_open,
    export_job_file,
    export_job_get,
    export_job_start,
    export_jobs_recent,
)


def _workspace(request: HttpRequest) -> Workspace:
    return request.workspace  # type: ignore[attr-defined]  # set by workspace_view


def _context(request: HttpRequest) -> dict[str, Any]:
    return {
        "section": "exports",
        "params": request.GET,
        "arms": Conversation.Arm.choices,
        "channels": Conversation.Channel.choices,
        "jobs": export_jobs_recent(workspace=_workspace(request)),
        "stream_max_rows": settings.EXPORT_STREAM_MAX_ROWS,
        "keep_days": settings.EXPORT_KEEP_DAYS,
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


def _figure(params: Any) -> tuple[str, str]:
    return (
        (params.get("figure") or "conversations").strip(),
        (params.get("segment") or "").strip(),
    )


@workspace_view(*EXPORT_ROLES)
@require_GET
def conversations_csv(request: HttpRequest) -> HttpResponse:
    """Streamed at once when small; otherwise the exports page offers to prepare it."""
    workspace = _workspace(request)
    figure, segment = _figure(request.GET)
    try:
        filters = filters_parse(request.GET, workspace=workspace)
        rows = export_conversations_count(
            workspace=workspace, filters=filters, figure=figure, segment=segment
        )
    except FilterError as exc:
        return render(
            request, "exports/index.html", _context(request) | {"error": str(exc)}, status=400
        )
    if rows > settings.EXPORT_STREAM_MAX_ROWS:
        context = _context(request) | {
            "filters": filters,
            "query": filters.query(),
            "too_large": {"rows": rows, "figure": figure, "segment": segment},
        }
        return render(request, "exports/index.html", context)
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


@workspace_view(*EXPORT_ROLES)
@require_POST
def job_start(request: HttpRequest) -> HttpResponse:
    """Prepare a per-conversation export in the background (the filters come with the form)."""
    workspace = _workspace(request)
    figure, segment = _figure(request.POST)
    try:
        filters = filters_parse(request.POST, workspace=workspace)
        job = export_job_start(
            workspace=workspace,
            actor=request.user,
            filters=filters,
            figure=figure,
            segment=segment,
        )
    except FilterError as exc:
        return render(
            request, "exports/index.html", _context(request) | {"error": str(exc)}, status=400
        )
    return redirect("exports:job", workspace_slug=workspace.slug, job_id=job.pk)


@workspace_view(*EXPORT_ROLES)
@vary_on_headers("HX-Request")
@require_GET
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    """The job's progress; its region polls itself until the file is ready."""
    job = export_job_get(workspace=_workspace(request), job_id=job_id)
    context = {"section": "exports", "job": job}
    if wants_fragment(request):
        return render(request, "exports/job.html#export-job", context)
    return render(request, "exports/job.html", context)


@workspace_view(*EXPORT_ROLES)
@require_GET
def job_download(request: HttpRequest, job_id: int) -> HttpResponse:
    workspace = _workspace(request)
    job = export_job_get(workspace=workspace, job_id=job_id)
    try:
        path = export_job_file(workspace=workspace, actor=request.user, job=job)
    except ExportError as exc:
        context = {"section": "exports", "job": job, "error": str(exc)}
        return render(request, "exports/job.html", context, status=410)
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=job.file_name, content_type="text/csv"
    )
    response["Cache-Control"] = "no-store"
    return response  # type: ignore[return-value]  # a file response serves like one
