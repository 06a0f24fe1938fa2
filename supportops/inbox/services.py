"""Writes for the human inbox: routing a handoff to a queue and an agent, claims, transfers,
availability and internal notes. Every write is atomic and audited."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, F, Max, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from supportops.accounts.models import Membership, Role, Workspace
from supportops.accounts.services import Actor, audit_log_write, real_user
from supportops.bot.models import BotTurn, IssueCategory
from supportops.bot.services import bot_settings_get
from supportops.conversations.models import (
    Conversation,
    ConversationEvent,
    CsatRequest,
    Customer,
    Message,
)
from supportops.conversations.services import (
    ConversationError,
    clean_text,
    conversation_close,
    conversation_event_add,
    conversation_status_set,
    message_add,
)
from supportops.lib.queueing import task_send_on_commit
from supportops.text.redaction import redact

from .copilot import copilot_drafts_settle
from .followup import followup_due
from .models import (
    PRIORITY_ORDER,
    WEEKDAYS,
    AgentStatus,
    BusinessHours,
    Handoff,
    InternalNote,
    Priority,
    Queue,
    Routing,
    SlaPolicy,
)
from .tasks import csat_email_send, followup_email_send

INBOX_ROLES = (Role.ADMIN, Role.MANAGER, Role.AGENT)
MANAGING_ROLES = (Role.ADMIN, Role.MANAGER)
MAX_NOTE_CHARS = 4000
# A handoff nobody has answered gains one priority level per this long in the list.
PRIORITY_BUMP_AFTER = timedelta(minutes=30)


class InboxError(ConversationError):
    """A claim, transfer or note that cannot be done; the message says why."""


# --- Lookups with lazy defaults ------------------------------------------------------------------


def member_role(*, workspace: Workspace, user: Actor) -> str | None:
    person = real_user(user)
    if person is None:
        return None
    return (
        Membership.objects.filter(workspace=workspace, user=person)
        .values_list("role", flat=True)
        .first()
    )


def _require_inbox_member(workspace: Workspace, user: Actor) -> User:
    person = real_user(user)
    if person is None or member_role(workspace=workspace, user=person) not in INBOX_ROLES:
        raise InboxError(f"{person or 'This user'} is not an agent in this workspace.")
    return person


def queue_default_get(*, workspace: Workspace) -> Queue:
    queue, _ = Queue.objects.get_or_create(
        workspace=workspace, is_default=True, defaults={"name": Queue.DEFAULT_NAME}
    )
    return queue


def sla_policy_get(*, workspace: Workspace, priority: str) -> SlaPolicy:
    first, resolution = SlaPolicy.DEFAULTS[Priority(priority)]
    policy, _ = SlaPolicy.objects.get_or_create(
        workspace=workspace,
        priority=priority,
        defaults={"first_reply_minutes": first, "resolution_minutes": resolution},
    )
    return policy


# --- Pure rules ----------------------------------------------------------------------------------


def handoff_category(*, handoff: Handoff) -> str:
    """The packet's category (the turn that handed off), else the latest classified turn."""
    category = str((handoff.packet or {}).get("category") or "")
    if category:
        return category
    latest = (
        BotTurn.objects.filter(conversation_id=handoff.conversation_id)
        .exclude(category="")
        .order_by("-pk")
        .values_list("category", flat=True)
        .first()
    )
    return latest or handoff.conversation.category


def priority_decide(*, high_stakes: bool, vip: bool) -> tuple[str, str]:
    if high_stakes:
        return Priority.URGENT, "high-stakes category"
    if vip:
        return Priority.HIGH, "VIP customer"
    return Priority.NORMAL, "default"


def priority_bumped(*, priority: str, waiting: timedelta) -> str:
    """The priority shown in the list: one level up per PRIORITY_BUMP_AFTER without a reply."""
    steps = max(0, int(waiting / PRIORITY_BUMP_AFTER))
    index = PRIORITY_ORDER.index(Priority(priority))
    return PRIORITY_ORDER[max(0, index - steps)]


def _deadline(due: datetime, done_at: datetime | None, now: datetime) -> dict[str, Any]:
    until = done_at or now
    remaining_s = int((due - until).total_seconds())
    return {
        "due": due,
        "remaining_s": remaining_s,
        "breached": remaining_s < 0,
        "met": done_at is not None and remaining_s >= 0,
    }


