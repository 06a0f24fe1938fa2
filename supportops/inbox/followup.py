"""The email follow-up of agent replies: a customer who waited for a person left an address,
and a reply they are no longer in the widget to read is also sent there (once per message).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from supportops.conversations.followup import customer_away
from supportops.conversations.models import Conversation, Message


def followup_due(*, message: Message, now: datetime | None = None) -> bool:
    """Whether an agent reply should also go out by email: the customer left an address and
    is not reading the widget."""
    row = (
        Conversation.objects.filter(pk=message.conversation_id)
        .values("followup_email", "customer_seen_at")
        .first()
    )
    if not row or not row["followup_email"]:
        return False
    return customer_away(seen_at=row["customer_seen_at"], now=now or timezone.now())


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
