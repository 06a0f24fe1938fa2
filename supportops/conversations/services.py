"""Writes for customers, conversations and messages: the records every other app builds on.

This app knows nothing of the bot, the inbox or rollout (they sit above it); the flows that
involve them (a message arrives and the bot is queued, a hand-off, a reopen, a resolve) live
in `supportops.flows`, which calls these services.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from supportops.accounts.models import Workspace
from supportops.accounts.services import Actor, audit_log_write, real_user
from supportops.text.clearing import mask_secrets
from supportops.text.redaction import redact

from .models import (
    Conversation,
    ConversationEvent,
    CsatRequest,
    CsatResponse,
    Customer,
    Message,
)

MAX_MESSAGE_CHARS = 4000
MAX_EMAIL_CHARS = 20000  # an email body, quoted history already cut
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


def conversation_event_add(
    *, conversation: Conversation, kind: str, **data: Any
) -> ConversationEvent:
    """Append one state change to the conversation's event log, timed by `timezone.now()`
    (a frozen clock replays history). Only services call this, in the transaction of the
    change they record."""
    return ConversationEvent.objects.create(
        workspace_id=conversation.workspace_id,
        conversation_id=conversation.pk,
        kind=kind,
        at=timezone.now(),
        data=data,
    )


def customer_get_or_create_verified(
    *, workspace: Workspace, external_id: str, name: str = "", email: str = ""
) -> Customer:
    """The host site vouched for this id (the caller checked the signature)."""
    external_id = external_id_clean(external_id)
    customer, created = Customer.objects.get_or_create(
        workspace=workspace, external_id=external_id, defaults={"name": name, "email": email}
    )
    if not created and ((name and customer.name != name) or (email and customer.email != email)):
        customer.name = name or customer.name
        customer.email = email or customer.email
        customer.save(update_fields=["name", "email"])
    return customer


def external_id_clean(external_id: str) -> str:
    external_id = external_id.strip()
    if not external_id or len(external_id) > 120:
        raise ConversationError("The customer id must be 1 to 120 characters.")
    return external_id


def visitor_id_clean(visitor_id: str) -> str:
    visitor_id = visitor_id.strip()
    if not 16 <= len(visitor_id) <= 64:
        raise ConversationError("The visitor id must be 16 to 64 characters.")
    return visitor_id


def customer_get_or_create_visitor(*, workspace: Workspace, visitor_id: str) -> Customer:
    visitor_id = visitor_id_clean(visitor_id)
    customer, _ = Customer.objects.get_or_create(
        workspace=workspace, external_id="", visitor_id=visitor_id
    )
    return customer


@dataclass(frozen=True)
class StartedConversation:
    conversation: Conversation
    token: str  # shown once, to the browser that started the conversation


@transaction.atomic
def conversation_create(
    *,
    workspace: Workspace,
    customer: Customer,
    channel: str = Conversation.Channel.WIDGET,
    arm: str = Conversation.Arm.AI_FIRST,
    status: str = Conversation.Status.BOT,
    token: str | None = None,
    **fields: Any,
) -> StartedConversation:
    """A new conversation and the secret token that opens it (no messages yet). `token`: one
    the caller derived (a widget chat's pending token makes the same one on a retry; token
    hashes are unique, so a second conversation for it is an IntegrityError)."""
    token = token or secrets.token_urlsafe(32)
    if arm not in Conversation.Arm.values:
        raise ConversationError(f"Unknown arm {arm!r}.")
    conversation = Conversation.objects.create(
        workspace=workspace,
        customer=customer,
        channel=channel,
        arm=arm,
        status=status,
        token_hash=token_hash(token),
        last_message_at=timezone.now(),
        **fields,
    )
    conversation_event_add(
        conversation=conversation, kind=ConversationEvent.Kind.STARTED, channel=channel, arm=arm
    )
    return StartedConversation(conversation=conversation, token=token)


def message_add(
    *,
    conversation: Conversation,
    author: str,
    text: str,
    kind: str = Message.Kind.TEXT,
    redacted_text: str = "",
    **fields: Any,
) -> Message:
    """Store one message. What models and analysis read (`redacted_text`) is always the
    redacted text, whoever wrote it: bot and agent replies quote orders and names too."""
    message = Message.objects.create(
        workspace_id=conversation.workspace_id,
        conversation=conversation,
        author=author,
        kind=kind,
        text=text,
        redacted_text=redacted_text or redact(text).text,
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
class InboundEmail:
    """A customer's email as the inbound webhook received it (checked by the widget app's
    `inbound` module, stored by `flows.do_email_inbound`)."""

    sender: str  # the address alone
    subject: str
    text: str
    message_id: str
    thread_ids: list[str]  # In-Reply-To, then References, newest first


@dataclass(frozen=True)
class PostedMessage:
    message: Message
    created: bool  # False when the idempotency key matched an earlier post
    reopened: bool = False  # the conversation was resolved and this message reopened it


def message_post_customer(
    *,
    conversation: Conversation,
    text: str,
    client_key: str = "",
    email_message_id: str = "",
    limit: int = MAX_MESSAGE_CHARS,
) -> PostedMessage:
    """Store what the customer wrote, once per client key (the widget) or per email
    Message-ID (the email channel). Writing to a resolved conversation reopens it (with the
    assistant again; `supportops.flows` decides whether a person takes it back). Passwords,
    security codes and card numbers are masked before anything is stored
    (`clearing.mask_secrets`): the customer sees the mask too."""
    text = mask_secrets(clean_text(text, limit=limit))
    client_key = (client_key or "")[:64]
    if client_key:
        earlier = Message.objects.filter(conversation=conversation, client_key=client_key).first()
        if earlier is not None:
            return PostedMessage(message=earlier, created=False)
    if email_message_id:
        earlier = Message.objects.filter(
            workspace_id=conversation.workspace_id, email_message_id=email_message_id
        ).first()
        if earlier is not None:
            return PostedMessage(message=earlier, created=False)
    reopened = False
    try:
        with transaction.atomic():
            message = message_add(
                conversation=conversation,
                author=Message.Author.CUSTOMER,
                text=text,
                redacted_text=redact(text).text,
                client_key=client_key,
                email_message_id=email_message_id,
            )
            reopened = bool(
                Conversation.objects.filter(
                    pk=conversation.pk, status=Conversation.Status.RESOLVED
                ).update(status=Conversation.Status.BOT, resolved_at=None, resolution="")
            )
            if reopened:
                conversation.status = Conversation.Status.BOT
                conversation.resolved_at = None
                conversation.resolution = ""
                conversation_event_add(
                    conversation=conversation,
                    kind=ConversationEvent.Kind.REOPENED,
                    message_id=message.pk,
                )
    except IntegrityError:
        # Two retries (or two deliveries of one email) raced on the same key: the other won.
        if client_key:
            earlier = Message.objects.get(conversation=conversation, client_key=client_key)
        else:
            earlier = Message.objects.get(
                workspace_id=conversation.workspace_id, email_message_id=email_message_id
            )
        return PostedMessage(message=earlier, created=False)
    return PostedMessage(message=message, created=True, reopened=reopened)


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
    return message_add(
        conversation=conversation,
        author=Message.Author.BOT,
        text=text,
        kind=kind,
        sources=sources or [],
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=cost_usd,
    )


def conversation_lock(*, conversation_id: int) -> Conversation:
    """The conversation, locked for the rest of the caller's transaction."""
    return (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("workspace", "customer")
        .get(pk=conversation_id)
    )