def sla_state(*, routing: Routing, now: datetime) -> dict[str, dict[str, Any]]:
    """Time left on each target; once met, `remaining_s` is the margin it was met by."""
    handoff = routing.handoff
    return {
        "first_reply": _deadline(routing.first_reply_due, handoff.first_human_reply_at, now),
        "resolution": _deadline(routing.resolution_due, handoff.resolved_at, now),
    }


# --- Routing and assignment ----------------------------------------------------------------------


def _queue_for(workspace: Workspace, category: str) -> Queue:
    if category:
        for queue in Queue.objects.filter(workspace=workspace, is_default=False):
            if category in (queue.categories or []):
                return queue
    return queue_default_get(workspace=workspace)


def _is_high_stakes(workspace: Workspace, category: str, trigger: str) -> bool:
    if trigger == "high_stakes":
        return True
    return bool(category) and (
        IssueCategory.objects.filter(workspace=workspace, name=category, is_high_stakes=True)
        .only("pk")
        .exists()
    )


def _open_count() -> Coalesce:
    held = (
        Handoff.objects.filter(assignee=OuterRef("user_id"), workspace=OuterRef("workspace_id"))
        .exclude(status=Handoff.Status.RESOLVED)
        .values("assignee")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(held), Value(0))


def _eligible(workspace: Workspace, queue: Queue | None) -> QuerySet[AgentStatus]:
    rows = AgentStatus.objects.filter(
        workspace=workspace,
        status=AgentStatus.Status.ONLINE,
        user__memberships__workspace=workspace,
        user__memberships__role__in=INBOX_ROLES,
    )
    if queue is not None and queue.required_skill:
        rows = rows.filter(skills__contains=[queue.required_skill])
    return rows


def _least_busy(workspace: Workspace, queue: Queue | None, exclude: set[int]) -> int | None:
    """The online agent holding the fewest open conversations (and under their limit); ties
    go to whoever was assigned least recently, which makes equal loads round-robin."""
    # Lock the candidates first so two handoffs routed at once see each other's assignment;
    # the counts below run as a new statement, after the lock is held.
    candidates = _eligible(workspace, queue).exclude(user_id__in=exclude)
    list(candidates.select_for_update().values_list("pk", flat=True))
    last_assigned = (
        Routing.objects.filter(handoff__assignee=OuterRef("user_id"), workspace=workspace)
        .values("handoff__assignee")
        .annotate(at=Max("assigned_at"))
        .values("at")
    )
    best = (
        candidates.annotate(open_count=_open_count(), last_at=Subquery(last_assigned))
        .filter(open_count__lt=F("max_open"))
        .order_by("open_count", F("last_at").asc(nulls_first=True), "pk")
        .values_list("user_id", flat=True)
        .first()
    )
    return best


def _assign(handoff: Handoff, user_id: int, *, only_if_free: bool, via: str) -> bool:
    """One conditional UPDATE: with `only_if_free`, it succeeds for exactly one caller.
    `via` (route, claim, transfer) goes into the conversation's event log."""
    now = timezone.now()
    rows = Handoff.objects.filter(pk=handoff.pk).exclude(status=Handoff.Status.RESOLVED)
    if only_if_free:
        rows = rows.filter(assignee__isnull=True)
    if not rows.update(assignee_id=user_id, status=Handoff.Status.ASSIGNED):
        return False
    Routing.objects.filter(handoff=handoff).update(assigned_at=now)
    handoff.assignee_id = user_id
    handoff.status = Handoff.Status.ASSIGNED
    ConversationEvent.objects.create(
        workspace_id=handoff.workspace_id,
        conversation_id=handoff.conversation_id,
        kind=ConversationEvent.Kind.CLAIMED,
        at=now,
        data={"user_id": user_id, "via": via, "handoff_id": handoff.pk},
    )
    return True


def _previous_agent_online(handoff: Handoff) -> int | None:
    """After a reopen, the person who had the conversation before, if they are online."""
    previous = (
        Handoff.objects.filter(conversation_id=handoff.conversation_id, assignee__isnull=False)
        .exclude(pk=handoff.pk)
        .order_by("-created_at")
        .values_list("assignee_id", flat=True)
        .first()
    )
    if previous is None:
        return None
    online = _eligible(handoff.conversation.workspace, None).filter(user_id=previous)
    return previous if online.exists() else None


