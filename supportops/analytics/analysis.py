"""Post-interaction analysis: what one conversation was like, computed in Celery once it is
resolved or ended (`outcome_refresh_task` queues it) or has gone quiet (the analysis
sweep), and nightly for anything missed. No model call: the sentiment model of
`supportops.text.sentiment` scores each customer message (redacted text), and the summary
is extractive.

- sentiments: per customer message, the label and the negative / positive probability.
- overall: the label of the mean valence (positive minus negative probability) over the
  customer's messages: above +0.2 positive, below -0.2 negative, else neutral.
- trend: the last customer message's valence against the first's: a rise of more than
  0.3 is improving, a fall of more than 0.3 worsening, else steady.
- category: the conversation's issue category (the bot's classification, or a person's).
- answers_rejected: rejections of the bot's answers (button or typed).
- knowledge_gap: why the bot could not answer with confidence (a low-confidence handoff
  or a clarifying question), with the customer's question (redacted).
- summary: one line: the channel, the category, the customer's question (redacted,
  shortened) and what happened (the ledger's outcome, or the conversation's state).

Idempotent: `analysis_refresh` writes nothing when the result is the same.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from supportops.accounts.models import Workspace
from supportops.bot.models import BotTurn
from supportops.conversations.models import Conversation, ConversationEvent, Message
from supportops.inbox.copilot import customer_question
from supportops.inbox.gaps import knowledge_gap_reason
from supportops.text import sentiment
from supportops.text.redaction import redact

from .models import ConversationAnalysis, Outcome

QUIET_AFTER = timedelta(minutes=30)
OVERALL_MARGIN = 0.2
TREND_MARGIN = 0.3
SUMMARY_QUESTION_CHARS = 120


def _valence(probabilities: dict[str, float]) -> float:
    return float(probabilities.get("positive", 0.0)) - float(probabilities.get("negative", 0.0))


def _shorten(text: str, limit: int) -> str:
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    return line[: limit - 1].rsplit(" ", 1)[0] + "\u2026"


def _happened(conversation: Conversation) -> str:
    outcome = Outcome.objects.filter(conversation=conversation).first()
    if outcome is not None:
        return outcome.get_outcome_display().lower() + ("" if outcome.final else " (provisional)")
    return conversation.get_status_display().lower()


def _knowledge_gap(conversation: Conversation) -> str:
    # The one reading the knowledge-gap page uses too (gibberish is no gap).
    return knowledge_gap_reason(conversation=conversation)


def analysis_compute(*, conversation: Conversation) -> dict[str, Any]:
    """The analysis's values for the conversation as it stands (pure: writes nothing)."""
    messages = list(conversation.messages.order_by("created_at", "pk"))
    customer = [m for m in messages if m.author == Message.Author.CUSTOMER]
    texts = [(m.redacted_text or redact(m.text).text).strip() for m in customer]
    scored = sentiment.score_many(texts) if texts else []
    sentiments = [
        {
            "message_id": m.pk,
            "label": s.label,
            "negative": round(s.probabilities.get("negative", 0.0), 4),
            "positive": round(s.probabilities.get("positive", 0.0), 4),
        }
        for m, s in zip(customer, scored, strict=True)
    ]
    valences = [_valence(s.probabilities) for s in scored]
    mean = round(sum(valences) / len(valences), 4) if valences else 0.0
    overall = (
        ""
        if not valences
        else "positive"
        if mean > OVERALL_MARGIN
        else "negative"
        if mean < -OVERALL_MARGIN
        else "neutral"
    )
    if not valences:
        trend = ConversationAnalysis.Trend.NONE
    elif len(valences) == 1:
        trend = ConversationAnalysis.Trend.SINGLE
    elif valences[-1] - valences[0] > TREND_MARGIN:
        trend = ConversationAnalysis.Trend.IMPROVING
    elif valences[-1] - valences[0] < -TREND_MARGIN:
        trend = ConversationAnalysis.Trend.WORSENING
    else:
        trend = ConversationAnalysis.Trend.STEADY
    category = conversation.category or (
        BotTurn.objects.filter(conversation=conversation)
        .exclude(category="")
        .order_by("-pk")
        .values_list("category", flat=True)
        .first()
        or ""
    )
    rejected = ConversationEvent.objects.filter(
        conversation=conversation, kind=ConversationEvent.Kind.FEEDBACK, data__solved=False
    ).count()
    gap = _knowledge_gap(conversation)
    question = customer_question(messages) or (texts[0] if texts else "")
    what = _shorten(question, SUMMARY_QUESTION_CHARS) if question else "no question"
    where = conversation.get_channel_display() + (f", {category}" if category else "")
    summary = (
        f"{where}: \u201c{what}\u201d \u2014 {_happened(conversation)}"
        f"{'; answer rejected' if rejected else ''}{'; knowledge gap' if gap else ''}."
    )
    events = ConversationEvent.objects.filter(conversation=conversation).order_by("-pk")
    return {
        "sentiments": sentiments,
        "overall": overall,
        "overall_score": mean,
        "trend": str(trend),
        "category": category,
        "answers_rejected": rejected,
        "knowledge_gap": gap,
        "gap_question": question if gap else "",
        "summary": _shorten(summary, 300),
        "seen_event_id": events.values_list("pk", flat=True).first() or 0,
        "seen_message_id": messages[-1].pk if messages else 0,
    }


