"""The inbox: tabs of open conversations with priority and SLA, the agent's availability, and
the claim / transfer / note actions of the routing panel on the conversation page.

Agents, managers and admins may use it; finance gets 403 and outsiders 404 (`workspace_view`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from supportops import flows
from supportops.accounts.access import workspace_view
from supportops.accounts.models import Role, Workspace
from supportops.conversations import typing
from supportops.conversations.models import Conversation
from supportops.conversations.selectors import (
    conversation_transcript,
    customer_earlier_conversations,
)
from supportops.conversations.services import ConversationError
from supportops.knowledge.selectors import article_get_for_member
from supportops.lib.htmx import wants_fragment

from . import copilot, macros, services
from .forms import AgentRoutingForm, AlertSettingsForm, BusinessHoursForm, QueueForm, SlaForm
from .gaps import GapError, gap_draft_create
from .models import AgentStatus, Handoff, Priority, Queue
from .selectors import (
    agent_alerts,
    agent_status_get,
    business_hours_get,
    conversation_get_for_agent,
    conversations_for_member,
    inbox_counts,
    inbox_list,
    queues_for_workspace,
    routing_setup,
    views_for_role,
    wait_estimate,
)

INBOX_ROLES = (Role.ADMIN, Role.MANAGER, Role.AGENT)


def _workspace(request: HttpRequest) -> Workspace:
    return request.workspace  # type: ignore[attr-defined]  # set by workspace_view


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]  # login_required in workspace_view


def int_or_none(value: str | None) -> int | None:
    """A positive integer from a form field, or None for anything else."""
    return int(value) if value and value.isdigit() else None


TAB_LABELS = {"mine": "Mine", "queues": "My queues", "unassigned": "Unassigned", "all": "All"}


def _tabs(
    workspace: Workspace, user: User, role: str, view: str
) -> tuple[list[dict[str, Any]], int]:
    """The tabs with their counts, and how many conversations wait for `user`'s reply."""
    counts = inbox_counts(workspace=workspace, user=user)
    return [
        {"name": tab, "label": TAB_LABELS[tab], "current": tab == view, **counts["tabs"][tab]}
        for tab in views_for_role(role)
    ], counts["waiting_for_me"]


def _list_context(
    request: HttpRequest, view: str, filters: dict[str, Any] | None = None
) -> dict[str, Any]:
    workspace, user = _workspace(request), _user(request)
    filters = filters or {"queue": None, "priority": None}
    tabs, waiting = _tabs(workspace, user, request.membership.role, view)  # type: ignore[attr-defined]
    return {
        "conversations": inbox_list(workspace=workspace, user=user, view=view, filters=filters),
        "view": view,
        "tabs": tabs,
        "waiting_for_me": waiting,
        "filters": filters,
        "queues": queues_for_workspace(workspace=workspace),
        "priorities": Priority.choices,
    }


@workspace_view(*INBOX_ROLES)
@vary_on_headers("HX-Request")
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    workspace, user = _workspace(request), _user(request)
    tabs = views_for_role(request.membership.role)  # type: ignore[attr-defined]
    view = request.GET.get("view") or "mine"
    if view not in tabs:
        view = "mine"
    filters = {
        "queue": int_or_none(request.GET.get("queue")),
        "priority": request.GET.get("priority"),
    }
    if wants_fragment(request):
        context = {
            "conversations": inbox_list(workspace=workspace, user=user, view=view, filters=filters),
            "view": view,
            "filters": filters,
        }
        return render(request, "inbox/index.html#inbox-list", context)
    context = _list_context(request, view, filters) | {
        "section": "inbox",
        "agent_status": agent_status_get(workspace=workspace, user=user),
        "statuses": AgentStatus.Status.choices,
    }
    return render(request, "inbox/index.html", context)


def assigned_notice(count: int) -> str:
    if count == 0:
        return "No one is waiting."
    return f"{count} conversation{'s' if count != 1 else ''} assigned to you."


