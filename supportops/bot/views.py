"""Bot settings and issue categories pages. Thin: reads through selectors, writes through
services.

Managers and admins edit; agents see the same pages read-only (and may try a message);
finance gets 403 and outsiders 404 (`workspace_view`).
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from supportops.accounts.access import KNOWLEDGE_READERS, workspace_view
from supportops.accounts.models import Role, Workspace
from supportops.conversations.services import ConversationError
from supportops.integrations.embeddings import EmbeddingError
from supportops.knowledge import selectors as knowledge_selectors
from supportops.knowledge.forms import TryQuestionForm
from supportops.lib.htmx import wants_fragment
from supportops.text.intents import HIGH_STAKES_CATEGORIES

from . import categories, preview, services
from .forms import BotSettingsForm, CategoryForm, ExamplesForm, TicketImportForm, TryMessageForm
from .models import IssueCategory

logger = logging.getLogger(__name__)

BOT_READERS = (Role.ADMIN, Role.MANAGER, Role.AGENT)
BOT_EDITORS = (Role.ADMIN, Role.MANAGER)


def _workspace(request: HttpRequest) -> Workspace:
    return request.workspace  # type: ignore[attr-defined]  # set by workspace_view


def _can_edit(request: HttpRequest) -> bool:
    return request.membership.role in BOT_EDITORS  # type: ignore[attr-defined]


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    context = {"section": "settings", "can_edit": _can_edit(request), **context}
    return render(request, template, context, status=status)


# --- Settings ----------------------------------------------------------------------------------


def _settings_page(request: HttpRequest, form: BotSettingsForm, status: int = 200) -> HttpResponse:
    return _page(request, "bot/settings.html", {"form": form, "tab": "settings"}, status=status)


@workspace_view(*BOT_READERS)
@require_GET
def settings_page(request: HttpRequest) -> HttpResponse:
    current = services.bot_settings_get(workspace=_workspace(request))
    initial = {name: getattr(current, name) for name in services.BOT_SETTINGS_FIELDS}
    return _settings_page(
        request, BotSettingsForm(initial=initial, read_only=not _can_edit(request))
    )


@workspace_view(*BOT_EDITORS)
@require_POST
def settings_save(request: HttpRequest) -> HttpResponse:
    form = BotSettingsForm(request.POST)
    if form.is_valid():
        before = services.bot_settings_get(workspace=_workspace(request)).updated_at
        try:
            saved = services.bot_settings_update(
                workspace=_workspace(request), actor=request.user, **form.cleaned_data
            )
        except services.BotSettingsError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            if saved.updated_at == before:
                messages.info(request, "Nothing changed.")
            else:
                messages.success(request, "Bot settings saved.")
            return redirect("bot:settings", workspace_slug=_workspace(request).slug)
    return _settings_page(request, form, status=400)


# --- Categories --------------------------------------------------------------------------------


def _categories_page(request: HttpRequest, status: int = 200, **context: Any) -> HttpResponse:
    workspace = _workspace(request)
    listed = list(categories.category_list(workspace=workspace))
    names = {c.name for c in listed}
    context.setdefault("category_form", CategoryForm())
    context.setdefault("import_form", TicketImportForm())
    context.setdefault("try_form", TryMessageForm(auto_id="try_%s"))
    return _page(
        request,
        "bot/categories.html",
        {
            "tab": "categories",
            "categories": listed,
            "out_of_scope": categories.category_out_of_scope(workspace=workspace),
            "defaults_missing": [n for n in HIGH_STAKES_CATEGORIES if n not in names],
            "trained": len([c for c in listed if getattr(c, "example_count", 0)]) >= 2,
            **context,
        },
        status=status,
    )


@workspace_view(*BOT_READERS)
@require_GET
def category_list(request: HttpRequest) -> HttpResponse:
    return _categories_page(request)


@workspace_view(*BOT_EDITORS)
@require_POST
def category_create(request: HttpRequest) -> HttpResponse:
    form = CategoryForm(request.POST)
    if form.is_valid():
        try:
            category = categories.category_create(
                workspace=_workspace(request), actor=request.user, **form.cleaned_data
            )
        except categories.CategoryError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"Added the category “{category.name}”. Now add examples.")
            return redirect(
                "bot:category-detail",
                workspace_slug=_workspace(request).slug,
                category_id=category.pk,
            )
    return _categories_page(request, status=400, category_form=form)


@workspace_view(*BOT_EDITORS)
@require_POST
def categories_install_defaults(request: HttpRequest) -> HttpResponse:
    report = categories.categories_install_defaults(
        workspace=_workspace(request), actor=request.user
    )
    if report.created_categories or report.examples_added:
        messages.success(
            request,
            f"Added {len(report.created_categories)} high-stakes "
            f"categor{'y' if len(report.created_categories) == 1 else 'ies'} and "
            f"{report.examples_added} example{'' if report.examples_added == 1 else 's'}.",
        )
    else:
        messages.info(request, "The default high-stakes categories were already installed.")
    return redirect("bot:category-list", workspace_slug=_workspace(request).slug)


@workspace_view(*BOT_EDITORS)
@require_POST
def categories_import(request: HttpRequest) -> HttpResponse:
    """Checks the whole file first; shows what was added per category."""
    form = TicketImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _categories_page(request, status=400, import_form=form)
    upload = form.cleaned_data["file"]
    try:
        report = categories.category_tickets_import(
            workspace=_workspace(request),
            data=upload.read(),
            actor=request.user,
            filename=upload.name or "",
        )
    except categories.TicketImportError as exc:
        return _categories_page(
            request, status=400, import_form=form, import_error=exc, import_name=upload.name
        )
    return _categories_page(request, import_report=report, import_name=upload.name)


@workspace_view(*BOT_READERS)
@vary_on_headers("HX-Request")
@require_GET
def category_try(request: HttpRequest) -> HttpResponse:
    """Which category the classifier gives a message, and how sure it is."""
    form = TryMessageForm(request.GET, auto_id="try_%s")
    form.is_valid()
    text = (form.cleaned_data.get("text") or "").strip()
    context: dict[str, Any] = {"try_asked": True, "try_text": text, "try_form": form}
    if text:
        try:
            context["guess"] = categories.category_try(workspace=_workspace(request), text=text)
        except EmbeddingError:
            logger.warning("embedding provider failed in the category 'try a message' box")
            context["try_error"] = "The embedding model is unavailable; try again in a minute."
        context["untrained"] = "guess" in context and context["guess"] is None
    if wants_fragment(request):
        return render(request, "bot/categories.html#try-result", context)
    return _categories_page(request, **context)


# --- One category -----------------------------------------------------------------------------


def _category(request: HttpRequest, category_id: int) -> IssueCategory:
    return categories.category_get(workspace=_workspace(request), category_id=category_id)


def _examples_context(category: IssueCategory, form: ExamplesForm | None = None) -> dict[str, Any]:
    return {
        "category": category,
        "examples": categories.category_examples(category=category),
        "example_count": category.examples.count(),
        "examples_form": form or ExamplesForm(),
        "is_out_of_scope": categories.is_out_of_scope(category),
    }


def _detail_page(
    request: HttpRequest,
    category: IssueCategory,
    status: int = 200,
    **context: Any,
) -> HttpResponse:
    context.setdefault(
        "category_form",
        CategoryForm(
            initial={
                "name": category.name,
                "description": category.description,
                "is_high_stakes": category.is_high_stakes,
            }
        ),
    )
    return _page(
        request,
        "bot/category_detail.html",
        {
            "tab": "categories",
            **_examples_context(category, context.pop("examples_form", None)),
            **context,
        },
        status=status,
    )


@workspace_view(*BOT_READERS)
@require_GET
def category_detail(request: HttpRequest, category_id: int) -> HttpResponse:
    return _detail_page(request, _category(request, category_id))


@workspace_view(*BOT_EDITORS)
@require_POST
def category_edit(request: HttpRequest, category_id: int) -> HttpResponse:
    category = _category(request, category_id)
    form = CategoryForm(request.POST)
    if form.is_valid():
        try:
            categories.category_update(category=category, actor=request.user, **form.cleaned_data)
        except categories.CategoryError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Category saved.")
            return redirect(
                "bot:category-detail",
                workspace_slug=_workspace(request).slug,
                category_id=category.pk,
            )
    category.refresh_from_db()
    return _detail_page(request, category, status=400, category_form=form)


@workspace_view(*BOT_EDITORS)
@require_POST
def category_delete(request: HttpRequest, category_id: int) -> HttpResponse:
    category = _category(request, category_id)
    name = category.name
    categories.category_delete(category=category, actor=request.user)
    messages.success(request, f"Deleted the category “{name}” and its examples.")
    return redirect("bot:category-list", workspace_slug=_workspace(request).slug)


def _examples_response(
    request: HttpRequest, category: IssueCategory, form: ExamplesForm | None = None, **extra: Any
) -> HttpResponse:
    if wants_fragment(request):
        context = {**_examples_context(category, form), "can_edit": _can_edit(request), **extra}
        return render(request, "bot/category_detail.html#examples", context)
    if form is not None and form.errors:
        return _detail_page(request, category, status=400, examples_form=form)
    return redirect(
        "bot:category-detail", workspace_slug=_workspace(request).slug, category_id=category.pk
    )


@workspace_view(*BOT_EDITORS)
@require_POST
def category_examples_add(request: HttpRequest, category_id: int) -> HttpResponse:
    category = _category(request, category_id)
    form = ExamplesForm(request.POST)
    if not form.is_valid():
        return _examples_response(request, category, form)
    added = categories.category_examples_add(
        category=category, texts=form.lines(), actor=request.user
    )
    note = f"Added {len(added)} example{'' if len(added) == 1 else 's'}."
    if len(added) < len(form.lines()):
        note += " Examples the category already had were skipped."
    if not wants_fragment(request):
        messages.success(request, note)
    return _examples_response(request, category, examples_note=note)


@workspace_view(*BOT_EDITORS)
@require_POST
def category_example_remove(
    request: HttpRequest, category_id: int, example_id: int
) -> HttpResponse:
    category = _category(request, category_id)
    example = categories.category_example_get(category=category, example_id=example_id)
    categories.category_example_remove(example=example, actor=request.user)
    if not wants_fragment(request):
        messages.success(request, "Example removed.")
    return _examples_response(request, category)


# --- Try a question (the knowledge section's page; the bot app owns the decision) --------------


@workspace_view(*KNOWLEDGE_READERS)
@vary_on_headers("HX-Request")
@require_GET
def try_question(request: HttpRequest) -> HttpResponse:
    """The reply the bot would give (or the rule that would hand off, and why) above the
    published passages ranked for the question, with the scores behind the order."""
    workspace = _workspace(request)
    form = TryQuestionForm(request.GET, auto_id="try_%s")
    form.is_valid()
    question = (form.cleaned_data.get("question") or "").strip()
    category_id = knowledge_selectors.category_id_for_workspace(
        workspace=workspace, value=form.cleaned_data.get("category")
    )
    context: dict[str, Any] = {
        "try_asked": "question" in request.GET,
        "try_query": question,
        "try_category": category_id,
        "try_form": form,
    }
    if question:
        passages = preview.passages_for(
            workspace=workspace, question=question, category_id=category_id
        )
        context["try_hits"] = [(hit, preview.passage_html(hit)) for hit in passages.hits]
        context["try_note"] = passages.note
        try:
            context["reply"] = preview.reply_preview(workspace=workspace, question=question)
        except EmbeddingError:
            logger.warning("embedding provider failed; no reply preview in 'Try a question'")
            context["reply_error"] = (
                "The embedding model is unavailable, so the bot could not decide; "
                "try again in a minute."
            )
        except ConversationError as exc:
            context["reply_error"] = str(exc)
    if wants_fragment(request):
        return render(request, "bot/try_question.html#try-results", context)
    context.update(
        section="knowledge",
        can_edit=_can_edit(request),
        categories=knowledge_selectors.category_list(workspace=workspace),
    )
    return render(request, "bot/try_question.html", context)
