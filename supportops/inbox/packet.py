"""The handoff packet: everything the person taking over needs, so the customer never has
to repeat anything (DESIGN.md, "human agent").

Built once, at the moment of escalation, inside the handoff (and so inside the bot turn):
a handful of indexed queries and at most one knowledge-base search. The result is plain
JSON stored on the Handoff; the inbox template reads it with every key optional, because
handoffs stored earlier carry a smaller packet.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from supportops.bot import answers
from supportops.bot.models import BotTurn
from supportops.bot.services import bot_settings_get
from supportops.conversations.models import Conversation, Customer, Message
from supportops.conversations.selectors import customer_orders
from supportops.conversations.services import FEEDBACK_NOT_SOLVED
from supportops.integrations.embeddings import EmbeddingError
from supportops.knowledge.models import Article, Chunk
from supportops.knowledge.search import Hit, search
from supportops.text import need as needs
from supportops.text import triggers
from supportops.text.labels import category_label, in_sentence, trigger_label
from supportops.text.replies import is_complete_answer
from supportops.text.same_channel import strip_same_channel

from .packet_words import handoff_detail

if TYPE_CHECKING:
    from supportops.bot.turn import Decision

logger = logging.getLogger(__name__)

VERSION = 1
HISTORY_DAYS = 30
HISTORY_LIMIT = 100
RECENT_ORDERS = 5
OPEN_ISSUES = 5
SNIPPET_CHARS = 240
QUOTE_CHARS = 160
TREND_STEP = 0.15  # change in negative probability, first to last, that counts as a trend
# Triggers that follow a failure of the bot, after which a person opens with an apology.
FAILURE_TRIGGERS = {triggers.FRUSTRATION, triggers.TURN_LIMIT}
# Control-group customers get human-only support: no drafted reply for the person either.
CONTROL_WITHHELD = "control group: the reply is written by a person, without a draft"
# No passage answers the customer's open need completely: a person writes the reply.
NO_COMPLETE_ANSWER = "no complete answer in the help centre: write the reply yourself"


@dataclass
class _Said:
    """One message of the conversation being handed off, with its bot turn if any."""

    pk: int
    author: str
    kind: str
    text: str
    redacted: str
    sources: list[dict[str, Any]]
    turn: dict[str, Any] | None


def handoff_packet_build(
    *,
    conversation: Conversation,
    decision: Decision | None = None,
    trigger: str = "",
    reason: str = "",
    scores: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The packet for a handoff of `conversation` happening now.

    `decision` is the bot's escalating decision (its BotTurn is not stored yet); without
    one (the customer pressed "Talk to a person"), `trigger`, `reason` and `scores` say why.
    """
    customer = conversation.customer
    read = _read(conversation, decision, trigger, reason, scores)
    first = read.first
    category, confidence = _category(conversation, read.said, decision)
    topic = _topic(read.questions, category)
    return {
        "version": VERSION,
        "built_at": timezone.now().isoformat(),
        "summary": _summary(read),
        "trigger": {**first, "label": trigger_label(first["name"])},
        "fired": read.fired,
        "category": category,
        "category_confidence": confidence,
        "sentiment_trend": _sentiment_trend(read.said),
        "bot_tried": read.tried,
        "account": _account(customer, conversation),
        "history": read.history,
        "suggested_reply": (
            _suggested_reply(conversation, customer, read.need, read.rejected)
            if conversation.arm != Conversation.Arm.HUMAN_ONLY
            else {"text": "", "sources": [], "withheld": CONTROL_WITHHELD}
        ),
        "recovery_ack": _recovery_ack(first["name"], read.rejected, conversation, topic),
    }


def handoff_summary(
    *,
    conversation: Conversation,
    trigger: str = "",
    reason: str = "",
    scores: dict[str, Any] | None = None,
) -> str:
    """Only the packet's summary, as it stands now: no search, no account lookup."""
    return _summary(_read(conversation, None, trigger, reason, scores))


@dataclass
class _Reading:
    """What the summary and the rest of the packet are made from."""

    said: list[_Said]
    fired: list[dict[str, Any]]
    first: dict[str, Any]  # the rule that fired first (or the reason given)
    questions: list[_Said]
    need: _Said | None  # the customer's latest open need (`text.need`)
    rejected: list[dict[str, Any]]
    tried: dict[str, Any]
    history: dict[str, Any]


