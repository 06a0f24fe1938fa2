"""Where the customer is: the widget's polls (`customer_seen_at`) and the address a customer
who waited for a person left for the answer (the inbox emails agent replies there).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from .models import Conversation, Message
from .services import ConversationError, message_add

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
    return message_add(
        conversation=locked,
        author=Message.Author.SYSTEM,
        text=f"We'll email you at {email_masked(email)} when someone from the team replies. "
        "You can keep writing here too.",
    )
