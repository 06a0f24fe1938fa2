"""Reads for the human inbox, scoped by workspace and role, in a fixed number of queries."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from supportops.accounts.models import Membership, Workspace
from supportops.conversations.models import Conversation, ConversationEvent, Message

from .followup import followup_due
from .hours import is_open, next_opening
from .models import (
    PRIORITY_ORDER,
    AgentStatus,
    BusinessHours,
    Handoff,
    InternalNote,
    Priority,
    Queue,
    Routing,
    SlaPolicy,
)
from .services import (
    INBOX_ROLES,
    MANAGING_ROLES,
    _eligible,
    priority_bumped,
    queue_default_get,
    sla_policy_get,
    sla_state,
)

VIEWS = ("mine", "queues", "unassigned", "all")
AGENT_VIEWS = ("mine", "queues", "unassigned")
IN_INBOX = (Conversation.Status.HANDED_OFF, Conversation.Status.WITH_AGENT)
LIST_LIMIT = 200


def views_for_role(role: str) -> tuple[str, ...]:
    return VIEWS if role in MANAGING_ROLES else AGENT_VIEWS


def agent_status_get(*, workspace: Workspace, user: User) -> AgentStatus:
    """The member's availability; offline until they say otherwise (not saved until then)."""
    row = AgentStatus.objects.filter(workspace=workspace, user=user).first()
    return row or AgentStatus(workspace=workspace, user=user)


def queues_for_workspace(*, workspace: Workspace) -> list[Queue]:
    return list(Queue.objects.filter(workspace=workspace))


def routing_setup(*, workspace: Workspace) -> dict[str, Any]:
    """What the routing settings page shows: the queues (the default one made if missing),
    the category names a queue may take, SLA targets per priority and each agent's row."""
    from supportops.bot.categories import category_list
    from supportops.text.intents import HIGH_STAKES_CATEGORIES

    queues = queues_for_workspace(workspace=workspace)
    if not any(queue.is_default for queue in queues):
        queues = [queue_default_get(workspace=workspace), *queues]
    # What each queue holds now: waiting for an agent, and with an agent but not resolved.
    load = (
        Routing.objects.filter(workspace=workspace, queue__isnull=False)
        .values("queue_id")
        .annotate(
            waiting=Count("pk", filter=Q(handoff__status=Handoff.Status.QUEUED)),
            assigned=Count("pk", filter=Q(handoff__status=Handoff.Status.ASSIGNED)),
        )
    )
    counts = {row["queue_id"]: (row["waiting"], row["assigned"]) for row in load}
    names = {
        *HIGH_STAKES_CATEGORIES,
        *category_list(workspace=workspace).values_list("name", flat=True),
    }
    for queue in queues:
        waiting, assigned = counts.get(queue.pk, (0, 0))
        queue.waiting, queue.assigned = waiting, assigned  # type: ignore[attr-defined]
        names.update(queue.categories or [])
    policies = {p: sla_policy_get(workspace=workspace, priority=p) for p in PRIORITY_ORDER}
    agents = inbox_agents(workspace=workspace)
    rows = {r.user_id: r for r in AgentStatus.objects.filter(workspace=workspace)}
    return {
        "queues": queues,
        "category_names": sorted(names, key=str.casefold),
        "policies": policies,
        "agents": [(a, rows.get(a.pk) or AgentStatus(workspace=workspace, user=a)) for a in agents],
    }


def inbox_agents(*, workspace: Workspace) -> list[User]:
    """Members who may hold conversations, for the transfer menu."""
    ids = Membership.objects.filter(workspace=workspace, role__in=INBOX_ROLES).values("user_id")
    return list(User.objects.filter(pk__in=ids).order_by("email"))


def _open_handoffs() -> Prefetch:
    rows = (
        Handoff.objects.exclude(status=Handoff.Status.RESOLVED)
        .select_related("routing", "routing__queue", "assignee")
        .order_by("-created_at")
    )
    return Prefetch("handoffs", queryset=rows, to_attr="open_handoffs")