@workspace_view(*INBOX_ROLES)
@require_POST
def status_set(request: HttpRequest) -> HttpResponse:
    """Availability. Going online picks up waiting conversations; the htmx answer carries
    them: the Mine tab (list and counts) swapped in beside the selector, with a notice."""
    workspace = _workspace(request)
    error = ""
    try:
        row = services.agent_status_set(
            workspace=workspace, user=_user(request), status=request.POST.get("status", "")
        )
    except services.InboxError as exc:
        error = str(exc)
        row = agent_status_get(workspace=workspace, user=_user(request))
    online = not error and row.status == AgentStatus.Status.ONLINE
    notice = assigned_notice(row.picked_up) if online else ""
    if wants_fragment(request):
        context: dict[str, Any] = {
            "agent_status": row,
            "statuses": AgentStatus.Status.choices,
            "error": error,
        }
        if online:
            context |= _list_context(request, "mine") | {"oob": True, "notice": notice}
        response = render(
            request, "inbox/_status_response.html", context, status=400 if error else 200
        )
        if online:
            response["HX-Push-Url"] = (
                reverse("inbox:index", kwargs={"workspace_slug": workspace.slug}) + "?view=mine"
            )
        return response
    if error:
        messages.error(request, error)
        return redirect("inbox:index", workspace_slug=workspace.slug)
    messages.success(request, f"You are {row.get_status_display().lower()}. {notice}".strip())
    url = reverse("inbox:index", kwargs={"workspace_slug": workspace.slug})
    return redirect(f"{url}?view=mine" if online else url)


def _parse_since(value: str | None) -> datetime | None:
    """The cursor a poll sends back (the `now` of the previous answer)."""
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError("`since` must be a date and time like 2026-01-31T09:30:00+00:00.")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


@workspace_view(*INBOX_ROLES)
@require_GET
def alerts(request: HttpRequest) -> HttpResponse:
    """Polled by static/js/inbox.js every few seconds: tab counts, the number waiting
    for this member, their alert preferences, and what happened since `since` (the `now` of
    the previous answer) that deserves a notification."""
    workspace, user = _workspace(request), _user(request)
    try:
        since = _parse_since(request.GET.get("since"))
    except ValueError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    now = timezone.now()
    counts = inbox_counts(workspace=workspace, user=user, now=now)
    prefs = agent_status_get(workspace=workspace, user=user)
    events = agent_alerts(workspace=workspace, user=user, since=since, now=now)
    # A first poll notifies nothing; it tells the browser which alerts of the last moments
    # it already shows (the list is on screen), since later polls look a little back.
    seen = (
        [e["key"] for e in agent_alerts(workspace=workspace, user=user, since=now, now=now)]
        if since is None
        else []
    )
    for event in events:
        event["url"] = reverse(
            "inbox:conversation",
            kwargs={"workspace_slug": workspace.slug, "conversation_id": event["conversation_id"]},
        )
    return JsonResponse(
        {
            "now": now.isoformat(),
            **counts,
            "prefs": {"notify": prefs.notify_browser, "sound": prefs.notify_sound},
            "events": events,
            "seen": seen,
        },
        headers={"Cache-Control": "no-store"},
    )


@workspace_view(*INBOX_ROLES)
def alert_settings(request: HttpRequest) -> HttpResponse:
    """A member's own alert preferences."""
    workspace, user = _workspace(request), _user(request)
    row = agent_status_get(workspace=workspace, user=user)
    status = 200
    if request.method == "POST":
        form = AlertSettingsForm(request.POST)
        if form.is_valid():
            try:
                services.agent_alerts_set(workspace=workspace, user=user, **form.cleaned_data)
            except services.InboxError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Alert settings saved.")
                return redirect("inbox:alert-settings", workspace_slug=workspace.slug)
        status = 400
    elif request.method == "GET":
        form = AlertSettingsForm(
            initial={
                "notify_browser": row.notify_browser,
                "notify_sound": row.notify_sound,
                "sla_warning_minutes": row.sla_warning_minutes,
            }
        )
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request, "inbox/alert_settings.html", {"section": "inbox", "form": form}, status=status
    )


@workspace_view(*INBOX_ROLES)
def business_hours(request: HttpRequest) -> HttpResponse:
    """Managers and admins edit the hours; agents see them (and the live wait figures)
    read-only, and a POST from them is 403."""
    workspace = _workspace(request)
    may_edit = request.membership.role in services.MANAGING_ROLES  # type: ignore[attr-defined]
    hours = business_hours_get(workspace=workspace)
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("only managers and admins change the business hours")
        form = BusinessHoursForm(request.POST, instance=hours)
        if form.is_valid():
            services.business_hours_save(hours=form.save(commit=False), actor=_user(request))
            messages.success(request, "Business hours saved.")
            return redirect("inbox:hours", workspace_slug=workspace.slug)
        status = 400
    elif request.method == "GET":
        form = BusinessHoursForm(instance=hours)
        status = 200
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    if not may_edit:
        for field in form.fields.values():
            field.disabled = True
    context = {
        "section": "inbox",
        "form": form,
        "may_edit": may_edit,
        "wait": wait_estimate(workspace=workspace),
    }
    return render(request, "inbox/hours.html", context, status=status)