@transaction.atomic
def handoff_route(*, handoff: Handoff) -> Routing:
    """Queue, priority and SLA due times for a new handoff, then an agent if one is free.
    Routing twice returns the first routing."""
    existing = Routing.objects.filter(handoff=handoff).first()
    if existing is not None:
        return existing
    conversation: Conversation = handoff.conversation
    workspace = conversation.workspace
    customer: Customer = conversation.customer
    category = handoff_category(handoff=handoff)
    priority, reason = priority_decide(
        high_stakes=_is_high_stakes(workspace, category, handoff.trigger), vip=customer.is_vip
    )
    policy = sla_policy_get(workspace=workspace, priority=priority)
    routing = Routing.objects.create(
        workspace=workspace,
        handoff=handoff,
        queue=_queue_for(workspace, category),
        category=category,
        priority=priority,
        priority_reason=reason,
        first_reply_due=handoff.created_at + timedelta(minutes=policy.first_reply_minutes),
        resolution_due=handoff.created_at + timedelta(minutes=policy.resolution_minutes),
    )
    agent_id = _previous_agent_online(handoff) or _least_busy(workspace, routing.queue, set())
    if agent_id is not None and _assign(handoff, agent_id, only_if_free=True, via="route"):
        routing.assigned_at = timezone.now()
    audit_log_write(
        workspace=workspace,
        actor=None,
        actor_label="router",
        action="handoff.route",
        target=handoff,
        details={
            "queue": routing.queue.name if routing.queue else "",
            "category": category,
            "priority": priority,
            "priority_reason": reason,
            "assignee_id": handoff.assignee_id,
        },
    )
    return routing


def handoff_open_get(*, conversation: Conversation) -> Handoff | None:
    """The conversation's handoff nobody has resolved yet, newest first."""
    return (
        Handoff.objects.filter(conversation=conversation)
        .exclude(status=Handoff.Status.RESOLVED)
        .order_by("-created_at")
        .first()
    )


def conversation_had_person(*, conversation: Conversation) -> bool:
    """A person has had this conversation (assigned or replied): once they have, the bot
    stays out of it for good."""
    return (
        Handoff.objects.filter(conversation=conversation)
        .exclude(assignee__isnull=True, first_human_reply_at__isnull=True)
        .exists()
    )


@transaction.atomic
def handoff_create(
    *,
    conversation: Conversation,
    trigger: str,
    reason: str,
    scores: dict[str, Any] | None = None,
    packet: dict[str, Any] | None = None,
    notice: str | None = None,
    notify: bool = True,
    by: str = "bot",
) -> Handoff | None:
    """The conversation goes to people: it waits in a queue (and with an agent, if one is
    free) and, with `notify`, the customer is told (`notice`, else the workspace's handoff
    message). `by` says who sent it there (bot, customer or system) for the event log.
    Call with the conversation locked (`conversation_lock`); returns None when a person
    already has it or it already waits for one."""
    if conversation.status == Conversation.Status.WITH_AGENT or (
        handoff_open_get(conversation=conversation) is not None
    ):
        return None
    handoff = Handoff.objects.create(
        workspace_id=conversation.workspace_id,
        conversation=conversation,
        trigger=trigger,
        reason=reason[:300],
        scores=scores or {},
        packet=packet or {},
    )
    conversation_status_set(conversation=conversation, status=Conversation.Status.HANDED_OFF)
    conversation_event_add(
        conversation=conversation,
        kind=ConversationEvent.Kind.HANDED_OFF,
        trigger=trigger,
        reason=reason[:300],
        by=by,
        handoff_id=handoff.pk,
    )
    if notify:
        message_add(
            conversation=conversation,
            author=Message.Author.BOT,
            text=notice or bot_settings_get(workspace=conversation.workspace).handoff_message,
            kind=Message.Kind.HANDOFF,
        )
    audit_log_write(
        workspace=conversation.workspace,
        actor=None,
        actor_label="bot",
        action="conversation.hand_off",
        target=conversation,
        details={"trigger": trigger, "reason": reason[:300], "scores": scores or {}},
    )
    handoff.conversation = conversation
    handoff_route(handoff=handoff)
    return handoff