def _open_handoff_where(**lookups: Any) -> Exists:
    rows = Handoff.objects.filter(conversation=OuterRef("pk"), **lookups)
    return Exists(rows.exclude(status=Handoff.Status.RESOLVED))


def _my_queue_ids(workspace: Workspace, user: User) -> list[int]:
    skills = agent_status_get(workspace=workspace, user=user).skills or []
    rows = Queue.objects.filter(workspace=workspace).filter(
        Q(required_skill="") | Q(required_skill__in=skills)
    )
    return list(rows.values_list("pk", flat=True))


# --- Which conversations a member may open -----------------------------------------------------
# Managers and admins open every conversation of the workspace. An agent opens those routed to
# one of their queues (the queues their skills admit), those assigned to them, and any they took
# part in (replied to or wrote a note on); a conversation waiting for a person without a queue
# counts as the default queue's. Anything else is 404 to them, like another workspace's.


def agent_conversations_q(*, workspace: Workspace, user: User) -> Q:
    """The conversations an agent may open, as a filter on Conversation."""
    queue_ids = _my_queue_ids(workspace, user)
    handoffs = Handoff.objects.filter(conversation=OuterRef("pk"))
    visible = (
        Q(Exists(handoffs.filter(assignee=user)))
        | Q(Exists(handoffs.filter(routing__queue_id__in=queue_ids)))
        | Q(Exists(Message.objects.filter(conversation=OuterRef("pk"), agent=user)))
        | Q(Exists(InternalNote.objects.filter(conversation=OuterRef("pk"), author=user)))
    )
    default_id = (
        Queue.objects.filter(workspace=workspace, is_default=True)
        .values_list("pk", flat=True)
        .first()
    )
    if default_id is None or default_id in queue_ids:
        visible |= Q(Exists(handoffs.filter(routing__queue__isnull=True))) | (
            Q(status__in=IN_INBOX) & ~Q(Exists(handoffs))
        )
    return visible


def conversations_for_member(*, membership: Membership) -> QuerySet[Conversation]:
    rows = Conversation.objects.filter(workspace_id=membership.workspace_id)
    if membership.role in MANAGING_ROLES:
        return rows
    if membership.role not in INBOX_ROLES:
        return rows.none()
    return rows.filter(agent_conversations_q(workspace=membership.workspace, user=membership.user))


def conversation_get_for_agent(*, membership: Membership, conversation_id: int) -> Conversation:
    """One conversation the member may open (see above), or 404."""
    conversation = (
        conversations_for_member(membership=membership)
        .select_related("customer", "workspace")
        .filter(pk=conversation_id)
        .first()
    )
    if conversation is None:
        raise Http404("conversation not found")
    return conversation


def _tab_q(view: str, *, workspace: Workspace, user: User, role: str) -> Q:
    """One inbox tab as a filter on open conversations (see `inbox_list`)."""
    if view == "mine":
        return Q(_open_handoff_where(assignee=user))
    if view == "unassigned":
        q = ~Q(_open_handoff_where(assignee__isnull=False))
        if role not in MANAGING_ROLES:
            q &= agent_conversations_q(workspace=workspace, user=user)
        return q
    if view == "queues" and role not in MANAGING_ROLES:
        queue_ids = _my_queue_ids(workspace, user)
        return Q(_open_handoff_where(routing__queue_id__in=queue_ids))
    return Q()


def _scoped(
    rows: QuerySet[Conversation], *, workspace: Workspace, user: User, view: str, role: str
) -> QuerySet[Conversation]:
    if view not in VIEWS:
        raise ValueError(f"unknown inbox view {view!r}")
    if view not in views_for_role(role):
        raise PermissionDenied("only managers and admins see every conversation")
    return rows.filter(_tab_q(view, workspace=workspace, user=user, role=role))


