"""Reads of the bot's work for the sweeper."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Exists, OuterRef, Q

from supportops.conversations.models import Conversation, Message

from .models import BotTurn
from .turn import CLAIM_STALE_AFTER


def messages_awaiting_turn(
    *, posted_before: datetime, posted_after: datetime, now: datetime, limit: int = 500
) -> list[int]:
    """Ids of customer messages the bot owes a turn and no worker is deciding: in a
    conversation that is with the bot, with no turn, or a pending one whose claim went stale
    (its worker died). A message the conversation has moved past (a person, a resolve or
    the customer's typed "thanks, that worked" came after it, anything but the bot's own
    turn replies) is not owed one, even if the conversation is back with the bot now."""
    moved_on = (
        Message.objects.filter(conversation_id=OuterRef("conversation_id"), pk__gt=OuterRef("pk"))
        .exclude(author=Message.Author.CUSTOMER)
        .exclude(Exists(BotTurn.objects.filter(reply_id=OuterRef("pk"))))
    )
    no_done_turn = Q(bot_turn__isnull=True) | Q(
        bot_turn__status=BotTurn.Status.PENDING,
        bot_turn__claimed_at__lt=now - CLAIM_STALE_AFTER,
    )
    return list(
        Message.objects.filter(
            no_done_turn,
            author=Message.Author.CUSTOMER,
            conversation__status=Conversation.Status.BOT,
            created_at__lt=posted_before,
            created_at__gte=posted_after,
        )
        .exclude(Exists(moved_on))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
