"""A customer waiting for the bot comes first: in Redis, bot turns go to the queue's priority-0
list, which a worker empties before the lists of lower priority (settings.CELERY_TASK_ROUTES)."""

from __future__ import annotations

import uuid

from supportops.analytics.tasks import outcome_refresh_task
from supportops.celery import app
from supportops.flows import bot_turn, sweep
from supportops.inbox.tasks import handoff_packet_enrich

SEP = "\x06\x16"  # kombu's separator between a queue's name and its priority step


def test_bot_turns_are_queued_ahead_of_what_people_wait_for_and_of_the_ledgers_work():
    queue = f"priority-check-{uuid.uuid4().hex}"  # no worker reads it
    outcome_refresh_task.apply_async((0,), queue=queue)
    handoff_packet_enrich.apply_async((0,), queue=queue)
    sweep.apply_async(queue=queue)
    bot_turn.apply_async((0,), queue=queue)
    with app.connection_for_write() as connection:
        redis = connection.default_channel.client
        lists = {step: f"{queue}{SEP}{step}" if step else queue for step in (0, 3, 6, 9)}
        try:
            lengths = {step: redis.llen(key) for step, key in lists.items()}
        finally:
            redis.delete(*lists.values())
    assert lengths == {0: 1, 3: 2, 6: 1, 9: 0}
