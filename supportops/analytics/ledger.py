"""The outcome ledger: one honest outcome per conversation (issue 13, "Outcome rules").

Interface (stable; rollout readouts, KPI dashboards and exports read it):

- `Outcome` rows (`supportops.analytics.models`), exactly one per conversation the customer
  wrote in (a chat opened and left without a word has none: nothing was asked). Columns:
  `outcome` (one of `Outcome.Kind`), `final`, `final_at` (last event + window), `why`,
  and for grouping and filtering without joins: `workspace`, `customer`, `channel`, `arm`,
  `category`, `resolution` (a person's), `first_handoff_trigger`, `contained` (no person
  took part), `bot_answered`, `started_at`, `last_event_at`, `first_response_at`,
  `first_response_by` (bot / person), `resolved_at`, `repeat_conversation`,
  `repeat_similarity`. Indexed on (workspace, started_at), (workspace, arm, started_at),
  (workspace, outcome). Read final rows for figures; provisional ones may still change.
- `why` is JSON: `rule` (the rule that decided, see RULES), `text` (the same in words),
  `events` (the events that decided it: `{"at", "kind", ...}`), and for a repeat contact
  `replaced` (the outcome it replaced), `linked_conversation_id`, `similarity` and
  `same_need` (how the needs were compared).
- `outcome_compute(conversation=, as_of=)`: a pure function of the conversation's events and
  messages (and its customer's later conversations) up to `as_of`; writes nothing.
- `outcome_refresh(conversation=, as_of=None)`: compute and upsert the row (as of now by
  default); idempotent. `supportops.flows` queues it on commit whenever a conversation's
  state changes, and for a customer's earlier conversations inside the window when a new one
  starts; the beat task `analytics.tasks.outcomes_sweep` finalises rows whose window has
  passed and recomputes anything missed.
- The window is `AnalyticsSettings.repeat_window_hours` per workspace (default 48):
  `repeat_window_get(workspace=)`.

The rules, on the conversation's events in time order (the last reopen starts a new cycle:
what happened before it no longer decides, except whether the bot and people took part):

1. A person resolved it: "solved" → `resolved_after_handoff` if the bot took part (answered,
   asked to clarify, or handed off), else `resolved_by_human`; "not solvable" (or duplicate,
   spam) → `not_resolved`.
2. The customer confirmed the bot's latest answer (the "Yes" button or a typed confirmation)
   → `resolved_by_bot_confirmed` (a person who took part makes it a person's resolution).
3. The customer rejected the latest answer (button or typed) → `not_resolved`.
4. A person replied but nobody resolved it → `not_resolved`.
5. The bot's latest answer stood (no verdict, and the customer asked for no person after
   it) and the customer went quiet or ended the chat → `resolved_by_bot_unconfirmed`.
   Silence is never a confirmation.
6. The bot answered, then the customer asked for a person and nobody replied →
   `not_resolved`.
7. No bot answer and no person's reply at all → `abandoned` (left or quiet, also while
   waiting in the queue).
8. Any resolved outcome becomes `repeat_contact` when the same customer opens another
   conversation about the same need (`need.same_need`), on any channel, after this one
   started and no later than the window after its last event.

An outcome is final once `as_of >= last event + window` (the window is inclusive: a repeat
exactly at the window's end still counts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Subquery
from django.utils import timezone

from supportops.accounts.models import Workspace
from supportops.conversations.models import Conversation, ConversationEvent, Message

from .models import DEFAULT_REPEAT_WINDOW_HOURS, AnalyticsSettings, Outcome
from .need import Need, need_read, same_need

Kind = Outcome.Kind
RESOLVED = (
    Kind.RESOLVED_BY_BOT_CONFIRMED,
    Kind.RESOLVED_BY_BOT_UNCONFIRMED,
    Kind.RESOLVED_AFTER_HANDOFF,
    Kind.RESOLVED_BY_HUMAN,
)
RULES = {
    "resolved_by_person": "a person resolved it as solved",
    "closed_not_solved": "a person closed it without solving it",
    "confirmed": "the customer confirmed the bot's answer",
    "confirmed_with_person": "the customer confirmed it was solved after a person took part",
    "rejected": "the customer said the answer did not help and nothing resolved it afterwards",
    "person_replied_unresolved": "a person replied but nobody resolved it",
    "answer_stood": "the bot's answer stood: the customer neither confirmed nor rejected it",
    "handed_off_unserved": "after the bot's answer the customer asked for a person and nobody "
    "replied",
    "no_answer": "the customer got no answer: no bot answer and no person's reply",
    "repeat_contact": "the customer came back about the same need within the window",
}
# Events of the rating: answering a rating days later is not activity on the need.
_NOT_ACTIVITY = (ConversationEvent.Kind.CSAT_ASKED, ConversationEvent.Kind.CSAT_ANSWERED)


def repeat_window_get(*, workspace: Workspace | int) -> timedelta:
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    hours = (
        AnalyticsSettings.objects.filter(workspace_id=workspace_id)
        .values_list("repeat_window_hours", flat=True)
        .first()
    )
    return timedelta(hours=hours or DEFAULT_REPEAT_WINDOW_HOURS)


@dataclass(frozen=True)
class Item:
    """One entry of the conversation's timeline: a message or an event."""

    at: datetime
    rank: int  # at equal times: a start or reopen first, then messages, then other events
    pk: int
    source: str  # "message" | "event"
    kind: str  # message author (customer, bot, agent, system) or event kind
    data: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"at": self.at.isoformat(), "kind": self.kind}
        if self.source == "message":
            out["kind"] = f"{self.kind}_message"
            out["message_id"] = self.pk
            if self.data.get("kind") not in (None, Message.Kind.TEXT):
                out["message_kind"] = self.data["kind"]
        else:
            out.update({k: v for k, v in self.data.items() if k not in ("reason",)})
        return out


