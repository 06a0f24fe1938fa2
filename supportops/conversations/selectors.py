"""Reads of conversations and customer records, each scoped by what the caller may see."""

from __future__ import annotations

import hmac
from datetime import timedelta

from django.db.models import Prefetch
from django.utils import timezone

from supportops.accounts.models import Workspace

from .models import Conversation, Customer, Message, Order
from .services import token_hash


def conversation_get_for_token(
    *, workspace: Workspace, conversation_id: int, token: str
) -> Conversation | None:
    """The widget's access check: the id alone opens nothing, the browser's token does."""
    conversation = (
        Conversation.objects.select_related("customer", "workspace")
        .filter(workspace=workspace, pk=conversation_id)
        .first()
    )
    if conversation is None or not token:
        return None
    if not hmac.compare_digest(conversation.token_hash, token_hash(token)):
        return None
    return conversation


def conversation_get_by_token(*, workspace: Workspace, token: str) -> Conversation | None:
    """The conversation a token opens, found by the token alone (a widget chat's first
    message, retried, finds the conversation its pending token already created)."""
    if not token:
        return None
    return (
        Conversation.objects.select_related("customer", "workspace")
        .filter(workspace=workspace, token_hash=token_hash(token))
        .first()
    )


def conversation_transcript(*, conversation: Conversation) -> list[Message]:
    return list(
        Message.objects.filter(conversation=conversation).select_related("agent").order_by("pk")
    )


def customer_orders(*, customer: Customer, limit: int = 10) -> list[Order]:
    """The verified customer's own orders; anonymous visitors have none by construction."""
    if not customer.is_verified:
        return []
    return list(Order.objects.filter(customer=customer).order_by("-placed_at")[:limit])


def customer_order_by_number(*, customer: Customer, number: str) -> Order | None:
    if not customer.is_verified:
        return None
    return Order.objects.filter(customer=customer, number__iexact=number.strip()).first()


def customer_earlier_conversations(
    *, conversation: Conversation, days: int = 30, limit: int = 5
) -> list[Conversation]:
    """The same customer's other recent conversations with their messages, newest first:
    the person taking over sees what was already said, in any channel."""
    since = timezone.now() - timedelta(days=days)
    return list(
        Conversation.objects.filter(customer_id=conversation.customer_id, created_at__gte=since)
        .exclude(pk=conversation.pk)
        .order_by("-created_at")
        .prefetch_related(Prefetch("messages", queryset=Message.objects.order_by("pk")))[:limit]
    )


def email_thread_ids(*, conversation: Conversation, newest_first: bool = False) -> list[str]:
    """The Message-IDs of a conversation's emails (the customer's and ours), in order."""
    return list(
        Message.objects.filter(conversation=conversation)
        .exclude(email_message_id="")
        .order_by("-pk" if newest_first else "pk")
        .values_list("email_message_id", flat=True)
    )


def order_matching_number_and_email(
    *, workspace: Workspace, number: str, email: str
) -> Order | None:
    """The workspace's order with this number whose customer has this email, both matched
    together (case-insensitive); None when either is missing or wrong, never saying which.

    For a visitor who is not signed in: knowing both is what proves the order is theirs."""
    number, email = (number or "").strip(), (email or "").strip()
    if not number or not email:
        return None
    return (
        Order.objects.filter(
            workspace=workspace, number__iexact=number, customer__email__iexact=email
        )
        .select_related("customer")
        .first()
    )


def orders_with_ids(*, workspace: Workspace, order_ids: list[int]) -> list[Order]:
    """Orders a visitor proved are theirs earlier in the conversation, newest first."""
    return list(Order.objects.filter(workspace=workspace, pk__in=order_ids).order_by("-placed_at"))
