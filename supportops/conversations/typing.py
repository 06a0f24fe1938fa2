"""Who is typing in a conversation right now: a short-lived mark in Redis (the cache), never
in the database. The customer's widget and the agent's page each ping while typing (at most
every few seconds); the other side reads the mark with its usual poll."""

from __future__ import annotations

import logging

from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

CUSTOMER = "customer"
AGENT = "agent"
# A ping keeps the mark this long: longer than the pings' spacing (3 s) plus a poll (1-3 s),
# short enough that it disappears soon after the typing stops.
TYPING_TTL_S = 6
PING_EVERY_S = 3


def typing_key(*, conversation_id: int, who: str) -> str:
    return f"typing:{conversation_id}:{who}"


def typing_mark(*, conversation_id: int, who: str, name: str = "") -> None:
    """`who` (customer or agent) is typing; `name` is the agent's first name, if any."""
    if who not in (CUSTOMER, AGENT):
        raise ValueError(f"unknown typist {who!r}")
    try:
        cache.set(
            typing_key(conversation_id=conversation_id, who=who),
            name.strip()[:60] or "-",
            timeout=TYPING_TTL_S,
        )
    except RedisError as exc:  # a typing hint is not worth an error
        logger.warning("typing mark not stored: %s", exc)


def typing_now(*, conversation_id: int, who: str) -> str | None:
    """None when `who` is not typing; else the stored name ("" when unknown)."""
    try:
        value = cache.get(typing_key(conversation_id=conversation_id, who=who))
    except RedisError as exc:
        logger.warning("typing mark not read: %s", exc)
        return None
    if value is None:
        return None
    return "" if value == "-" else str(value)