def _routing_forms(setup: dict[str, Any]) -> dict[str, Any]:
    names = setup["category_names"]
    priorities = [(p.value, p.label) for p in setup["policies"]]
    sla_initial = {}
    for priority, policy in setup["policies"].items():
        sla_initial[f"{priority}_first"] = policy.first_reply_minutes
        sla_initial[f"{priority}_resolution"] = policy.resolution_minutes
    return {
        "queue_forms": [
            (
                queue,
                QueueForm(
                    initial={
                        "name": queue.name,
                        "categories": queue.categories,
                        "required_skill": queue.required_skill,
                    },
                    category_choices=names,
                    prefix=f"q{queue.pk}",
                ),
            )
            for queue in setup["queues"]
        ],
        "new_queue_form": QueueForm(category_choices=names, prefix="new"),
        "sla_form": SlaForm(initial=sla_initial, priorities=priorities),
        "agent_forms": [
            (
                agent,
                row,
                AgentRoutingForm(
                    initial={"skills": ", ".join(row.skills or []), "max_open": row.max_open},
                    prefix=f"a{agent.pk}",
                ),
            )
            for agent, row in setup["agents"]
        ],
    }


def _routing_post(
    request: HttpRequest, workspace: Workspace, names: list[str], forms: dict[str, Any]
) -> str:
    """Carry out one change from the routing page (`names`: the categories a queue may take).
    Returns "" when done; otherwise the error, with the form as typed put back into `forms`
    so nothing is lost."""
    action, actor = request.POST.get("action", ""), _user(request)
    if action == "queue" and request.POST.get("delete"):
        action = "queue-delete"
    try:
        if action in ("queue", "queue-delete"):
            queue_id = int_or_none(request.POST.get("queue_id"))
            queue = (
                Queue.objects.filter(workspace=workspace, pk=queue_id).first()
                if queue_id is not None
                else None
            )
            if queue_id is not None and queue is None:
                raise services.InboxError("That queue no longer exists.")
            if action == "queue-delete":
                if queue is None:
                    raise services.InboxError("Choose a queue to remove.")
                moved = services.queue_delete(queue=queue, actor=actor)
                messages.success(
                    request, f"Queue {queue.name} removed; {moved} conversation(s) moved."
                )
                return ""
            prefix = f"q{queue.pk}" if queue else "new"
            form = QueueForm(request.POST, category_choices=names, prefix=prefix)
            if queue is None:
                forms["new_queue_form"] = form
            else:
                forms["queue_forms"] = [
                    (q, form if q.pk == queue.pk else f) for q, f in forms["queue_forms"]
                ]
            if not form.is_valid():
                return "Check the queue's fields."
            saved = services.queue_save(
                workspace=workspace,
                actor=actor,
                queue=queue,
                name=form.cleaned_data["name"],
                categories=form.cleaned_data["categories"],
                required_skill=form.cleaned_data["required_skill"],
            )
            messages.success(request, f"Queue {saved.name} saved.")
        elif action == "sla":
            sla_form = SlaForm(request.POST, priorities=forms["sla_form"].priorities)
            forms["sla_form"] = sla_form
            if not sla_form.is_valid():
                return "Check the SLA targets."
            services.sla_policies_save(workspace=workspace, actor=actor, targets=sla_form.targets())
            messages.success(request, "SLA targets saved; they apply to new handoffs.")
        elif action == "agent":
            user_id = int_or_none(request.POST.get("user_id"))
            match = [row for row in forms["agent_forms"] if row[0].pk == user_id]
            if not match:
                raise services.InboxError("That person is not an agent in this workspace.")
            agent, status_row, _ = match[0]
            agent_form = AgentRoutingForm(request.POST, prefix=f"a{agent.pk}")
            forms["agent_forms"] = [
                (a, r, agent_form if a.pk == agent.pk else f) for a, r, f in forms["agent_forms"]
            ]
            if not agent_form.is_valid():
                return f"Check {agent.get_username()}'s skills and limit."
            services.agent_routing_set(
                workspace=workspace,
                actor=actor,
                agent=agent,
                skills=agent_form.skill_list(),
                max_open=agent_form.cleaned_data["max_open"],
            )
            messages.success(request, f"{agent.get_username()}: skills and limit saved.")
        else:
            return "Unknown change; reload the page and try again."
    except services.InboxError as exc:
        return str(exc)
    return ""


