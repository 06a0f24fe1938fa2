"""Writes for customers and conversations. Every customer message is stored before the bot
turn is queued, and queued only on commit."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from supportops.accounts.models import Workspace
from supportops.accounts.services import Actor, audit_log_write, real_user
from supportops.text.redaction import redact

from .models import Conversation, CsatResponse, Customer, Handoff, Message

MAX_MESSAGE_CHARS = 4000
MAX_COMMENT_CHARS = 2000
# The reply to "No" on "Did that solve it?"; the handoff packet looks for it after an answer.
FEEDBACK_NOT_SOLVED = (
    "Sorry that didn't help. You can tell me more about what you need, "
    "or press \u201cTalk to a person\u201d and someone from the team will take over."
)


class ConversationError(ValueError):
    """Bad input from a customer or an agent; the message says what to fix."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def customer_get_or_create_verified(
    *, workspace: Workspace, external_id: str, name: str = "", email: str = ""
) -> Customer:
    """The host site vouched for this id (the caller checked the signature)."""
    external_id = external_id.strip()
    if not external_id or len(external_id) > 120:
        raise ConversationError("The customer id must be 1 to 120 characters.")
    customer, created = Customer.objects.get_or_create(
        workspace=workspace, external_id=external_id, defaults={"name": name, "email": email}
    )
    if not created and ((name and customer.name != name) or (email and customer.email != email)):
        customer.name = name or customer.name
        customer.email = email or customer.email
        customer.save(update_fields=["name", "email"])
    return customer


def customer_get_or_create_visitor(*, workspace: Workspace, visitor_id: str) -> Customer:
    visitor_id = visitor_id.strip()
    if not 16 <= len(visitor_id) <= 64:
        raise ConversationError("The visitor id must be 16 to 64 characters.")
    customer, _ = Customer.objects.get_or_create(
        workspace=workspace, external_id="", visitor_id=visitor_id
    )
    return customer


@dataclass(frozen=True)
class StartedConversation:
    conversation: Conversation
    token: str  # shown once, to the browser that started the conversation


@transaction.atomic
def conversation_start(
    *, workspace: Workspace, customer: Customer, channel: str = Conversation.Channel.WIDGET
) -> StartedConversation:
    from supportops.bot.services import bot_greeting, bot_settings_get

    token = secrets.token_urlsafe(32)
    conversation = Conversation.objects.create(
        workspace=workspace,
        customer=customer,
        channel=channel,
        token_hash=token_hash(token),
        last_message_at=timezone.now(),
    )
    if bot_settings_get(workspace=workspace).enabled:
        greeting = bot_greeting(workspace=workspace)
        _message_add(conversation, Message.Author.BOT, greeting, kind=Message.Kind.GREETING)
    else:
        conversation.status = Conversation.Status.HANDED_OFF
        conversation.save(update_fields=["status"])
        _message_add(
            conversation,
            Message.Author.SYSTEM,
            "Thanks for getting in touch. A person from our team will reply here.",
        )
    return StartedConversation(conversation=conversation, token=token)


def _message_add(
    conversation: Conversation,
    author: str,
    text: str,
    *,
    kind: str = Message.Kind.TEXT,
    redacted_text: str = "",
    **fields: Any,
) -> Message:
    message = Message.objects.create(
        workspace_id=conversation.workspace_id,
        conversation=conversation,
        author=author,
        kind=kind,
        text=text,
        redacted_text=redacted_text or (text if author != Message.Author.CUSTOMER else ""),
        **fields,
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.created_at)
    return message


def clean_text(text: str, *, limit: int = MAX_MESSAGE_CHARS, what: str = "message") -> str:
    text = (text or "").replace("\x00", "").strip()
    if not text:
        raise ConversationError(f"The {what} is empty.")
    if len(text) > limit:
        raise ConversationError(f"The {what} is {len(text)} characters; the limit is {limit}.")
    return text


@dataclass(frozen=True)
class PostedMessage:
    message: Message
    created: bool  # False when the idempotency key matched an earlier post


