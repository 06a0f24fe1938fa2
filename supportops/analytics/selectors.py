"""Reads of the outcome ledger, scoped by workspace."""

from __future__ import annotations

from typing import Any

from supportops.conversations.models import Conversation

from .ledger import RULES
from .models import Outcome

# How each rule reads on a conversation's page.
WORDS = {
    "resolved_by_person": "A person resolved it as solved.",
    "closed_not_solved": "A person closed it without solving it ({resolution}).",
    "confirmed": "The customer confirmed the assistant's answer solved it ({via}).",
    "confirmed_with_person": "The customer confirmed it was solved after a person took part.",
    "rejected": "The customer said the answer did not help ({via}), and nothing resolved it "
    "afterwards.",
    "person_replied_unresolved": "A person replied, but nobody resolved it.",
    "answer_stood": "The assistant's answer stood: the customer neither confirmed nor rejected "
    "it and asked for no person (silence is never counted as a confirmation).",
    "handed_off_unserved": "After the assistant's answer the customer asked for a person, and "
    "nobody replied.",
    "no_answer": "The customer got no answer: they left or went quiet before the assistant "
    "answered or a person replied.",
}


def outcome_for_conversation(*, conversation: Conversation) -> Outcome | None:
    """The conversation's outcome row (the caller has already checked access to it)."""
    return (
        Outcome.objects.filter(conversation=conversation, workspace_id=conversation.workspace_id)
        .select_related("repeat_conversation")
        .first()
    )


def outcome_explained(outcome: Outcome) -> dict[str, Any]:
    """The outcome in words for a person: the rule that decided it and, for a repeat
    contact, what it replaced and the conversation it links to."""
    why = outcome.why or {}
    rule = str(why.get("replaced_rule") or why.get("rule") or "")
    events = why.get("events") or []
    via = next((e.get("via") for e in events if e.get("kind") == "feedback"), "")
    resolution = next((e.get("resolution") for e in events if e.get("kind") == "resolved"), "")
    sentence = WORDS.get(rule, RULES.get(rule, rule)).format(
        via={"typed": "typed", "button": "with the button"}.get(str(via), "given"),
        resolution=str(resolution or "").replace("_", " "),
    )
    replaced = why.get("replaced")
    return {
        "outcome": outcome,
        "label": outcome.get_outcome_display(),
        "sentence": sentence,
        "replaced_label": Outcome.Kind(replaced).label if replaced in Outcome.Kind.values else "",
        "linked_id": why.get("linked_conversation_id"),
        "similarity": why.get("similarity"),
        "same_need_rule": (why.get("same_need") or {}).get("rule", ""),
        "window_hours": why.get("window_hours"),
    }