def agent_reply(
    *, conversation: Conversation, agent: Actor, text: str, draft_id: int | None = None
) -> Message:
    """A person answers; the bot stays out of the conversation from now on. `draft_id` is
    the co-pilot draft the reply started from, to record whether it was edited. A customer
    who left an email and is no longer in the widget also gets the reply by email."""
    text = clean_text(text)
    user = real_user(agent)
    with transaction.atomic():
        if conversation.status == Conversation.Status.BOT and user is not None:
            # A person takes the conversation straight from the assistant.
            conversation_event_add(
                conversation=conversation,
                kind=ConversationEvent.Kind.CLAIMED,
                user_id=user.pk,
                via="reply",
            )
        message = message_add(
            conversation=conversation,
            author=Message.Author.AGENT,
            text=text,
            redacted_text=redact(text).text,
            agent=user,
        )
        conversation_status_set(conversation=conversation, status=Conversation.Status.WITH_AGENT)
        open_handoffs = Handoff.objects.filter(conversation=conversation).exclude(
            status=Handoff.Status.RESOLVED
        )
        open_handoffs.filter(first_human_reply_at__isnull=True).update(
            first_human_reply_at=message.created_at
        )
        if user is not None:
            # Whoever answers an unassigned conversation takes it (someone else's stays theirs;
            # a replier who is not an inbox member changes nothing).
            for handoff in open_handoffs.filter(assignee__isnull=True):
                with contextlib.suppress(InboxError):
                    handoff_claim(handoff=handoff, agent=user)
        copilot_drafts_settle(
            conversation=conversation, sent_text=text, draft_id=draft_id, message=message
        )
        if followup_due(message=message):
            task_send_on_commit(followup_email_send, message.pk)
    return message


@transaction.atomic
def conversation_resolve(
    *, conversation: Conversation, actor: Actor = None, resolution: str = ""
) -> Message:
    """End of the conversation: a person resolved it (with a resolution type) or the customer
    ended the chat. Open handoffs close with it; co-pilot drafts nobody sent are recorded as
    discarded."""
    message = conversation_close(conversation=conversation, actor=actor, resolution=resolution)
    Handoff.objects.filter(conversation=conversation).exclude(
        status=Handoff.Status.RESOLVED
    ).update(status=Handoff.Status.RESOLVED, resolved_at=timezone.now())
    copilot_drafts_settle(conversation=conversation, sent_text=None)
    if conversation.channel == Conversation.Channel.EMAIL:
        request = CsatRequest.objects.filter(conversation=conversation).order_by("-pk").first()
        if request is not None:
            task_send_on_commit(csat_email_send, request.pk)
    return message


def _routing_get(handoff: Handoff) -> Routing:
    return Routing.objects.filter(handoff=handoff).first() or handoff_route(handoff=handoff)


@transaction.atomic
def handoff_claim(*, handoff: Handoff, agent: Actor) -> Handoff:
    """Take an unassigned handoff. Claiming one's own again is a no-op; when two people claim
    at once, exactly one gets it and the other is told who did."""
    person = _require_inbox_member(handoff.workspace, agent)
    _routing_get(handoff)
    if not _assign(handoff, person.pk, only_if_free=True, via="claim"):
        current = Handoff.objects.select_related("assignee").get(pk=handoff.pk)
        if current.status == Handoff.Status.RESOLVED:
            raise InboxError("This conversation is already resolved.")
        if current.assignee_id == person.pk:
            return current
        raise InboxError(f"{current.assignee} has already claimed this conversation.")
    audit_log_write(
        workspace=handoff.workspace, actor=person, action="handoff.claim", target=handoff
    )
    return handoff


def _check_may_transfer(handoff: Handoff, actor: User) -> None:
    role = member_role(workspace=handoff.workspace, user=actor)
    if role in MANAGING_ROLES:
        return
    if role != Role.AGENT or handoff.assignee_id not in (None, actor.pk):
        raise InboxError("Only the assigned agent or a manager may transfer this conversation.")


