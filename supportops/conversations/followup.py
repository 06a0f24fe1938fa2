"""The email follow-up: a customer who waited for a person gives an address, and an agent's
reply that they are no longer in the widget to read is also sent there by email.

Whether the customer is still there comes from the widget's polls (`customer_seen_at`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from .models import Conversation, Message
from .services import ConversationError, _message_add

# A poll is written down at most this often, so polling stays read-only most of the time.
PRESENCE_SAVE_EVERY = timedelta(seconds=30)
# No poll for this long: the customer has left the widget, so replies go out by email too.
CUSTOMER_AWAY_AFTER = timedelta(minutes=2)
MAX_EMAIL_CHARS = 254


def email_masked(address: str) -> str:
    """a***@example.com: enough for the customer to recognise, little for anyone else."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def conversation_customer_seen(*, conversation: Conversation, now: datetime | None = None) -> None:
    """The widget polled this conversation."""
    now = now or timezone.now()
    seen = conversation.customer_seen_at
    if seen is not None and now - seen < PRESENCE_SAVE_EVERY:
        return
    Conversation.objects.filter(pk=conversation.pk).update(customer_seen_at=now)
    conversation.customer_seen_at = now


def customer_away(*, seen_at: datetime | None, now: datetime) -> bool:
    return seen_at is None or now - seen_at >= CUSTOMER_AWAY_AFTER


def _clean_email(email: str) -> str:
    email = (email or "").strip()
    if not email:
        raise ConversationError("Enter your email address.")
    if len(email) > MAX_EMAIL_CHARS:
        raise ConversationError(f"The email address is over {MAX_EMAIL_CHARS} characters.")
    try:
        validate_email(email)
    except ValidationError:
        raise ConversationError(
            "That doesn't look like an email address; check it and try again."
        ) from None
    return email


@transaction.atomic
def conversation_followup_email_set(
    *, conversation: Conversation, email: str, page_url: str = ""
) -> Message | None:
    """Store where to send the answer and confirm it in the chat. Giving the same address
    again changes nothing (None); a new one replaces it and is confirmed again."""
    email = _clean_email(email)
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if locked.status == Conversation.Status.RESOLVED:
        raise ConversationError("This conversation is closed; write a new message to reopen it.")
    if locked.followup_email.lower() == email.lower():
        return None
    locked.followup_email = email
    locked.followup_page_url = page_url[:500]
    locked.save(update_fields=["followup_email", "followup_page_url"])
    conversation.followup_email, conversation.followup_page_url = email, locked.followup_page_url
    return _message_add(
        locked,
        Message.Author.SYSTEM,
        f"We'll email you at {email_masked(email)} when someone from the team replies. "
        "You can keep writing here too.",
    )


def followup_queue_if_away(*, message: Message, now: datetime | None = None) -> bool:
    """Call inside the agent reply's transaction: the email is queued on commit when the
    customer left an address and is not reading the widget."""
    row = (
        Conversation.objects.filter(pk=message.conversation_id)
        .values("followup_email", "customer_seen_at")
        .first()
    )
    if not row or not row["followup_email"]:
        return False
    if not customer_away(seen_at=row["customer_seen_at"], now=now or timezone.now()):
        return False
    message_id = message.pk
    transaction.on_commit(lambda: _queue_email(message_id))
    return True


def _queue_email(message_id: int) -> None:
    from .tasks import followup_email_send

    followup_email_send.delay(message_id)


def _one_line(text: str) -> str:
    return " ".join(text.split())  # a header may not contain line breaks


def _email_body(message: Message, conversation: Conversation) -> str:
    who = (message.agent.first_name if message.agent else "").strip() or "Our support team"
    lines = [
        "Hello,",
        "",
        f"{who} at {conversation.workspace.name} answered your question:",
        "",
        message.text,
        "",
    ]
    if conversation.followup_page_url:
        lines += ["To reply, open the chat again here:", conversation.followup_page_url, ""]
    else:
        lines += ["To reply, open the chat on our website again.", ""]
    lines.append("This reply is also in your chat conversation.")
    return "\n".join(lines)


def message_email_send(*, message_id: int) -> bool:
    """Email one agent reply to the conversation's follow-up address, at most once: the
    message is claimed (`emailed_at`) before sending and released if sending fails."""
    message = (
        Message.objects.select_related("conversation__workspace", "agent")
        .filter(pk=message_id, author=Message.Author.AGENT)
        .first()
    )
    if message is None or not message.conversation.followup_email:
        return False
    claimed = Message.objects.filter(pk=message_id, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    if not claimed:
        return False
    conversation = message.conversation
    try:
        send_mail(
            subject=f"{_one_line(conversation.workspace.name)}: a reply to your question",
            message=_email_body(message, conversation),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[conversation.followup_email],
        )
    except Exception:
        Message.objects.filter(pk=message_id).update(emailed_at=None)
        raise
    return True