@workspace_view(*INBOX_ROLES)
def routing_settings(request: HttpRequest) -> HttpResponse:
    """Queues, SLA targets and agents' skills: managers and admins change them, agents see
    them read-only (a POST from them is 403)."""
    workspace = _workspace(request)
    may_edit = request.membership.role in services.MANAGING_ROLES  # type: ignore[attr-defined]
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method == "POST" and not may_edit:
        raise PermissionDenied("only managers and admins change routing")
    setup = routing_setup(workspace=workspace)
    forms = _routing_forms(setup)
    error, status = "", 200
    if request.method == "POST":
        error = _routing_post(request, workspace, setup["category_names"], forms)
        if not error:
            return redirect("inbox:routing", workspace_slug=workspace.slug)
        status = 400
    context = {"section": "inbox", "may_edit": may_edit, "error": error, **setup, **forms}
    return render(request, "inbox/routing.html", context, status=status)


# --- The conversation page: transcript, handoff packet, reply, resolve --------------------------


def _score_items(scores: dict[str, Any]) -> list[tuple[str, str]]:
    items = []
    for key, value in (scores or {}).items():
        if isinstance(value, float):
            items.append((str(key), f"{value:.3f}"))
        elif isinstance(value, int | str | bool) or value is None:
            items.append((str(key), str(value)))
    return items


def _panel_context(conversation: Conversation, **extra: Any) -> dict[str, Any]:
    handoffs = list(Handoff.objects.filter(conversation=conversation).order_by("-created_at"))
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
        "copilot_tones": list(copilot.TONES.items()),
        "copilot_drafts": copilot.copilot_drafts_allowed(conversation),
        "copilot_control_note": copilot.CONTROL_NO_DRAFTS,
        "customer_typing": _customer_typing(conversation),
        **extra,
    }


def _customer_typing(conversation: Conversation) -> bool:
    if conversation.status == Conversation.Status.RESOLVED:
        return False
    return typing.typing_now(conversation_id=conversation.pk, who=typing.CUSTOMER) is not None


def conversation_panel(
    request: HttpRequest, conversation: Conversation, **extra: Any
) -> HttpResponse:
    """The conversation region for htmx, or the whole page otherwise."""
    context = _panel_context(conversation, **extra)
    if wants_fragment(request):
        return render(request, "inbox/conversation.html#conversation-panel", context)
    status = 400 if extra.get("reply_error") else 200
    return render(
        request, "inbox/conversation.html", {"section": "inbox", **context}, status=status
    )


def _conversation_url(request: HttpRequest, conversation: Conversation) -> str:
    return reverse(
        "inbox:conversation",
        kwargs={"workspace_slug": _workspace(request).slug, "conversation_id": conversation.pk},
    )


@workspace_view(*INBOX_ROLES)
@vary_on_headers("HX-Request")
@require_GET
def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_get_for_agent(
        membership=request.membership,  # type: ignore[attr-defined]
        conversation_id=conversation_id,
    )
    if wants_fragment(request) and request.GET.get("region") == "transcript":
        # The live transcript: polled every few seconds without touching the reply box.
        context = {
            "conversation": conversation,
            "transcript": conversation_transcript(conversation=conversation),
            "is_resolved": conversation.status == Conversation.Status.RESOLVED,
            "customer_typing": _customer_typing(conversation),
        }
        return render(request, "inbox/conversation.html#transcript", context)
    context = {"section": "inbox", **_panel_context(conversation)}
    return render(request, "inbox/conversation.html", context)


