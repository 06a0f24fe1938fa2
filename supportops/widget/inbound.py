"""The email channel's inbound webhook: what an inbound-mail service (Postmark, Mailgun,
SendGrid inbound parse, an MTA script...) posts for each email a customer sends to the
support address, checked before anything is stored.

    POST /api/email/v1/inbound/<workspace public key>/
    Content-Type: application/json
    {"from": "Dana <dana@example.com>", "subject": "...", "text": "...",
     "message_id": "<abc@mail.example.com>", "in_reply_to": "<...>",
     "references": "<...> <...>"}       (references: a string or a list)

Authentication, with the workspace's inbound secret (Email channel settings), either:
- `X-SupportOps-Signature: sha256=<hex HMAC-SHA256 of the raw request body>`, or
- `Authorization: Bearer <inbound secret>`.

Answers: 201 stored (a new message), 200 a duplicate delivery of a Message-ID already stored
(nothing new is stored), 400 a malformed body or a missing field, 401 a missing or wrong
signature, 404 an unknown workspace or one without an email channel, 413 a body over
EMAIL_INBOUND_MAX_BYTES, 422 an unknown sender (no usable From address, or mail from the
support address itself: a loop or a bounce). Errors are `{"detail": "..."}`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from email.utils import getaddresses, parseaddr
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from supportops.conversations.models import EmailChannel
from supportops.conversations.services import InboundEmail

SIGNATURE_HEADER = "X-SupportOps-Signature"
_MESSAGE_ID = re.compile(r"<[^<>\s]{3,290}>")
_BOUNCE_LOCAL = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply)$", re.I)
# Where the quoted history of a reply starts: "On Mon, 3 Mar 2025, Ann wrote:" or Outlook's
# separators (a trailing ">" block is cut too).
_QUOTE_START = re.compile(
    r"^(On\s.{1,200}\swrote:\s*$|-{2,}\s*Original Message\s*-{2,}|_{10,}\s*$)",
    re.I | re.M,
)


class InboundRefused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def inbound_channel_get(*, public_key: str) -> EmailChannel:
    channel = (
        EmailChannel.objects.select_related("workspace")
        .filter(workspace__public_key=public_key)
        .first()
        if public_key.startswith("pk_") and len(public_key) <= 40
        else None
    )
    if channel is None:
        raise InboundRefused(404, "Unknown workspace, or it has no email channel.")
    return channel


def inbound_authenticate(
    *, channel: EmailChannel, body: bytes, signature: str | None, authorization: str | None
) -> None:
    """The HMAC of the body, or the secret as a bearer token; either must match."""
    secret = channel.inbound_secret.encode()
    if signature:
        given = signature.strip()
        if given.lower().startswith("sha256="):
            given = given[7:]
        expected = hmac.new(secret, body, digestmod=hashlib.sha256).hexdigest()
        if given.isascii() and hmac.compare_digest(expected, given.lower()):
            return
        raise InboundRefused(401, "The signature does not match the body.")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip().isascii() and token.strip():
        if hmac.compare_digest(secret, token.strip().encode()):
            return
        raise InboundRefused(401, "The bearer token is not this workspace's inbound secret.")
    raise InboundRefused(
        401,
        f"Sign the body ({SIGNATURE_HEADER}: sha256=<hex>) or send the inbound secret as a "
        "bearer token.",
    )


def _text_field(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InboundRefused(400, f"{name}: must be a string.")
    return value


def _ids(value: Any, name: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = " ".join(value)
    if not isinstance(value, str):
        raise InboundRefused(400, f"{name}: must be a string or a list of strings.")
    return _MESSAGE_ID.findall(value)


def reply_text(text: str) -> str:
    """The new part of a reply: the quoted history below it is cut (it is already stored)."""
    text = text.replace("\r\n", "\n").replace("\x00", "")
    match = _QUOTE_START.search(text)
    if match and match.start() > 0:
        text = text[: match.start()]
    lines = text.rstrip().split("\n")
    while lines and lines[-1].lstrip().startswith(">"):
        lines.pop()
    return "\n".join(lines).strip()


def inbound_parse(*, channel: EmailChannel, body: bytes) -> InboundEmail:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InboundRefused(400, "The body is not valid UTF-8 JSON.") from None
    if not isinstance(payload, dict):
        raise InboundRefused(400, "The body must be a JSON object.")
    raw_from = _text_field(payload, "from").strip()
    sender = parseaddr(raw_from)[1].strip() if raw_from else ""
    if not raw_from or len(getaddresses([raw_from])) != 1:
        raise InboundRefused(422, "Unknown sender: the email has no single From address.")
    try:
        validate_email(sender)
    except ValidationError:
        raise InboundRefused(
            422, f"Unknown sender: {raw_from[:100]!r} is not an address."
        ) from None
    local = sender.partition("@")[0]
    if sender.lower() == channel.address.lower() or _BOUNCE_LOCAL.match(local):
        raise InboundRefused(
            422, "Unknown sender: mail from the support address or a mail system is not stored."
        )
    message_ids = _ids(payload.get("message_id"), "message_id")
    if not message_ids:
        raise InboundRefused(400, "message_id: required, like <unique-id@mail.example.com>.")
    text = reply_text(_text_field(payload, "text"))
    if not text:
        raise InboundRefused(400, "text: required (the plain-text body of the email).")
    thread = _ids(payload.get("in_reply_to"), "in_reply_to")
    thread += list(reversed(_ids(payload.get("references"), "references")))
    subject = " ".join(_text_field(payload, "subject").split())[:300]
    return InboundEmail(
        sender=sender.lower(),
        subject=subject,
        text=text,
        message_id=message_ids[0],
        thread_ids=list(dict.fromkeys(thread)),
    )