@dataclass
class Computed:
    """What `outcome_compute` returns: the row's values, not yet saved."""

    outcome: str
    final: bool
    final_at: datetime | None
    why: dict[str, Any]
    fields: dict[str, Any]
    need: Need | None


def _timeline(conversation: Conversation, as_of: datetime) -> list[Item]:
    items = [
        Item(
            at=row["created_at"],
            rank=1,
            pk=row["pk"],
            source="message",
            kind=row["author"],
            data={"kind": row["kind"]},
        )
        for row in Message.objects.filter(conversation=conversation, created_at__lte=as_of).values(
            "pk", "author", "kind", "created_at"
        )
    ]
    for event in ConversationEvent.objects.filter(conversation=conversation, at__lte=as_of):
        first = event.kind in (ConversationEvent.Kind.STARTED, ConversationEvent.Kind.REOPENED)
        items.append(
            Item(
                at=event.at,
                rank=0 if first else 2,
                pk=event.pk,
                source="event",
                kind=event.kind,
                data=dict(event.data or {}),
            )
        )
    items.sort(key=lambda i: (i.at, i.rank, i.pk))
    return items


def _is_message(item: Item, author: str, *kinds: str) -> bool:
    return (
        item.source == "message"
        and item.kind == author
        and (not kinds or item.data.get("kind") in kinds)
    )


