"""`{% outcome_card conversation %}`: the conversation's outcome on its inbox page. The
inbox sits below analytics and imports nothing of it; its template loads this tag."""

from __future__ import annotations

from typing import Any

from django import template

from supportops.analytics.conversation_list import conversation_facts
from supportops.analytics.selectors import (
    analysis_for_conversation,
    outcome_explained,
    outcome_for_conversation,
)
from supportops.conversations.models import Conversation

register = template.Library()


@register.inclusion_tag("analytics/_outcome.html", takes_context=True)
def outcome_card(context: template.Context, conversation: Conversation) -> dict[str, Any]:
    outcome = outcome_for_conversation(conversation=conversation)
    return {
        "current_workspace": context.get("current_workspace"),
        "conversation": conversation,
        "explained": outcome_explained(outcome) if outcome is not None else None,
    }


@register.inclusion_tag("analytics/_analysis.html")
def analysis_card(conversation: Conversation) -> dict[str, Any]:
    """`{% analysis_card conversation %}`: the post-interaction analysis, once there is one."""
    return {"analysis": analysis_for_conversation(conversation=conversation)}


@register.inclusion_tag("analytics/_facts.html")
def facts_card(conversation: Conversation) -> dict[str, Any]:
    """`{% facts_card conversation %}`: the CSAT score and comment, and the cost lines."""
    return conversation_facts(conversation=conversation)
