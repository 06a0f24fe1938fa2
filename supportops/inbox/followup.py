"""Agent replies by email. On the email channel every reply goes out as an email in the
customer's thread (Message-ID, In-Reply-To and References headers, so mail clients and the
inbound webhook keep one thread); on the widget, a customer who waited for a person left an
address, and a reply they are no longer in the widget to read is also sent there (once per
message). The resolve email of an email conversation carries one-click rating links.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone

from supportops.conversations.csat import SCORE_LABELS, SCORES, csat_link_token
from supportops.conversations.followup import customer_away
from supportops.conversations.models import Conversation, CsatRequest, EmailChannel, Message
from supportops.conversations.selectors import email_thread_ids
from supportops.conversations.services import subject_strip


def followup_due(*, message: Message, now: datetime | None = None) -> bool:
    """Whether an agent reply should also go out by email: an email conversation always;
    a widget conversation when the customer left an address and is not reading the widget."""
    row = (
        Conversation.objects.filter(pk=message.conversation_id)
        .values("followup_email", "customer_seen_at", "channel")
        .first()
    )
    if not row or not row["followup_email"]:
        return False
    if row["channel"] == Conversation.Channel.EMAIL:
        return True
    return customer_away(seen_at=row["customer_seen_at"], now=now or timezone.now())


def _one_line(text: str) -> str:
    return " ".join(text.split())  # a header may not contain line breaks


def _reply_subject(conversation: Conversation) -> str:
    base = subject_strip(conversation.subject)
    return f"Re: {base}" if base else f"{_one_line(conversation.workspace.name)}: your question"


def _sender(conversation: Conversation) -> tuple[str, str]:
    """(From header, domain for Message-IDs): the workspace's support address if it has an
    email channel, else DEFAULT_FROM_EMAIL."""
    channel = EmailChannel.objects.filter(workspace_id=conversation.workspace_id).first()
    if channel is not None and channel.address:
        sender = f"{_one_line(conversation.workspace.name)} <{channel.address}>"
    else:
        sender = settings.DEFAULT_FROM_EMAIL
    address = parseaddr(sender)[1]
    return sender, address.rpartition("@")[2] or "localhost"


def _thread_headers(conversation: Conversation, message_id: str) -> dict[str, str]:
    earlier = [m for m in email_thread_ids(conversation=conversation) if m != message_id]
    headers = {"Message-ID": message_id}
    if earlier:
        headers["In-Reply-To"] = earlier[-1]
        headers["References"] = " ".join(earlier[-20:])
    return headers


def _email_body(message: Message, conversation: Conversation) -> str:
    who = (message.agent.first_name if message.agent else "").strip() or "Our support team"
    if conversation.channel == Conversation.Channel.EMAIL:
        return "\n".join(
            [
                message.text,
                "",
                f"{who}, {conversation.workspace.name}",
                "",
                "Reply to this email to answer.",
            ]
        )
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
    """Email one agent reply to the conversation's address, at most once: the message is
    claimed (`emailed_at`) before sending and released if sending fails."""
    message = (
        Message.objects.select_related("conversation__workspace", "agent")
        .filter(pk=message_id, author=Message.Author.AGENT)
        .first()
    )
    if message is None or not message.conversation.followup_email:
        return False
    conversation = message.conversation
    sender, domain = _sender(conversation)
    outgoing_id = message.email_message_id or make_msgid(domain=domain)
    claimed = Message.objects.filter(pk=message_id, emailed_at__isnull=True).update(
        emailed_at=timezone.now(), email_message_id=outgoing_id
    )
    if not claimed:
        return False
    if conversation.channel == Conversation.Channel.EMAIL:
        subject = _reply_subject(conversation)
        headers = _thread_headers(conversation, outgoing_id)
    else:
        subject = f"{_one_line(conversation.workspace.name)}: a reply to your question"
        headers = {"Message-ID": outgoing_id}
    try:
        EmailMessage(
            subject=subject,
            body=_email_body(message, conversation),
            from_email=sender,
            to=[conversation.followup_email],
            headers=headers,
        ).send()
    except Exception:
        Message.objects.filter(pk=message_id).update(emailed_at=None)
        raise
    return True


def csat_links(request: CsatRequest) -> list[tuple[int, str, str]]:
    """(score, label, absolute URL) for each one-click rating link of a request."""
    base = settings.SITE_URL.rstrip("/")
    return [
        (
            score,
            SCORE_LABELS[score],
            base + reverse("csat-rate", args=[csat_link_token(request=request, score=score)]),
        )
        for score in SCORES
    ]


def csat_email_send(*, request_id: int) -> bool:
    """The resolve email of an email conversation: it is closed, and one link per score
    rates it in one click. Sent at most once per request (claimed before sending)."""
    request = (
        CsatRequest.objects.select_related("conversation__workspace")
        .filter(pk=request_id, channel=CsatRequest.Channel.EMAIL)
        .first()
    )
    if request is None or not request.conversation.followup_email:
        return False
    if not CsatRequest.objects.filter(pk=request_id, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    ):
        return False
    conversation = request.conversation
    sender, domain = _sender(conversation)
    lines = [
        "Hello,",
        "",
        f"We have closed your request with {conversation.workspace.name}. If anything is "
        "still open, reply to this email and we will pick it up again.",
        "",
        "How would you rate the help you got? One click is enough:",
        "",
    ]
    lines += [f"  {score} - {label}: {url}" for score, label, url in csat_links(request)]
    lines += ["", f"{conversation.workspace.name} support"]
    try:
        EmailMessage(
            subject=_reply_subject(conversation),
            body="\n".join(lines),
            from_email=sender,
            to=[conversation.followup_email],
            headers=_thread_headers(conversation, make_msgid(domain=domain)),
        ).send()
    except Exception:
        CsatRequest.objects.filter(pk=request_id).update(emailed_at=None)
        raise
    return True
