"""Saved replies: the management pages (list, add, edit, delete), the search and fill
endpoints the reply box uses, and the typing pings of the conversation page.

Every view sits behind `workspace_view`; a reply is reached only through the member's own
scope (`macros.saved_reply_get_for_member`), so another person's reply is 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from supportops.accounts.access import workspace_view
from supportops.conversations import typing
from supportops.conversations.models import Conversation

from . import macros
from .selectors import conversation_get_for_agent
from .views import INBOX_ROLES


def _membership(request: HttpRequest) -> Any:
    return request.membership  # type: ignore[attr-defined]  # set by workspace_view


def _form_values(request: HttpRequest) -> dict[str, str]:
    return {
        "title": request.POST.get("title", ""),
        "shortcut": request.POST.get("shortcut", ""),
        "body": request.POST.get("body", ""),
    }


PLACEHOLDER_HELP = list(macros.PLACEHOLDERS)


@workspace_view(*INBOX_ROLES)
@require_GET
def saved_reply_list(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    replies = list(macros.saved_replies_for_member(membership=membership))
    for reply in replies:
        reply.may_change = macros.may_change(  # type: ignore[attr-defined]
            membership=membership, reply=reply
        )
    context = {
        "section": "inbox",
        "shared": [r for r in replies if r.is_shared],
        "own": [r for r in replies if not r.is_shared],
        "keeps_shared": membership.role in macros.KEEPS_SHARED,
        "placeholders": PLACEHOLDER_HELP,
    }
    return render(request, "inbox/saved_replies.html", context)


def _form_page(
    request: HttpRequest, *, reply: Any, values: dict[str, Any], error: str = "", status: int = 200
) -> HttpResponse:
    membership = _membership(request)
    context = {
        "section": "inbox",
        "reply": reply,
        "values": values,
        "error": error,
        "keeps_shared": membership.role in macros.KEEPS_SHARED,
        "placeholders": PLACEHOLDER_HELP,
    }
    return render(request, "inbox/saved_reply_form.html", context, status=status)


@workspace_view(*INBOX_ROLES)
def saved_reply_create(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    if request.method == "GET":
        shared = membership.role in macros.KEEPS_SHARED and request.GET.get("shared") == "1"
        return _form_page(request, reply=None, values={"shared": shared})
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    values: dict[str, Any] = {**_form_values(request), "shared": request.POST.get("shared") == "1"}
    try:
        reply = macros.saved_reply_create(membership=membership, **values)
    except macros.MacroError as exc:
        return _form_page(request, reply=None, values=values, error=str(exc), status=400)
    messages.success(request, f"Saved reply \u201c{reply.title}\u201d added.")
    return redirect("inbox:saved-replies", workspace_slug=membership.workspace.slug)


@workspace_view(*INBOX_ROLES)
def saved_reply_edit(request: HttpRequest, reply_id: int) -> HttpResponse:
    membership = _membership(request)
    reply = macros.saved_reply_get_for_member(
        membership=membership, reply_id=reply_id, to_change=True
    )
    if request.method == "GET":
        values = {"title": reply.title, "shortcut": reply.shortcut, "body": reply.body}
        return _form_page(request, reply=reply, values={**values, "shared": reply.is_shared})
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    values = _form_values(request)
    try:
        macros.saved_reply_update(membership=membership, reply=reply, **values)
    except macros.MacroError as exc:
        page_values = {**values, "shared": reply.is_shared}
        return _form_page(request, reply=reply, values=page_values, error=str(exc), status=400)
    messages.success(request, f"Saved reply \u201c{reply.title}\u201d saved.")
    return redirect("inbox:saved-replies", workspace_slug=membership.workspace.slug)


@workspace_view(*INBOX_ROLES)
@require_POST
def saved_reply_delete(request: HttpRequest, reply_id: int) -> HttpResponse:
    membership = _membership(request)
    reply = macros.saved_reply_get_for_member(
        membership=membership, reply_id=reply_id, to_change=True
    )
    title = reply.title
    macros.saved_reply_delete(membership=membership, reply=reply)
    messages.success(request, f"Saved reply \u201c{title}\u201d deleted.")
    return redirect("inbox:saved-replies", workspace_slug=membership.workspace.slug)


# --- The reply box: search, fill ---------------------------------------------------------------


def _conversation(request: HttpRequest, conversation_id: int) -> Conversation:
    return conversation_get_for_agent(
        membership=_membership(request), conversation_id=conversation_id
    )


@workspace_view(*INBOX_ROLES)
@require_GET
def saved_reply_search(request: HttpRequest, conversation_id: int) -> JsonResponse:
    """`?q=/ref` or `?q=words`: the matching replies, without their filled text."""
    _conversation(request, conversation_id)
    found = macros.saved_replies_search(
        membership=_membership(request), query=request.GET.get("q", "")
    )
    return JsonResponse(
        {
            "results": [
                {
                    "id": reply.pk,
                    "title": reply.title,
                    "shortcut": reply.shortcut,
                    "shared": reply.is_shared,
                    "preview": " ".join(reply.body.split())[:120],
                }
                for reply in found
            ]
        }
    )


@workspace_view(*INBOX_ROLES)
@require_GET
def saved_reply_fill(request: HttpRequest, conversation_id: int, reply_id: int) -> JsonResponse:
    """The reply's text with its placeholders filled for this conversation and this agent;
    `missing` names those left as "[...]" for the agent to fill in."""
    conversation = _conversation(request, conversation_id)
    membership = _membership(request)
    reply = macros.saved_reply_get_for_member(membership=membership, reply_id=reply_id)
    values = macros.placeholder_values(conversation=conversation, agent=membership.user)
    text, missing = macros.macro_fill(body=reply.body, values=values)
    return JsonResponse({"id": reply.pk, "title": reply.title, "text": text, "missing": missing})


# --- Typing -------------------------------------------------------------------------------------


@workspace_view(*INBOX_ROLES)
@require_POST
def agent_typing(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """The agent is typing a reply: the customer's widget shows it for a few seconds."""
    conversation = _conversation(request, conversation_id)
    if conversation.status == Conversation.Status.RESOLVED:
        return HttpResponse(status=204)
    user = _membership(request).user
    typing.typing_mark(conversation_id=conversation.pk, who=typing.AGENT, name=user.first_name)
    return HttpResponse(status=204)
