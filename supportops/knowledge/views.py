"""Knowledge-base pages. Thin: reads through selectors, writes through services.

Readers (admin, manager, agent) may browse, read history and try questions; editors
(admin, manager) may also write. `workspace_view` turns outsiders away with 404 and
members without the role with 403.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from supportops.accounts.access import KNOWLEDGE_EDITORS, KNOWLEDGE_READERS, workspace_view
from supportops.accounts.models import Workspace
from supportops.lib.htmx import wants_fragment
from supportops.lib.textdiff import side_by_side

from . import importing, selectors, services
from .forms import ArticleFilterForm, ArticleForm, ImportForm, TryQuestionForm, VersionCompareForm
from .rendering import render_markdown

logger = logging.getLogger(__name__)

PAGE_SIZE = 50


def _workspace(request: HttpRequest) -> Workspace:
    return request.workspace  # type: ignore[attr-defined]  # set by workspace_view


def _can_edit(request: HttpRequest) -> bool:
    return request.membership.role in KNOWLEDGE_EDITORS  # type: ignore[attr-defined]


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """A full knowledge page: adds what the layout and the sub-navigation need."""
    context = {"section": "knowledge", "can_edit": _can_edit(request), **context}
    return render(request, template, context, status=status)


def _article_url(request: HttpRequest, article_id: int) -> str:
    return reverse(
        "knowledge:article-detail",
        kwargs={"workspace_slug": _workspace(request).slug, "article_id": article_id},
    )


def _list_context(request: HttpRequest, params: QueryDict) -> dict[str, Any]:
    workspace = _workspace(request)
    filters = ArticleFilterForm(params)
    filters.is_valid()  # invalid values are simply not applied
    data = filters.cleaned_data
    query = data.get("q", "")
    category_id = selectors.category_id_for_workspace(
        workspace=workspace, value=data.get("category")
    )
    status = data.get("status") or None
    import_job = None
    if data.get("import_job"):
        import_job = selectors.import_job_get(workspace=workspace, job_id=data["import_job"])
    articles = selectors.article_list_for_workspace(
        workspace=workspace,
        query=query,
        category_id=category_id,
        status=status,
        import_job_id=import_job.pk if import_job else None,
    )
    page = Paginator(articles, PAGE_SIZE).get_page(params.get("page"))
    return {
        "filters": filters,
        "selected_category": category_id,
        "selected_status": status or "",
        "filtering": bool(query or category_id or status or import_job),
        "import_job": import_job,
        "page_obj": page,
        "articles": page.object_list,
        "categories": selectors.category_list(workspace=workspace),
        "can_edit": _can_edit(request),
        "try_form": TryQuestionForm(auto_id="try_%s"),
    }


@workspace_view(*KNOWLEDGE_READERS)
@vary_on_headers("HX-Request")
@require_GET
def article_list(request: HttpRequest) -> HttpResponse:
    context = _list_context(request, request.GET)
    if wants_fragment(request):
        return render(request, "knowledge/article_list.html#article-list", context)
    return _page(request, "knowledge/article_list.html", context)


@workspace_view(*KNOWLEDGE_READERS)
@require_GET
def article_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    article = selectors.article_get_for_member(
        workspace=_workspace(request),
        article_id=article_id,
    )
    return _page(
        request,
        "knowledge/article_detail.html",
        {
            "article": article,
            "body_html": render_markdown(article.body),
            "draft": article.draft_version,
            **_version_labels(article),
            "source_conversations": selectors.article_source_conversations(article=article),
        },
    )


def _form_page(
    request: HttpRequest, form: ArticleForm, article: Any = None, status: int = 200
) -> HttpResponse:
    return _page(
        request,
        "knowledge/article_form.html",
        {
            "form": form,
            "article": article,
            "categories": selectors.category_list(workspace=_workspace(request)),
            "preview_html": render_markdown(form["body"].value() or ""),
        },
        status=status,
    )


@workspace_view(*KNOWLEDGE_EDITORS)
@require_http_methods(["GET", "POST"])
def article_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        # A link may start the draft (a theme of unanswered questions fills in its title and
        # the customers' questions); nothing is saved until the editor submits.
        initial = {
            name: request.GET[name][:limit]
            for name, limit in (("title", services.TITLE_MAX), ("category", 80), ("body", 20_000))
            if request.GET.get(name)
        }
        return _form_page(request, ArticleForm(initial=initial))
    form = ArticleForm(request.POST)
    if form.is_valid():
        publish = request.POST.get("action") == "publish"
        try:
            article = services.article_create(
                workspace=_workspace(request),
                owner=request.user,
                publish=publish,
                **form.cleaned_data,
            )
        except services.ArticleError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, "Article published." if publish else "Draft saved (not in search yet)."
            )
            return redirect(_article_url(request, article.pk))
    return _form_page(request, form, status=400)


@workspace_view(*KNOWLEDGE_EDITORS)
@require_http_methods(["GET", "POST"])
def article_edit(request: HttpRequest, article_id: int) -> HttpResponse:
    article = selectors.article_get_for_member(
        workspace=_workspace(request),
        article_id=article_id,
    )
    if request.method != "POST":
        return _form_page(
            request, ArticleForm(initial=services.article_fields_for_form(article)), article
        )
    form = ArticleForm(request.POST)
    if form.is_valid():
        publish = request.POST.get("action") == "publish"
        before = (article.version_number, article.draft_version_id)
        try:
            with transaction.atomic():
                services.article_update(
                    article=article, actor=request.user, publish=publish, **form.cleaned_data
                )
                if publish and not article.is_published:
                    services.article_publish(article=article, actor=request.user)
        except services.ArticleError as exc:
            form.add_error(None, str(exc))
        else:
            if (article.version_number, article.draft_version_id) == before:
                messages.info(request, "Nothing changed, so no new version was saved.")
            elif article.has_draft_revision:
                messages.success(
                    request,
                    f"Saved as draft version {article.version_number}. Customers and the bot "
                    "still see the published text until you publish the draft.",
                )
            else:
                messages.success(request, f"Saved as version {article.version_number}.")
            return redirect(_article_url(request, article.pk))
    return _form_page(request, form, article, status=400)


@workspace_view(*KNOWLEDGE_EDITORS)
@require_POST
def article_preview(request: HttpRequest) -> HttpResponse:
    """The editor's live preview: the same sanitised rendering the article page uses."""
    return render(
        request,
        "knowledge/article_form.html#markdown-preview",
        {"preview_html": render_markdown(request.POST.get("body", ""))},
    )