def _filtered(rows: QuerySet[Conversation], filters: dict[str, Any]) -> QuerySet[Conversation]:
    if filters.get("queue"):
        rows = rows.filter(_open_handoff_where(routing__queue_id=filters["queue"]))
    if filters.get("priority") in Priority.values:
        rows = rows.filter(_open_handoff_where(routing__priority=filters["priority"]))
    return rows


def _decorate(conversation: Conversation, now: datetime) -> None:
    """Attach the open handoff, its routing, the SLA state and the priority as listed."""
    handoffs = conversation.open_handoffs  # type: ignore[attr-defined]
    handoff = handoffs[0] if handoffs else None
    routing: Routing | None = getattr(handoff, "routing", None) if handoff else None
    conversation.handoff = handoff  # type: ignore[attr-defined]
    conversation.routing = routing  # type: ignore[attr-defined]
    conversation.sla = sla_state(routing=routing, now=now) if routing else None  # type: ignore[attr-defined]
    priority = Priority.NORMAL
    if routing is not None:
        priority = Priority(routing.priority)
        if handoff is not None and handoff.first_human_reply_at is None:
            priority = Priority(
                priority_bumped(priority=priority, waiting=now - handoff.created_at)
            )
    conversation.priority = priority  # type: ignore[attr-defined]
    conversation.overdue_s = overdue_seconds(handoff=handoff, now=now)  # type: ignore[attr-defined]


def overdue_seconds(*, handoff: Handoff | None, now: datetime) -> int:
    """How long ago the earliest SLA target still open was missed: the first reply while
    nobody has answered, and the resolution. 0 when nothing is overdue."""
    routing: Routing | None = getattr(handoff, "routing", None) if handoff else None
    if handoff is None or routing is None:
        return 0
    missed = [routing.resolution_due]
    if handoff.first_human_reply_at is None:
        missed.append(routing.first_reply_due)
    late = max((now - due).total_seconds() for due in missed)
    return int(late) if late > 0 else 0