def conversation_status_set(*, conversation: Conversation, status: str) -> None:
    """Move the conversation to `status`; the hand-off time is kept when it goes to people."""
    if status not in Conversation.Status.values:
        raise ConversationError(f"Unknown conversation status {status!r}.")
    fields: dict[str, Any] = {"status": status}
    if status == Conversation.Status.HANDED_OFF:
        fields["handed_off_at"] = timezone.now()
    Conversation.objects.filter(pk=conversation.pk).update(**fields)
    for name, value in fields.items():
        setattr(conversation, name, value)


def conversation_categorize(*, conversation: Conversation, category: str) -> bool:
    """The first category the classifier gives a conversation sticks (later turns may drift
    to small talk); returns whether it was set now."""
    if not category:
        return False
    updated = Conversation.objects.filter(pk=conversation.pk, category="").update(
        category=category[:80]
    )
    if updated:
        conversation.category = category[:80]
    return bool(updated)


class FeedbackVia:
    BUTTON = "button"  # the widget's "Did that solve it?" buttons
    TYPED = "typed"  # the customer wrote it ("thanks, that worked", "that didn't help")


@transaction.atomic
def conversation_feedback(
    *,
    conversation: Conversation,
    solved: bool,
    via: str = FeedbackVia.BUTTON,
    message: Message | None = None,
    reply: bool = True,
) -> Message | None:
    """The customer's answer to "Did that solve it?", pressed or typed (`message`: the
    customer's message that said it). "Yes" resolves the conversation and asks for a rating;
    "No" offers more help, unless `reply` is False (a typed rejection: the bot's own turn
    answers it)."""
    Conversation.objects.filter(pk=conversation.pk).update(solved=solved)
    conversation.solved = solved
    conversation_event_add(
        conversation=conversation,
        kind=ConversationEvent.Kind.FEEDBACK,
        solved=solved,
        via=via,
        **({"message_id": message.pk} if message is not None else {}),
    )
    if solved:
        Conversation.objects.filter(pk=conversation.pk).update(
            status=Conversation.Status.RESOLVED, resolved_at=timezone.now()
        )
        conversation.status = Conversation.Status.RESOLVED
        asked = message_add(
            conversation=conversation,
            author=Message.Author.BOT,
            text="Glad that sorted it. How would you rate this conversation?",
            kind=Message.Kind.CSAT_REQUEST,
        )
        csat_request_add(conversation=conversation)
        return asked
    if not reply:
        return None
    return message_add(
        conversation=conversation, author=Message.Author.BOT, text=FEEDBACK_NOT_SOLVED
    )


