"""Saved replies (macros): who sees and keeps which, the writes (audited like every other
settings change), and filling their placeholders for one conversation.

Managers and admins keep the shared set; everyone in the inbox keeps their own, which
nobody else sees. Usage is counted when a reply the macro was inserted into is sent (not
when it is inserted: an insertion the agent deletes again was not a use).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import Http404

from supportops.accounts.models import Membership, Role
from supportops.accounts.services import audit_log_write
from supportops.bot.models import BotTurn
from supportops.conversations.models import Conversation
from supportops.conversations.selectors import customer_order_by_number, customer_orders

from .models import SavedReply

KEEPS_SHARED = (Role.ADMIN, Role.MANAGER)
MAX_BODY_CHARS = 4000
SEARCH_LIMIT = 8
SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
# What each placeholder becomes when there is nothing to fill it with: visible, in brackets,
# for the agent to fill in before sending.
PLACEHOLDERS = {
    "customer_first_name": "[customer's first name]",
    "order_number": "[order number]",
    "agent_name": "[your name]",
}
_PLACEHOLDER = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")


class MacroError(ValueError):
    """A saved reply that cannot be saved; the message says why."""


# --- Reads -------------------------------------------------------------------------------------


def saved_replies_for_member(*, membership: Membership) -> QuerySet[SavedReply]:
    """The shared set and the member's own replies; never another person's."""
    return SavedReply.objects.filter(workspace_id=membership.workspace_id).filter(
        Q(owner__isnull=True) | Q(owner_id=membership.user_id)
    )


def saved_reply_get_for_member(
    *, membership: Membership, reply_id: int, to_change: bool = False
) -> SavedReply:
    """One reply the member may see (404 otherwise); `to_change`: one they may also change
    (a shared one is 403 for agents)."""
    reply = saved_replies_for_member(membership=membership).filter(pk=reply_id).first()
    if reply is None:
        raise Http404("no such saved reply")
    if to_change and not may_change(membership=membership, reply=reply):
        raise PermissionDenied("only managers and admins change the shared replies")
    return reply


def may_change(*, membership: Membership, reply: SavedReply) -> bool:
    if reply.workspace_id != membership.workspace_id:
        return False
    if reply.owner_id is None:
        return membership.role in KEEPS_SHARED
    return reply.owner_id == membership.user_id


def saved_replies_search(*, membership: Membership, query: str) -> list[SavedReply]:
    """Replies matching what the agent typed: "/ref" matches shortcuts starting with "ref";
    other words match the title, shortcut or text. The most used come first."""
    query = " ".join((query or "").split())[:80]
    replies = saved_replies_for_member(membership=membership)
    if query.startswith("/"):
        replies = replies.filter(shortcut__startswith=query[1:].lower())
    elif query:
        for word in query.split():
            replies = replies.filter(
                Q(title__icontains=word) | Q(shortcut__icontains=word) | Q(body__icontains=word)
            )
    # The agent's own first when a shortcut exists in both sets.
    return list(
        replies.order_by(F("owner").asc(nulls_last=True), "-usage_count", "title")[:SEARCH_LIMIT]
    )


# --- Placeholders ------------------------------------------------------------------------------


def conversation_order_number(*, conversation: Conversation) -> str:
    """The order the conversation is about (the last one the assistant looked up in it),
    else the verified customer's most recent order; "" for anonymous visitors, whose orders
    are never read."""
    customer = conversation.customer
    if not customer.is_verified:
        return ""
    looked_up = BotTurn.objects.filter(conversation=conversation).exclude(records=[])
    for records in looked_up.order_by("-pk").values_list("records", flat=True)[:5]:
        for record in reversed(records or []):
            number = str((record or {}).get("number") or "").strip()
            # Only an order of this customer: the records are re-read, not trusted.
            if number and customer_order_by_number(customer=customer, number=number):
                return number
    recent = customer_orders(customer=customer, limit=1)
    return recent[0].number if recent else ""


def placeholder_values(*, conversation: Conversation, agent: User) -> dict[str, str]:
    name = (conversation.customer.name or "").split()
    return {
        "customer_first_name": name[0] if name else "",
        "order_number": conversation_order_number(conversation=conversation),
        "agent_name": (agent.first_name or "").strip(),
    }


def macro_fill(*, body: str, values: dict[str, str]) -> tuple[str, list[str]]:
    """The body with each {placeholder} replaced by its value, or by a visible "[...]" for
    the agent to fill in; returns the text and the placeholders left unfilled."""
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1).lower()
        value = (values.get(name) or "").strip()
        if value:
            return value
        missing.append(name)
        return PLACEHOLDERS.get(name, f"[{name.replace('_', ' ')}]")

    return _PLACEHOLDER.sub(fill, body), missing


# --- Writes ------------------------------------------------------------------------------------


def _clean(
    *,
    membership: Membership,
    title: str,
    body: str,
    shortcut: str,
    shared: bool,
    reply: SavedReply | None,
) -> tuple[str, str, str]:
    title = " ".join((title or "").split())
    body = (body or "").strip()
    shortcut = (shortcut or "").strip().lstrip("/").lower()
    if not title:
        raise MacroError("Give the reply a title.")
    if len(title) > 120:
        raise MacroError("The title can be at most 120 characters.")
    if not body:
        raise MacroError("Write the reply's text.")
    if len(body) > MAX_BODY_CHARS:
        raise MacroError(f"The text can be at most {MAX_BODY_CHARS} characters.")
    unknown = sorted({m.group(1) for m in _PLACEHOLDER.finditer(body)} - set(PLACEHOLDERS))
    if unknown:
        known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        raise MacroError(f"Unknown placeholder {{{unknown[0]}}}: only {known} are filled in.")
    if shortcut and not SHORTCUT.match(shortcut):
        raise MacroError(
            "A shortcut is one word of lowercase letters, digits, - or _ (e.g. refund)."
        )
    if shortcut:
        same = SavedReply.objects.filter(workspace_id=membership.workspace_id, shortcut=shortcut)
        same = same.filter(owner__isnull=True) if shared else same.filter(owner=membership.user)
        if reply is not None:
            same = same.exclude(pk=reply.pk)
        if same.exists():
            whose = "shared reply" if shared else "reply of yours"
            raise MacroError(f"Another {whose} already uses /{shortcut}.")
    return title, body, shortcut


def _details(reply: SavedReply) -> dict[str, object]:
    return {
        "title": reply.title,
        "shortcut": reply.shortcut,
        "shared": reply.is_shared,
        "chars": len(reply.body),
    }


@transaction.atomic
def saved_reply_create(
    *, membership: Membership, title: str, body: str, shortcut: str = "", shared: bool = False
) -> SavedReply:
    if shared and membership.role not in KEEPS_SHARED:
        raise PermissionDenied("only managers and admins add shared replies")
    title, body, shortcut = _clean(
        membership=membership, title=title, body=body, shortcut=shortcut, shared=shared, reply=None
    )
    reply = SavedReply.objects.create(
        workspace_id=membership.workspace_id,
        owner=None if shared else membership.user,
        title=title,
        body=body,
        shortcut=shortcut,
    )
    audit_log_write(
        workspace=membership.workspace,
        actor=membership.user,
        action="saved_reply.create",
        target=reply,
        details=_details(reply),
    )
    return reply


@transaction.atomic
def saved_reply_update(
    *, membership: Membership, reply: SavedReply, title: str, body: str, shortcut: str = ""
) -> SavedReply:
    if not may_change(membership=membership, reply=reply):
        raise PermissionDenied("you may not change this saved reply")
    before = _details(reply)
    title, body, shortcut = _clean(
        membership=membership,
        title=title,
        body=body,
        shortcut=shortcut,
        shared=reply.is_shared,
        reply=reply,
    )
    reply.title, reply.body, reply.shortcut = title, body, shortcut
    reply.save(update_fields=["title", "body", "shortcut", "updated_at"])
    audit_log_write(
        workspace=membership.workspace,
        actor=membership.user,
        action="saved_reply.update",
        target=reply,
        details={"before": before, "after": _details(reply)},
    )
    return reply


@transaction.atomic
def saved_reply_delete(*, membership: Membership, reply: SavedReply) -> None:
    if not may_change(membership=membership, reply=reply):
        raise PermissionDenied("you may not delete this saved reply")
    details = {**_details(reply), "usage_count": reply.usage_count}
    audit_log_write(
        workspace=membership.workspace,
        actor=membership.user,
        action="saved_reply.delete",
        target=reply,
        details=details,
    )
    reply.delete()


def saved_replies_count_use(*, membership: Membership, reply_ids: Iterable[int]) -> int:
    """Count one use of each reply (that the member may see) in a reply just sent; returns
    how many were counted. Not audited: it is a tally, not a change of settings."""
    ids = {i for i in reply_ids if isinstance(i, int) and i > 0}
    if not ids:
        return 0
    return (
        saved_replies_for_member(membership=membership)
        .filter(pk__in=ids)
        .update(usage_count=F("usage_count") + 1)
    )


def parse_ids(value: str) -> list[int]:
    """Ids from the reply form's hidden field ("3,7"); anything else is ignored."""
    return [int(part) for part in (value or "").split(",") if part.strip().isdigit()][:20]
