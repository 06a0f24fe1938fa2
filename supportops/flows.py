"""The flows that cross apps, in one place: a conversation starts, a customer message
arrives, the bot decides, the conversation is handed to people, a person replies or
resolves, the customer answers "Did that solve it?".

Views, the widget API, tasks and commands call these `do_*` functions (the bot's turn has
its Celery task here too, since it is a flow); the apps below
(conversations, bot, inbox) never call up into each other or into this module. Each function
reads top to bottom as the flow it is: no signals, no `save()` overrides. Tasks are queued
only once the transaction that stored their input has committed.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from supportops.accounts.models import Workspace
from supportops.accounts.services import Actor
from supportops.analytics.tasks import cost_lines_refresh_task, outcome_refresh_task
from supportops.bot.categories import category_list
from supportops.bot.models import BotTurn
from supportops.bot.selectors import messages_awaiting_turn
from supportops.bot.services import bot_greeting, bot_settings_get
from supportops.bot.turn import (
    Decision,
    Fired,
    TurnWaiting,
    bot_turn_claim,
    bot_turn_complete,
    bot_turn_lock_pending,
    categorize,
    decide,
    eligibility,
)
from supportops.conversations.models import Conversation, Customer, Message, SweepDay
from supportops.conversations.selectors import conversation_get_by_token
from supportops.conversations.services import (
    MAX_EMAIL_CHARS,
    FeedbackVia,
    InboundEmail,
    PostedMessage,
    StartedConversation,
    answer_awaiting_verdict,
    conversation_categorize,
    conversation_create,
    conversation_feedback,
    conversation_lock,
    customer_for_email,
    email_conversation_find,
    message_add,
    message_post_bot,
    message_post_customer,
)
from supportops.inbox import copilot
from supportops.inbox.models import CopilotDraft, Handoff
from supportops.inbox.packet import handoff_packet_build_safely
from supportops.inbox.selectors import (
    category_escalation_stats,
    handoffs_awaiting_enrichment,
    replies_awaiting_email,
)
from supportops.inbox.services import (
    agent_reply,
    conversation_had_person,
    conversation_resolve,
    handoff_create,
    handoff_open_get,
)
from supportops.inbox.tasks import followup_email_send, handoff_packet_enrich
from supportops.integrations.embeddings import EmbeddingError
from supportops.integrations.llm import get_chat_provider
from supportops.knowledge.models import Article
from supportops.lib.outage import DATABASE_UNAVAILABLE
from supportops.lib.queueing import task_send, task_send_on_commit
from supportops.rollout.models import (
    BOT_OFF,
    BOT_PAUSED,
    CONTROL_GROUP,
    PHASE_PAUSED,
    Assignment,
    SuiteCase,
    SuiteRun,
)
from supportops.rollout.selectors import Gate, Scope, bot_gate, phase_get, phase_scope
from supportops.rollout.services import (
    StartPlan,
    assignment_decide,
    assignment_record,
    assignment_start_of,
    suite_result_record,
    suite_run_claim,
    suite_run_finish,
)
from supportops.rollout.suites import case_judge
from supportops.text import triggers
from supportops.text.triggers import confirms_answer, rejects_answer
from supportops.widget.security import PendingChat
from supportops.widget.services import Visitor, widget_customer_get_or_create

logger = logging.getLogger(__name__)
T = TypeVar("T")

WAIT_RETRY_S = 0.5  # an earlier message of the conversation is still being decided
WAIT_RETRIES = 60
HUMAN_ONLY_NOTICE = "Thanks for getting in touch. A person from our team will reply here."
REOPEN_NOTICE = "Thanks for writing again. A person from our team will reply here."


# --- The outcome ledger -------------------------------------------------------------------------


def _ledger_refresh(conversation: Conversation, *, earlier: bool = False) -> None:
    """Recompute the conversation's outcome once this transaction commits; `earlier`: also
    the customer's earlier conversations whose window it falls in (a new conversation may
    be a repeat contact of them)."""
    task_send_on_commit(outcome_refresh_task, conversation.pk, earlier)


# --- A conversation starts ----------------------------------------------------------------------


@dataclass(frozen=True)
class Opening:
    """How a conversation about to start opens: its rollout plan and the first message the
    customer is shown (the assistant's greeting, or the notice that a person will reply)."""

    plan: StartPlan
    author: str
    kind: str
    text: str


def conversation_opening(
    *, workspace: Workspace, customer: Customer, arm: str | None = None
) -> Opening:
    """Decide the customer's arm (sticky: the same on every conversation and channel) and what
    they are shown first: either the assistant greets them and says it is an AI, or, for the
    control group, with the bot paused or switched off, they are told a person will reply
    (never greeted as an AI). Writes nothing (the widget shows it before anything is stored;
    `customer` may be unsaved). `arm` fixes the arm instead (evaluations replaying recorded
    timelines)."""
    bot = bot_settings_get(workspace=workspace)
    plan = assignment_decide(
        workspace=workspace, customer=customer, bot_enabled=bot.enabled, arm=arm
    )
    if plan.with_assistant:
        greeting = bot_greeting(workspace=workspace, settings=bot)
        return Opening(plan, Message.Author.BOT, Message.Kind.GREETING, greeting)
    return Opening(plan, Message.Author.SYSTEM, Message.Kind.TEXT, HUMAN_ONLY_NOTICE)


@transaction.atomic
def do_conversation_start(
    *,
    workspace: Workspace,
    customer: Customer,
    channel: str = Conversation.Channel.WIDGET,
    arm: str | None = None,
    opening: Opening | None = None,
    token: str | None = None,
) -> StartedConversation:
    """Start the conversation as `conversation_opening` decides (or as `opening`, decided
    earlier: a widget chat stores nothing until its first message, and then stores what the
    customer was shown at its start) and record the arm assignment. `token`: see
    `conversation_create`."""
    if opening is None:
        opening = conversation_opening(workspace=workspace, customer=customer, arm=arm)
    plan = opening.plan
    started = conversation_create(
        workspace=workspace,
        customer=customer,
        channel=channel,
        arm=plan.arm,
        token=token,
        **({} if plan.with_assistant else {"status": Conversation.Status.HANDED_OFF}),
    )
    message_add(
        conversation=started.conversation,
        author=opening.author,
        text=opening.text,
        kind=opening.kind,
    )
    assignment_record(conversation=started.conversation, plan=plan)
    return started


# --- A widget chat: nothing is stored until its first message ------------------------------


def chat_pending_start(*, workspace: Workspace, visitor: Visitor) -> tuple[PendingChat, Opening]:
    """What starting a widget chat decides, stored nowhere: the opening the visitor is shown
    now, and the pending chat (signed into a token for the browser) that holds it until the
    first message. Reads only: starting is cheap to refuse and leaves nothing to clean up."""
    opening = conversation_opening(
        workspace=workspace, customer=visitor.customer_unsaved(workspace)
    )
    plan = opening.plan
    chat = PendingChat(
        workspace_id=workspace.pk,
        nonce=secrets.token_urlsafe(24),
        visitor_id=visitor.visitor_id,
        external_id=visitor.external_id,
        name=visitor.name,
        email=visitor.email,
        arm=plan.arm,
        bucket=plan.bucket,
        start=plan.start,
        phase_id=plan.phase.pk if plan.phase is not None else None,
        reason=plan.reason,
        author=opening.author,
        kind=opening.kind,
        text=opening.text,
    )
    return chat, opening


@dataclass(frozen=True)
class ChatOpened:
    conversation: Conversation
    token: str
    created: bool  # False: an earlier request of the same pending chat created it


def _pending_chat_open(*, workspace: Workspace, chat: PendingChat) -> ChatOpened:
    token = chat.conversation_token
    existing = conversation_get_by_token(workspace=workspace, token=token)
    if existing is not None:
        return ChatOpened(existing, token, created=False)
    visitor = Visitor(
        external_id=chat.external_id, name=chat.name, email=chat.email, visitor_id=chat.visitor_id
    )
    customer = widget_customer_get_or_create(workspace=workspace, visitor=visitor)
    phase = None
    if chat.phase_id is not None:
        try:
            phase = phase_get(workspace=workspace, phase_id=chat.phase_id)
        except Http404:  # deleted since: the conversation counts in no phase
            phase = None
    opening = Opening(
        StartPlan(chat.arm, chat.bucket, chat.start, phase, chat.reason),
        chat.author,
        chat.kind,
        chat.text,
    )
    started = do_conversation_start(
        workspace=workspace, customer=customer, opening=opening, token=token
    )
    return ChatOpened(started.conversation, token, created=True)


def _pending_chat_do(
    workspace: Workspace, chat: PendingChat, then: Callable[[Conversation], T]
) -> tuple[ChatOpened, T]:
    """Open the pending chat's conversation and do `then(conversation)` in one transaction.
    Two requests of one pending chat racing (a retry sent before the first answer came) both
    try to create it; the unique token hash lets one win, and the other, tried again, finds
    the winner's conversation."""

    def once() -> tuple[ChatOpened, T]:
        with transaction.atomic():
            opened = _pending_chat_open(workspace=workspace, chat=chat)
            return opened, then(opened.conversation)

    try:
        return once()
    except IntegrityError:
        if not pending_chat_exists(workspace=workspace, chat=chat):
            raise  # not the race: something else is wrong
        return once()


def pending_chat_exists(*, workspace: Workspace, chat: PendingChat) -> bool:
    return conversation_get_by_token(workspace=workspace, token=chat.conversation_token) is not None


def do_pending_chat_message(
    *, workspace: Workspace, chat: PendingChat, text: str, client_key: str = ""
) -> tuple[ChatOpened, PostedMessage]:
    """A widget chat's first message: the customer (if new), the conversation with what the
    customer was shown at the start (the greeting, as its first message) and the message,
    in one transaction; then everything as for any message (`do_customer_message`: the
    bot's turn is queued on commit). A retry (same pending chat, same client key) returns
    the stored message; a bad message stores nothing at all."""
    return _pending_chat_do(
        workspace,
        chat,
        lambda conversation: do_customer_message(
            conversation=conversation, text=text, client_key=client_key
        ),
    )


def do_pending_chat_hand_off(*, workspace: Workspace, chat: PendingChat) -> ChatOpened:
    """The customer pressed "Talk to a person" before writing anything: a real request, so
    the conversation is created now and handed to people (a second press changes nothing)."""
    opened, _ = _pending_chat_do(workspace, chat, lambda conversation: None)
    do_hand_off(
        conversation=opened.conversation,
        trigger="explicit_request",
        reason="customer pressed Talk to a person",
        by="customer",
    )
    return opened


# --- A customer message arrives -----------------------------------------------------------------


START_REASONS = {
    BOT_OFF: "the assistant was switched off when the conversation started",
    BOT_PAUSED: "the bot was paused (kill switch) when the conversation started",
    Assignment.Start.PHASE_PAUSED: "the rollout phase was paused when the conversation started",
}
PAUSED_NOTICE = "Our assistant is paused at the moment, so a person from our team will reply here."


def do_customer_message(
    *, conversation: Conversation, text: str, client_key: str = "", queue_bot: bool = True
) -> PostedMessage:
    """Store the message first; then, on commit, queue the bot's turn if the conversation is
    with the assistant. A customer writing again after a person resolved the conversation
    goes back to people (to the same agent if they are online), never to the bot. A reply
    to the bot's answer that confirms it ("thanks, that worked") is the customer's "Yes" to
    "Did that solve it?", typed; one that rejects it is a typed "No" (the bot's turn then
    answers it). A conversation of the control arm goes to people (after
    its category is labelled). With the kill switch on, a conversation with the assistant
    goes to people here and now: the switch must not depend on the workers it may have
    been thrown to stop.

    `queue_bot=False` is for callers that run the turn themselves (the eval commands and the
    test suite; the turn applies the kill switch then)."""
    with transaction.atomic():
        first = not conversation.messages.filter(author=Message.Author.CUSTOMER).exists()
        posted = message_post_customer(conversation=conversation, text=text, client_key=client_key)
        if not posted.created:
            return posted
        _ledger_refresh(conversation, earlier=first)
        verdict = _typed_verdict(conversation, posted)
        if verdict is not None:
            # A typed "No" is answered by the bot's own turn (it asks for more), not here.
            conversation_feedback(
                conversation=conversation,
                solved=verdict,
                via=FeedbackVia.TYPED,
                message=posted.message,
                reply=False,
            )
            if verdict:
                return posted
        waiting_first = conversation.status == Conversation.Status.HANDED_OFF and (
            handoff_open_get(conversation=conversation) is None
        )
        if posted.reopened and conversation_had_person(conversation=conversation):
            do_hand_off(
                conversation=conversation,
                trigger="reopened",
                reason="the customer wrote again after a person resolved the conversation",
                notice=REOPEN_NOTICE,
            )
        elif conversation.arm == Conversation.Arm.HUMAN_ONLY:
            # Control group: the turn task only labels the category (silently, as the bot's
            # classifier would) and, on the first message, queues the conversation for
            # people with the same routing and SLA as a hand-off. Later messages are
            # labelled only while no category is known.
            if queue_bot and (waiting_first or posted.reopened or not conversation.category):
                task_send_on_commit(bot_turn, posted.message.pk)
        elif (
            conversation.status == Conversation.Status.BOT
            and queue_bot
            and (gate := bot_gate(workspace=conversation.workspace_id)).stop
        ):
            do_hand_off(
                conversation=conversation,
                trigger=gate.stop,
                reason=gate.reason,
                scores={"gate": gate.stop},
                notice=PAUSED_NOTICE,
            )
        elif conversation.status == Conversation.Status.BOT and queue_bot:
            task_send_on_commit(bot_turn, posted.message.pk)
        elif waiting_first:
            # It started without the assistant (switched off, paused): its first message
            # puts it in the queue, with the same routing and SLA as any handoff. The
            # customer was told at the start that a person will reply.
            start = assignment_start_of(conversation=conversation)
            do_hand_off(
                conversation=conversation,
                trigger=start,
                reason=START_REASONS.get(start, START_REASONS[BOT_OFF]),
                notify=False,
            )
    return posted


def _typed_verdict(conversation: Conversation, posted: PostedMessage) -> bool | None:
    """True: the message confirms the bot's answer just before it; False: it rejects it;
    None: neither, or it does not follow an answer."""
    if conversation.status != Conversation.Status.BOT:
        return None
    if not answer_awaiting_verdict(message=posted.message):
        return None
    text = posted.message.text
    if confirms_answer(text):
        return True
    if rejects_answer(text):
        return False
    return None


# --- The bot's turn -----------------------------------------------------------------------------


# A customer waits on this one: retries ride out a database restart or failover (waits of up
# to 1, 2, 4, ... s, at most 5 minutes apart, about 13 minutes in all) before it gives up.
@shared_task(
    bind=True,
    autoretry_for=(EmbeddingError, ConnectionError, *DATABASE_UNAVAILABLE),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=10,
    acks_late=True,
    time_limit=120,
)
def bot_turn(self: Any, message_id: int) -> str:
    """The Celery task of one customer message (queued on commit by do_customer_message)."""
    try:
        turn = do_bot_turn(message_id=message_id)
    except TurnWaiting as exc:
        raise self.retry(exc=exc, countdown=WAIT_RETRY_S, max_retries=WAIT_RETRIES) from None
    # None: the message is gone, is not the customer's, or another worker is deciding it.
    return turn.action if turn is not None else "nothing to do"


def do_bot_turn(*, message_id: int, scope: Scope | None = None) -> BotTurn | None:
    """Claim, compute, apply. The decision (embedding, search, classifiers, a chat model's
    answer) and the handoff packet are computed with no lock held; the result is applied in
    one short transaction that re-checks the conversation, so a customer who pressed "Talk to
    a person" meanwhile gets no late bot answer. Safe to run twice: one reply per message.

    Raises `bot.turn.TurnWaiting` while an earlier message of the conversation is still being
    decided (the task retries shortly).

    `scope` is for the test suite: decide under that phase's settings, whatever is live
    (and whatever the kill switch says). Control-group messages are only labelled with a
    category; the bot decides nothing for them."""
    claim = bot_turn_claim(message_id=message_id)
    if claim.turn is None:
        return claim.done
    turn = claim.turn
    conversation = Conversation.objects.select_related("workspace", "customer").get(
        pk=turn.conversation_id
    )
    message = Message.objects.get(pk=message_id)
    started = time.perf_counter()
    gate = Gate(scope=scope) if scope is not None else bot_gate(workspace=conversation.workspace)
    decision = eligibility(conversation, gate) or decide(
        conversation=conversation, message=message, scope=gate.scope
    )
    control = decision.trigger == CONTROL_GROUP
    packet = None
    if control:
        categorize(conversation=conversation, message=message, decision=decision)
        if not conversation.category:
            conversation.category = decision.category
        if handoff_open_get(conversation=conversation) is None:
            packet = handoff_packet_build_safely(
                conversation=conversation, trigger=CONTROL_GROUP, reason=CONTROL_REASON
            )
    elif decision.action == BotTurn.Action.ESCALATE:
        packet = handoff_packet_build_safely(conversation=conversation, decision=decision)
    compute_ms = (time.perf_counter() - started) * 1000

    with transaction.atomic():
        locked = conversation_lock(conversation_id=conversation.pk)
        if not bot_turn_lock_pending(turn=turn):
            return BotTurn.objects.get(pk=turn.pk)  # another worker applied it first
        if decision.category:
            conversation_categorize(conversation=locked, category=decision.category)
        if control:
            reply = _queue_control(locked, packet)
            _ledger_refresh(locked)
            return bot_turn_complete(
                turn=turn, decision=decision, reply=reply, compute_ms=compute_ms
            )
        if locked.status != Conversation.Status.BOT and decision.action != BotTurn.Action.SKIP:
            # The conversation moved on while the bot was thinking (the customer asked for a
            # person, an agent took it over): the decision is recorded, nothing is sent.
            decision.scores["superseded"] = {"status": locked.status, "action": decision.action}
            decision.action = BotTurn.Action.SKIP
        elif scope is None and decision.action in (BotTurn.Action.ANSWER, BotTurn.Action.CLARIFY):
            _stop_if_paused(locked, decision)
        reply = _apply_decision(locked, decision, packet)
        _ledger_refresh(locked)
        return bot_turn_complete(turn=turn, decision=decision, reply=reply, compute_ms=compute_ms)


CONTROL_REASON = "the customer is in the control group: people answer, the assistant does not"


def _queue_control(conversation: Conversation, packet: dict[str, Any] | None) -> Message | None:
    """A control-group conversation's first message puts it in the human queue with the same
    routing and SLA as a hand-off. The customer is told a person will reply only if the
    assistant greeted them (the arm was set after the start); otherwise they were told at
    the start."""
    if handoff_open_get(conversation=conversation) is None and conversation.status in (
        Conversation.Status.BOT,
        Conversation.Status.HANDED_OFF,
    ):
        greeted = conversation.messages.filter(kind=Message.Kind.GREETING).exists()
        _hand_off_locked(
            conversation,
            trigger=CONTROL_GROUP,
            reason=CONTROL_REASON,
            scores={"arm": conversation.arm},
            packet=packet or {},
            notice=HUMAN_ONLY_NOTICE,
            notify=greeted,
            by="system",
        )
    return None


def _stop_if_paused(conversation: Conversation, decision: Decision) -> None:
    """The kill switch may have been thrown while the answer was computed: hand off instead
    of sending it (checked with the conversation locked, just before the reply is stored)."""
    gate = bot_gate(workspace=conversation.workspace_id)
    if not gate.stop:
        return
    decision.scores["stopped"] = {"gate": gate.stop, "unsent": decision.action}
    decision.action = BotTurn.Action.ESCALATE
    decision.trigger = gate.stop
    decision.fired = [Fired(gate.stop, gate.reason, {"gate": gate.stop}), *decision.fired]


def _apply_decision(
    conversation: Conversation, decision: Decision, packet: dict[str, Any] | None
) -> Message | None:
    if decision.action == BotTurn.Action.ESCALATE:
        first = decision.fired[0]
        handoff = _hand_off_locked(
            conversation,
            trigger=first.name,
            reason=first.reason,
            scores={f.name: f.scores for f in decision.fired},
            packet=packet,
            notice=decision.notice or None,
            # The kill switch or a paused phase sent it, not the bot's judgement.
            by="system" if first.name in (BOT_PAUSED, PHASE_PAUSED) else "bot",
        )
        if handoff is None:
            return None
        return (
            Message.objects.filter(conversation=conversation, kind=Message.Kind.HANDOFF)
            .order_by("-pk")
            .first()
        )
    if decision.action in (BotTurn.Action.ANSWER, BotTurn.Action.CLARIFY):
        return message_post_bot(
            conversation=conversation,
            text=decision.reply,
            kind=decision.kind,
            sources=decision.sources,
            prompt_tokens=decision.prompt_tokens,
            completion_tokens=decision.completion_tokens,
            cost_usd=decision.cost_usd,
        )
    return None


# --- To people ----------------------------------------------------------------------------------


def do_hand_off(
    *,
    conversation: Conversation,
    trigger: str,
    reason: str,
    scores: dict[str, Any] | None = None,
    packet: dict[str, Any] | None = None,
    notice: str | None = None,
    notify: bool = True,
    by: str = "system",
) -> Handoff | None:
    """The conversation goes to people with the full handoff packet (built here, before
    the conversation is locked, when the caller has none: the customer pressed "Talk to a
    person", or reopened a conversation a person had). A second request while it already
    waits for or is with a person changes nothing and returns the open handoff. `by`: who
    sent it (customer, or system for rules such as the channel or the control arm)."""
    if conversation.status == Conversation.Status.WITH_AGENT:
        return handoff_open_get(conversation=conversation)
    existing = handoff_open_get(conversation=conversation)
    if existing is not None:
        return existing
    if packet is None:
        packet = handoff_packet_build_safely(
            conversation=conversation, trigger=trigger, reason=reason, scores=scores
        )
    with transaction.atomic():
        locked = conversation_lock(conversation_id=conversation.pk)
        handoff = _hand_off_locked(
            locked,
            trigger=trigger,
            reason=reason,
            scores=scores,
            packet=packet,
            notice=notice,
            notify=notify,
            by=by,
        )
        conversation.status = locked.status
        _ledger_refresh(locked)
        return handoff or handoff_open_get(conversation=locked)


def _hand_off_locked(
    conversation: Conversation,
    *,
    trigger: str,
    reason: str,
    scores: dict[str, Any] | None,
    packet: dict[str, Any] | None,
    notice: str | None = None,
    notify: bool = True,
    by: str = "system",
) -> Handoff | None:
    handoff = handoff_create(
        conversation=conversation,
        trigger=trigger,
        reason=reason,
        scores=scores,
        packet=packet,
        notice=notice,
        notify=notify,
        by=by,
    )
    if handoff is not None and get_chat_provider() is not None:
        # The model's summary and suggested reply come later; the person never waits for it.
        task_send_on_commit(handoff_packet_enrich, handoff.pk)
    return handoff


def do_agent_reply(
    *, conversation: Conversation, agent: Actor, text: str, draft_id: int | None = None
) -> Message:
    """A person answers (the bot stays out of the conversation from now on); on the email
    channel the reply goes out by email."""
    with transaction.atomic():
        message = agent_reply(conversation=conversation, agent=agent, text=text, draft_id=draft_id)
        _ledger_refresh(conversation)
    return message


# --- The co-pilot: each computation is a cost of the conversation ------------------------------


def do_copilot_draft(*, conversation: Conversation, agent: Actor) -> CopilotDraft:
    with transaction.atomic():
        draft = copilot.copilot_draft_create(conversation=conversation, agent=agent)
        task_send_on_commit(cost_lines_refresh_task, conversation.pk)
    return draft


def do_copilot_rewrite(
    *, conversation: Conversation, agent: Actor, text: str, tone: str
) -> CopilotDraft:
    with transaction.atomic():
        draft = copilot.copilot_rewrite_create(
            conversation=conversation, agent=agent, text=text, tone=tone
        )
        task_send_on_commit(cost_lines_refresh_task, conversation.pk)
    return draft


def do_copilot_summary(*, conversation: Conversation) -> str:
    with transaction.atomic():
        summary = copilot.copilot_summary_create(conversation=conversation)
        task_send_on_commit(cost_lines_refresh_task, conversation.pk)
    return summary


def do_resolve(*, conversation: Conversation, actor: Actor = None, resolution: str = "") -> Message:
    """A person resolves the conversation, with a resolution type (an email conversation's
    customer gets the rating links by email)."""
    with transaction.atomic():
        message = conversation_resolve(
            conversation=conversation, actor=actor, resolution=resolution
        )
        _ledger_refresh(conversation)
    return message


def do_customer_end(*, conversation: Conversation) -> bool:
    """The customer ended the chat; False if it had already ended (no second rating
    request)."""
    if conversation.status == Conversation.Status.RESOLVED:
        return False
    with transaction.atomic():
        conversation_resolve(conversation=conversation)
        _ledger_refresh(conversation)
    return True


def do_feedback(*, conversation: Conversation, solved: bool) -> Message | None:
    """The customer's answer to "Did that solve it?" (the widget's buttons)."""
    with transaction.atomic():
        message = conversation_feedback(conversation=conversation, solved=solved)
        _ledger_refresh(conversation)
    return message


# --- Email in -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundResult:
    conversation: Conversation
    message: Message
    created: bool  # False: this Message-ID was delivered before and is stored once
    new_conversation: bool


def do_email_inbound(
    *, workspace: Workspace, email: InboundEmail, arm: str | None = None
) -> InboundResult:
    """A customer's email opens or continues a conversation of the same customer (matched
    by email: a verified customer whose address the host site gave, else a customer known
    only by it) and goes to people: the assistant does not answer email yet, so it is
    handed off with the trigger `channel` and routed like any handoff. A second delivery of
    the same Message-ID stores nothing new. A new conversation gets the customer's arm
    (sticky across channels), or `arm` when given (evaluations)."""
    customer = customer_for_email(workspace=workspace, email=email.sender)
    with transaction.atomic():
        earlier = (
            Message.objects.filter(workspace=workspace, email_message_id=email.message_id)
            .select_related("conversation")
            .first()
        )
        if earlier is not None:
            return InboundResult(earlier.conversation, earlier, False, False)
        conversation = email_conversation_find(
            workspace=workspace,
            customer=customer,
            thread_ids=email.thread_ids,
            subject=email.subject,
        )
        new = conversation is None
        if conversation is None:
            plan = assignment_decide(
                workspace=workspace,
                customer=customer,
                bot_enabled=bot_settings_get(workspace=workspace).enabled,
                served=False,
                arm=arm,
            )
            conversation = conversation_create(
                workspace=workspace,
                customer=customer,
                channel=Conversation.Channel.EMAIL,
                arm=plan.arm,
                status=Conversation.Status.HANDED_OFF,
                subject=email.subject[:300],
                followup_email=email.sender,
            ).conversation
            assignment_record(conversation=conversation, plan=plan)
        posted = message_post_customer(
            conversation=conversation,
            text=email.text,
            email_message_id=email.message_id,
            limit=MAX_EMAIL_CHARS,
        )
        if not posted.created:
            return InboundResult(conversation, posted.message, False, False)
        _ledger_refresh(conversation, earlier=new)
        if conversation.status != Conversation.Status.WITH_AGENT and (
            handoff_open_get(conversation=conversation) is None
        ):
            do_hand_off(
                conversation=conversation,
                trigger=triggers.CHANNEL,
                reason="the assistant does not answer email yet",
                notify=False,
            )
    return InboundResult(conversation, posted.message, True, new)


# --- The sweeper --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Swept:
    bot_turns: int
    packets: int
    emails: int

    @property
    def total(self) -> int:
        return self.bot_turns + self.packets + self.emails


@shared_task(time_limit=120)
def sweep() -> dict[str, int]:
    """Beat: queue again whatever work was lost (see do_sweep)."""
    swept = do_sweep()
    return {"bot_turns": swept.bot_turns, "packets": swept.packets, "emails": swept.emails}


def do_sweep(*, now: Any = None) -> Swept:
    """Queue again every task whose loss would leave a customer waiting (DESIGN "Principles":
    the database is the source of truth, the broker may lose a task): a customer message in
    a conversation with the bot that has no decided turn `SWEEPER_DELAY_S` after it was
    stored (never queued, or its worker died mid-turn: a stale claim); after
    `SWEEPER_SLOW_DELAY_S`, a handoff packet the chat model never enriched and an agent reply
    due by email and not sent. Each item is queued at most once per its delay (a marker in
    Redis), so the broker does not fill with copies while a worker is busy; a copy would be
    harmless anyway, every one of these tasks is idempotent. Counted per day (SweepDay)."""
    now = now or timezone.now()
    horizon = now - timedelta(hours=settings.SWEEPER_HORIZON_HOURS)
    fast = timedelta(seconds=settings.SWEEPER_DELAY_S)
    slow = timedelta(seconds=settings.SWEEPER_SLOW_DELAY_S)
    turns = messages_awaiting_turn(posted_before=now - fast, posted_after=horizon, now=now)
    packets = (
        handoffs_awaiting_enrichment(created_before=now - slow, created_after=horizon)
        if get_chat_provider() is not None
        else []
    )
    emails = replies_awaiting_email(posted_before=now - slow, posted_after=horizon)
    swept = Swept(
        bot_turns=_requeue(bot_turn, "bot_turn", turns, fast),
        packets=_requeue(handoff_packet_enrich, "packet", packets, slow),
        emails=_requeue(followup_email_send, "email", emails, slow),
    )
    day, _ = SweepDay.objects.get_or_create(day=timezone.localdate(now))
    SweepDay.objects.filter(pk=day.pk).update(
        runs=F("runs") + 1,
        bot_turns=F("bot_turns") + swept.bot_turns,
        packets=F("packets") + swept.packets,
        emails=F("emails") + swept.emails,
        last_run_at=now,
    )
    if swept.total:
        logger.warning(
            "sweeper queued lost work again: %d bot turns, %d handoff packets, %d emails",
            swept.bot_turns,
            swept.packets,
            swept.emails,
        )
    return swept


def _requeue(task: Any, kind: str, ids: list[int], window: timedelta) -> int:
    queued = 0
    for pk in ids:
        # Once per window: the marker expires when the item would be due again.
        marker = f"sweeper:{kind}:{pk}"
        if not cache.add(marker, 1, timeout=max(1, int(window.total_seconds()))):
            continue
        if task_send(task, pk):
            queued += 1
        else:
            cache.delete(marker)
            break  # the broker is down: the next run tries again
    return queued


# --- Rollout: test suites and the categories a phase can enable ----------------------------------


def do_suite_run(*, run_id: int) -> SuiteRun | None:
    """Play every test case through the real bot turn under the run's phase, each in a
    scratch conversation inside a savepoint that is rolled back afterwards: nothing of it
    is ever committed, so no customer, agent or KPI sees it. Results are stored as each
    case finishes (the page's progress bar reads them). None when another worker has the
    run already."""
    run = suite_run_claim(run_id=run_id)
    if run is None:
        return None
    scope = phase_scope(phase=run.phase)
    try:
        for case in SuiteCase.objects.filter(workspace_id=run.workspace_id).order_by("pk"):
            turns = _suite_case_play(run.workspace, case, scope)
            passed, why = case_judge(case, turns)
            suite_result_record(run=run, case=case, passed=passed, actual={"turns": turns}, why=why)
    except Exception as exc:  # the run must end either way; the error is shown on the page
        logger.exception("suite run %s failed", run_id)
        return suite_run_finish(run=run, error=f"{type(exc).__name__}: {exc}")
    return suite_run_finish(run=run)


def _suite_case_play(workspace: Workspace, case: SuiteCase, scope: Scope) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = []
    with transaction.atomic():
        savepoint = transaction.savepoint()
        try:
            customer = Customer.objects.create(
                workspace=workspace, visitor_id=f"suite-{secrets.token_hex(16)}"
            )
            conversation = conversation_create(workspace=workspace, customer=customer).conversation
            message_add(
                conversation=conversation,
                author=Message.Author.BOT,
                text=bot_greeting(workspace=workspace),
                kind=Message.Kind.GREETING,
            )
            for text in case.messages:
                conversation.refresh_from_db()
                if conversation.status != Conversation.Status.BOT:
                    break  # handed off: the bot says nothing more
                posted = do_customer_message(conversation=conversation, text=text, queue_bot=False)
                turn = do_bot_turn(message_id=posted.message.pk, scope=scope)
                if turn is not None:
                    turns.append(_turn_row(turn, text))
        finally:
            transaction.savepoint_rollback(savepoint)
    return turns


def _turn_row(turn: BotTurn, text: str) -> dict[str, Any]:
    reply_sources = turn.reply.sources if turn.reply is not None else []
    cited = [str(s.get("article_id")) for s in reply_sources if s.get("article_id")]
    stored = dict(
        Article.objects.filter(
            workspace_id=turn.workspace_id, pk__in=[c for c in cited if c.isdigit()]
        ).values_list("pk", "external_id")
    )
    return {
        "message": text[:300],
        "action": turn.action,
        "trigger": turn.trigger,
        "fired": [f.get("name") for f in turn.triggers],
        "category": turn.category,
        "category_confidence": turn.category_confidence,
        "cited": [stored.get(int(c)) or c if c.isdigit() else c for c in cited],
        "retrieval": turn.scores.get("retrieval"),
        "reply": (turn.reply.text[:400] if turn.reply is not None else ""),
    }


def rollout_categories(*, workspace: Workspace, days: int = 30) -> list[dict[str, Any]]:
    """The categories a phase can enable (the bot's issue categories), each with its traffic
    and how often the bot handed off in it over the last `days`, for the plan page and its
    suggested first phase."""
    empty = {"conversations": 0, "bot_handled": 0, "escalations": 0}
    stats = category_escalation_stats(workspace=workspace, days=days)
    return [
        {"name": c.name, "is_high_stakes": c.is_high_stakes, **stats.get(c.name, empty)}
        for c in category_list(workspace=workspace)
    ]


def rollout_category_names(*, workspace: Workspace) -> list[str]:
    return list(category_list(workspace=workspace).values_list("name", flat=True))