@transaction.atomic
def conversation_close(
    *, conversation: Conversation, actor: Actor = None, resolution: str = ""
) -> Message:
    """Mark the conversation resolved (a person resolved it, with a resolution type, or the
    customer ended the chat) and ask for a rating."""
    if resolution and resolution not in Conversation.Resolution.values:
        choices = ", ".join(Conversation.Resolution.values)
        raise ConversationError(f"Unknown resolution {resolution!r}; choose one of {choices}.")
    Conversation.objects.filter(pk=conversation.pk).update(
        status=Conversation.Status.RESOLVED, resolved_at=timezone.now(), resolution=resolution
    )
    conversation.status = Conversation.Status.RESOLVED
    conversation.resolution = resolution
    person = real_user(actor)
    if person is not None:
        audit_log_write(
            workspace=conversation.workspace,
            actor=actor,
            action="conversation.resolve",
            target=conversation,
            details={"resolution": resolution},
        )
        conversation_event_add(
            conversation=conversation,
            kind=ConversationEvent.Kind.RESOLVED,
            resolution=resolution or Conversation.Resolution.SOLVED,
            by="person",
            user_id=person.pk,
        )
    else:
        conversation_event_add(
            conversation=conversation,
            kind=ConversationEvent.Kind.RESOLVED,
            resolution=resolution,
            by="customer",
        )
    asked = message_add(
        conversation=conversation,
        author=Message.Author.SYSTEM,
        text="This conversation is closed. How would you rate the help you got?",
        kind=Message.Kind.CSAT_REQUEST,
    )
    csat_request_add(conversation=conversation)
    return asked


def csat_request_add(*, conversation: Conversation) -> CsatRequest:
    """Record that the customer was asked for a rating, on the conversation's channel (the
    widget's rating question, or the email channel's rating links)."""
    channel = (
        CsatRequest.Channel.EMAIL
        if conversation.channel == Conversation.Channel.EMAIL
        else CsatRequest.Channel.WIDGET
    )
    request = CsatRequest.objects.create(
        workspace_id=conversation.workspace_id,
        conversation=conversation,
        channel=channel,
        asked_at=timezone.now(),
    )
    conversation_event_add(
        conversation=conversation,
        kind=ConversationEvent.Kind.CSAT_ASKED,
        request_id=request.pk,
        channel=channel,
    )
    return request


