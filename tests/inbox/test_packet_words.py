"""The handoff packet in the team's words: labels, each rule once, confidence as a word,
and the sentiment line (which way and how much)."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string

from supportops.inbox.packet_words import (
    confidence_word,
    handoff_detail,
    packet_words,
    sentiment_line,
    summary_without_handoff,
)
from supportops.text.labels import category_label, in_sentence, trigger_label


def points(*values: float) -> list[dict[str, float]]:
    return [{"message_id": n, "negative": v} for n, v in enumerate(values)]


HIGH_STAKES_PACKET = {
    "version": 1,
    "summary": "The customer asked: \u201cYou billed me twice\u201d. Handed off (high-stakes "
    "topic): Billing dispute.",
    "trigger": {
        "name": "high_stakes",
        "reason": "high-stakes topic: billing dispute",
        "scores": {"category": "billing_dispute", "confidence": 0.91},
        "label": "high-stakes topic",
    },
    "fired": [
        {
            "name": "high_stakes",
            "reason": "high-stakes topic: billing dispute",
            "scores": {"category": "billing_dispute", "confidence": 0.91},
        },
        {
            "name": "frustration",
            "reason": "frustration: negative 0.93",
            "scores": {"negative": 0.93},
        },
        {
            "name": "high_stakes",
            "reason": "high-stakes category: billing_dispute",
            "scores": {"category": "billing_dispute", "confidence": 0.7},
        },
    ],
    "category": "billing_dispute",
    "category_confidence": 0.91,
    "sentiment_trend": {"points": points(0.2, 0.55, 0.93), "direction": "rising"},
}


# --- Labels ----------------------------------------------------------------------------------


def test_machine_names_read_as_words():
    assert category_label("billing_dispute") == "Billing dispute"
    assert category_label("fraud_account_security") == "Fraud or account security"
    assert category_label("Shipping & delivery") == "Shipping & delivery"  # kept as written
    assert category_label("") == ""
    assert trigger_label("high_stakes") == "High-stakes topic"
    assert trigger_label("explicit_request") == "Asked for a person"
    assert trigger_label("some_new_rule") == "Some new rule"
    assert in_sentence("Asked for a person") == "asked for a person"
    assert in_sentence("VIP customer") == "VIP customer"


def test_the_packet_names_the_category_in_words_and_each_rule_once():
    words = packet_words(HIGH_STAKES_PACKET)
    assert words["trigger"] == {"label": "High-stakes topic", "detail": "Billing dispute"}
    assert words["also"] == [{"label": "Frustration", "detail": "negative 0.93"}]
    assert words["category"] == "Billing dispute"


def test_the_rendered_packet_says_high_stakes_once_and_no_machine_names():
    html = render_to_string("inbox/_packet.html", {"packet": HIGH_STAKES_PACKET})
    assert "You billed me twice" in html  # the summary, without its "Handed off" sentence
    assert html.count("High-stakes topic") == 1
    assert html.lower().count("high-stakes") == 1
    assert "billing_dispute" not in html and "high_stakes" not in html
    assert "Billing dispute" in html
    assert 'title="Classifier confidence 0.91"' in html
    assert "high confidence" in html
    assert "Getting much more upset over 3 messages" in html
    assert "0.20 → 0.55 → 0.93 negative" in html


def test_a_rules_reason_does_not_repeat_its_label():
    scores = {"category": "billing_dispute", "confidence": 0.9}
    assert handoff_detail("high_stakes", "high-stakes topic: billing dispute", scores) == (
        "Billing dispute"
    )
    assert handoff_detail("frustration", "Frustration: negative 0.93", {}) == "negative 0.93"
    assert handoff_detail("explicit_request", "customer pressed Talk to a person", {}) == (
        "customer pressed Talk to a person"
    )
    assert handoff_detail("vip", "VIP customer", {}) == ""


def test_the_summary_drops_only_its_closing_handoff_sentence():
    assert summary_without_handoff("Asked X. Handed off (frustration): a (b). c.") == "Asked X."
    assert summary_without_handoff("Asked X.") == "Asked X."
    written = {"summary": "A model wrote this. Handed off (x).", "summary_extractive": "..."}
    assert packet_words(written)["summary"] == written["summary"]


def test_a_packet_stored_before_the_wording_still_reads_in_words():
    old = {
        "category": "refund_request",
        "category_confidence": None,
        "sentiment": "neutral",
        "triggers": [{"name": "explicit_request", "reason": "customer pressed Talk to a person"}],
    }
    words = packet_words(old)
    assert words["trigger"] == {
        "label": "Asked for a person",
        "detail": "customer pressed Talk to a person",
    }
    assert words["category"] == "Refund request"
    assert words["confidence"] == ""
    assert words["sentiment"] == ""
    assert packet_words(None)["trigger"] is None


# --- Confidence ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "word"),
    [(0.12, "low"), (0.49, "low"), (0.5, "medium"), (0.79, "medium"), (0.8, "high"), (1, "high")],
)
def test_confidence_is_a_word(value, word):
    assert confidence_word(value) == word


def test_no_confidence_is_no_word():
    assert confidence_word(None) == ""
    assert confidence_word("0.9") == ""
    assert confidence_word(True) == ""


# --- Sentiment -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "line"),
    [
        ((0.1, 0.2, 0.15), "calm throughout"),
        ((0.2, 0.4, 0.55), "getting more upset over 3 messages"),
        ((0.1, 0.5, 0.9), "getting much more upset over 3 messages"),
        ((0.8, 0.3, 0.4, 0.6), "getting more upset over 3 messages"),  # counted from the low
        ((0.2, 0.9, 0.4), "calmer since the last message"),
        ((0.7, 0.8, 0.75), "upset throughout"),
        ((0.9, 0.6, 0.55), "calmer than at the start (3 messages)"),
        ((0.85,), "upset"),
        ((0.1,), "calm"),
        ((0.5,), "neutral"),
        ((0.4, 0.45), "steady"),
    ],
)
def test_the_sentiment_line_says_which_way_and_how_much(values, line):
    assert sentiment_line(points(*values)) == line


def test_no_scored_message_no_sentiment_line():
    assert sentiment_line([]) == ""
    assert sentiment_line([{"message_id": 1, "negative": None}]) == ""
