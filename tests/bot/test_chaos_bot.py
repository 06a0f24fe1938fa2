"""A small chaos run: customers chat while a worker is SIGKILLed mid-turn and Redis restarts;
every customer message is answered exactly once."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command


@pytest.mark.django_db(transaction=True)
def test_no_message_is_lost_or_answered_twice_when_a_worker_dies_and_redis_restarts():
    out = io.StringIO()
    call_command(
        "chaos_bot",
        "--conversations=5",
        "--kills=1",
        "--restarts=1",
        "--reply-timeout-s=240",
        "--json",
        stdout=out,
    )
    result = json.loads(out.getvalue())
    assert result["messages"] >= 5  # a chat handed to a person ends early
    assert result["lost"] == 0
    assert result["duplicate_replies"] == 0
    assert result["replies"] == result["messages"]
    assert result["worker_kills"] == 1
    assert result["broker_restarts"] == 1
    assert result["recovery_s"]["max"] <= 120
