"""`manage.py outcome_eval`: timelines written for this test, played through the real
services; the JSON shape, the scores, and clear errors for bad input."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from supportops.accounts.models import Workspace

pytestmark = pytest.mark.django_db

ARTICLES = [
    {
        "id": "pw",
        "title": "How do I reset my password?",
        "body": "How do I reset my password?\n\nOpen Settings, choose Security and press Reset "
        "password. The link we email works for one hour.",
    },
    {
        "id": "mail",
        "title": "Change the email address on your account",
        "body": "Change the email address on your account\n\nOpen Profile, choose Email and "
        "enter the new address.",
    },
]
CASES = [
    {
        "id": "t1",
        "arm": "ai_first",
        "timeline": [
            {
                "at_h": 0,
                "conversation": "A",
                "channel": "chat",
                "event": "customer",
                "text": "How do I reset my password?",
            },
            {"at_h": 0.05, "conversation": "A", "event": "feedback", "solved": True},
            {
                "at_h": 30,
                "conversation": "B",
                "channel": "email",
                "event": "customer",
                "text": "I forgot my password, how can I reset it?",
            },
            {"at_h": 31, "conversation": "B", "event": "agent", "text": "I sent you a link."},
            {"at_h": 31.1, "conversation": "B", "event": "resolve", "resolution": "solved"},
        ],
        "as_of_h": 100,
        "expect": {
            "A": {"outcome": "repeat_contact", "final": True},
            "B": {"outcome": "resolved_by_human", "final": True},
        },
    },
    {
        "id": "t2",
        "arm": "human_only",
        "timeline": [
            {
                "at_h": 0,
                "conversation": "A",
                "channel": "chat",
                "event": "customer",
                "text": "How do I change the email address on my account?",
            },
            {"at_h": 1, "conversation": "A", "event": "leave"},
        ],
        "as_of_h": 10,
        "expect": {"A": {"outcome": "abandoned", "final": False}},
    },
    {
        "id": "t3",
        "arm": "ai_first",
        "timeline": [
            {
                "at_h": 0,
                "conversation": "A",
                "channel": "chat",
                "event": "customer",
                "text": "How do I reset my password?",
            },
        ],
        "as_of_h": 60,
        "expect": {"A": {"outcome": "resolved_by_bot_unconfirmed", "final": True}},
    },
]


def write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def test_it_plays_the_timelines_and_scores_them(tmp_path, capsys):
    articles = write(tmp_path / "a.jsonl", ARTICLES)
    cases = write(tmp_path / "c.jsonl", CASES)
    call_command("outcome_eval", articles=articles, cases=cases, json=True)
    out = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in out["cases"]] == ["t1", "t2", "t3"]
    first = out["cases"][0]["conversations"]
    assert first["A"]["outcome"] == "repeat_contact" and first["A"]["final"] is True
    assert first["A"]["why"]["linked_conversation_id"]
    totals = out["totals"]
    assert totals["n"] == 4 and totals["accuracy"] == 1.0
    assert totals["repeat_contacts_found"] == 1.0
    assert totals["silent_counted_confirmed"] == 0 and totals["silent_conversations"] == 1
    assert set(totals["per_outcome"]) == {
        "repeat_contact",
        "resolved_by_human",
        "abandoned",
        "resolved_by_bot_unconfirmed",
    }
    assert not Workspace.objects.filter(is_scratch=True).exists()


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ({"timeline": [], "as_of_h": 1}, "timeline"),
        (
            {"timeline": [{"at_h": 0, "conversation": "A", "event": "dance"}], "as_of_h": 1},
            "event must be one of",
        ),
        (
            {
                "timeline": [{"at_h": 0, "conversation": "A", "event": "feedback", "solved": True}],
                "as_of_h": 1,
            },
            "has not been opened",
        ),
        (
            {
                "timeline": [{"at_h": 0, "conversation": "A", "event": "customer", "text": "hi"}],
                "as_of_h": "soon",
            },
            "as_of_h",
        ),
    ],
)
def test_bad_cases_are_refused_before_anything_runs(tmp_path, case, words):
    articles = write(tmp_path / "a.jsonl", ARTICLES)
    cases = write(tmp_path / "c.jsonl", [case])
    with pytest.raises(CommandError, match=words):
        call_command("outcome_eval", articles=articles, cases=cases)
