"""bot_eval and bench_bot keep the command-line contract of DESIGN.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from supportops.accounts.models import Workspace
from tests.text.test_intents import run_json

pytestmark = pytest.mark.django_db(transaction=True)

ARTICLES = [
    {
        "id": "ret-1",
        "title": "How do I return an item?",
        "body": "Return unused items within 30 days from Orders in your account; print the "
        "prepaid label and drop the parcel at a post office.",
    },
    {
        "id": "pay-1",
        "title": "Which payment methods do you accept?",
        "body": "We accept Visa, Mastercard, PayPal and bank transfer.",
    },
]
CASES = [
    {
        "messages": ["How can I send back something I bought?"],
        "expect": "answer",
        "article_id": "ret-1",
    },
    {"messages": ["agent"], "expect": "escalate", "trigger": "explicit_request"},
    {
        "messages": ["I want the second charge on my card reversed, you billed me twice."],
        "expect": "escalate",
        "trigger": "high_stakes",
    },
]


def write_jsonl(path: Path, rows: list[dict]) -> str:
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    return str(path)


def test_bot_eval_reports_each_case_in_order_and_the_totals(tmp_path):
    before = Workspace.objects.count()
    result = run_json(
        "bot_eval",
        "--articles",
        write_jsonl(tmp_path / "a.jsonl", ARTICLES),
        "--cases",
        write_jsonl(tmp_path / "c.jsonl", CASES),
    )
    answer, explicit, billing = result["cases"]
    assert (answer["action"], answer["article_id"], answer["trigger"]) == ("answer", "ret-1", None)
    assert "prepaid label" in answer["reply"]
    assert (explicit["action"], explicit["trigger"]) == ("escalate", "explicit_request")
    assert (billing["action"], billing["trigger"]) == ("escalate", "high_stakes")
    assert set(answer["scores"]) >= {"retrieval", "sentiment", "high_stakes", "turn_ms"}
    totals = result["totals"]
    assert totals["escalated_right_trigger"] == 1.0
    assert totals["answered_right_article"] == 1.0
    assert Workspace.objects.count() == before  # the scratch workspace is gone


def test_bot_eval_refuses_a_case_without_messages(tmp_path):
    with pytest.raises(CommandError, match="case 1: messages must be a list"):
        call_command(
            "bot_eval",
            "--articles",
            write_jsonl(tmp_path / "a.jsonl", ARTICLES),
            "--cases",
            write_jsonl(tmp_path / "c.jsonl", [{"messages": []}]),
            "--json",
        )


def test_bench_bot_answers_every_message_through_the_api(worker_env, monkeypatch):
    # The command starts its own Celery workers; they must use the test database.
    for key in ("DATABASE_URL", "REDIS_URL"):
        monkeypatch.setenv(key, worker_env[key])
    result = run_json(
        "bench_bot",
        "--conversations",
        "2",
        "--messages",
        "1",
        "--workers",
        "1",
        "--think-s",
        "0.1",
        "--poll-s",
        "0.1",
    )
    assert result["conversations"] == 2
    assert result["messages"] == 2 and result["unanswered"] == 0
    assert 0 < result["turn_compute_ms"]["p50"] <= result["message_to_reply_ms"]["p95"]
    assert set(result["message_to_reply_ms"]) == {"p50", "p95"}