@transaction.atomic
def handoff_transfer(
    *,
    handoff: Handoff,
    actor: Actor,
    to_agent: Actor = None,
    to_queue: Queue | None = None,
) -> Handoff:
    """Hand a conversation to a colleague, or put it in another queue (unassigned, then given
    to a free agent of that queue other than the one who had it)."""
    person = _require_inbox_member(handoff.workspace, actor)
    handoff = Handoff.objects.select_for_update().select_related("workspace").get(pk=handoff.pk)
    if handoff.status == Handoff.Status.RESOLVED:
        raise InboxError("This conversation is already resolved.")
    if to_agent is None and to_queue is None:
        raise InboxError("Choose a person or a queue to transfer to.")
    _check_may_transfer(handoff, person)
    routing = _routing_get(handoff)
    previous = handoff.assignee_id
    if to_queue is not None:
        if to_queue.workspace_id != handoff.workspace_id:
            raise InboxError("That queue is not in this workspace.")
        Routing.objects.filter(pk=routing.pk).update(queue=to_queue)
        routing.queue = to_queue
    if to_agent is not None:
        target = _require_inbox_member(handoff.workspace, to_agent)
        _assign(handoff, target.pk, only_if_free=False, via="transfer")
    else:
        Handoff.objects.filter(pk=handoff.pk).update(assignee=None, status=Handoff.Status.QUEUED)
        Routing.objects.filter(pk=routing.pk).update(assigned_at=None)
        handoff.assignee_id, handoff.status = None, Handoff.Status.QUEUED
        exclude = {previous} if previous else set()
        agent_id = _least_busy(handoff.workspace, to_queue, exclude)
        if agent_id is not None:
            _assign(handoff, agent_id, only_if_free=True, via="transfer")
    audit_log_write(
        workspace=handoff.workspace,
        actor=person,
        action="handoff.transfer",
        target=handoff,
        details={
            "from_assignee_id": previous,
            "to_assignee_id": handoff.assignee_id,
            "to_queue": to_queue.name if to_queue else None,
        },
    )
    return handoff


# --- Availability and notes ----------------------------------------------------------------------


MAX_OPEN_LIMIT = 50  # the most conversations one agent may be set to hold at once


def _check_max_open(max_open: int) -> None:
    if not 1 <= max_open <= MAX_OPEN_LIMIT:
        raise InboxError(f"The limit of open conversations must be 1 to {MAX_OPEN_LIMIT}.")


def _clean_names(names: list[str]) -> list[str]:
    """Skills or category names: trimmed, without repeats, at most 50."""
    cleaned = []
    for name in names:
        name = str(name).strip()[:80]
        if name and name not in cleaned:
            cleaned.append(name)
    return cleaned[:50]


@transaction.atomic
def agent_status_set(
    *,
    workspace: Workspace,
    user: Actor,
    status: str,
    skills: list[str] | None = None,
    max_open: int | None = None,
) -> AgentStatus:
    """Going online also picks up waiting conversations, oldest first, up to the limit."""
    person = _require_inbox_member(workspace, user)
    if status not in AgentStatus.Status.values:
        raise InboxError("Availability must be online, away or offline.")
    if max_open is not None:
        _check_max_open(max_open)
    row, _ = AgentStatus.objects.select_for_update().get_or_create(workspace=workspace, user=person)
    row.status = status
    if skills is not None:
        row.skills = _clean_names(skills)
    if max_open is not None:
        row.max_open = max_open
    row.save()
    audit_log_write(
        workspace=workspace,
        actor=person,
        action="agent.status",
        target=row,
        details={"status": status, "skills": row.skills, "max_open": row.max_open},
    )
    if status == AgentStatus.Status.ONLINE:
        row.picked_up = _pick_up_waiting(workspace, row, via="online")
    return row


def _pick_up_waiting(workspace: Workspace, row: AgentStatus, *, via: str = "route") -> int:
    """Assign waiting conversations to `row`'s agent up to their limit; returns how many.
    `via` "online" marks the ones the agent took by going online (they are told at once,
    so their browser does not also notify them of each)."""
    held = (
        Handoff.objects.filter(workspace=workspace, assignee_id=row.user_id)
        .exclude(status=Handoff.Status.RESOLVED)
        .count()
    )
    room = row.max_open - held
    if room <= 0:
        return 0
    assigned = 0
    waiting = Handoff.objects.filter(
        workspace=workspace, status=Handoff.Status.QUEUED, assignee__isnull=True
    ).select_related("routing__queue")
    for handoff in waiting.order_by("created_at")[: room * 4]:
        queue = getattr(handoff, "routing", None) and handoff.routing.queue
        if queue and queue.required_skill and queue.required_skill not in row.skills:
            continue
        if _assign(handoff, row.user_id, only_if_free=True, via=via):
            assigned += 1
            if assigned == room:
                break
    return assigned