@workspace_view(*INBOX_ROLES)
@require_POST
def conversation_reply(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_get_for_agent(
        membership=request.membership,  # type: ignore[attr-defined]
        conversation_id=conversation_id,
    )
    text = request.POST.get("text", "")
    macro_ids = macros.parse_ids(request.POST.get("saved_reply_ids", ""))
    if conversation.status == Conversation.Status.RESOLVED:
        return conversation_panel(
            request,
            conversation,
            reply_error="This conversation is resolved; the customer reopens it by writing again.",
            reply_text=text,
        )
    try:
        flows.do_agent_reply(
            conversation=conversation,
            agent=request.user,
            text=text,
            draft_id=int_or_none(request.POST.get("draft_id")),
        )
    except ConversationError as exc:
        return conversation_panel(
            request,
            conversation,
            reply_error=str(exc),
            reply_text=text,
            draft_id=request.POST.get("draft_id", ""),
            saved_reply_ids=",".join(map(str, macro_ids)),
        )
    # Saved replies inserted into this reply count as used now that it is sent.
    membership = request.membership  # type: ignore[attr-defined]
    macros.saved_replies_count_use(membership=membership, reply_ids=macro_ids)
    if not wants_fragment(request):
        messages.success(request, "Reply sent.")
        return redirect(_conversation_url(request, conversation))
    return conversation_panel(request, conversation)


@workspace_view(*INBOX_ROLES)
@require_POST
def conversation_resolve(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_get_for_agent(
        membership=request.membership,  # type: ignore[attr-defined]
        conversation_id=conversation_id,
    )
    already = conversation.status == Conversation.Status.RESOLVED
    resolution = request.POST.get("resolution") or Conversation.Resolution.SOLVED
    if not already:
        try:
            flows.do_resolve(conversation=conversation, actor=request.user, resolution=resolution)
        except ConversationError as exc:
            return conversation_panel(request, conversation, reply_error=str(exc))
    if wants_fragment(request):
        return conversation_panel(request, conversation)
    if already:
        messages.info(request, "The conversation was already resolved.")
    else:
        messages.success(request, "Resolved. The customer is asked to rate the help they got.")
    return redirect("inbox:index", workspace_slug=_workspace(request).slug)


@workspace_view(*INBOX_ROLES)
@require_POST
def gap_draft(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """An agent turns their answer to a conversation the bot could not answer into a draft
    article (or adds it to an existing gap draft) for a manager's review."""
    workspace = _workspace(request)
    conversation = conversation_get_for_agent(
        membership=request.membership,  # type: ignore[attr-defined]
        conversation_id=conversation_id,
    )
    back = _conversation_url(request, conversation)
    target = None
    chosen = request.POST.get("article", "").strip()
    if chosen:
        if not chosen.isdigit():
            messages.error(request, "Choose a draft from the list.")
            return redirect(back)
        target = article_get_for_member(workspace=workspace, article_id=int(chosen))
    try:
        article = gap_draft_create(conversation=conversation, actor=request.user, article=target)
    except GapError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    messages.success(
        request,
        f"Draft “{article.title}” is waiting for a manager’s review "
        "under “Knowledge gaps to review”.",
    )
    if request.membership.role in services.MANAGING_ROLES:  # type: ignore[attr-defined]
        return redirect(
            "knowledge:article-detail", workspace_slug=workspace.slug, article_id=article.pk
        )
    return redirect(back)


# --- Routing panel actions on one conversation -------------------------------------------------


def _open_handoff(conversation: Conversation) -> Handoff:
    handoff = services.handoff_open_get(conversation=conversation)
    if handoff is None:
        raise services.InboxError("Nobody is waiting on this conversation.")
    return handoff


def _done(
    request: HttpRequest, conversation: Conversation, *, ok: str, error: str = "", **extra: str
) -> HttpResponse:
    """The routing panel for htmx, otherwise back to the conversation with a message."""
    if wants_fragment(request):
        context = {"conversation": conversation, "panel_error": error, **extra}
        return render(request, "inbox/_routing.html", context, status=400 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, ok)
    return redirect(_conversation_url(request, conversation))


@workspace_view(*INBOX_ROLES)
@require_POST
def claim(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_get_for_agent(
        membership=request.membership,  # type: ignore[attr-defined]
        conversation_id=conversation_id,
    )
    try:
        services.handoff_claim(handoff=_open_handoff(conversation), agent=_user(request))
    except services.InboxError as exc:
        return _done(request, conversation, ok="", error=str(exc))
    return _done(request, conversation, ok="The conversation is yours.")


@workspace_view(*INBOX_ROLES)
@require_POST
def transfer(request: HttpRequest, conversation_id: int) -> HttpResponse:
    workspace = _workspace(request)
    conversation = conversation_get_for_agent(
        membership=request.membership,  # type: ignore[attr-defined]
        conversation_id=conversation_id,
    )
    # Both ids are looked up inside this workspace only; others simply do not exist here.
    agent_id = int_or_none(request.POST.get("agent"))
    queue_id = int_or_none(request.POST.get("queue"))
    members = User.objects.filter(
        memberships__workspace=workspace, memberships__role__in=INBOX_ROLES
    )
    to_agent = members.filter(pk=agent_id).first() if agent_id else None
    to_queue = Queue.objects.filter(workspace=workspace, pk=queue_id).first() if queue_id else None
    try:
        if (agent_id and to_agent is None) or (queue_id and to_queue is None):
            raise Http404("no such agent or queue in this workspace")
        services.handoff_transfer(
            handoff=_open_handoff(conversation),
            actor=_user(request),
            to_agent=to_agent,
            to_queue=to_queue,
        )
    except services.InboxError as exc:
        return _done(request, conversation, ok="", error=str(exc))
    membership = request.membership  # type: ignore[attr-defined]
    if not conversations_for_member(membership=membership).filter(pk=conversation.pk).exists():
        # Sent to a queue this agent does not work: the conversation is no longer theirs to
        # open, so go back to the inbox instead of a page that would now be 404.
        messages.success(request, "Transferred.")
        inbox_url = reverse("inbox:index", kwargs={"workspace_slug": workspace.slug})
        if wants_fragment(request):
            return HttpResponseClientRedirect(inbox_url)
        return redirect(inbox_url)
    return _done(request, conversation, ok="Transferred.")


@workspace_view(*INBOX_ROLES)
@require_POST
def note(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_get_for_agent(
        membership=request.membership,  # type: ignore[attr-defined]
        conversation_id=conversation_id,
    )
    text = request.POST.get("note", "")
    try:
        services.note_add(conversation=conversation, author=_user(request), text=text)
    except services.InboxError as exc:
        return _done(request, conversation, ok="", error=str(exc), note_text=text)
    return _done(request, conversation, ok="Note added.")


# --- Co-pilot ----------------------------------------------------------------------------------
# Each action re-renders the conversation panel: a draft or rewrite lands in the reply box
# (the agent edits and sends it), a summary above it.


def _copilot_conversation(request: HttpRequest, conversation_id: int) -> Conversation:
    conversation = conversation_get_for_agent(
        membership=request.membership,  # type: ignore[attr-defined]
        conversation_id=conversation_id,
    )
    if conversation.status == Conversation.Status.RESOLVED:
        raise Http404("the conversation is resolved")
    return conversation


@workspace_view(*INBOX_ROLES)
@require_POST
def copilot_summary(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _copilot_conversation(request, conversation_id)
    summary = flows.do_copilot_summary(conversation=conversation)
    return conversation_panel(
        request,
        conversation,
        copilot_summary=summary,
        reply_text=request.POST.get("text", ""),
        copilot_tone=request.POST.get("tone", ""),
    )


@workspace_view(*INBOX_ROLES)
@require_POST
def copilot_draft(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _copilot_conversation(request, conversation_id)
    try:
        draft = flows.do_copilot_draft(conversation=conversation, agent=_user(request))
    except copilot.CopilotRefused as exc:
        return conversation_panel(
            request, conversation, reply_error=str(exc), reply_text=request.POST.get("text", "")
        )
    return conversation_panel(
        request,
        conversation,
        reply_text=draft.text,
        draft_id=draft.pk,
        copilot_draft=draft,
        copilot_tone=request.POST.get("tone", ""),
    )


@workspace_view(*INBOX_ROLES)
@require_POST
def copilot_rewrite(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _copilot_conversation(request, conversation_id)
    text = request.POST.get("text", "")
    tone = request.POST.get("tone", "")
    try:
        draft = flows.do_copilot_rewrite(
            conversation=conversation, agent=_user(request), text=text, tone=tone
        )
    except ValueError as exc:
        return conversation_panel(
            request, conversation, reply_error=str(exc), reply_text=text, copilot_tone=tone
        )
    # The tone chosen stays selected, so "Rewrite" again gives the same tone.
    return conversation_panel(
        request,
        conversation,
        reply_text=draft.text,
        draft_id=draft.pk,
        copilot_draft=draft,
        copilot_tone=draft.tone,
    )