def _read(
    conversation: Conversation,
    decision: Decision | None,
    trigger: str,
    reason: str,
    scores: dict[str, Any] | None,
) -> _Reading:
    said = _conversation_messages(conversation, decision)
    fired = _fired(decision, trigger, reason, scores)
    rejected = _rejected_answers(said, conversation)
    return _Reading(
        said=said,
        fired=fired,
        first=fired[0] if fired else {"name": trigger, "reason": reason, "scores": scores or {}},
        questions=_real_questions(said),
        need=latest_need(said),
        rejected=rejected,
        tried=_bot_tried(said, decision, rejected),
        history=_history(conversation.customer, conversation),
    )


def handoff_packet_build_safely(**kwargs: Any) -> dict[str, Any]:
    """The packet, or a minimal one if building it failed: the customer must reach a person
    whatever goes wrong here, so a failure is logged and never blocks the handoff."""
    try:
        with transaction.atomic():  # a savepoint: a failed query must not poison the handoff
            return handoff_packet_build(**kwargs)
    except Exception:
        logger.exception("handoff packet failed for conversation %s", kwargs["conversation"].pk)
        name = kwargs.get("trigger") or getattr(kwargs.get("decision"), "trigger", "")
        return {"version": VERSION, "trigger": {"name": name, "reason": kwargs.get("reason", "")}}


# --- Reading the conversation ------------------------------------------------------------------


def _conversation_messages(conversation: Conversation, decision: Decision | None) -> list[_Said]:
    turns: dict[int, dict[str, Any]] = {
        t["message_id"]: dict(t)
        # Decided turns only: the one being decided now is still a pending claim.
        for t in BotTurn.objects.filter(
            conversation=conversation, status=BotTurn.Status.DONE
        ).values(
            "message_id",
            "action",
            "triggers",
            "category",
            "category_confidence",
            "sentiment",
            "negative_probability",
            "retrieved",
            "records",
            "scores",
            "reply__sources",
        )
    }
    rows = list(
        conversation.messages.order_by("pk").values(
            "pk", "author", "kind", "text", "redacted_text", "sources"
        )
    )
    said = [
        _Said(
            r["pk"],
            r["author"],
            r["kind"],
            r["text"],
            r["redacted_text"] or r["text"],
            r["sources"] or [],
            turns.get(r["pk"]),
        )
        for r in rows
    ]
    if decision is not None:
        # The message being decided on has no BotTurn yet: its decision stands in.
        current = next((s for s in reversed(said) if s.author == Message.Author.CUSTOMER), None)
        if current is not None and current.turn is None:
            current.turn = _decision_turn(decision)
    return said


def _decision_turn(decision: Decision) -> dict[str, Any]:
    return {
        "action": decision.action,
        "triggers": [
            {"name": f.name, "reason": f.reason, "scores": f.scores} for f in decision.fired
        ],
        "category": decision.category,
        "category_confidence": decision.category_confidence,
        "sentiment": decision.sentiment,
        "negative_probability": decision.negative_probability,
        "retrieved": decision.retrieved,
        "records": decision.records,
        "scores": decision.scores,
        "reply__sources": [],
        "query_vector": decision.query_vector,  # used for the search, never stored
    }


def _fired(
    decision: Decision | None, trigger: str, reason: str, scores: dict[str, Any] | None
) -> list[dict[str, Any]]:
    if decision is not None and decision.fired:
        return [{"name": f.name, "reason": f.reason, "scores": f.scores} for f in decision.fired]
    if trigger:
        return [{"name": trigger, "reason": reason, "scores": scores or {}}]
    return []


def _customer_said(said: Iterable[_Said]) -> list[_Said]:
    return [s for s in said if s.author == Message.Author.CUSTOMER]


def _is_rejection(message: _Said) -> bool:
    decided = _rejection(message)
    return triggers.rejects_answer(message.redacted) if decided is None else decided


def _rejection(message: _Said) -> bool | None:
    """What the bot turn decided: did this message say the last answer did not help?"""
    if message.turn is not None and "rejection" in (message.turn.get("scores") or {}):
        return bool(message.turn["scores"]["rejection"])
    return None


def _real_questions(said: list[_Said]) -> list[_Said]:
    """What the customer came for (`triggers.names_a_need`)."""
    return [
        message
        for message in _customer_said(said)
        if triggers.names_a_need(message.redacted, rejection=_rejection(message))
    ]


def latest_need(said: list[_Said]) -> _Said | None:
    """The message that raised the customer's latest open need (the one rule of
    `text.need`, which the co-pilot reads too)."""
    found = needs.latest_open_need(
        [
            needs.Said(author=s.author, text=s.redacted, key=i, rejection=_rejection(s))
            for i, s in enumerate(said)
        ]
    )
    return said[found.key] if found is not None else None


