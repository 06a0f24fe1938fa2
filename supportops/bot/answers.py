"""The extractive provider: replies made only of help-centre passages and the customer's
own records, quoted cleanly with their sources. Nothing here invents a fact."""

from __future__ import annotations

import re
from typing import Any

from django.urls import NoReverseMatch, reverse

from supportops.conversations.models import Order
from supportops.knowledge.search import Hit

from .models import BotSettings

MAX_QUOTE_CHARS = 700
# An article's opening passage shorter than this is an introduction, not an answer.
SHORT_LEAD_CHARS = 300
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*", re.M)
_BULLET = re.compile(r"^\s*[-*+]\s+", re.M)
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
# After a sentence (not after the "15." of a numbered step) or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])(?<!\d\.)\s+(?=[A-Z0-9\"“(•])|\s*\n")


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table_lines(text: str) -> str:
    """Markdown tables as one line per row ("• Standard – Where: EU countries; Cost: 4.95
    EUR"): pipes and dashes read badly in a chat bubble."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        is_table = (
            lines[i].lstrip().startswith("|")
            and i + 1 < len(lines)
            and _TABLE_RULE.match(lines[i + 1])
        )
        if not is_table:
            out.append(lines[i])
            i += 1
            continue
        header = _cells(lines[i])
        i += 2
        while i < len(lines) and lines[i].lstrip().startswith("|"):
            row = _cells(lines[i])
            rest = [
                f"{name}: {value}" if name else value
                for name, value in zip(header[1:], row[1:], strict=False)
                if value
            ]
            out.append(f"• {row[0]} – {'; '.join(rest)}" if rest else f"• {row[0]}")
            i += 1
    return "\n".join(out)


def plain(markdown: str) -> str:
    """Markdown to readable plain text (the widget shows text, never HTML)."""
    text = _LINK.sub(r"\1 (\2)", _table_lines(markdown))
    text = _EMPHASIS.sub(r"\2", text)
    text = _HEADING.sub("", text)
    text = _BULLET.sub("• ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _trim(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """At most `limit` characters, cut after the last whole sentence or line that fits, with
    the line breaks of lists and steps kept."""
    if len(text) <= limit:
        return text
    cut = 0
    for boundary in _SENTENCE_END.finditer(text):
        if boundary.start() > limit:
            break
        cut = boundary.start()
    return text[:cut].rstrip() if cut else text[:limit].rsplit(" ", 1)[0] + " …"


def article_url(hit: Hit, public_key: str) -> str:
    """The article's own URL if it came from one, else its public help-centre page."""
    article = getattr(hit, "article", None)
    if article is None:
        return ""
    if article.source_url:
        return article.source_url
    try:
        return reverse("help_article", kwargs={"public_key": public_key, "pk": article.pk})
    except NoReverseMatch:
        return ""


def source_row(hit: Hit, public_key: str) -> dict[str, Any]:
    article = getattr(hit, "article", None)
    return {
        "article_id": (article.external_id or str(article.pk)) if article else str(hit.article_id),
        "title": article.title if article else "",
        "url": article_url(hit, public_key),
    }


def sources_for(hits: list[Hit], public_key: str) -> list[dict[str, Any]]:
    return [source_row(h, public_key) for h in hits]


def quoted_passage(best: Hit) -> str:
    """The passage of the best article to quote. A question about one detail gets the section
    that matches it best. A question put the way the article itself puts it (closer to the
    title than to any one section: "How do I reset my password?") gets the article's opening
    passage, which answers its title, rather than a side section that shares a few words;
    an opening of only a sentence or two ("Sorry about that, here's how we put it right")
    is followed by that best section."""
    chunk = getattr(best, "chunk", None)
    section = chunk if chunk is not None and chunk.ordinal > 0 else None
    if section is not None and best.passage_similarity >= best.title_similarity:
        return section.text
    article = getattr(best, "article", None)
    lead = None
    if article is not None:
        lead = article.chunks.filter(ordinal__gt=0).order_by("ordinal").first()
    if lead is None:
        return section.text if section is not None else ""
    if section is not None and lead.pk != section.pk and len(lead.text) < SHORT_LEAD_CHARS:
        return f"{lead.text}\n\n{section.text}"
    return lead.text


def compose(hits: list[Hit], public_key: str) -> tuple[str, list[dict[str, Any]]]:
    best = hits[0]
    article = getattr(best, "article", None)
    title = article.title if article else ""
    passage = quoted_passage(best)
    quote = _trim(plain(passage)) if passage else ""
    if quote:
        reply = f"Here is what our help centre says in \u201c{title}\u201d:\n\n{quote}"
    else:
        reply = f"This help-centre article should cover it: \u201c{title}\u201d."
    return reply, [source_row(best, public_key)]


def clarify(hits: list[Hit]) -> str:
    titles = [getattr(h, "article", None) for h in hits[:2]]
    names = " or ".join(f"\u201c{a.title}\u201d" for a in titles if a is not None)
    return (
        f"I want to be sure I answer the right question. Do you mean {names}? "
        "You can also tell me a little more, or talk to a person."
    )