MAX_SLA_WARNING_MINUTES = 24 * 60


@transaction.atomic
def agent_alerts_set(
    *,
    workspace: Workspace,
    user: Actor,
    notify_browser: bool,
    notify_sound: bool,
    sla_warning_minutes: int,
) -> AgentStatus:
    """A member's own alert preferences: browser notifications, sound, and how long before
    an SLA target they are warned (0: never)."""
    person = _require_inbox_member(workspace, user)
    if not 0 <= sla_warning_minutes <= MAX_SLA_WARNING_MINUTES:
        raise InboxError(
            f"The SLA warning must be 0 to {MAX_SLA_WARNING_MINUTES} minutes before the target."
        )
    row, _ = AgentStatus.objects.select_for_update().get_or_create(workspace=workspace, user=person)
    row.notify_browser, row.notify_sound = notify_browser, notify_sound
    row.sla_warning_minutes = sla_warning_minutes
    row.save(update_fields=["notify_browser", "notify_sound", "sla_warning_minutes", "updated_at"])
    audit_log_write(
        workspace=workspace,
        actor=person,
        action="agent.alerts",
        target=row,
        details={
            "notify_browser": notify_browser,
            "notify_sound": notify_sound,
            "sla_warning_minutes": sla_warning_minutes,
        },
    )
    return row


@transaction.atomic
def note_add(*, conversation: Conversation, author: Actor, text: str) -> InternalNote:
    """A note for colleagues only. Stored as typed; templates escape it on display."""
    person = _require_inbox_member(conversation.workspace, author)
    try:
        text = clean_text(text, limit=MAX_NOTE_CHARS, what="note")
    except ConversationError as exc:
        raise InboxError(str(exc)) from None
    note = InternalNote.objects.create(
        workspace_id=conversation.workspace_id, conversation=conversation, author=person, text=text
    )
    audit_log_write(
        workspace=conversation.workspace,
        actor=person,
        action="conversation.note",
        target=conversation,
        details={"note_id": note.pk, "chars": len(text)},
    )
    return note


@transaction.atomic
def business_hours_save(*, hours: BusinessHours, actor: Actor) -> BusinessHours:
    """Save hours already checked by BusinessHoursForm, with an audit row."""
    person = _require_manager(hours.workspace, actor, "the business hours")
    hours.save()
    days = {d: _window_text(hours, d) for d in WEEKDAYS}
    audit_log_write(
        workspace=hours.workspace,
        actor=person,
        action="inbox.business_hours",
        target=hours,
        details={"enabled": hours.enabled, "timezone": hours.timezone, "days": days},
    )
    return hours


def _window_text(hours: BusinessHours, day: str) -> str:
    open_at, close_at = getattr(hours, f"{day}_open"), getattr(hours, f"{day}_close")
    if open_at is None or close_at is None:
        return "closed"
    return f"{open_at:%H:%M}-{close_at:%H:%M}"


# --- Routing set-up: queues, SLA targets, agents' skills and limits (managers and admins) -------

MAX_SLA_MINUTES = 60 * 24 * 90  # 90 days


def _require_manager(workspace: Workspace, actor: Actor, what: str) -> User:
    person = real_user(actor)
    if person is None or member_role(workspace=workspace, user=person) not in MANAGING_ROLES:
        raise InboxError(f"Only managers and admins may change {what}.")
    return person


