"""Knowledge gaps: a conversation the bot could not answer, answered by a person, becomes a
draft article for a manager's review.

A conversation is a gap when the assistant found nothing good enough (a low-confidence
handoff or a clarifying question) or the customer rejected its answer ("Did that solve it?"
answered no, or a follow-up saying it did not help), and a person then resolved it with at
least one reply. The draft takes the customer's question as its title and the agent's replies
as its body, both with personal data redacted: an article is for every customer, and the
manager generalises it before publishing. The draft stays linked to the conversations it came
from, so the reviewer can read them; a second conversation about the same thing can be added
to an existing draft instead of starting another.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from supportops.accounts.services import Actor
from supportops.bot.models import BotTurn
from supportops.conversations.models import Conversation, Message
from supportops.knowledge.models import Article
from supportops.knowledge.services import article_draft_from_conversation
from supportops.text.redaction import redact

from .copilot import customer_question

TITLE_LIMIT = 150


class GapError(ValueError):
    """The conversation cannot become a draft article; the message says why."""


@dataclass(frozen=True)
class Gap:
    reason: str  # why the bot could not answer, for the page
    question: str  # the customer's question, redacted
    answer: str  # the agent's replies, redacted


UNCOVERED = "the question is not covered by the help centre"
NO_GOOD_ANSWER = "the assistant found no good answer in the knowledge base"
UNSURE = "the assistant was unsure and asked the customer to clarify"


def knowledge_gap_reason(*, conversation: Conversation) -> str:
    """Why the help centre could not answer this conversation, or "". Messages nobody could
    understand (gibberish: the bot asked to rephrase, then handed off) are no gap of the
    help centre and do not count."""
    low = [
        (scores or {}).get("low_confidence") or {}
        for scores in conversation.handoffs.filter(trigger="low_confidence").values_list(
            "scores", flat=True
        )
    ]
    low = [s for s in low if not s.get("gibberish")]
    if any(s.get("uncovered") for s in low):
        return UNCOVERED
    if low:
        return NO_GOOD_ANSWER
    clarified = BotTurn.objects.filter(
        conversation=conversation, action=BotTurn.Action.CLARIFY
    ).values_list("scores", flat=True)
    if any("gibberish" not in (scores or {}) for scores in clarified):
        return UNSURE
    return ""


def gap_reason(*, conversation: Conversation) -> str:
    """Why the bot could not answer this conversation, or "" when it could."""
    reason = knowledge_gap_reason(conversation=conversation)
    if reason:
        return reason
    turns = BotTurn.objects.filter(conversation=conversation)
    if conversation.solved is False or turns.filter(scores__rejection=True).exists():
        return "the customer said the assistant's answer did not help"
    return ""


def _title(question: str) -> str:
    line = " ".join(question.split())
    if len(line) <= TITLE_LIMIT:
        return line
    return line[: TITLE_LIMIT - 1].rsplit(" ", 1)[0] + "\u2026"


def gap_for(*, conversation: Conversation) -> Gap | None:
    """The gap this resolved conversation shows, or None when it is not one."""
    if conversation.status != Conversation.Status.RESOLVED:
        return None
    reason = gap_reason(conversation=conversation)
    if not reason:
        return None
    messages = list(conversation.messages.order_by("created_at", "pk"))
    replies = [m.text.strip() for m in messages if m.author == Message.Author.AGENT]
    question = customer_question(messages)
    if not replies or not question:
        return None
    answer = "\n\n".join(redact(text).text for text in replies if text)
    return Gap(reason=reason, question=question, answer=answer)


def gap_drafts(*, conversation: Conversation) -> QuerySet[Article]:
    return conversation.gap_articles.all()  # type: ignore[attr-defined]


def gap_open_drafts(*, conversation: Conversation) -> QuerySet[Article]:
    """Drafts from earlier gaps this conversation could be added to."""
    return Article.objects.filter(
        workspace_id=conversation.workspace_id,
        source=Article.Source.CONVERSATION,
        status=Article.Status.DRAFT,
    ).order_by("-updated_at")


def gap_draft_create(
    *, conversation: Conversation, actor: Actor, article: Article | None = None
) -> Article:
    """Turn the agent's answer into a draft article (or add the conversation to `article`,
    an existing gap draft). Running it twice gives the same draft."""
    existing = gap_drafts(conversation=conversation).first()
    if existing is not None:
        return existing
    gap = gap_for(conversation=conversation)
    if gap is None:
        raise GapError(
            "Only a resolved conversation that the assistant could not answer, "
            "with a reply from a person, can become a draft article."
        )
    if article is not None and (
        article.workspace_id != conversation.workspace_id
        or article.source != Article.Source.CONVERSATION
        or article.status != Article.Status.DRAFT
    ):
        raise GapError("A conversation can only be added to a draft made from conversations.")
    return article_draft_from_conversation(
        workspace=conversation.workspace,
        conversation=conversation,
        title=_title(gap.question),
        body=gap.answer,
        reason=gap.reason,
        actor=actor,
        article=article,
    )