def _rejected_answers(said: list[_Said], conversation: Conversation) -> list[dict[str, Any]]:
    """Bot answers the customer said did not help, in words or with "No" to "Did that solve
    it?" (conversation_feedback posts FEEDBACK_NOT_SOLVED right after the answer)."""
    rejected: dict[int, dict[str, Any]] = {}
    answer: _Said | None = None
    for message in said:
        if message.author == Message.Author.BOT and message.kind == Message.Kind.ANSWER:
            answer = message
        elif answer is None:
            continue
        elif message.author == Message.Author.BOT and message.text == FEEDBACK_NOT_SOLVED:
            _reject(rejected, answer, "answered No to \u201cDid that solve it?\u201d")
        elif message.author == Message.Author.CUSTOMER:
            if _is_rejection(message):
                _reject(rejected, answer, message.text)
            else:
                answer = None  # a new question: later replies are about something else
    return list(rejected.values())


def _reject(rejected: dict[int, dict[str, Any]], answer: _Said, reply: str) -> None:
    entry = rejected.setdefault(
        answer.pk,
        {
            "message_id": answer.pk,
            "text": clip(answer.text, SNIPPET_CHARS),
            "sources": [
                {"article_id": s.get("article_id"), "title": s.get("title", "")}
                for s in answer.sources
            ],
            "customer_replies": [],
        },
    )
    entry["customer_replies"].append(clip(reply, QUOTE_CHARS))


# --- The parts of the packet ---------------------------------------------------------------------


def _history(customer: Customer, conversation: Conversation) -> dict[str, Any]:
    """The customer's messages of the last 30 days in any conversation, oldest first."""
    since = timezone.now() - timedelta(days=HISTORY_DAYS)
    scope = Message.objects.filter(conversation__customer=customer).filter(
        Q(conversation=conversation) | Q(created_at__gte=since)
    )
    rows = list(
        scope.order_by("-pk").values(
            "pk", "conversation_id", "conversation__channel", "author", "kind", "text", "created_at"
        )[:HISTORY_LIMIT]
    )
    omitted = scope.count() - len(rows) if len(rows) == HISTORY_LIMIT else 0
    messages = [
        {
            "message_id": r["pk"],
            "conversation_id": r["conversation_id"],
            "channel": r["conversation__channel"],
            "author": r["author"],
            "kind": r["kind"],
            "text": r["text"],
            "created_at": r["created_at"].isoformat(),
            "current": r["conversation_id"] == conversation.pk,
        }
        for r in reversed(rows)
    ]
    others = sorted({r["conversation_id"] for r in rows if r["conversation_id"] != conversation.pk})
    return {
        "days": HISTORY_DAYS,
        "messages": messages,
        "omitted": omitted,
        "conversation_ids": others,
    }


def _category(
    conversation: Conversation, said: list[_Said], decision: Decision | None
) -> tuple[str, float | None]:
    if decision is not None and decision.category:
        return decision.category, decision.category_confidence
    for message in reversed(said):
        if message.turn and message.turn.get("category"):
            return message.turn["category"], message.turn.get("category_confidence")
    return conversation.category, None


def _sentiment_trend(said: list[_Said]) -> dict[str, Any]:
    points = [
        {
            "message_id": s.pk,
            "label": s.turn.get("sentiment", ""),
            "negative": s.turn["negative_probability"],
        }
        for s in _customer_said(said)
        if s.turn is not None and s.turn.get("negative_probability") is not None
    ]
    direction = None
    if points:
        change = points[-1]["negative"] - points[0]["negative"]
        direction = "steady"
        if change >= TREND_STEP:
            direction = "rising"
        elif change <= -TREND_STEP:
            direction = "falling"
    return {"points": points, "direction": direction}


def _bot_tried(
    said: list[_Said], decision: Decision | None, rejected: list[dict[str, Any]]
) -> dict[str, Any]:
    shown: dict[int, dict[str, Any]] = {}
    records: dict[str, dict[str, Any]] = {}
    for message in said:
        turn = message.turn
        if turn is None:
            continue
        for record in turn.get("records") or []:
            records.setdefault(str(record.get("number", len(records))), record)
        if turn.get("action") not in (BotTurn.Action.ANSWER, BotTurn.Action.CLARIFY):
            continue
        for row in _rows_shown(turn):
            shown.setdefault(row["chunk_id"], row)
    _add_snippets(shown)
    return {
        "passages": list(shown.values()),
        "records": list(records.values()),
        "rejected": rejected,
    }