@transaction.atomic
def csat_submit(
    *,
    conversation: Conversation,
    score: int,
    comment: str = "",
    request: CsatRequest | None = None,
    keep_comment: bool = False,
) -> CsatResponse:
    """The customer's rating (a later one replaces it). It answers `request` (an email link
    names its request), else the latest request for this conversation; with
    `keep_comment`, an empty comment leaves an earlier one in place."""
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise ConversationError("The rating must be a whole number from 1 to 5.")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise ConversationError(f"The comment is over {MAX_COMMENT_CHARS} characters.")
    defaults: dict[str, Any] = {"workspace_id": conversation.workspace_id, "score": score}
    if comment or not keep_comment:
        defaults["comment"] = comment
    response, _ = CsatResponse.objects.update_or_create(
        conversation=conversation, defaults=defaults
    )
    if request is None:
        request = (
            CsatRequest.objects.select_for_update()
            .filter(conversation=conversation)
            .order_by("-asked_at", "-pk")
            .first()
        )
    else:
        request = CsatRequest.objects.select_for_update().get(pk=request.pk)
    if request is not None and request.score != score:
        first = request.answered_at is None
        request.score = score
        request.answered_at = request.answered_at or timezone.now()
        request.save(update_fields=["score", "answered_at"])
        conversation_event_add(
            conversation=conversation,
            kind=ConversationEvent.Kind.CSAT_ANSWERED,
            request_id=request.pk,
            channel=request.channel,
            score=score,
            first=first,
        )
    return response


def customer_for_email(*, workspace: Workspace, email: str) -> Customer:
    """The customer who wrote from this address: a verified customer whose email the host
    site gave (signed) for them, the most recently active first, else a customer known only
    by this address (created on first contact)."""
    email = email.strip()
    verified = (
        Customer.objects.filter(workspace=workspace, email__iexact=email)
        .exclude(external_id="")
        .order_by("-created_at", "-pk")
        .first()
    )
    if verified is not None:
        return verified
    existing = Customer.objects.filter(
        workspace=workspace, external_id="", visitor_id="", email__iexact=email
    ).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Customer.objects.create(workspace=workspace, email=email.lower())
    except IntegrityError:  # a second delivery created it a moment ago
        return Customer.objects.get(
            workspace=workspace, external_id="", visitor_id="", email__iexact=email
        )


def answer_awaiting_verdict(*, message: Message) -> bool:
    """Whether this customer message follows the bot's complete answer directly (nothing
    but notices and the rating question in between), so it may confirm or reject that
    answer, also when it reopens the conversation the "Yes" closed ("it's broken again")."""
    previous = (
        Message.objects.filter(conversation_id=message.conversation_id, pk__lt=message.pk)
        .exclude(author=Message.Author.SYSTEM)
        .exclude(kind=Message.Kind.CSAT_REQUEST)
        .order_by("-pk")
        .values_list("author", "kind")
        .first()
    )
    return previous == (Message.Author.BOT, Message.Kind.ANSWER)


_REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|sv|antw)\s*:\s*)+", re.I)


def subject_strip(subject: str) -> str:
    """An email subject without Re:/Fwd: prefixes, on one line."""
    return " ".join(_REPLY_PREFIX.sub("", subject or "").split())


def subject_normalize(subject: str) -> str:
    """What matches a reply whose mail client dropped the threading headers to its
    conversation: the subject without prefixes, case folded."""
    return subject_strip(subject).casefold()


def email_conversation_find(
    *, workspace: Workspace, customer: Customer, thread_ids: list[str], subject: str
) -> Conversation | None:
    """The conversation an inbound email continues: the one holding a message it replies to
    (In-Reply-To / References name a Message-ID of ours or of the customer's), if it is this
    customer's; else the customer's open email conversation with the same subject."""
    ids = [i for i in thread_ids if i][:50]
    if ids:
        replied = (
            Message.objects.filter(workspace=workspace, email_message_id__in=ids)
            .select_related("conversation")
            .order_by("-pk")
            .first()
        )
        if replied is not None and replied.conversation.customer_id == customer.pk:
            return replied.conversation
    wanted = subject_normalize(subject)
    open_ones = (
        Conversation.objects.filter(
            workspace=workspace, customer=customer, channel=Conversation.Channel.EMAIL
        )
        .exclude(status=Conversation.Status.RESOLVED)
        .order_by("-created_at")
    )
    for conversation in open_ones[:20]:
        if subject_normalize(conversation.subject) == wanted:
            return conversation
    return None
