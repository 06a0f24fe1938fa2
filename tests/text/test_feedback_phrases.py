"""What counts as the customer's typed verdict on the bot's answer (triggers.py): a
confirmation, a rejection, or a mere acknowledgement that is neither."""

from __future__ import annotations

import pytest

from supportops.text.triggers import acknowledges, confirms_answer, rejects_answer


@pytest.mark.parametrize(
    "text",
    [
        "thanks, that worked",
        "Yes that fixed it!",
        "perfect",
        "That's exactly what I needed, cheers",
        "problem solved",
        "it works now",
        "All good now, thank you",
        "that was really helpful",
        "Thank you, that did the trick",
        "got it working, thanks",
    ],
)
def test_it_reads_a_typed_confirmation(text):
    assert confirms_answer(text)
    assert not rejects_answer(text)


@pytest.mark.parametrize(
    "text",
    [
        "ok",
        "hmm",
        "thanks",
        "ok thanks",
        "I'll try that",
        "that didn't work",
        "that hasn't fixed it",
        "not perfect",
        "did that fix it?",
        "it worked before but now it fails",
        "still not working",
        "perfect, but how do I also export it?",
        "How do I make it work now?",
        "That was helpful for the export. Now my invoices are missing from the list, "
        "where did they go after the update last night?",
    ],
)
def test_vague_negated_or_asked_replies_are_not_confirmations(text):
    assert not confirms_answer(text)


@pytest.mark.parametrize("text", ["ok", "Okay.", "hmm", "thanks!", "I'll try that", "got it"])
def test_a_bare_acknowledgement_is_neither_verdict(text):
    assert acknowledges(text)
    assert not confirms_answer(text)
    assert not rejects_answer(text)


@pytest.mark.parametrize(
    "text", ["ok but how?", "thanks, that worked", "no", "how do I export my data?"]
)
def test_more_than_an_acknowledgement_is_not_one(text):
    assert not acknowledges(text)
