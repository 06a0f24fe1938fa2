"""`bench_inbox` seeds an inbox at volume in a scratch workspace, times its pages, and cleans up."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from supportops.accounts.models import Workspace
from supportops.conversations.models import Conversation, Message

pytestmark = pytest.mark.django_db


def test_it_times_the_list_and_conversation_pages_and_removes_its_workspace():
    out = io.StringIO()

    call_command("bench_inbox", conversations=40, messages=400, requests=3, json=True, stdout=out)

    result = json.loads(out.getvalue())
    assert (result["open_conversations"], result["messages"]) == (40, 400)
    for page in ("list_ms", "conversation_ms"):
        assert 0 < result[page]["p50"] <= result[page]["p95"]
    assert result["list_queries"] > 0 and result["conversation_queries"] > 0
    assert result["query_counts_constant"] is True
    assert not Workspace.objects.filter(is_scratch=True).exists()
    assert not Conversation.objects.exists() and not Message.objects.exists()
    assert not get_user_model().objects.filter(username__startswith="bench-inbox-").exists()


def test_bad_volumes_are_refused():
    with pytest.raises(CommandError, match="at least one conversation"):
        call_command("bench_inbox", conversations=10, messages=5)
