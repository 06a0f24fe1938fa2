"""The human queue: handed-off conversations, a transcript, a reply box and a Resolve button.

A deliberately small first version (the inbox app replaces it). Agents, managers and
admins may use it; finance gets 403 and outsiders 404 (`workspace_view`). Every lookup of a
conversation by id is filtered by the member's workspace, so another workspace's id is 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import (
    Case,
    IntegerField,
    OuterRef,
    Prefetch,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from supportops.accounts.access import workspace_view
from supportops.accounts.models import Role, Workspace
from supportops.inbox.copilot import TONES as COPILOT_TONES
from supportops.lib.htmx import wants_fragment

from . import services
from .models import Conversation, Handoff, Message
from .selectors import customer_earlier_conversations

QUEUE_ROLES = (Role.ADMIN, Role.MANAGER, Role.AGENT)
QUEUE_LIMIT = 200
IN_QUEUE = (Conversation.Status.HANDED_OFF, Conversation.Status.WITH_AGENT)


# --- Scoped reads (candidates for selectors.py once the inbox settles) ------------------------


def _open_handoffs() -> Prefetch:
    return Prefetch(
        "handoffs",
        queryset=Handoff.objects.exclude(status=Handoff.Status.RESOLVED).order_by("-created_at"),
        to_attr="open_handoffs",
    )


def queue_for_workspace(*, workspace: Workspace, limit: int = QUEUE_LIMIT) -> list[Conversation]:
    """Conversations waiting for a person first, then those a person has answered; oldest
    handoff first in each group. Three queries whatever the length (no per-row lookups).

    Conversations with no Handoff row (the assistant was switched off when they started)
    are included: they wait for a person too.
    """
    last_customer = Message.objects.filter(
        conversation=OuterRef("pk"), author=Message.Author.CUSTOMER
    ).order_by("-pk")
    rows = (
        Conversation.objects.filter(workspace=workspace, status__in=IN_QUEUE)
        .select_related("customer")
        .annotate(
            waiting=Case(
                When(status=Conversation.Status.HANDED_OFF, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            waiting_since=Coalesce("handed_off_at", "created_at"),
            last_customer_text=Subquery(last_customer.values("text")[:1]),
            last_customer_at=Subquery(last_customer.values("created_at")[:1]),
        )
        .prefetch_related(_open_handoffs())
        .order_by("waiting", "waiting_since", "pk")[:limit]
    )
    conversations: list[Conversation] = list(rows)
    for conversation in conversations:
        _attach_handoff(conversation, conversation.open_handoffs)  # type: ignore[attr-defined]
    return conversations


def conversation_get_for_member(*, workspace: Workspace, conversation_id: int) -> Conversation:
    conversation = (
        Conversation.objects.select_related("customer", "workspace")
        .filter(workspace=workspace, pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise Http404("conversation not found")
    return conversation


def conversation_transcript(*, conversation: Conversation) -> list[Message]:
    return list(
        Message.objects.filter(conversation=conversation).select_related("agent").order_by("pk")
    )


# --- Presentation helpers ----------------------------------------------------------------------


def _score_items(scores: dict[str, Any]) -> list[tuple[str, str]]:
    items = []
    for key, value in (scores or {}).items():
        if isinstance(value, float):
            items.append((str(key), f"{value:.3f}"))
        elif isinstance(value, int | str | bool) or value is None:
            items.append((str(key), str(value)))
    return items


def _attach_handoff(conversation: Conversation, handoffs: list[Handoff]) -> None:
    """`handoff`: the newest open handoff (or None), with `score_items` for the template."""
    handoff = handoffs[0] if handoffs else None
    if handoff is not None:
        handoff.score_items = _score_items(handoff.scores)  # type: ignore[attr-defined]
    conversation.handoff = handoff  # type: ignore[attr-defined]


def _workspace(request: HttpRequest) -> Workspace:
    return request.workspace  # type: ignore[attr-defined]  # set by workspace_view


def _panel_context(conversation: Conversation, **extra: Any) -> dict[str, Any]:
    handoffs = list(conversation.handoffs.order_by("-created_at"))
    for handoff in handoffs:
        handoff.score_items = _score_items(handoff.scores)  # type: ignore[attr-defined]
    return {
        "conversation": conversation,
        "customer": conversation.customer,
        "transcript": conversation_transcript(conversation=conversation),
        "earlier": customer_earlier_conversations(conversation=conversation),
        "handoffs": handoffs,
        "is_resolved": conversation.status == Conversation.Status.RESOLVED,
        "resolutions": Conversation.Resolution.choices,
        "copilot_tones": list(COPILOT_TONES.items()),
        **extra,
    }


def int_or_none(value: str | None) -> int | None:
    """A positive integer from a form field, or None for anything else."""
    return int(value) if value and value.isdigit() else None


def conversation_panel(
    request: HttpRequest, conversation: Conversation, **extra: Any
) -> HttpResponse:
    """The conversation region for htmx, or the whole page otherwise."""
    context = _panel_context(conversation, **extra)
    if wants_fragment(request):
        return render(request, "conversations/conversation.html#conversation-panel", context)
    status = 400 if extra.get("reply_error") else 200
    return render(
        request, "conversations/conversation.html", {"section": "inbox", **context}, status=status
    )


# --- Views -------------------------------------------------------------------------------------


@workspace_view(*QUEUE_ROLES)
@vary_on_headers("HX-Request")
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    context = {"conversations": queue_for_workspace(workspace=_workspace(request))}
    if wants_fragment(request):
        return render(request, "conversations/queue.html#queue-list", context)
    return render(request, "conversations/queue.html", {"section": "inbox", **context})


@workspace_view(*QUEUE_ROLES)
@vary_on_headers("HX-Request")
@require_GET
def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_get_for_member(
        workspace=_workspace(request), conversation_id=conversation_id
    )
    if wants_fragment(request) and request.GET.get("region") == "transcript":
        # The live transcript: polled every few seconds without touching the reply box.
        context = {
            "conversation": conversation,
            "transcript": conversation_transcript(conversation=conversation),
            "is_resolved": conversation.status == Conversation.Status.RESOLVED,
        }
        return render(request, "conversations/conversation.html#transcript", context)
    context = {"section": "inbox", **_panel_context(conversation)}
    return render(request, "conversations/conversation.html", context)


@workspace_view(*QUEUE_ROLES)
@require_POST
def conversation_reply(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_get_for_member(
        workspace=_workspace(request), conversation_id=conversation_id
    )
    text = request.POST.get("text", "")
    if conversation.status == Conversation.Status.RESOLVED:
        return conversation_panel(
            request,
            conversation,
            reply_error="This conversation is resolved; the customer reopens it by writing again.",
            reply_text=text,
        )
    try:
        services.agent_reply(
            conversation=conversation,
            agent=request.user,
            text=text,
            draft_id=int_or_none(request.POST.get("draft_id")),
        )
    except services.ConversationError as exc:
        return conversation_panel(
            request,
            conversation,
            reply_error=str(exc),
            reply_text=text,
            draft_id=request.POST.get("draft_id", ""),
        )
    if not wants_fragment(request):
        messages.success(request, "Reply sent.")
        return redirect(
            "conversations:conversation-detail",
            workspace_slug=_workspace(request).slug,
            conversation_id=conversation.pk,
        )
    return conversation_panel(request, conversation)


@workspace_view(*QUEUE_ROLES)
@require_POST
def conversation_resolve(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_get_for_member(
        workspace=_workspace(request), conversation_id=conversation_id
    )
    already = conversation.status == Conversation.Status.RESOLVED
    resolution = request.POST.get("resolution") or Conversation.Resolution.SOLVED
    if not already:
        try:
            services.conversation_resolve(
                conversation=conversation, actor=request.user, resolution=resolution
            )
        except services.ConversationError as exc:
            return conversation_panel(request, conversation, reply_error=str(exc))
    if wants_fragment(request):
        return conversation_panel(request, conversation)
    if already:
        messages.info(request, "The conversation was already resolved.")
    else:
        messages.success(request, "Resolved. The customer is asked to rate the help they got.")
    return redirect("inbox:index", workspace_slug=_workspace(request).slug)
