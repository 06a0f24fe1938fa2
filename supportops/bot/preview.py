"""What the bot would reply to a question: the knowledge base's "Try a question".

The preview runs the bot's real decision (`turn.decide`), not a copy of its rules, on a
throwaway anonymous visitor, conversation and message created inside a transaction that
is always rolled back: no rows are left behind, no task is queued, nothing is counted.
`decide` computes a Decision without writing the reply; the preview only reads it.

The ranked passages are searched separately (with the page's category filter), because
the bot skips retrieval when a rule hands off before any answer.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.safestring import SafeString

from supportops.accounts.models import Workspace
from supportops.conversations.models import Message
from supportops.conversations.services import (
    conversation_create,
    customer_get_or_create_visitor,
    message_add,
    message_post_customer,
)
from supportops.integrations.embeddings import EmbeddingError
from supportops.knowledge.rendering import render_markdown
from supportops.knowledge.search import Hit, search
from supportops.text import triggers

from .models import BotSettings, BotTurn
from .services import bot_greeting, bot_settings_get
from .turn import Decision, Fired, decide

logger = logging.getLogger(__name__)

PASSAGES = 5
TRIGGER_NAMES = {
    triggers.EXPLICIT_REQUEST: "The customer asks for a person",
    triggers.HIGH_STAKES: "High-stakes topic",
    triggers.TURN_LIMIT: "Too many turns or a repeated question",
    triggers.FRUSTRATION: "Frustration or anger",
    triggers.VIP: "VIP customer",
    triggers.LOW_CONFIDENCE: "Low confidence",
}


@dataclass
class Source:
    title: str
    article_pk: int | None  # the article in this workspace's knowledge base, to link to
    url: str  # the public help-centre page the customer would get


@dataclass
class ReplyPreview:
    action: str  # BotTurn.Action: answer, clarify or escalate
    reply: str  # what the customer would read
    reply_html: SafeString
    sources: list[Source] = field(default_factory=list)
    trigger: str = ""  # the rule that hands off (the first that fired)
    trigger_name: str = ""
    reasons: list[str] = field(default_factory=list)  # every rule that fired, in words
    category: str = ""  # the issue category the classifier gave, in words
    retrieval: str = ""  # how well the best passage matched, in words
    notes: list[str] = field(default_factory=list)

    @property
    def hands_off(self) -> bool:
        return self.action == BotTurn.Action.ESCALATE


@dataclass
class Passages:
    hits: list[Hit]
    note: str = ""


def _sure(confidence: float) -> str:
    if confidence >= 0.85:
        return "very sure"
    if confidence >= 0.65:
        return "fairly sure"
    if confidence >= 0.5:
        return "somewhat sure"
    return "unsure"


def match_in_words(score: float, settings: BotSettings) -> str:
    """The best passage's fused score against the workspace's two thresholds."""
    if score >= settings.clarify_below:
        quality = "a good match"
    elif score >= settings.min_retrieval_score:
        quality = "a weak match (the bot asks what the customer means)"
    else:
        quality = "no usable match"
    return (
        f"{quality}: best passage scores {score:.2f}; the bot answers from "
        f"{settings.clarify_below:.2f} and hands off below {settings.min_retrieval_score:.2f}"
    )


def _percent(value: Any) -> str:
    return f"{float(value):.0%}" if isinstance(value, int | float) else "?"


def explain(fired: Fired, settings: BotSettings) -> str:
    """One fired rule, with its scores put in words."""
    scores = fired.scores
    if fired.name == triggers.EXPLICIT_REQUEST:
        return "The message asks to talk to a person."
    if fired.name == triggers.HIGH_STAKES:
        category = str(scores.get("category", "")).replace("_", " ")
        confidence = float(scores.get("confidence") or 0)
        return (
            f"High-stakes topic “{category.capitalize()}”: the classifier is "
            f"{_sure(confidence)} ({confidence:.0%}). These always go to a person."
        )
    if fired.name == triggers.TURN_LIMIT:
        if "similarity" in scores:
            return (
                f"The customer asked the same question again ({_percent(scores['similarity'])} "
                f"alike; the limit is {_percent(scores.get('threshold'))})."
            )
        if "rejections" in scores:
            return f"The customer said {scores['rejections']} times that the answer did not help."
        return (
            f"{scores.get('turns')} customer messages without a resolution "
            f"(the limit is {scores.get('limit')})."
        )
    if fired.name == triggers.FRUSTRATION:
        negative = float(scores.get("negative") or 0)
        cues = ", ".join(str(c) for c in scores.get("cues") or [])
        return (
            f"The message reads as upset: {negative:.0%} likely negative (hands off from "
            f"{_percent(scores.get('threshold'))})" + (f"; signs: {cues}." if cues else ".")
        )
    if fired.name == triggers.VIP:
        return "VIP customers always go to a person."
    if fired.name == triggers.LOW_CONFIDENCE:
        if scores.get("gibberish"):
            return "Two messages nobody could understand, after one request to rephrase."
        if "retrieval" in scores:
            return (
                "The help centre has " + match_in_words(float(scores["retrieval"]), settings) + "."
            )
        return f"The drafted answer failed the grounding check ({scores.get('reason', '')})."
    return fired.reason


def _sources(decision: Decision) -> list[Source]:
    """The decision's sources, linked to the articles of this workspace they came from."""
    by_key = {
        (row.get("external_id") or str(row["article_id"])): row["article_id"]
        for row in decision.retrieved
    }
    return [
        Source(
            title=str(source.get("title") or ""),
            article_pk=by_key.get(str(source.get("article_id") or "")),
            url=str(source.get("url") or ""),
        )
        for source in decision.sources
    ]