def inbox_list(
    *,
    workspace: Workspace,
    user: User,
    view: str = "mine",
    filters: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> list[Conversation]:
    """Open conversations for one inbox tab, most urgent first then longest waiting.

    Agents have `mine`, `queues` (the queues their skills admit) and `unassigned`; managers
    and admins also `all`. Two queries (three for an agent's queues) whatever the length.
    """
    role = _member_role(workspace, user)
    now = now or timezone.now()
    last_customer = Message.objects.filter(
        conversation=OuterRef("pk"), author=Message.Author.CUSTOMER
    ).order_by("-pk")
    rows = Conversation.objects.filter(workspace=workspace, status__in=IN_INBOX)
    rows = _filtered(
        _scoped(rows, workspace=workspace, user=user, view=view, role=role), filters or {}
    )
    rows = (
        rows.select_related("customer")
        .annotate(
            waiting_since=Coalesce("handed_off_at", "created_at"),
            last_customer_text=Subquery(last_customer.values("text")[:1]),
        )
        .prefetch_related(_open_handoffs())
        .order_by("waiting_since", "pk")[:LIST_LIMIT]
    )
    conversations: list[Conversation] = list(rows)
    for conversation in conversations:
        _decorate(conversation, now)
    # Overdue first (an SLA target already missed), then by priority.
    conversations.sort(
        key=lambda c: (c.overdue_s == 0, PRIORITY_ORDER.index(c.priority))  # type: ignore[attr-defined]
    )
    return conversations


def _member_role(workspace: Workspace, user: User) -> str:
    role = (
        Membership.objects.filter(workspace=workspace, user=user)
        .values_list("role", flat=True)
        .first()
    )
    if role not in INBOX_ROLES:
        raise PermissionDenied("the inbox is for agents, managers and admins")
    return role


WAITING_CAP = 99


def _count_tab_q(view: str, *, workspace: Workspace, user: User, role: str) -> Q:
    """`_tab_q` on rows joined to their open handoff (`open_h`): plain column tests where the
    list uses a subquery per row, so counting every open conversation is one pass. The
    agent's view of unassigned ones keeps the list's own rule, tested only on those rows."""
    if view == "mine":
        return Q(open_h__assignee=user)
    if view == "unassigned":
        q = Q(open_h__assignee__isnull=True)
        if role not in MANAGING_ROLES:
            q &= agent_conversations_q(workspace=workspace, user=user)
        return q
    if view == "queues" and role not in MANAGING_ROLES:
        return Q(open_h__routing__queue_id__in=_my_queue_ids(workspace, user))
    return Q()


def inbox_counts(
    *, workspace: Workspace, user: User, now: datetime | None = None
) -> dict[str, Any]:
    """What the tabs and the page title show: per tab the open conversations and how many
    are overdue, and `waiting_for_me`: conversations assigned to `user` whose customer wrote
    last (no reply from a person since their latest message). Counts, not rows: two queries
    (a few more for an agent's queues), whatever the number of open conversations."""
    role = _member_role(workspace, user)
    now = now or timezone.now()
    overdue = Q(open_h__routing__resolution_due__lt=now) | Q(
        open_h__first_human_reply_at__isnull=True, open_h__routing__first_reply_due__lt=now
    )
    aggregates: dict[str, Count] = {}
    for view in views_for_role(role):
        tab = _count_tab_q(view, workspace=workspace, user=user, role=role)
        aggregates[view] = Count("pk", filter=tab, distinct=True)
        aggregates[f"{view}__overdue"] = Count("pk", filter=tab & overdue, distinct=True)
    totals = (
        Conversation.objects.filter(workspace=workspace, status__in=IN_INBOX)
        .annotate(
            open_h=FilteredRelation(
                "handoffs", condition=~Q(handoffs__status=Handoff.Status.RESOLVED)
            )
        )
        .aggregate(**aggregates)
    )

    # Per conversation of mine (a handful), its latest customer and person messages.
    def latest(author: str) -> Subquery:
        rows = Message.objects.filter(conversation=OuterRef("conversation_id"), author=author)
        return Subquery(rows.order_by("-pk").values("pk")[:1])

    waiting = (
        Handoff.objects.filter(workspace=workspace, assignee=user)
        .exclude(status=Handoff.Status.RESOLVED)
        .filter(conversation__status__in=IN_INBOX)
        .annotate(
            last_customer=latest(Message.Author.CUSTOMER),
            last_agent=Coalesce(latest(Message.Author.AGENT), Value(0)),
        )
        .filter(last_customer__gt=F("last_agent"))
        .values("conversation_id")
        .distinct()
    )
    return {
        "tabs": {
            view: {"count": totals[view], "overdue": totals[f"{view}__overdue"]}
            for view in views_for_role(role)
        },
        # Counted up to one past the cap: the title then says "99+" (and stays cheap for a
        # member holding thousands).
        "waiting_for_me": waiting[: WAITING_CAP + 1].count(),
    }


# How far back a poll looks beyond its cursor (a row committed just after the previous poll
# can carry a time just before it), and at most (a cursor from an old tab starts afresh).
ALERT_OVERLAP = timedelta(seconds=3)
ALERT_MAX_LOOKBACK = timedelta(minutes=10)
ALERTS_PER_KIND = 20  # the newest; the browser shows a few and sums up the rest


def agent_alerts(
    *, workspace: Workspace, user: User, since: datetime | None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """What happened to `user`'s conversations after `since` that deserves a notification:
    a conversation assigned to them by someone or something else (routing, a transfer, a
    manager), a customer message in one of theirs, and a conversation of theirs coming
    within their SLA warning time of a missed target. Each alert has a `key` that stays the
    same across polls, so the browser shows it once. No `since`: nothing (a first poll).
    Each kind is one query over the member's open conversations, however many they hold."""
    now = now or timezone.now()
    if since is None:
        return []
    since = max(since, now - ALERT_MAX_LOOKBACK) - ALERT_OVERLAP
    mine = (
        Handoff.objects.filter(workspace=workspace, assignee=user)
        .exclude(status=Handoff.Status.RESOLVED)
        .values("conversation_id")
    )
    found: list[tuple[str, str, int, str, str]] = []  # kind, key, conversation, title, body

    claims = (
        ConversationEvent.objects.filter(
            conversation_id__in=mine,
            kind=ConversationEvent.Kind.CLAIMED,
            at__gt=since,
            at__lte=now,
            data__user_id=user.pk,
        )
        .exclude(data__via__in=SELF_ASSIGNED)
        .order_by("-at", "-pk")
        .values_list("pk", "conversation_id")[:ALERTS_PER_KIND]
    )
    for pk, conversation_id in list(claims)[::-1]:
        found.append(("assigned", f"assigned:{pk}", conversation_id, "New conversation: {}", ""))
    # Only what the customer wrote after the conversation became this member's.
    theirs_already = Routing.objects.filter(
        handoff__conversation_id=OuterRef("conversation_id"),
        handoff__assignee=user,
        assigned_at__lt=OuterRef("created_at"),
    ).exclude(handoff__status=Handoff.Status.RESOLVED)
    replies = (
        Message.objects.filter(
            conversation_id__in=mine,
            author=Message.Author.CUSTOMER,
            created_at__gt=since,
            created_at__lte=now,
        )
        .filter(Exists(theirs_already))
        .order_by("-pk")
        .values_list("pk", "conversation_id", "text")[:ALERTS_PER_KIND]
    )
    for pk, conversation_id, text in list(replies)[::-1]:
        found.append(("customer_reply", f"reply:{pk}", conversation_id, "{} wrote", text))
    warning = timedelta(minutes=_sla_warning_minutes(workspace, user))
    if warning:
        # A target enters the warning time when `due - warning` passes: in (since, now].
        window = {"gt": since + warning, "lte": now + warning}
        first = {f"first_reply_due__{k}": v for k, v in window.items()}
        resolution = {f"resolution_due__{k}": v for k, v in window.items()}
        routings = Routing.objects.filter(
            Q(handoff__first_human_reply_at__isnull=True, **first) | Q(**resolution),
            handoff__workspace=workspace,
            handoff__assignee=user,
        ).exclude(handoff__status=Handoff.Status.RESOLVED)
        for routing in routings.select_related("handoff")[:ALERTS_PER_KIND]:
            targets = [("resolution", "Resolution", routing.resolution_due)]
            if routing.handoff.first_human_reply_at is None:
                targets.insert(0, ("first_reply", "First reply", routing.first_reply_due))
            for name, label, due in targets:
                if since < due - warning <= now:
                    minutes = max(0, math.ceil((due - now).total_seconds() / 60))
                    title = f"{label} due in {minutes} min" if minutes else f"{label} is overdue"
                    key = f"sla:{routing.pk}:{name}"
                    found.append(("sla", key, routing.handoff.conversation_id, title, ""))
    if not found:
        return []
    customers = {
        c.pk: c.customer
        for c in Conversation.objects.filter(pk__in={f[2] for f in found}).select_related(
            "customer"
        )
    }
    alerts = []
    for kind, key, conversation_id, title, body in found:
        customer = customers[conversation_id]
        name = customer.name or customer.email or f"Customer {customer.pk}"
        alerts.append(
            {
                "kind": kind,
                "key": key,
                "conversation_id": conversation_id,
                "customer": name,
                "title": title.format(customer.name or "A customer"),
                "body": body[:140],
            }
        )
    return alerts


# Assignments the agent made themselves: no notification for those.
SELF_ASSIGNED = ("claim", "reply", "online")


def _sla_warning_minutes(workspace: Workspace, user: User) -> int:
    minutes = (
        AgentStatus.objects.filter(workspace=workspace, user=user)
        .values_list("sla_warning_minutes", flat=True)
        .first()
    )
    return (
        AgentStatus._meta.get_field("sla_warning_minutes").default if minutes is None else minutes
    )


def routing_panel(*, conversation: Conversation, user: User) -> dict[str, Any]:
    """Context for templates/inbox/_routing.html on the conversation page."""
    handoff = (
        Handoff.objects.filter(conversation=conversation)
        .exclude(status=Handoff.Status.RESOLVED)
        .select_related("routing", "routing__queue", "assignee")
        .order_by("-created_at")
        .first()
    )
    routing = getattr(handoff, "routing", None) if handoff else None
    notes = InternalNote.objects.filter(conversation=conversation).select_related("author")
    return {
        "handoff": handoff,
        "routing": routing,
        "sla": sla_state(routing=routing, now=timezone.now()) if routing else None,
        "notes": list(notes),
        "queues": queues_for_workspace(workspace=conversation.workspace),
        "agents": inbox_agents(workspace=conversation.workspace),
        "can_claim": handoff is not None and handoff.assignee_id is None,
        "is_mine": handoff is not None and handoff.assignee_id == user.pk,
        "resolutions": Conversation.Resolution.choices,
    }


# --- The customer's wait -------------------------------------------------------------------------

WAIT_HISTORY_DAYS = 7
WAIT_HISTORY_SIZE = 50
QUEUE_SCAN_LIMIT = 1000


def business_hours_get(*, workspace: Workspace) -> BusinessHours:
    """Saved hours, or unsaved defaults (disabled: always open)."""
    row = BusinessHours.objects.filter(workspace=workspace).first()
    return row or BusinessHours(workspace=workspace)


def _waiting_order(workspace: Workspace) -> list[int]:
    """Unassigned open handoffs as they will be picked: most urgent first, then oldest."""
    rank = Case(
        *[When(routing__priority=p, then=Value(i)) for i, p in enumerate(PRIORITY_ORDER)],
        default=Value(len(PRIORITY_ORDER)),
        output_field=IntegerField(),
    )
    rows = (
        Handoff.objects.filter(workspace=workspace, assignee__isnull=True)
        .exclude(status=Handoff.Status.RESOLVED)
        .annotate(rank=rank)
        .order_by("rank", "created_at", "pk")
        .values_list("pk", flat=True)
    )
    return list(rows[:QUEUE_SCAN_LIMIT])


def _position(workspace: Workspace, handoff: Handoff | None) -> int:
    """1 = next. Someone already assigned is next for their agent."""
    if handoff is not None and handoff.assignee_id is not None:
        return 1
    order = _waiting_order(workspace)
    if handoff is not None and handoff.pk in order:
        return order.index(handoff.pk) + 1
    return len(order) + 1


def first_reply_minutes_typical(*, workspace: Workspace, now: datetime) -> float | None:
    """Median minutes from handoff to a person's first reply, over the recent handoffs."""
    rows = (
        Handoff.objects.filter(
            workspace=workspace,
            created_at__gte=now - timedelta(days=WAIT_HISTORY_DAYS),
            first_human_reply_at__isnull=False,
        )
        .order_by("-created_at")
        .values_list("created_at", "first_human_reply_at")[:WAIT_HISTORY_SIZE]
    )
    waits = [
        max(0.0, (replied - created).total_seconds() / 60) for created, replied in rows if replied
    ]
    return median(waits) if waits else None


def _sla_first_reply_minutes(workspace: Workspace, handoff: Handoff | None) -> int:
    routing = getattr(handoff, "routing", None) if handoff is not None else None
    priority = Priority(routing.priority) if routing is not None else Priority.NORMAL
    saved = (
        SlaPolicy.objects.filter(workspace=workspace, priority=priority)
        .values_list("first_reply_minutes", flat=True)
        .first()
    )
    return saved if saved is not None else SlaPolicy.DEFAULTS[priority][0]


def _open_handoff_of(conversation: Conversation) -> Handoff | None:
    return (
        Handoff.objects.filter(conversation=conversation)
        .exclude(status=Handoff.Status.RESOLVED)
        .select_related("routing")
        .order_by("-created_at")
        .first()
    )


def wait_estimate(
    *, workspace: Workspace, conversation: Conversation | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """What the waiting customer is told, from live figures: their place in line, how many
    agents are online and, only when someone can actually answer now, roughly how long.

    Without a conversation, the figures for someone joining the line now.
    """
    now = now or timezone.now()
    hours = business_hours_get(workspace=workspace)
    handoff = _open_handoff_of(conversation) if conversation is not None else None
    agents_online = _eligible(workspace, None).count()
    position = _position(workspace, handoff)
    in_hours = is_open(hours, now)
    open_now = in_hours and agents_online > 0
    estimated: int | None = None
    if open_now:
        typical = first_reply_minutes_typical(workspace=workspace, now=now)
        if typical is None:
            typical = _sla_first_reply_minutes(workspace, handoff)
        estimated = max(1, math.ceil(typical * position / agents_online))
    return {
        "agents_online": agents_online,
        "position": position,
        "estimated_minutes": estimated,
        "open_now": open_now,
        "reopens_at": None if in_hours else next_opening(hours, now),
    }


# --- For the sweeper -------------------------------------------------------------------------


def handoffs_awaiting_enrichment(
    *, created_before: datetime, created_after: datetime, limit: int = 200
) -> list[int]:
    """Handoffs whose packet the chat model has not enriched yet (the enrichment records
    `generated` even when the model failed, so these are lost tasks)."""
    return list(
        Handoff.objects.filter(created_at__lt=created_before, created_at__gte=created_after)
        .exclude(packet__has_key="generated")
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def replies_awaiting_email(
    *, posted_before: datetime, posted_after: datetime, limit: int = 200
) -> list[int]:
    """Agent replies still due by email and not sent (`followup_due`: an email conversation,
    or a widget customer who left an address and is not reading the chat now)."""
    candidates = (
        Message.objects.filter(
            author=Message.Author.AGENT,
            emailed_at__isnull=True,
            created_at__lt=posted_before,
            created_at__gte=posted_after,
        )
        .exclude(conversation__followup_email="")
        .order_by("pk")[:limit]
    )
    return [m.pk for m in candidates if followup_due(message=m)]


# Hand-offs the bot did not choose (rollout gating, the kill switch, a switched-off bot, a
# channel it does not answer, a reopened conversation): they say nothing about how well the
# bot handles a category.
NOT_THE_BOTS_CHOICE = (
    "category_not_enabled",
    "control",
    "channel",
    "bot_paused",
    "phase_paused",
    "bot_off",
    "reopened",
)


def category_escalation_stats(*, workspace: Workspace, days: int = 30) -> dict[str, dict[str, int]]:
    """Per category over the last `days`: conversations, conversations the bot handled
    (AI-first, with a bot turn that was not a skip), and how many of those the bot handed
    to people by its own rules. Two grouped queries."""
    since = timezone.now() - timedelta(days=days)
    base = Conversation.objects.filter(workspace=workspace, created_at__gte=since).exclude(
        category=""
    )
    totals = dict(base.values_list("category").annotate(n=Count("pk")).values_list("category", "n"))
    from supportops.bot.models import BotTurn  # the bot app sits below the inbox

    bot_turns = BotTurn.objects.filter(conversation_id=OuterRef("pk")).exclude(
        action__in=["", "skip"]
    )
    own_handoffs = Handoff.objects.filter(conversation_id=OuterRef("pk")).exclude(
        trigger__in=NOT_THE_BOTS_CHOICE
    )
    handled = (
        base.filter(arm=Conversation.Arm.AI_FIRST)
        .filter(Exists(bot_turns))
        .values("category")
        .annotate(
            n=Count("pk"),
            escalated=Count("pk", filter=Q(Exists(own_handoffs))),
        )
        .values_list("category", "n", "escalated")
    )
    stats = {
        name: {"conversations": n, "bot_handled": 0, "escalations": 0} for name, n in totals.items()
    }
    for name, n, escalated in handled:
        stats.setdefault(name, {"conversations": 0, "bot_handled": 0, "escalations": 0})
        stats[name].update(bot_handled=n, escalations=escalated)
    return stats