def _rows_shown(turn: dict[str, Any]) -> list[dict[str, Any]]:
    """The retrieved passages the reply quoted (its sources), else the best one."""
    retrieved = [r for r in turn.get("retrieved") or [] if r.get("chunk_id")]
    titles = {s.get("title") for s in turn.get("reply__sources") or []}
    cited = [r for r in retrieved if r.get("title") in titles]
    rows = cited or retrieved[:1]
    return [
        {
            "article_id": r.get("external_id") or r.get("article_id"),
            "title": r.get("title", ""),
            "chunk_id": r["chunk_id"],
            "score": r.get("fused"),
            "snippet": "",
        }
        for r in rows
    ]


def _add_snippets(shown: dict[int, dict[str, Any]]) -> None:
    if not shown:
        return
    chunks = Chunk.objects.only("id", "text").in_bulk(list(shown))
    for chunk_id, row in shown.items():
        chunk = chunks.get(chunk_id)
        row["snippet"] = clip(answers.plain(chunk.text), SNIPPET_CHARS) if chunk else ""


def _account(customer: Customer, conversation: Conversation) -> dict[str, Any]:
    orders = customer_orders(customer=customer, limit=RECENT_ORDERS)
    # Open issues: waiting for or with a person, or a bot chat of the last 30 days (an
    # abandoned chat from months ago is not an open issue).
    since = timezone.now() - timedelta(days=HISTORY_DAYS)
    open_conversations = list(
        Conversation.objects.filter(customer=customer)
        .filter(
            Q(status__in=[Conversation.Status.HANDED_OFF, Conversation.Status.WITH_AGENT])
            | Q(status=Conversation.Status.BOT, created_at__gte=since)
        )
        .exclude(pk=conversation.pk)
        .order_by("-created_at")
        .values("pk", "status", "channel", "category", "created_at")[:OPEN_ISSUES]
    )
    return {
        "name": customer.name,
        "display_name": str(customer),
        "external_id": customer.external_id,
        "email": customer.email,
        "verified": customer.is_verified,
        "plan": customer.plan,
        "vip": customer.is_vip,
        "orders": [
            {
                "number": o.number,
                "status": o.status,
                "status_label": o.get_status_display(),
                "placed_at": o.placed_at.date().isoformat(),
                "delivered_at": o.delivered_at.date().isoformat() if o.delivered_at else "",
                "estimated_delivery": o.estimated_delivery.isoformat()
                if o.estimated_delivery
                else "",
                "total": str(o.total),
                "currency": o.currency,
            }
            for o in orders
        ],
        "open_issues": [
            {
                "conversation_id": c["pk"],
                "status": c["status"],
                "status_label": Conversation.Status(c["status"]).label,
                "channel": c["channel"],
                "category": c["category"],
                "created_at": c["created_at"].isoformat(),
            }
            for c in open_conversations
        ],
    }


def _summary(read: _Reading) -> str:
    """A few sentences, each taken from what was said or recorded; nothing is inferred."""
    said, questions, tried = read.said, read.questions, read.tried
    rejected, fired, first, history = read.rejected, read.fired, read.first, read.history
    sentences = []
    if questions:
        sentences.append(f"The customer asked: \u201c{clip(questions[0].text, QUOTE_CHARS)}\u201d.")
        need = read.need
        if need is not None and need.pk != questions[0].pk:
            sentences.append(f"Open need now: \u201c{clip(need.text, QUOTE_CHARS)}\u201d.")
    elif _customer_said(said):
        sentences.append("The customer asked for a person without describing the problem.")
    else:
        sentences.append("The customer has not written anything yet.")
    titles = _unique(p["title"] for p in tried["passages"] if p["title"])
    if titles:
        sentences.append("The assistant offered " + _quoted(titles) + ".")
    records = [str(r["number"]) for r in tried["records"] if r.get("number")]
    if records:
        sentences.append("It looked up order " + ", ".join(records) + ".")
    if rejected:
        count = sum(len(r["customer_replies"]) for r in rejected)
        sentences.append(
            f"The customer said {count} time{'s' if count != 1 else ''} that it did not help."
        )
    if any("similarity" in (f.get("scores") or {}) for f in fired):
        sentences.append("The customer asked the same question again.")
    if history["conversation_ids"]:
        count = len(history["conversation_ids"])
        sentences.append(
            f"{count} other conversation{'s' if count != 1 else ''} with this customer "
            f"in the last {HISTORY_DAYS} days."
        )
    label = in_sentence(trigger_label(first["name"])) or "handoff"
    # Not "(high-stakes topic): high-stakes topic: billing dispute".
    reason = handoff_detail(first["name"], first.get("reason") or "", first.get("scores") or {})
    sentences.append(f"Handed off ({label})" + (f": {reason}." if reason else "."))
    return " ".join(sentences)


