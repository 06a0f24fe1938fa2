"""Writes for customers, conversations and messages: the records every other app builds on.

This app knows nothing of the bot, the inbox or rollout (they sit above it); the flows that
involve them (a message arrives and the bot is queued, a hand-off, a reopen, a resolve) live
in `supportops.flows`, which calls these services.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from supportops.accounts.models import Workspace
from supportops.accounts.services import Actor, audit_log_write, real_user
from supportops.text.clearing import mask_secrets
from supportops.text.redaction import redact

from .models import Conversation, CsatResponse, Customer, Message

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
def conversation_create(
    *,
    workspace: Workspace,
    customer: Customer,
    channel: str = Conversation.Channel.WIDGET,
    arm: str = Conversation.Arm.AI_FIRST,
    status: str = Conversation.Status.BOT,
) -> StartedConversation:
    """A new conversation and the secret token that opens it (no messages yet)."""
    token = secrets.token_urlsafe(32)
    conversation = Conversation.objects.create(
        workspace=workspace,
        customer=customer,
        channel=channel,
        arm=arm,
        status=status,
        token_hash=token_hash(token),
        last_message_at=timezone.now(),
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
class PostedMessage:
    message: Message
    created: bool  # False when the idempotency key matched an earlier post
    reopened: bool = False  # the conversation was resolved and this message reopened it


def message_post_customer(
    *, conversation: Conversation, text: str, client_key: str = ""
) -> PostedMessage:
    """Store what the customer wrote, once per client key. Writing to a resolved
    conversation reopens it (with the assistant again; `supportops.flows` decides whether a
    person takes it back). Passwords, security codes and card numbers are masked before
    anything is stored (`clearing.mask_secrets`): the customer sees the mask too."""
    text = mask_secrets(clean_text(text))
    client_key = (client_key or "")[:64]
    if client_key:
        earlier = Message.objects.filter(conversation=conversation, client_key=client_key).first()
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
    except IntegrityError:
        # Two retries raced on the same key: the other one won.
        earlier = Message.objects.get(conversation=conversation, client_key=client_key)
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
        return message_add(
            conversation=conversation,
            author=Message.Author.BOT,
            text="Glad that sorted it. How would you rate this conversation?",
            kind=Message.Kind.CSAT_REQUEST,
        )
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
    if real_user(actor) is not None:
        audit_log_write(
            workspace=conversation.workspace,
            actor=actor,
            action="conversation.resolve",
            target=conversation,
            details={"resolution": resolution},
        )
    return message_add(
        conversation=conversation,
        author=Message.Author.SYSTEM,
        text="This conversation is closed. How would you rate the help you got?",
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
