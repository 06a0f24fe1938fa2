"""Human names for the machine names of handoff triggers and issue categories: the one
mapping the inbox (packet, handoff cards, routing panel) shows to the team."""

from __future__ import annotations

from . import triggers

TRIGGER_LABELS = {
    triggers.EXPLICIT_REQUEST: "Asked for a person",
    triggers.HIGH_STAKES: "High-stakes topic",
    triggers.TURN_LIMIT: "Too many turns or a repeated question",
    triggers.FRUSTRATION: "Frustration",
    triggers.VIP: "VIP customer",
    triggers.LOW_CONFIDENCE: "Low confidence",
    triggers.CATEGORY_NOT_ENABLED: "Category not enabled in the live rollout phase",
    triggers.CONTROL: "Control group (human-only support)",
    triggers.CHANNEL: "A channel the assistant does not answer",
    "bot_paused": "Bot paused (kill switch)",
    "phase_paused": "Rollout phase paused",
    "bot_off": "Assistant switched off",
}

# Shipped category names whose words alone would read wrongly.
CATEGORY_LABELS = {
    "fraud_account_security": "Fraud or account security",
    "legal_threat": "Legal threat",
    "data_deletion": "Data deletion request",
}


def _words(name: str) -> str:
    """`billing_dispute` -> "Billing dispute"; a name that already has capitals is kept."""
    text = " ".join(name.replace("_", " ").replace("-", " ").split()) if "_" in name else name
    text = text.strip()
    return text[:1].upper() + text[1:] if text else ""


def trigger_label(name: str | None) -> str:
    if not name:
        return ""
    return TRIGGER_LABELS.get(name) or _words(name)


def category_label(name: str | None) -> str:
    """A workspace's own category names are shown as written ("Shipping & delivery");
    machine names of the shipped ones read as words ("Billing dispute")."""
    if not name:
        return ""
    return CATEGORY_LABELS.get(name) or _words(name)


def in_sentence(label: str) -> str:
    """A label inside a sentence: "asked for a person", but "VIP customer" keeps its capitals."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label