def _topic(questions: list[_Said], category: str) -> str:
    if questions:
        return f"your question (\u201c{clip(questions[0].text, 80)}\u201d)"
    if category:
        return f"your question about {in_sentence(category_label(category))}"
    return "your question"


def _suggested_reply(
    conversation: Conversation,
    customer: Customer,
    need: _Said | None,
    rejected: list[dict[str, Any]],
) -> dict[str, Any]:
    """A first reply from the knowledge base, searched with the customer's latest open need
    (redacted: it goes to the embedding provider). Only a complete answer is offered
    (`text.replies`); otherwise nothing, and the person writes the reply."""
    hello = greeting(customer)
    quote, sources = "", list[dict[str, Any]]()
    if need is not None:
        try:
            found = _best_hits(conversation, need)
        except EmbeddingError as exc:
            logger.warning("no suggested reply, the embedding provider failed: %s", exc)
        else:
            quote, sources = knowledge_quote(conversation=conversation, hits=found)
    if not quote:
        return {"text": "", "sources": [], "withheld": NO_COMPLETE_ANSWER}
    shown_before = {s.get("title") for r in rejected for s in r["sources"]}
    follow_up = (
        "I know this came up before and didn't solve it, so tell me where it goes wrong "
        "and I'll take it from there."
        if sources[0]["title"] in shown_before
        else "Let me know if that covers it or if anything is unclear."
    )
    text = strip_same_channel(f"{hello} thanks for waiting. {quote}", conversation.channel).text
    if not is_complete_answer(text):
        return {"text": "", "sources": [], "withheld": NO_COMPLETE_ANSWER}
    return {"text": f"{text}\n\n{follow_up}", "sources": sources}


def greeting(customer: Customer) -> str:
    """ "Hi Rosa," with the customer's first name when there is one."""
    return f"Hi {customer.name.split()[0]}," if customer.name.strip() else "Hi,"


def knowledge_quote(
    *, conversation: Conversation, hits: list[Hit]
) -> tuple[str, list[dict[str, Any]]]:
    """The passages good enough for the bot to answer without clarifying, quoted with their
    sources (the extractive provider); ("", []) when there are none."""
    threshold = bot_settings_get(workspace=conversation.workspace).clarify_below
    usable = [h for h in hits if h.fused_score >= threshold and h.article]
    if not usable:
        return "", []
    return answers.compose(usable, conversation.workspace.public_key)


def _best_hits(conversation: Conversation, question: _Said) -> list[Hit]:
    """The best passage for the question. The bot turn that handled it already searched, so
    its result is reused when the passage is still published: embedding a query is the
    slowest step here and this runs inside the bot turn."""
    turn = question.turn or {}
    rows = [r for r in turn.get("retrieved") or [] if r.get("chunk_id")][:1]
    if rows:
        return _hits_from_rows(conversation, rows)
    found = search(
        workspace=conversation.workspace_id,
        query=question.redacted,
        k=1,
        query_vector=turn.get("query_vector"),
    )
    return found.hits


def _hits_from_rows(conversation: Conversation, rows: list[dict[str, Any]]) -> list[Hit]:
    articles = Article.objects.filter(
        workspace_id=conversation.workspace_id, status=Article.Status.PUBLISHED
    ).in_bulk([r["article_id"] for r in rows])
    chunks = Chunk.objects.filter(article_id__in=list(articles)).in_bulk(
        [r["chunk_id"] for r in rows]
    )
    return [
        Hit(
            article_id=r["article_id"],
            chunk_id=r["chunk_id"],
            fused_score=r.get("fused") or 0.0,
            title_similarity=r.get("title_similarity") or 0.0,
            passage_similarity=r.get("passage_similarity") or 0.0,
            article=articles[r["article_id"]],
            chunk=chunks[r["chunk_id"]],
        )
        for r in rows
        if r["article_id"] in articles and r["chunk_id"] in chunks
    ]


def _recovery_ack(
    trigger: str, rejected: list[dict[str, Any]], conversation: Conversation, topic: str
) -> str | None:
    """An apology to open with when the bot failed the customer (anger, going in circles,
    an answer that did not help); a plain request for a person needs none."""
    failed = trigger in FAILURE_TRIGGERS or bool(rejected) or conversation.solved is False
    if not failed:
        return None
    return (
        f"I can see our assistant couldn't sort out {topic} for you, and I'm sorry for the "
        "extra time that took. I'm a person from the support team, I've read everything "
        "you wrote, and I'll take it from here."
    )


# --- Text helpers ------------------------------------------------------------------------------


def clip(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut at a word."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "\u2026"


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _quoted(titles: list[str]) -> str:
    return ", ".join(f"\u201c{t}\u201d" for t in titles)
