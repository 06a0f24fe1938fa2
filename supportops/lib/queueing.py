"""Queueing a task once its input is stored, without ever losing the input to a broker outage.

The database is the source of truth: a customer message (or an agent reply, a handoff) is
committed first, and its task is queued on commit. While Redis restarts, publishing fails
after kombu's short retry policy; the stored row stays, the request still succeeds, and the
sweeper (`supportops.flows.sweep`) queues the work again once its delay has passed.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What a publish raises while the broker cannot be reached (kombu wraps most of it).
BROKER_UNAVAILABLE: tuple[type[Exception], ...] = (BrokerError, RedisError, ConnectionError)


def task_send(task: Any, *args: Any) -> bool:
    """Queue `task(*args)` now; False (logged) when the broker is unavailable."""
    try:
        task.delay(*args)
    except BROKER_UNAVAILABLE as exc:
        logger.warning(
            "could not queue %s%r (%s); the sweeper will queue it again", task.name, args, exc
        )
        return False
    return True


def task_send_on_commit(task: Any, *args: Any) -> None:
    """Queue `task(*args)` once the current transaction commits (see `task_send`)."""
    transaction.on_commit(partial(task_send, task, *args))
