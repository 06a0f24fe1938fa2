"""The same need: is a later conversation of a customer about what an earlier one was
about? Decided with what the product already knows about each conversation:

- the customer's first question (the first message that names a need: not "agent please",
  not "are you a bot?"), compared by MiniLM embedding similarity; in an email conversation
  the subject is part of the question when the message does not already start with it
  ("Export my boards" over "Hi, how do I do this?" says what the need is);
- the help-centre article it was about: the bot's retrieved articles for that question
  (BotTurn.retrieved), or the same hybrid search when the bot did not search (email, the
  control group, a question handed off before retrieval);
- the category, when both conversations have one.

Rule: the same need when the questions are similar enough on their own
(similarity >= `question_threshold`), or when both found the same help-centre article first
(each with a retrieval score >= `min_article_score`) and the questions are similar enough for
that (similarity >= `article_threshold`). Two known, different categories are different needs
unless the questions pass `question_threshold` on their own.

The thresholds are chosen by cross-validation on the project's own pairs
(`data/same_need_questions.csv`, fitted by `scripts/fit_same_need.py`, which writes
`data/same_need_params.json`); the method and figures are in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from supportops.bot.models import BotTurn
from supportops.conversations.models import Conversation, Message
from supportops.conversations.services import subject_strip
from supportops.integrations.embeddings import embed_query_cached
from supportops.knowledge.search import search
from supportops.text.redaction import redact
from supportops.text.triggers import names_a_need

PARAMS_FILE = Path(__file__).parent / "data" / "same_need_params.json"
ARTICLES_KEPT = 3


@dataclass(frozen=True)
class NeedParams:
    question_threshold: float
    article_threshold: float
    min_article_score: float


@cache
def need_params() -> NeedParams:
    raw = json.loads(PARAMS_FILE.read_text())
    return NeedParams(
        question_threshold=float(raw["question_threshold"]),
        article_threshold=float(raw["article_threshold"]),
        min_article_score=float(raw["min_article_score"]),
    )


@dataclass(frozen=True)
class Need:
    """What one conversation was about, as the product read it."""

    message_id: int
    question: str  # redacted, as models read it
    articles: list[dict[str, Any]] = field(default_factory=list)  # [{"article_id", "score"}]
    category: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "question": self.question,
            "articles": self.articles,
            "category": self.category,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Need | None:
        try:
            return cls(
                message_id=int(raw["message_id"]),
                question=str(raw["question"]),
                articles=list(raw.get("articles") or []),
                category=str(raw.get("category") or ""),
            )
        except (KeyError, TypeError, ValueError):
            return None


def _first_question(conversation: Conversation, as_of: datetime) -> Message | None:
    rows = Message.objects.filter(
        conversation=conversation, author=Message.Author.CUSTOMER, created_at__lte=as_of
    ).order_by("pk")
    first = None
    for message in rows[:10]:
        text = message.redacted_text or message.text
        if names_a_need(text):
            return message
        first = first or message
    return first  # only "agent please"-like messages: compare what there is


def need_read(
    *, conversation: Conversation, as_of: datetime, cached: dict[str, Any] | None = None
) -> Need | None:
    """The conversation's need as of `as_of` (None before the customer asked anything).
    `cached` is an earlier reading (Outcome.need); it is reused when it read the same
    message, so a help centre edited since does not change what an old conversation was
    about."""
    message = _first_question(conversation, as_of)
    if message is None:
        return None
    if cached:
        earlier = Need.from_json(cached)
        if earlier is not None and earlier.message_id == message.pk:
            return earlier
    question = _with_subject(conversation, message.redacted_text or message.text)
    turn = (
        BotTurn.objects.filter(message=message, status=BotTurn.Status.DONE)
        .only("retrieved", "category")
        .first()
    )
    retrieved = list(turn.retrieved or []) if turn is not None else []
    if retrieved:
        articles = [
            {"article_id": r.get("article_id"), "score": float(r.get("fused") or 0.0)}
            for r in retrieved[:ARTICLES_KEPT]
        ]
    else:
        hits = search(
            workspace=conversation.workspace_id,
            query=question,
            k=ARTICLES_KEPT,
            query_vector=embed_query_cached(question),
        ).hits
        articles = [{"article_id": h.article_id, "score": round(h.fused_score, 4)} for h in hits]
    category = conversation.category or (turn.category if turn is not None else "")
    return Need(message_id=message.pk, question=question, articles=articles, category=category)


def _with_subject(conversation: Conversation, question: str) -> str:
    """An email's question: its subject (redacted like the message), then the message, unless
    the message already starts with the subject's words (a client that quotes it, a subject
    made from the first line)."""
    if conversation.channel != Conversation.Channel.EMAIL:
        return question
    subject = subject_strip(conversation.subject)
    words = _words(subject)
    if not words or _words(question)[: len(words)] == words:
        return question
    return f"{redact(subject).text}\n{question}"


def _words(text: str) -> list[str]:
    return [word for word in re.split(r"\W+", text.casefold()) if word]


@dataclass(frozen=True)
class Comparison:
    same: bool
    similarity: float
    rule: str
    shared_article_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "same": self.same,
            "similarity": round(self.similarity, 4),
            "rule": self.rule,
            "shared_article_id": self.shared_article_id,
        }


def _top_article(need: Need, min_score: float) -> int | None:
    if not need.articles:
        return None
    top = need.articles[0]
    score = float(top.get("score") or 0.0)
    article_id = top.get("article_id")
    return int(article_id) if article_id is not None and score >= min_score else None


def question_similarity(a: str, b: str) -> float:
    va, vb = embed_query_cached(a), embed_query_cached(b)
    denominator = float(np.linalg.norm(va) * np.linalg.norm(vb)) or 1.0
    return float(np.dot(va, vb) / denominator)


def same_need(a: Need, b: Need, params: NeedParams | None = None) -> Comparison:
    params = params or need_params()
    similarity = question_similarity(a.question, b.question)
    return decide(
        similarity=similarity,
        top_a=_top_article(a, params.min_article_score),
        top_b=_top_article(b, params.min_article_score),
        category_a=a.category,
        category_b=b.category,
        params=params,
    )


def decide(
    *,
    similarity: float,
    top_a: int | None,
    top_b: int | None,
    category_a: str,
    category_b: str,
    params: NeedParams,
) -> Comparison:
    """The rule itself, on precomputed features (also what the fitting script scores)."""
    shared = top_a if top_a is not None and top_a == top_b else None
    if similarity >= params.question_threshold:
        return Comparison(True, similarity, "similar_questions", shared)
    if category_a and category_b and category_a != category_b:
        return Comparison(False, similarity, "different_categories", None)
    if shared is not None and similarity >= params.article_threshold:
        return Comparison(True, similarity, "same_article", shared)
    return Comparison(False, similarity, "different_need", shared)