def message_post_customer(
    *, conversation: Conversation, text: str, client_key: str = "", queue_bot: bool = True
) -> PostedMessage:
    """Store what the customer wrote (once per client key), then queue the bot turn.

    `queue_bot=False` is for callers that run the turn themselves (the eval commands).
    """
    text = clean_text(text)
    client_key = (client_key or "")[:64]
    if client_key:
        earlier = Message.objects.filter(conversation=conversation, client_key=client_key).first()
        if earlier is not None:
            return PostedMessage(message=earlier, created=False)
    try:
        with transaction.atomic():
            message = _message_add(
                conversation,
                Message.Author.CUSTOMER,
                text,
                redacted_text=redact(text).text,
                client_key=client_key,
            )
            if conversation.status == Conversation.Status.RESOLVED:
                _reopen(conversation)
            if conversation.status == Conversation.Status.BOT and queue_bot:
                message_id = message.pk
                transaction.on_commit(lambda: _queue_bot_turn(message_id))
    except IntegrityError:
        # Two retries raced on the same key: the other one won.
        earlier = Message.objects.get(conversation=conversation, client_key=client_key)
        return PostedMessage(message=earlier, created=False)
    return PostedMessage(message=message, created=True)


REOPEN_NOTICE = "Thanks for writing again. A person from our team will reply here."


def _reopen(conversation: Conversation) -> None:
    """Writing again reopens it. Once a person has had the conversation, the bot stays out:
    it goes back to people (to the same agent if they are online, see inbox routing)."""
    had_person = (
        Handoff.objects.filter(conversation=conversation)
        .filter(Q(assignee__isnull=False) | Q(first_human_reply_at__isnull=False))
        .exists()
    )
    conversation.status = Conversation.Status.BOT
    conversation.resolved_at = None
    conversation.resolution = ""
    conversation.save(update_fields=["status", "resolved_at", "resolution"])
    if had_person:
        conversation_hand_off(
            conversation=conversation,
            trigger="reopened",
            reason="the customer wrote again after a person resolved the conversation",
            notice=REOPEN_NOTICE,
        )


def _queue_bot_turn(message_id: int) -> None:
    from supportops.bot.tasks import bot_turn

    bot_turn.delay(message_id)


def message_post_bot(
    *,
    conversation: Conversation,
    text: str,
    kind: str = Message.Kind.TEXT,
    sources: list[dict[str, Any]] | None = None,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    cost_usd: Any = 0,
) -> Message:
    return _message_add(
        conversation,
        Message.Author.BOT,
        text,
        kind=kind,
        sources=sources or [],
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=cost_usd,
    )


@transaction.atomic
def conversation_hand_off(
    *,
    conversation: Conversation,
    trigger: str,
    reason: str,
    scores: dict[str, Any] | None = None,
    packet: dict[str, Any] | None = None,
    notice: str | None = None,
) -> Handoff:
    """The bot steps aside: the conversation waits for a person, and the customer is told.

    Without a `packet` (the customer pressed "Talk to a person") the full handoff packet is
    built here, so every handoff carries one.
    """
    from supportops.bot.services import bot_settings_get
    from supportops.inbox.packet import handoff_packet_build_safely
    from supportops.inbox.services import handoff_route
    from supportops.inbox.tasks import handoff_packet_enrich
    from supportops.integrations.llm import get_chat_provider

    locked = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("workspace", "customer")
        .get(pk=conversation.pk)
    )
    open_handoff = locked.handoffs.exclude(status=Handoff.Status.RESOLVED).first()
    if open_handoff is not None and locked.status != Conversation.Status.BOT:
        return open_handoff
    if packet is None:
        packet = handoff_packet_build_safely(
            conversation=locked, trigger=trigger, reason=reason, scores=scores
        )
    handoff = Handoff.objects.create(
        workspace_id=locked.workspace_id,
        conversation=locked,
        trigger=trigger,
        reason=reason[:300],
        scores=scores or {},
        packet=packet or {},
    )
    locked.status = Conversation.Status.HANDED_OFF
    locked.handed_off_at = timezone.now()
    locked.save(update_fields=["status", "handed_off_at"])
    conversation.status = locked.status
    settings = bot_settings_get(workspace=locked.workspace)
    _message_add(
        locked, Message.Author.BOT, notice or settings.handoff_message, kind=Message.Kind.HANDOFF
    )
    audit_log_write(
        workspace=locked.workspace,
        actor=None,
        actor_label="bot",
        action="conversation.hand_off",
        target=locked,
        details={"trigger": trigger, "reason": reason[:300], "scores": scores or {}},
    )
    handoff.conversation = locked
    handoff_route(handoff=handoff)
    if get_chat_provider() is not None:
        # The model's summary and suggested reply come later; the person never waits for it.
        transaction.on_commit(partial(handoff_packet_enrich.delay, handoff.pk))
    return handoff


