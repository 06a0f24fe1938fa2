"""`{% routing_panel_for conversation as panel %}`: what templates/inbox/_routing.html shows
(routing, SLA, notes, transfer choices), for the person viewing the page."""

from __future__ import annotations

from typing import Any

from django import template

from supportops.conversations.models import Conversation
from supportops.inbox.selectors import routing_panel

register = template.Library()


@register.simple_tag(takes_context=True)
def routing_panel_for(context: template.Context, conversation: Conversation) -> dict[str, Any]:
    return routing_panel(conversation=conversation, user=context["request"].user)


@register.filter
def duration_s(seconds: int | None) -> str:
    """Seconds as `1 h 05 min` / `12 min` / `40 s`, sign dropped (the badge says which way)."""
    if seconds is None:
        return ""
    seconds = abs(int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours >= 24:
        return f"{hours // 24} d {hours % 24} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"