@transaction.atomic
def queue_save(
    *,
    workspace: Workspace,
    actor: Actor,
    name: str,
    categories: list[str],
    required_skill: str = "",
    queue: Queue | None = None,
) -> Queue:
    """Create a queue, or change one. A category belongs to one queue at most, so a handoff
    has exactly one place to wait; the default queue takes every category left over."""
    person = _require_manager(workspace, actor, "queues")
    name = " ".join(name.split())[:80]
    if not name:
        raise InboxError("Give the queue a name.")
    others = Queue.objects.select_for_update().filter(workspace=workspace)
    if queue is not None:
        others = others.exclude(pk=queue.pk)
    if any(other.name.casefold() == name.casefold() for other in others):
        raise InboxError(f"There is already a queue called {name!r}.")
    categories = _clean_names(categories)
    if queue is not None and queue.is_default and categories:
        raise InboxError(
            f"{queue.name} is the default queue: it takes every category no other queue "
            "names, so it lists none itself."
        )
    for other in others:
        taken = sorted(set(categories) & set(other.categories or []))
        if taken:
            raise InboxError(
                f"{', '.join(taken)} already goes to the queue {other.name!r}; "
                "take it out there first."
            )
    if queue is None:
        queue = Queue(workspace=workspace)
    before = {"name": queue.name, "categories": queue.categories, "skill": queue.required_skill}
    queue.name, queue.categories = name, categories
    queue.required_skill = " ".join(required_skill.split())[:80]
    queue.save()
    audit_log_write(
        workspace=workspace,
        actor=person,
        action="inbox.queue_save",
        target=queue,
        details={
            "before": before,
            "after": {"name": name, "categories": categories, "skill": queue.required_skill},
        },
    )
    return queue


@transaction.atomic
def queue_delete(*, queue: Queue, actor: Actor) -> int:
    """Remove a queue; what waits in it moves to the default queue. Returns how many moved."""
    person = _require_manager(queue.workspace, actor, "queues")
    if queue.is_default:
        raise InboxError(f"{queue.name} is the default queue and cannot be removed.")
    default = queue_default_get(workspace=queue.workspace)
    moved = Routing.objects.filter(queue=queue).update(queue=default)
    audit_log_write(
        workspace=queue.workspace,
        actor=person,
        action="inbox.queue_delete",
        target=queue,
        details={"name": queue.name, "categories": queue.categories, "moved": moved},
    )
    queue.delete()
    return moved


@transaction.atomic
def sla_policies_save(
    *, workspace: Workspace, actor: Actor, targets: dict[str, tuple[int, int]]
) -> list[SlaPolicy]:
    """Minutes to the first reply and to resolution per priority. New handoffs use them;
    the due times of handoffs already waiting stay as they were promised."""
    person = _require_manager(workspace, actor, "SLA targets")
    policies = []
    for priority in PRIORITY_ORDER:
        if priority not in targets:
            continue
        first, resolution = targets[priority]
        label = Priority(priority).label
        if not (1 <= first <= MAX_SLA_MINUTES and 1 <= resolution <= MAX_SLA_MINUTES):
            raise InboxError(f"{label}: targets must be 1 to {MAX_SLA_MINUTES} minutes.")
        if first > resolution:
            raise InboxError(f"{label}: the first reply cannot be due after the resolution.")
        policy = sla_policy_get(workspace=workspace, priority=priority)
        policy.first_reply_minutes, policy.resolution_minutes = first, resolution
        policy.save(update_fields=["first_reply_minutes", "resolution_minutes"])
        policies.append(policy)
    audit_log_write(
        workspace=workspace,
        actor=person,
        action="inbox.sla_save",
        target=None,
        details={p.priority: [p.first_reply_minutes, p.resolution_minutes] for p in policies},
    )
    return policies


@transaction.atomic
def agent_routing_set(
    *, workspace: Workspace, actor: Actor, agent: User, skills: list[str], max_open: int
) -> AgentStatus:
    """A manager sets which skilled queues an agent takes and how many conversations at once.
    A higher limit for an agent who is online picks up waiting conversations at once."""
    person = _require_manager(workspace, actor, "agents' skills and limits")
    _require_inbox_member(workspace, agent)
    _check_max_open(max_open)
    row, _ = AgentStatus.objects.select_for_update().get_or_create(workspace=workspace, user=agent)
    row.skills, row.max_open = _clean_names(skills), max_open
    row.save(update_fields=["skills", "max_open", "updated_at"])
    audit_log_write(
        workspace=workspace,
        actor=person,
        action="inbox.agent_routing",
        target=row,
        details={"agent": agent.get_username(), "skills": row.skills, "max_open": max_open},
    )
    if row.status == AgentStatus.Status.ONLINE:
        _pick_up_waiting(workspace, row)
    return row