@dataclass
class _State:
    """Walks the timeline once; see the module docstring for the rules it feeds."""

    bot_took_part: bool = False
    bot_answered: bool = False
    person_took_part: bool = False
    first_trigger: str = ""
    first_customer: Item | None = None
    first_response: Item | None = None
    last_activity: Item | None = None
    # The current cycle (since the last reopen).
    last_answer: Item | None = None
    verdict: Item | None = None  # the feedback event on the latest answer
    handoff_after_answer: Item | None = None
    handoff: Item | None = None
    person_reply: Item | None = None
    person_resolve: Item | None = None
    customer_end: Item | None = None
    reopened: Item | None = None

    def feed(self, item: Item) -> None:
        if not (item.source == "event" and item.kind in _NOT_ACTIVITY):
            self.last_activity = item
        if item.source == "message":
            self._message(item)
        else:
            self._event(item)

    def _message(self, item: Item) -> None:
        kind = item.data.get("kind")
        if item.kind == Message.Author.CUSTOMER:
            self.first_customer = self.first_customer or item
        elif item.kind == Message.Author.BOT and kind in (Message.Kind.ANSWER, Message.Kind.TEXT):
            self.bot_took_part = True
            if self.first_customer is not None and self.first_response is None:
                self.first_response = item
            if kind == Message.Kind.ANSWER:
                self.bot_answered = True
                self.last_answer, self.verdict, self.handoff_after_answer = item, None, None
        elif item.kind == Message.Author.AGENT:
            self.person_took_part = True
            self.person_reply = item
            if self.first_customer is not None and self.first_response is None:
                self.first_response = item

    def _event(self, item: Item) -> None:
        kind, data = item.kind, item.data
        if kind == ConversationEvent.Kind.HANDED_OFF:
            self.first_trigger = self.first_trigger or str(data.get("trigger") or "")
            if data.get("by") == "bot":
                self.bot_took_part = True
            self.handoff = item
            asked = data.get("by") == "customer" or data.get("trigger") == "explicit_request"
            if self.last_answer is not None and self.verdict is None and asked:
                # The customer asked for a person after the answer: it did not do. A handoff
                # the bot decided on its own (a follow-up it could not place) leaves the
                # answer standing: the customer asked for no person.
                self.handoff_after_answer = item
        elif kind == ConversationEvent.Kind.FEEDBACK:
            self.verdict = item
        elif kind == ConversationEvent.Kind.RESOLVED:
            if data.get("by") == "person":
                self.person_took_part = True
                self.person_resolve = item
            else:
                self.customer_end = item
        elif kind == ConversationEvent.Kind.REOPENED:
            self.reopened = item
            self.verdict = self.handoff_after_answer = self.handoff = None
            self.person_reply = self.person_resolve = self.customer_end = None

    def decide(self) -> tuple[str, str, list[Item]]:
        """(outcome, rule, the items that decided it)."""
        people = Kind.RESOLVED_AFTER_HANDOFF if self.bot_took_part else Kind.RESOLVED_BY_HUMAN
        if self.person_resolve is not None:
            resolution = str(self.person_resolve.data.get("resolution") or "solved")
            if resolution == Conversation.Resolution.SOLVED:
                decisive = self._with(self.person_reply, self.person_resolve)
                return people, "resolved_by_person", decisive
            return Kind.NOT_RESOLVED, "closed_not_solved", [self.person_resolve]
        if self.verdict is not None and self.verdict.data.get("solved"):
            if self.person_took_part:
                return people, "confirmed_with_person", self._with(self.person_reply, self.verdict)
            return (
                Kind.RESOLVED_BY_BOT_CONFIRMED,
                "confirmed",
                self._with(self.last_answer, self.verdict),
            )
        if self.verdict is not None:
            return Kind.NOT_RESOLVED, "rejected", self._with(self.last_answer, self.verdict)
        if self.person_reply is not None:
            return (
                Kind.NOT_RESOLVED,
                "person_replied_unresolved",
                self._with(self.person_reply, self.customer_end or self.last_activity),
            )
        if self.last_answer is not None and self.handoff_after_answer is None:
            return (
                Kind.RESOLVED_BY_BOT_UNCONFIRMED,
                "answer_stood",
                self._with(self.last_answer, self.customer_end or self.last_activity),
            )
        if self.last_answer is not None:
            return (
                Kind.NOT_RESOLVED,
                "handed_off_unserved",
                self._with(self.last_answer, self.handoff_after_answer, self.customer_end),
            )
        return (
            Kind.ABANDONED,
            "no_answer",
            self._with(self.first_customer, self.handoff, self.customer_end or self.last_activity),
        )

    @staticmethod
    def _with(*items: Item | None) -> list[Item]:
        seen: list[Item] = []
        for item in items:
            if item is not None and item not in seen:
                seen.append(item)
        return seen