def analysis_refresh(*, conversation: Conversation) -> ConversationAnalysis:
    """Compute and store the conversation's analysis; with nothing new, nothing is written."""
    values = analysis_compute(conversation=conversation)
    with transaction.atomic():
        row = (
            ConversationAnalysis.objects.select_for_update()
            .filter(conversation_id=conversation.pk)
            .first()
        )
        if row is None:
            return ConversationAnalysis.objects.create(
                workspace_id=conversation.workspace_id,
                conversation_id=conversation.pk,
                computed_at=timezone.now(),
                **values,
            )
        changed = [name for name, value in values.items() if getattr(row, name) != value]
        if changed:
            for name in changed:
                setattr(row, name, values[name])
            row.computed_at = timezone.now()
            row.save(update_fields=[*changed, "computed_at"])
        return row


def analyses_due(
    *, now: datetime | None = None, lookback: timedelta, workspace: Workspace | None = None
) -> list[int]:
    """Conversations resolved or quiet for QUIET_AFTER, with activity within `lookback`,
    that have no analysis or one that saw fewer messages or events than there are now."""
    now = now or timezone.now()
    rows = Conversation.objects.filter(
        last_message_at__gte=now - lookback,
    ).filter(Q(status=Conversation.Status.RESOLVED) | Q(last_message_at__lte=now - QUIET_AFTER))
    if workspace is not None:
        rows = rows.filter(workspace=workspace)
    newer_message = Message.objects.filter(
        conversation=OuterRef("pk"), pk__gt=OuterRef("analysis__seen_message_id")
    )
    newer_event = ConversationEvent.objects.filter(
        conversation=OuterRef("pk"), pk__gt=OuterRef("analysis__seen_event_id")
    )
    stale = rows.filter(
        Q(analysis__isnull=True) | Exists(newer_message) | Exists(newer_event)
    ).filter(Exists(Message.objects.filter(conversation=OuterRef("pk"), author="customer")))
    return sorted(stale.values_list("pk", flat=True))


def analyses_sweep_run(
    *, now: datetime | None = None, lookback: timedelta, workspace: Workspace | None = None
) -> int:
    count = 0
    for conversation in Conversation.objects.filter(
        pk__in=analyses_due(now=now, lookback=lookback, workspace=workspace)
    ):
        analysis_refresh(conversation=conversation)
        count += 1
    return count
