"""Template filters that put machine names in the team's words (text.labels, packet_words)."""

from __future__ import annotations

from typing import Any

from django import template

from supportops.inbox.packet_words import packet_words as _packet_words
from supportops.text.labels import category_label as _category_label
from supportops.text.labels import trigger_label as _trigger_label

register = template.Library()


@register.filter
def packet_words(packet: dict[str, Any] | None) -> dict[str, Any]:
    return _packet_words(packet)


@register.filter
def trigger_label(name: str | None) -> str:
    return _trigger_label(name)


@register.filter
def category_label(name: str | None) -> str:
    return _category_label(name)