@workspace_view(*KNOWLEDGE_EDITORS)
@require_POST
def article_publish(request: HttpRequest, article_id: int) -> HttpResponse:
    article = selectors.article_get_for_member(
        workspace=_workspace(request),
        article_id=article_id,
    )
    if article.is_published:
        messages.info(request, "The article was already published.")
    else:
        services.article_publish(article=article, actor=request.user)
        messages.success(
            request,
            "Published. Keyword search finds it now; semantic search within a minute.",
        )
    return redirect(_article_url(request, article.pk))


@workspace_view(*KNOWLEDGE_EDITORS)
@require_POST
def article_unpublish(request: HttpRequest, article_id: int) -> HttpResponse:
    article = selectors.article_get_for_member(
        workspace=_workspace(request),
        article_id=article_id,
    )
    if not article.is_published:
        messages.info(request, "The article was already a draft.")
    else:
        services.article_unpublish(article=article, actor=request.user)
        messages.success(request, "Unpublished: the bot no longer finds this article.")
    return redirect(_article_url(request, article.pk))


@workspace_view(*KNOWLEDGE_EDITORS)
@require_http_methods(["GET", "POST"])
def article_delete(request: HttpRequest, article_id: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes."""
    article = selectors.article_get_for_member(
        workspace=_workspace(request),
        article_id=article_id,
    )
    if request.method == "POST":
        title = article.title
        services.article_delete(article=article, actor=request.user)
        messages.success(request, f"Deleted “{title}”.")
        return redirect("knowledge:article-list", workspace_slug=_workspace(request).slug)
    return _page(request, "knowledge/article_confirm_delete.html", {"article": article})


@workspace_view(*KNOWLEDGE_EDITORS)
@require_POST
def article_draft_publish(request: HttpRequest, article_id: int) -> HttpResponse:
    article = selectors.article_get_for_member(workspace=_workspace(request), article_id=article_id)
    try:
        services.article_draft_publish(article=article, actor=request.user)
    except services.ArticleError as exc:
        messages.info(request, str(exc))
    else:
        messages.success(
            request,
            f"Published the draft as version {article.version_number}. Keyword search finds "
            "the new text now; semantic search within a minute.",
        )
    return redirect(_article_url(request, article.pk))


@workspace_view(*KNOWLEDGE_EDITORS)
@require_POST
def article_draft_discard(request: HttpRequest, article_id: int) -> HttpResponse:
    article = selectors.article_get_for_member(workspace=_workspace(request), article_id=article_id)
    try:
        services.article_draft_discard(article=article, actor=request.user)
    except services.ArticleError as exc:
        messages.info(request, str(exc))
    else:
        messages.success(request, "Discarded the draft; it stays in the history.")
    return redirect(_article_url(request, article.pk))


def _version_labels(article: Any) -> dict[str, Any]:
    """Which version is live (in search) and which is the pending draft, for the badges."""
    return {
        "live_number": selectors.version_live_number(article=article),
        "draft_number": article.draft_version.number if article.draft_version else None,
    }


@workspace_view(*KNOWLEDGE_READERS)
@require_GET
def article_history(request: HttpRequest, article_id: int) -> HttpResponse:
    article = selectors.article_get_for_member(
        workspace=_workspace(request),
        article_id=article_id,
    )
    versions = list(selectors.version_list(article=article))
    labels = _version_labels(article)
    newest = versions[0].number if versions else 0
    older = labels["live_number"] if labels["live_number"] not in (None, newest) else newest - 1
    return _page(
        request,
        "knowledge/article_history.html",
        {
            "article": article,
            "versions": versions,
            "compare_from": max(older, 1),
            "compare_to": newest,
            **labels,
        },
    )


def _diff_context(old: Any, new: Any) -> dict[str, Any]:
    """Title, category and body of two versions (or working texts) side by side."""
    return {
        "title_change": (old[0], new[0]) if old[0] != new[0] else None,
        "category_change": (old[2] or "none", new[2] or "none") if old[2] != new[2] else None,
        "body_diff": side_by_side(old[1], new[1]),
    }


def _content(version: Any) -> tuple[str, str, str]:
    return version.title, version.body, version.category_name


@workspace_view(*KNOWLEDGE_READERS)
@require_GET
def version_compare(request: HttpRequest, article_id: int) -> HttpResponse:
    """The differences between any two versions (`old`, `new`), the older on the left."""
    article = selectors.article_get_for_member(workspace=_workspace(request), article_id=article_id)
    form = VersionCompareForm(request.GET)
    if not form.is_valid():
        messages.error(request, "Choose two versions to compare.")
        return redirect("knowledge:article-history", _workspace(request).slug, article.pk)
    numbers = sorted((form.cleaned_data["old"], form.cleaned_data["new"]))
    old = selectors.version_get(article=article, number=numbers[0])
    new = selectors.version_get(article=article, number=numbers[1])
    labels = _version_labels(article)
    return _page(
        request,
        "knowledge/version_compare.html",
        {
            "article": article,
            "old": old,
            "new": new,
            "old_label": _version_label(old.number, labels),
            "new_label": _version_label(new.number, labels),
            **_diff_context(_content(old), _content(new)),
            **labels,
        },
    )


def _version_label(number: int, labels: dict[str, Any]) -> str:
    if number == labels["live_number"]:
        return f"Version {number} (live)"
    if number == labels["draft_number"]:
        return f"Version {number} (draft)"
    return f"Version {number}"


@workspace_view(*KNOWLEDGE_READERS)
@require_GET
def version_detail(request: HttpRequest, article_id: int, number: int) -> HttpResponse:
    article = selectors.article_get_for_member(
        workspace=_workspace(request),
        article_id=article_id,
    )
    version = selectors.version_get(article=article, number=number)
    return _page(
        request,
        "knowledge/version_detail.html",
        {
            "article": article,
            "version": version,
            "body_html": render_markdown(version.body),
            "is_current": version.number == article.version_number,
            **_version_labels(article),
        },
    )


@workspace_view(*KNOWLEDGE_EDITORS)
@require_http_methods(["GET", "POST"])
def version_restore(request: HttpRequest, article_id: int, number: int) -> HttpResponse:
    """GET shows what restoring would change (the version against the current text) and asks
    to confirm; POST restores, as a draft revision of a published article unless published."""
    article = selectors.article_get_for_member(
        workspace=_workspace(request),
        article_id=article_id,
    )
    version = selectors.version_get(article=article, number=number)
    if request.method != "POST":
        current = services.article_working_text(article)
        return _page(
            request,
            "knowledge/version_restore.html",
            {
                "article": article,
                "version": version,
                "current_is_draft": article.has_draft_revision,
                "old_label": "Current draft" if article.has_draft_revision else "Current text",
                "new_label": f"After restoring version {version.number}",
                **_diff_context(current, _content(version)),
            },
        )
    publish = request.POST.get("action") == "publish"
    before = (article.version_number, article.draft_version_id)
    try:
        services.article_restore_version(
            article=article, version=version, actor=request.user, publish=publish
        )
    except services.ArticleError as exc:
        messages.error(request, str(exc))
        return redirect("knowledge:article-history", _workspace(request).slug, article.pk)
    if (article.version_number, article.draft_version_id) == before:
        messages.info(request, f"Version {number} matches the current text; nothing to restore.")
    elif article.has_draft_revision:
        messages.success(
            request,
            f"Restored version {number} as draft version {article.version_number}; publish "
            "the draft to put it live.",
        )
    else:
        messages.success(
            request, f"Restored version {number} as new version {article.version_number}."
        )
    return redirect(_article_url(request, article.pk))


def _import_page(
    request: HttpRequest, form: ImportForm, import_error: Any = None, status: int = 200
) -> HttpResponse:
    return _page(
        request,
        "knowledge/import.html",
        {
            "form": form,
            "import_error": import_error,
            "jobs": selectors.import_job_list_recent(workspace=_workspace(request)),
            "categories": selectors.category_list(workspace=_workspace(request)),
            "async_threshold": settings.KB_IMPORT_ASYNC_THRESHOLD,
        },
        status=status,
    )


@workspace_view(*KNOWLEDGE_EDITORS)
@require_http_methods(["GET", "POST"])
def article_import(request: HttpRequest) -> HttpResponse:
    """Validate the whole file first; small files are written at once, big ones by Celery."""
    if request.method != "POST":
        return _import_page(request, ImportForm())
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, form, status=400)
    upload = form.cleaned_data["file"]
    publish = form.cleaned_data["publish"]
    category = form.cleaned_data["category"]
    workspace = _workspace(request)
    try:
        items = importing.parse_upload(upload.name, upload.read())
    except importing.ImportFileError as exc:
        return _import_page(request, form, import_error=exc, status=400)
    items = importing.items_default_category(items, category)
    write = dict(
        workspace=workspace,
        actor=request.user,
        filename=upload.name,
        items=items,
        publish=publish,
        category=category,
    )
    if len(items) > settings.KB_IMPORT_ASYNC_THRESHOLD:
        job = importing.import_job_create(**write)
        messages.info(
            request,
            f"Importing {job.total_articles} articles from {upload.name} in the background.",
        )
    else:
        try:
            job = importing.import_job_write_now(**write)
        except services.ArticleError as exc:
            return _import_page(request, form, import_error=exc, status=400)
        messages.success(
            request,
            f"Imported {upload.name}: {job.created_count} created, {job.updated_count} updated.",
        )
    return redirect("knowledge:import-job", workspace_slug=workspace.slug, job_id=job.pk)


@workspace_view(*KNOWLEDGE_EDITORS)
@vary_on_headers("HX-Request")
@require_GET
def import_job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    """One import: its progress (the fragment polls itself until the job is done or failed)
    and, once written, a link to each article it imported."""
    job = selectors.import_job_get(workspace=_workspace(request), job_id=job_id)
    context = {"job": job, "job_articles": selectors.import_job_articles(job=job)}
    if wants_fragment(request):
        return render(request, "knowledge/import_job.html#import-job", context)
    return _page(request, "knowledge/import_job.html", context)