@transaction.atomic
def conversation_feedback(*, conversation: Conversation, solved: bool) -> Message:
    """The customer's answer to "Did that solve it?"."""
    Conversation.objects.filter(pk=conversation.pk).update(solved=solved)
    conversation.solved = solved
    if solved:
        Conversation.objects.filter(pk=conversation.pk).update(
            status=Conversation.Status.RESOLVED, resolved_at=timezone.now()
        )
        conversation.status = Conversation.Status.RESOLVED
        return _message_add(
            conversation,
            Message.Author.BOT,
            "Glad that sorted it. How would you rate this conversation?",
            kind=Message.Kind.CSAT_REQUEST,
        )
    return _message_add(conversation, Message.Author.BOT, FEEDBACK_NOT_SOLVED)


@transaction.atomic
def conversation_resolve(
    *, conversation: Conversation, actor: Actor = None, resolution: str = ""
) -> Message:
    """End of the conversation (an agent resolved it, with a resolution type, or the customer
    ended the chat). Co-pilot drafts nobody sent are recorded as discarded."""
    from supportops.inbox.copilot import copilot_drafts_settle

    if resolution and resolution not in Conversation.Resolution.values:
        choices = ", ".join(Conversation.Resolution.values)
        raise ConversationError(f"Unknown resolution {resolution!r}; choose one of {choices}.")
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Conversation.Status.RESOLVED, resolved_at=timezone.now(), resolution=resolution
    )
    conversation.status = Conversation.Status.RESOLVED
    conversation.resolution = resolution
    Handoff.objects.filter(conversation=conversation).exclude(
        status=Handoff.Status.RESOLVED
    ).update(status=Handoff.Status.RESOLVED, resolved_at=timezone.now())
    copilot_drafts_settle(conversation=conversation, sent_text=None)
    if real_user(actor) is not None:
        audit_log_write(
            workspace=conversation.workspace,
            actor=actor,
            action="conversation.resolve",
            target=conversation,
            details={"resolution": resolution},
        )
    return _message_add(
        conversation,
        Message.Author.SYSTEM,
        "This conversation is closed. How would you rate the help you got?",
        kind=Message.Kind.CSAT_REQUEST,
    )


def csat_submit(*, conversation: Conversation, score: int, comment: str = "") -> CsatResponse:
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ConversationError("The rating must be a whole number from 1 to 5.")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise ConversationError(f"The comment is over {MAX_COMMENT_CHARS} characters.")
    response, _ = CsatResponse.objects.update_or_create(
        conversation=conversation,
        defaults={"workspace_id": conversation.workspace_id, "score": score, "comment": comment},
    )
    return response


def agent_reply(
    *, conversation: Conversation, agent: Actor, text: str, draft_id: int | None = None
) -> Message:
    """A person answers; the bot stays out of the conversation from now on. `draft_id` is
    the co-pilot draft the reply started from, to record whether it was edited. A customer
    who left an email and is no longer in the widget also gets the reply by email."""
    from supportops.inbox.copilot import copilot_drafts_settle

    from .followup import followup_queue_if_away

    text = clean_text(text)
    user = real_user(agent)
    with transaction.atomic():
        message = _message_add(
            conversation,
            Message.Author.AGENT,
            text,
            redacted_text=redact(text).text,
            agent=user,
        )
        Conversation.objects.filter(pk=conversation.pk).update(
            status=Conversation.Status.WITH_AGENT
        )
        conversation.status = Conversation.Status.WITH_AGENT
        open_handoffs = Handoff.objects.filter(conversation=conversation).exclude(
            status=Handoff.Status.RESOLVED
        )
        open_handoffs.filter(first_human_reply_at__isnull=True).update(
            first_human_reply_at=message.created_at
        )
        if user is not None:
            _claim_if_unassigned(open_handoffs.filter(assignee__isnull=True), user)
        copilot_drafts_settle(
            conversation=conversation, sent_text=text, draft_id=draft_id, message=message
        )
        followup_queue_if_away(message=message)
    return message


def _claim_if_unassigned(handoffs: Any, user: Any) -> None:
    """Whoever answers an unassigned conversation takes it (someone else's stays theirs)."""
    from supportops.inbox.services import InboxError, handoff_claim

    for handoff in handoffs:
        # Someone claimed it meanwhile, or the replier is not an inbox member: no change.
        with contextlib.suppress(InboxError):
            handoff_claim(handoff=handoff, agent=user)
