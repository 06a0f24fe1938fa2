"""The handoff packet in the team's words: human labels for triggers and categories, each
said once, confidence as a word (the number on hover), and a sentiment line that says
which way the customer's mood went and by how much.

Works on the stored packet JSON at display time, so packets stored before this wording
read the same way.
"""

from __future__ import annotations

import re
from typing import Any

from supportops.text import triggers
from supportops.text.labels import category_label, trigger_label

# Negative probability of one customer message (the classifier the bot turn runs).
UPSET_FROM = 0.6
CALM_BELOW = 0.35
TREND_STEP = 0.15  # a change this large between messages counts as a change of mood
NOISE = 0.05  # smaller wobbles do not break a run of rising negativity
LARGE_CHANGE = 0.4  # "much more upset"


def confidence_word(value: Any) -> str:
    """low / medium / high for a 0-1 confidence; "" when there is none."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    if value >= 0.8:
        return "high"
    if value >= 0.5:
        return "medium"
    return "low"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def sentiment_line(points: list[dict[str, Any]]) -> str:
    """Which way and how much, from the negative probability of each customer message in
    order: "getting more upset over 3 messages", "calm throughout", "calmer since the last
    message"; "" without any scored message."""
    values = [v for v in (_number(p.get("negative")) for p in points or []) if v is not None]
    if not values:
        return ""
    last = values[-1]
    if len(values) == 1:
        return "upset" if last >= UPSET_FROM else "calm" if last < CALM_BELOW else "neutral"
    if values[-2] - last >= TREND_STEP:
        # The latest message reads better than the one before: that is the news.
        return "calmer since the last message"
    start = len(values) - 1
    while start > 0 and values[start - 1] <= values[start] + NOISE:
        start -= 1
    rise = last - values[start]
    if rise >= TREND_STEP:
        count = len(values) - start
        much = "much " if rise >= LARGE_CHANGE else ""
        return f"getting {much}more upset over {count} messages"
    if all(v < CALM_BELOW for v in values):
        return "calm throughout"
    if all(v >= UPSET_FROM for v in values):
        return "upset throughout"
    if values[0] - last >= TREND_STEP:
        return f"calmer than at the start ({len(values)} messages)"
    return "upset now" if last >= UPSET_FROM else "calm now" if last < CALM_BELOW else "steady"


def handoff_detail(name: str, reason: str, scores: dict[str, Any]) -> str:
    """What a rule's reason adds to its label, without saying the label again."""
    if name == triggers.HIGH_STAKES and scores.get("category"):
        return category_label(str(scores["category"]))
    text = (reason or "").strip()
    label = trigger_label(name)
    # "high-stakes topic: billing dispute" under the label "High-stakes topic" -> the rest.
    for prefix in (label, label.replace("-", " "), name.replace("_", " ")):
        match = re.match(re.escape(prefix) + r"\s*[:—-]\s*", text, flags=re.IGNORECASE)
        if prefix and match:
            text = text[match.end() :]
            break
    if text.lower() == label.lower():
        return ""
    return text


HANDED_OFF = " Handed off ("


def summary_without_handoff(summary: str) -> str:
    """The packet's summary without its closing "Handed off (...)" sentence, which the
    packet shows on its own line beside it (so the trigger is said once)."""
    summary = summary or ""
    at = summary.rfind(HANDED_OFF)
    return summary if at == -1 else summary[:at]


def packet_words(packet: dict[str, Any] | None) -> dict[str, Any]:
    """The parts of the packet template that are said in words. Every key of the packet is
    optional (older packets are smaller)."""
    packet = packet or {}
    first = packet.get("trigger") or {}
    fired = [f for f in packet.get("fired") or [] if isinstance(f, dict)]
    if not first.get("name") and packet.get("triggers"):
        fired = [f for f in packet["triggers"] if isinstance(f, dict)]
        first = fired[0] if fired else {}
    name = str(first.get("name") or "")
    said = {name}
    also = []
    for rule in fired:
        rule_name = str(rule.get("name") or "")
        if not rule_name or rule_name in said:
            continue  # each rule once, the first one in the heading only
        said.add(rule_name)
        also.append(
            {
                "label": trigger_label(rule_name),
                "detail": handoff_detail(
                    rule_name, rule.get("reason", ""), rule.get("scores") or {}
                ),
            }
        )
    category = str(packet.get("category") or "")
    confidence = _number(packet.get("category_confidence"))
    trend = packet.get("sentiment_trend") or {}
    points = trend.get("points") or []
    numbers = [_number(p.get("negative")) for p in points]
    summary = str(packet.get("summary") or "")
    return {
        # A summary the language model wrote has no such sentence and is shown whole.
        "summary": summary
        if packet.get("summary_extractive")
        else summary_without_handoff(summary),
        "trigger": {
            "label": trigger_label(name),
            "detail": handoff_detail(name, first.get("reason", ""), first.get("scores") or {}),
        }
        if name
        else None,
        "also": also,
        "category": category_label(category),
        "confidence": confidence_word(confidence),
        "confidence_title": f"{confidence:.2f}" if confidence is not None else "",
        "confidence_percent": round(confidence * 100) if confidence is not None else None,
        "sentiment": sentiment_line(points),
        "sentiment_title": " → ".join(f"{n:.2f}" for n in numbers if n is not None)
        + (" negative" if points else ""),
    }