def _preview_of(decision: Decision, settings: BotSettings) -> ReplyPreview:
    preview = ReplyPreview(
        action=decision.action,
        reply=decision.reply,
        reply_html=render_markdown(decision.reply),
        sources=_sources(decision),
    )
    if decision.action == BotTurn.Action.ESCALATE:
        notice = decision.notice or settings.handoff_message
        preview.reply = notice
        preview.reply_html = render_markdown(notice)
        preview.trigger = decision.trigger
        preview.trigger_name = TRIGGER_NAMES.get(decision.trigger, decision.trigger)
        preview.reasons = [explain(f, settings) for f in decision.fired]
    if decision.category:
        confidence = decision.category_confidence or 0.0
        preview.category = (
            f"{decision.category.replace('_', ' ')} ({_sure(confidence)}, {confidence:.0%})"
        )
    if "retrieval" in decision.scores:
        preview.retrieval = match_in_words(float(decision.scores["retrieval"]), settings)
    return preview


def reply_preview(*, workspace: Workspace, question: str) -> ReplyPreview:
    """The reply the bot would give an anonymous visitor opening a chat with `question`.

    May raise EmbeddingError (the embedding model is unavailable) and ConversationError
    (an empty or overlong question).
    """
    settings = bot_settings_get(workspace=workspace)
    with transaction.atomic():
        try:
            customer = customer_get_or_create_visitor(
                workspace=workspace, visitor_id="preview-" + secrets.token_hex(16)
            )
            # As a chat starts (supportops.flows.do_conversation_start): greeted by the bot.
            conversation = conversation_create(workspace=workspace, customer=customer).conversation
            message_add(
                conversation=conversation,
                author=Message.Author.BOT,
                text=bot_greeting(workspace=workspace),
                kind=Message.Kind.GREETING,
            )
            message = message_post_customer(conversation=conversation, text=question).message
            decision = decide(conversation=conversation, message=message)
        finally:
            transaction.set_rollback(True)
    preview = _preview_of(decision, settings)
    if not settings.enabled:
        preview.notes.append(
            "The assistant is switched off in the bot settings, so customers go straight to "
            "a person; this is what it would say if it were on."
        )
    return preview


def passages_for(
    *, workspace: Workspace, question: str, category_id: int | None = None
) -> Passages:
    """The published passages ranked for the question, with the scores behind the order;
    keyword search alone when the embedding model is unavailable."""
    kwargs: dict[str, Any] = {
        "workspace": workspace,
        "query": question,
        "k": PASSAGES,
        "category_ids": [category_id] if category_id else None,
    }
    note = ""
    try:
        result = search(**kwargs)
    except EmbeddingError:
        logger.warning("embedding provider failed; 'Try a question' fell back to keywords")
        result = search(mode="keyword", **kwargs)
        note = "The embedding model is unavailable, so these results use keyword search only."
    hits = [hit for hit in result.hits if hit.article is not None]
    return Passages(hits=hits, note=note)


def passage_html(hit: Hit) -> SafeString:
    """A passage's Markdown, rendered and sanitised like the article page."""
    chunk = hit.chunk
    text = chunk.text if chunk is not None else ""
    if chunk is not None and chunk.heading and chunk.ordinal:
        text = f"**{chunk.heading}**\n\n{text}"
    return render_markdown(text)