def _resolved_at(state: _State, outcome: str, rule: str) -> datetime | None:
    if rule in ("resolved_by_person", "closed_not_solved") and state.person_resolve:
        return state.person_resolve.at
    if rule in ("confirmed", "confirmed_with_person") and state.verdict:
        return state.verdict.at
    if outcome == Kind.RESOLVED_BY_BOT_UNCONFIRMED and state.customer_end:
        return state.customer_end.at
    return None


# A customer rarely opens more than a few conversations within one window. Someone who opens
# hundreds (a script, a test) would make every refresh compare each conversation with every
# other; the ledger looks at most this many later conversations for a repeat contact, and a
# new conversation refreshes at most this many earlier ones, so each refresh's work is bounded.
MAX_REPEAT_CANDIDATES = 20


def _repeat_candidates(
    conversation: Conversation, started_at: datetime, until: datetime, as_of: datetime
) -> list[tuple[Conversation, datetime]]:
    """The customer's later conversations whose first message came after this conversation
    started and no later than `until` (and `as_of`), oldest first (the first
    MAX_REPEAT_CANDIDATES started)."""
    later = (
        Conversation.objects.filter(customer_id=conversation.customer_id)
        .exclude(pk=conversation.pk)
        .filter(created_at__gte=conversation.created_at, created_at__lte=min(until, as_of))
        .select_related("outcome")
        .order_by("created_at", "pk")[:MAX_REPEAT_CANDIDATES]
    )
    out = []
    for other in later:
        first = (
            Message.objects.filter(
                conversation=other, author=Message.Author.CUSTOMER, created_at__lte=as_of
            )
            .order_by("pk")
            .values_list("created_at", flat=True)
            .first()
        )
        if first is not None and started_at < first <= min(until, as_of):
            out.append((other, first))
    return out


def _cached_need(conversation: Conversation) -> dict[str, Any] | None:
    outcome = getattr(conversation, "outcome", None) if _has_outcome(conversation) else None
    return outcome.need if outcome is not None else None


def _has_outcome(conversation: Conversation) -> bool:
    try:
        conversation.outcome  # noqa: B018 (a reverse one-to-one: raises when missing)
    except Outcome.DoesNotExist:
        return False
    return True


def outcome_compute(*, conversation: Conversation, as_of: datetime) -> Computed | None:
    """The conversation's outcome as of `as_of`, from its events and messages up to then.
    None while the customer has not written anything. Writes nothing."""
    items = _timeline(conversation, as_of)
    state = _State()
    for item in items:
        state.feed(item)
    if state.first_customer is None or state.last_activity is None:
        return None
    outcome, rule, decisive = state.decide()
    window = repeat_window_get(workspace=conversation.workspace_id)
    started_at = state.first_customer.at
    last_event_at = state.last_activity.at
    window_end = last_event_at + window
    why: dict[str, Any] = {
        "rule": rule,
        "text": RULES[rule],
        "events": [item.describe() for item in decisive],
        "window_hours": window.total_seconds() / 3600,
    }
    need = need_read(conversation=conversation, as_of=as_of, cached=_cached_need(conversation))
    repeat_conversation_id = None
    similarity = None
    if outcome in RESOLVED and need is not None:
        for other, first_at in _repeat_candidates(conversation, started_at, window_end, as_of):
            other_need = need_read(conversation=other, as_of=as_of, cached=_cached_need(other))
            if other_need is None:
                continue
            comparison = same_need(need, other_need)
            if comparison.same:
                why = {
                    "rule": "repeat_contact",
                    "text": RULES["repeat_contact"],
                    "replaced": outcome,
                    "replaced_rule": rule,
                    "events": [
                        *why["events"],
                        {
                            "at": first_at.isoformat(),
                            "kind": "repeat_contact",
                            "conversation_id": other.pk,
                        },
                    ],
                    "linked_conversation_id": other.pk,
                    "similarity": round(comparison.similarity, 4),
                    "same_need": comparison.as_json(),
                    "window_hours": why["window_hours"],
                }
                outcome = Kind.REPEAT_CONTACT
                repeat_conversation_id, similarity = other.pk, comparison.similarity
                break
    rule_before_repeat = why.get("replaced_rule", rule)
    final = as_of >= window_end
    first_response = state.first_response
    fields = {
        "customer_id": conversation.customer_id,
        "channel": conversation.channel,
        "arm": conversation.arm,
        "category": conversation.category,
        "resolution": (
            str(state.person_resolve.data.get("resolution") or "") if state.person_resolve else ""
        ),
        "first_handoff_trigger": state.first_trigger,
        "contained": not state.person_took_part,
        "bot_answered": state.bot_answered,
        "started_at": started_at,
        "last_event_at": last_event_at,
        "first_response_at": first_response.at if first_response else None,
        "first_response_by": (
            ""
            if first_response is None
            else Outcome.Responder.PERSON
            if first_response.kind == Message.Author.AGENT
            else Outcome.Responder.BOT
        ),
        "resolved_at": _resolved_at(state, why.get("replaced", outcome), rule_before_repeat),
        "repeat_conversation_id": repeat_conversation_id,
        "repeat_similarity": round(similarity, 4) if similarity is not None else None,
        "seen_event_id": max((i.pk for i in items if i.source == "event"), default=0),
        "seen_message_id": max((i.pk for i in items if i.source == "message"), default=0),
    }
    return Computed(
        outcome=outcome,
        final=final,
        final_at=window_end if final else None,
        why=why,
        fields=fields,
        need=need,
    )