def rephrase_request() -> str:
    return (
        "Sorry, I couldn't make sense of that message. Could you say again what you need, in "
        "a few words? For example: \u201cWhere is my order?\u201d or \u201cHow do I return an "
        "item?\u201d. You can also press \u201cTalk to a person\u201d."
    )


def not_covered(settings: BotSettings) -> str:
    """Said on handing off a clear question the help centre does not answer."""
    handoff = settings.handoff_message.strip()
    if re.match(r"I(?:'m|\u2019m|\s)", handoff):  # "I'm passing you to a person ..." reads on
        return f"I don't have an answer to that in our help centre, so {handoff}"
    return f"I don't have an answer to that in our help centre. {handoff}"


def after_rejection() -> str:
    return (
        "Sorry that didn't help. Could you tell me a bit more, for example the exact error "
        "message or the step where it goes wrong? If you'd rather, press \u201cTalk to a "
        "person\u201d and someone from the team will take over."
    )


def after_acknowledgement() -> str:
    return (
        "Did that solve it? If something is still unclear, tell me what, or press "
        "\u201cTalk to a person\u201d and someone from the team will take over."
    )


def order_details_request() -> str:
    return (
        "I can look that up. To keep your order details safe, please send the order number "
        "and the email address used for the order, together in one message (for example: "
        "TW-1000042, you@example.com)."
    )


def order_details_incomplete() -> str:
    return (
        "To find your order I need both the order number and the email address used for "
        "the order, together in one message."
    )


def order_details_no_match(attempts_left: int) -> str:
    # Never which of the two was wrong: that would confirm the other to a stranger.
    tries = "one more try" if attempts_left == 1 else f"{attempts_left} more tries"
    return (
        "I couldn't find an order with that order number and email address together. "
        f"Please check both and send them again ({tries} before I pass you to a person), "
        "or press \u201cTalk to a person\u201d."
    )


def disclosure(settings: BotSettings) -> str:
    return (
        f"Yes, I'm {settings.persona_name}, an AI assistant. I answer from our help centre and "
        "your own account details. If you'd like a person instead, press \u201cTalk to a "
        "person\u201d at any time."
    )


def order_record(order: Order) -> dict[str, Any]:
    return {
        "type": "order",
        "number": order.number,
        "status": order.status,
        "status_label": order.get_status_display(),
        "placed_at": order.placed_at.date().isoformat(),
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "tracking_url": order.tracking_url,
        "estimated_delivery": order.estimated_delivery.isoformat()
        if order.estimated_delivery
        else "",
        "delivered_at": order.delivered_at.date().isoformat() if order.delivered_at else "",
        "items": [f"{i.get('quantity', 1)} × {i.get('name', '')}" for i in order.items],
        "note": order.note,
    }


# What a chat model may read of an order: what an answer about it needs. The recipient's
# name, address and phone never leave (they are not in `order_record` at all); the note and
# the item names are the customer's own words and pass the redaction function with the rest
# (generation.build_messages).
MODEL_RECORD_FIELDS = (
    "type",
    "number",
    "status_label",
    "placed_at",
    "carrier",
    "tracking_number",
    "tracking_url",
    "estimated_delivery",
    "delivered_at",
    "items",
    "note",
)


def record_for_model(record: dict[str, Any]) -> dict[str, str]:
    """The fields of `record` a model may read, as text, empty ones left out."""
    out: dict[str, str] = {}
    for key in MODEL_RECORD_FIELDS:
        value = record.get(key)
        if value in ("", None, []):
            continue
        out[key] = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return out


def _order_sentence(record: dict[str, Any]) -> str:
    status = record["status_label"].lower()
    parts = [f"Order {record['number']} (placed {record['placed_at']}) is {status}"]
    if record["status"] == Order.Status.SHIPPED:
        if record["carrier"]:
            parts.append(f"with {record['carrier']}")
        if record["tracking_number"]:
            parts.append(f"tracking number {record['tracking_number']}")
        if record["estimated_delivery"]:
            parts.append(f"expected by {record['estimated_delivery']}")
    elif record["status"] == Order.Status.DELIVERED and record["delivered_at"]:
        parts.append(f"on {record['delivered_at']}")
    elif record["status"] == Order.Status.PROCESSING and record["estimated_delivery"]:
        parts.append(f"expected by {record['estimated_delivery']}")
    sentence = ", ".join(parts) + "."
    if record["tracking_url"] and record["status"] == Order.Status.SHIPPED:
        sentence += f" Track it here: {record['tracking_url']}"
    return sentence


def compose_with_records(
    records: list[dict[str, Any]], hits: list[Hit], settings: BotSettings, public_key: str
) -> tuple[str, list[dict[str, Any]]]:
    """An answer about the customer's own orders, with the most relevant article as source."""
    if len(records) == 1:
        reply = "Here is the latest on your order: " + _order_sentence(records[0])
    else:
        lines = "\n".join(f"• {_order_sentence(r)}" for r in records)
        reply = f"Here are your most recent orders:\n{lines}"
    sources = []
    if hits and hits[0].fused_score >= settings.min_retrieval_score:
        sources.append(source_row(hits[0], public_key))
        article = getattr(hits[0], "article", None)
        if article is not None:
            reply += f"\n\nMore in \u201c{article.title}\u201d."
    return reply, sources
