"""`{% knowledge_gap conversation %}`: the "turn this answer into a draft article" action on a
resolved conversation the bot could not answer."""

from __future__ import annotations

from typing import Any

from django import template

from supportops.conversations.models import Conversation
from supportops.inbox.gaps import gap_drafts, gap_for, gap_open_drafts

register = template.Library()

OPEN_DRAFTS_SHOWN = 20


@register.inclusion_tag("inbox/_gap.html", takes_context=True)
def knowledge_gap(context: template.Context, conversation: Conversation) -> dict[str, Any]:
    drafts = list(gap_drafts(conversation=conversation))
    gap = None if drafts else gap_for(conversation=conversation)
    return {
        "conversation": conversation,
        "gap": gap,
        "drafts": drafts,
        "open_drafts": list(gap_open_drafts(conversation=conversation)[:OPEN_DRAFTS_SHOWN])
        if gap
        else [],
        "current_workspace": context.get("current_workspace"),
        "csrf_token": context.get("csrf_token"),
    }