_COMPARED = (
    "outcome",
    "final",
    "final_at",
    "why",
    "need",
)


def outcome_up_to_date(*, conversation: Conversation) -> bool:
    """Whether the stored outcome already saw every message and event of the conversation,
    and its category, arm and channel as they are now: there is nothing new to compute (a
    bot turn queues a refresh for the customer's message and another for the reply; the one
    that runs second finds the outcome up to date). Time alone changes an outcome only when
    its window passes, which the sweep handles."""
    stored = (
        Outcome.objects.filter(conversation_id=conversation.pk)
        .values_list("seen_event_id", "seen_message_id", "category", "arm", "channel")
        .first()
    )
    if stored is None:
        return False
    last_message = Message.objects.filter(conversation_id=conversation.pk).aggregate(m=Max("pk"))
    last_event = ConversationEvent.objects.filter(conversation_id=conversation.pk).aggregate(
        m=Max("pk")
    )
    now = (
        last_event["m"] or 0,
        last_message["m"] or 0,
        conversation.category,
        conversation.arm,
        conversation.channel,
    )
    return stored == now


def outcome_refresh(*, conversation: Conversation, as_of: datetime | None = None) -> Outcome | None:
    """Compute the conversation's outcome as of `as_of` (now by default) and upsert its row.

    Computed with no lock held (it reads the timeline and may search the help centre), then
    applied in one short transaction that locks the row: a computation that saw less than
    the stored row (an older event or message id) never overwrites it. Running it again with
    nothing new changes nothing (the row is not even written)."""
    as_of = as_of or timezone.now()
    fresh = Conversation.objects.select_related("workspace").filter(pk=conversation.pk).first()
    if fresh is None:
        return None
    computed = outcome_compute(conversation=fresh, as_of=as_of)
    with transaction.atomic():
        existing = Outcome.objects.select_for_update().filter(conversation_id=fresh.pk).first()
        if computed is None:
            return existing
        values: dict[str, Any] = {
            "outcome": computed.outcome,
            "final": computed.final,
            "final_at": computed.final_at,
            "why": computed.why,
            "need": computed.need.as_json() if computed.need is not None else {},
            **computed.fields,
        }
        if existing is None:
            outcome, created = Outcome.objects.get_or_create(
                conversation_id=fresh.pk,
                defaults={
                    "workspace_id": fresh.workspace_id,
                    "as_of": as_of,
                    "computed_at": timezone.now(),
                    **values,
                },
            )
            if created:
                return outcome
            existing = Outcome.objects.select_for_update().get(pk=outcome.pk)
        saw = (values["seen_event_id"], values["seen_message_id"])
        stored = (existing.seen_event_id, existing.seen_message_id)
        if saw != stored and saw[0] <= stored[0] and saw[1] <= stored[1]:
            return existing  # a later refresh saw more and was applied first
        changed = [name for name, value in values.items() if getattr(existing, name) != value]
        if not changed:
            return existing
        for name in changed:
            setattr(existing, name, values[name])
        existing.as_of = as_of
        existing.computed_at = timezone.now()
        existing.save(update_fields=[*changed, "as_of", "computed_at"])
        return existing


def customer_earlier_in_window(*, conversation: Conversation) -> list[int]:
    """Ids of the customer's earlier conversations whose window this conversation's start
    falls in (their outcome may turn into a repeat contact): the latest
    MAX_REPEAT_CANDIDATES started."""
    window = repeat_window_get(workspace=conversation.workspace_id)
    since = conversation.created_at - window - timedelta(days=1)
    rows = (
        Conversation.objects.filter(
            customer_id=conversation.customer_id, created_at__lt=conversation.created_at
        )
        .filter(created_at__gte=since - timedelta(days=30))
        .exclude(pk=conversation.pk)
        .order_by("-created_at", "-pk")
        .values_list("pk", "outcome__last_event_at", "last_message_at")[:MAX_REPEAT_CANDIDATES]
    )
    out = []
    for pk, last_event_at, last_message_at in rows:
        last = last_event_at or last_message_at
        if last is None or last + window >= conversation.created_at:
            out.append(pk)
    return out


def outcomes_due(
    *, now: datetime | None = None, workspace: Workspace | None = None, lookback_days: int = 30
) -> list[int]:
    """Conversations whose outcome should be recomputed: provisional ones whose window has
    passed, and, among conversations active in the last `lookback_days`, those with no
    outcome yet or with events or messages newer than their outcome saw. `workspace`
    limits it to one workspace (the eval commands' scratch workspace)."""
    now = now or timezone.now()
    due: set[int] = set()
    windows: dict[int, timedelta] = {}
    outcomes = Outcome.objects.all()
    conversations = Conversation.objects.all()
    if workspace is not None:
        outcomes = outcomes.filter(workspace=workspace)
        conversations = conversations.filter(workspace=workspace)
    provisional = outcomes.filter(final=False).values_list(
        "conversation_id", "workspace_id", "last_event_at"
    )
    for conversation_id, workspace_id, last_event_at in provisional.iterator():
        if workspace_id not in windows:
            windows[workspace_id] = repeat_window_get(workspace=workspace_id)
        if last_event_at + windows[workspace_id] <= now:
            due.add(conversation_id)
    customer_wrote = Message.objects.filter(
        conversation=OuterRef("pk"), author=Message.Author.CUSTOMER
    )
    newest_message = (
        Message.objects.filter(conversation=OuterRef("pk")).order_by("-pk").values("pk")[:1]
    )
    recent = conversations.filter(
        Exists(customer_wrote), last_message_at__gte=now - timedelta(days=lookback_days)
    )
    latest = recent.annotate(max_message=Subquery(newest_message)).values_list(
        "pk", "max_message", "outcome__seen_message_id", "outcome__seen_event_id"
    )
    max_events = dict(
        ConversationEvent.objects.filter(conversation__in=recent)
        .values("conversation_id")
        .annotate(m=Max("pk"))
        .values_list("conversation_id", "m")
    )
    for pk, max_message, seen_message, seen_event in latest.iterator():
        newer_message = seen_message is None or (max_message or 0) > seen_message
        if newer_message or max_events.get(pk, 0) > (seen_event or 0):
            due.add(pk)
    return sorted(due)


def outcomes_sweep_run(*, now: datetime | None = None, workspace: Workspace | None = None) -> int:
    """What the beat task does: recompute every due outcome (`outcomes_due`) as of `now`.
    Returns how many were recomputed; a second run right after finds none due."""
    now = now or timezone.now()
    count = 0
    for conversation_id in outcomes_due(now=now, workspace=workspace):
        conversation = Conversation.objects.filter(pk=conversation_id).first()
        if conversation is not None and outcome_refresh(conversation=conversation, as_of=now):
            count += 1
    return count
