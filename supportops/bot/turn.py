"""The bot turn: one decision per customer message (DESIGN.md, "The bot turn").

Rules are checked before any answer, in a fixed order (triggers.TRIGGER_ORDER); the first
that fires is the handoff's reason and every rule that fired is stored with its scores.
Only when none fires does the bot retrieve and answer, and it answers only with text taken
from the knowledge base or the verified customer's own records.

A turn is claimed first (`bot_turn_claim`: a unique pending BotTurn row), decided outside
any transaction (`decide`: embedding, search, classifiers and, with a chat model, a call of
up to a few seconds), and applied by `supportops.flows.do_bot_turn` in one short transaction
that re-checks the conversation (`bot_turn_lock_pending`, `bot_turn_complete`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from supportops.conversations.models import Conversation, Customer, Message
from supportops.conversations.selectors import (
    customer_order_by_number,
    customer_orders,
    order_matching_number_and_email,
    orders_with_ids,
)
from supportops.integrations.embeddings import EmbeddingError, embed_query, embed_query_cached
from supportops.integrations.llm import ChatError, OpenAIChatProvider, get_chat_provider
from supportops.knowledge.search import Hit, search
from supportops.rollout.models import BOT_PAUSED, CONTROL_GROUP, PHASE_PAUSED
from supportops.rollout.selectors import Gate, Scope, bot_gate
from supportops.text import gibberish, triggers
from supportops.text.intents import HIGH_STAKES_CATEGORIES, high_stakes_classifier
from supportops.text.redaction import redact
from supportops.text.sentiment import score as sentiment_score
from supportops.text.sentiment import valence

from . import answers
from .models import BotSettings, BotTurn
from .services import bot_settings_get

logger = logging.getLogger(__name__)

HIGH_STAKES_CONFIDENCE = 0.5  # of the shipped high-stakes classifier (see intents.py)
UPSET_WORDS = 1.5  # lexicon strength of "annoyed", "useless", "furious"... (sentiment.valence)
MAX_REJECTIONS = 2  # answers the customer said did not help, before a person takes over
# Questions about the state of the customer's own orders (not "how do I change an order?").
_ORDER_STATUS = re.compile(
    r"\bwhere(?:'s|\s+is|\s+are)\s+(?:my|our)\b|"
    r"\b(?:track|trace)(?:ing)?\s+(?:my|our|the|an?)?\s*(?:order|package|parcel|delivery)|"
    r"\bstatus\s+of\s+(?:my|our)\b|\b(?:my|our)\s+(?:order|package|parcel|delivery)\s+"
    r"(?:status|still|has(?:n'?t)?|is(?:n'?t)?|was(?:n'?t)?|did(?:n'?t)?|not)\b|"
    r"\bwhen\s+(?:will|does|do|is|should)\s+(?:my|our|the|it)\s*"
    r"(?:order|package|parcel|delivery|it)?\s*(?:arrive|come|get\s+here|ship|be\s+delivered)|"
    r"\bha(?:s|ve)\s+(?:my|our)\s+(?:order|package|parcel)s?\s+(?:shipped|arrived|been)|"
    r"\b(?:my|our)\s+(?:recent|last|latest)\s+orders?\b",
    re.I,
)
_ORDER_NUMBER = re.compile(r"\b[A-Z]{2,4}-?\d{4,8}\b", re.I)
_EMAIL = re.compile(r"[^\s@<>(),;:\"']+@[^\s@<>(),;:\"']+\.[^\s@<>(),;:\"'.]{2,}")
# Look-ups by order number and email a visitor who is not signed in gets before a person
# takes over (a stranger guessing pairs gets no further than that).
MAX_ORDER_CHECKS = 3


@dataclass
class Fired:
    name: str
    reason: str
    scores: dict[str, Any] = field(default_factory=dict)


@dataclass
class Decision:
    action: str
    trigger: str = ""
    fired: list[Fired] = field(default_factory=list)
    reply: str = ""
    kind: str = Message.Kind.TEXT
    sources: list[dict[str, Any]] = field(default_factory=list)
    retrieved: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    scores: dict[str, Any] = field(default_factory=dict)
    category: str = ""
    category_confidence: float | None = None
    sentiment: str = ""
    negative_probability: float | None = None
    provider: str = "extractive"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal = Decimal("0")
    # What the customer is told on a handoff, when not the workspace's handoff message.
    notice: str = ""
    # The embedded message, kept for the handoff packet's search (not stored).
    query_vector: np.ndarray | None = field(default=None, repr=False)


@dataclass
class Context:
    """What the rules read about the conversation so far (before this message)."""

    customer_turns: int  # customer messages since the last resolution, this one included
    rejections: int  # follow-ups that said the last answer did not help, this one included
    last_bot_kind: str
    earlier_questions: list[str]
    negative_history: list[float]
    last_turn_clarified: bool  # the bot's last turn asked the customer to clarify
    # A visitor who is not signed in: the last turn asked for the order number and email
    # (`order_check_attempts` failed so far), and the orders they proved are theirs.
    order_check_pending: bool = False
    order_check_attempts: int = 0
    verified_order_ids: list[int] = field(default_factory=list)
    # Messages nobody could understand that the bot already asked to rephrase (whole
    # conversation: the second one goes to a person).
    rephrase_requests: int = 0


def models_warm() -> None:
    """Load and train what a turn needs (embedding model, classifiers) ahead of time."""
    from supportops.text.sentiment import default_model

    embed_query("warm up")
    gibberish.read("warm up")  # loads the word lists of every language
    default_model()
    high_stakes_classifier()


# A claim older than this belongs to a worker that died (SIGKILL, lost node): claim it again.
# A live turn takes well under a second, or the chat model's timeout at most, so ten seconds
# past that timeout is stale. Taking over a turn that is still running costs only compute:
# the apply step re-checks the row, so one reply is sent either way.
CLAIM_STALE_AFTER = timedelta(seconds=max(30.0, django_settings.LLM_TIMEOUT_S + 10))
# An earlier message of the same conversation without a turn yet, posted this recently, is
# probably still queued: wait for it so turns are decided in the order they were written.
EARLIER_MESSAGE_GRACE = timedelta(seconds=20)


class TurnWaiting(Exception):
    """An earlier message of the conversation is still being decided; try again shortly."""


@dataclass(frozen=True)
class Claim:
    """What a worker got for a message: the pending turn to compute (`turn`), or the turn
    already decided (`done`), or neither (not a customer message, or another worker holds a
    fresh claim on it)."""

    turn: BotTurn | None = None
    done: BotTurn | None = None


def bot_turn_claim(*, message_id: int, now: Any = None) -> Claim:
    """Claim the decision for one customer message: a unique pending BotTurn row. Running it
    again returns the decided turn; a stale claim is taken over by one conditional UPDATE."""
    now = now or timezone.now()
    message = Message.objects.filter(pk=message_id).only("pk", "author", "conversation").first()
    if message is None or message.author != Message.Author.CUSTOMER:
        return Claim()
    existing = BotTurn.objects.filter(message_id=message_id).first()
    if existing is not None:
        if existing.status == BotTurn.Status.DONE:
            return Claim(done=existing)
        stale_before = now - CLAIM_STALE_AFTER
        taken = BotTurn.objects.filter(
            pk=existing.pk, status=BotTurn.Status.PENDING, claimed_at__lt=stale_before
        ).update(claimed_at=now, attempts=F("attempts") + 1)
        if not taken:
            return Claim()  # another worker is deciding it now, or has just finished
        existing.refresh_from_db()
        return Claim(turn=existing)
    _wait_for_earlier(message, now)
    try:
        with transaction.atomic():
            turn = BotTurn.objects.create(
                workspace_id=message.conversation.workspace_id,
                conversation_id=message.conversation_id,
                message_id=message_id,
                status=BotTurn.Status.PENDING,
                claimed_at=now,
            )
    except IntegrityError:  # another worker claimed it a moment ago
        return Claim()
    return Claim(turn=turn)


def _wait_for_earlier(message: Message, now: Any) -> None:
    earlier = BotTurn.objects.filter(
        conversation_id=message.conversation_id,
        message_id__lt=message.pk,
        status=BotTurn.Status.PENDING,
        claimed_at__gte=now - CLAIM_STALE_AFTER,
    )
    # Customer messages of the same burst (nothing from the bot or a person since) that no
    # worker has claimed yet: their tasks are queued just ahead of this one.
    last_reply = (
        Message.objects.filter(conversation_id=message.conversation_id, pk__lt=message.pk)
        .exclude(author=Message.Author.CUSTOMER)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    unclaimed = Message.objects.filter(
        conversation_id=message.conversation_id,
        author=Message.Author.CUSTOMER,
        pk__gt=last_reply or 0,
        pk__lt=message.pk,
        created_at__gte=now - EARLIER_MESSAGE_GRACE,
        bot_turn__isnull=True,
    )
    if earlier.exists() or unclaimed.exists():
        raise TurnWaiting(f"an earlier message of conversation {message.conversation_id} waits")


def eligibility(conversation: Conversation, gate: Gate | None = None) -> Decision | None:
    """A decision made without the bot, or None when the bot decides.

    Control-group conversations never reach the bot: SKIP, with trigger `control`
    (the caller labels their category silently, `categorize`, and queues them for people).
    A conversation not with the assistant: SKIP. The kill switch or a paused rollout phase:
    ESCALATE with that reason, so the conversation goes to people with the same routing as
    any hand-off."""
    if conversation.arm == Conversation.Arm.HUMAN_ONLY:
        return Decision(
            action=BotTurn.Action.SKIP,
            trigger=CONTROL_GROUP,
            scores={"arm": conversation.arm, "status": conversation.status},
        )
    if conversation.status != Conversation.Status.BOT:
        return Decision(action=BotTurn.Action.SKIP, scores={"status": conversation.status})
    gate = gate if gate is not None else bot_gate(workspace=conversation.workspace_id)
    if gate.stop in (BOT_PAUSED, PHASE_PAUSED):
        return Decision(
            action=BotTurn.Action.ESCALATE,
            trigger=gate.stop,
            fired=[Fired(gate.stop, gate.reason, {"gate": gate.stop})],
        )
    return None


def categorize(*, conversation: Conversation, message: Message, decision: Decision) -> Decision:
    """Label the message's category the way the bot's classifier would, without deciding
    anything else (control-group conversations, so both arms compare on the same
    categories). Fills `decision.category` and its confidence; never raises for a failing
    embedding provider (the conversation goes to people either way)."""
    settings = bot_settings_get(workspace=conversation.workspace)
    text = message.redacted_text or redact(message.text).text
    try:
        vector = embed_query_cached(text)
        probe = Decision(action=decision.action)
        _classify(probe, settings, text, vector)
    except EmbeddingError as exc:
        logger.warning("no silent category for message %s: %s", message.pk, exc)
        decision.scores["category_error"] = str(exc)[:200]
        return decision
    decision.category, decision.category_confidence = probe.category, probe.category_confidence
    decision.scores["category"] = probe.scores.get("category") or probe.scores.get("high_stakes")
    return decision


def bot_turn_lock_pending(*, turn: BotTurn) -> bool:
    """Lock the claimed row inside the caller's transaction; False when another worker has
    already applied a decision for this message (the caller then discards its own)."""
    status = (
        BotTurn.objects.select_for_update()
        .filter(pk=turn.pk)
        .values_list("status", flat=True)
        .first()
    )
    return status == BotTurn.Status.PENDING


def bot_turn_complete(
    *, turn: BotTurn, decision: Decision, reply: Message | None, compute_ms: float
) -> BotTurn:
    """Write the decision into the claimed row (inside the applying transaction)."""
    turn.status = BotTurn.Status.DONE
    turn.reply = reply
    turn.action = decision.action
    turn.trigger = decision.trigger
    turn.triggers = [
        {"name": f.name, "reason": f.reason, "scores": f.scores} for f in decision.fired
    ]
    turn.category = decision.category
    turn.category_confidence = decision.category_confidence
    turn.sentiment = decision.sentiment
    turn.negative_probability = decision.negative_probability
    turn.retrieved = decision.retrieved
    turn.records = decision.records
    turn.scores = decision.scores
    turn.provider = decision.provider
    turn.prompt_tokens = decision.prompt_tokens
    turn.completion_tokens = decision.completion_tokens
    turn.cost_usd = decision.cost_usd
    turn.compute_ms = round(compute_ms, 2)
    turn.save()
    return turn


def _context(conversation: Conversation, message: Message, text: str) -> Context:
    earlier = list(
        conversation.messages.filter(pk__lt=message.pk)
        .order_by("pk")
        .values("author", "kind", "redacted_text", "pk")
    )
    # Count from the last time the conversation was resolved (feedback "yes" or closed).
    start = 0
    for i, row in enumerate(earlier):
        if row["kind"] == Message.Kind.CSAT_REQUEST:
            start = i + 1
    since = earlier[start:]
    customer_rows = [r for r in since if r["author"] == Message.Author.CUSTOMER]
    turns = list(
        BotTurn.objects.filter(
            conversation=conversation,
            message_id__in=[r["pk"] for r in since],
            status=BotTurn.Status.DONE,
        )
        .order_by("pk")
        .values("message_id", "scores", "negative_probability", "action")
    )
    rejections = sum(1 for t in turns if t["scores"].get("rejection")) + int(
        triggers.rejects_answer(text)
    )
    last_bot = next((r["kind"] for r in reversed(earlier) if r["author"] == Message.Author.BOT), "")
    checks = [t["scores"].get("order_check") or {} for t in turns]
    last_check = checks[-1] if checks else {}
    rephrase_requests = BotTurn.objects.filter(
        conversation=conversation,
        status=BotTurn.Status.DONE,
        action=BotTurn.Action.CLARIFY,
        scores__has_key="gibberish",
    ).count()
    return Context(
        rephrase_requests=rephrase_requests,
        order_check_pending=last_check.get("stage") == "asked",
        order_check_attempts=int(last_check.get("attempts") or 0),
        verified_order_ids=[c["order_id"] for c in checks if c.get("stage") == "verified"],
        customer_turns=len(customer_rows) + 1,
        rejections=rejections,
        last_bot_kind=last_bot,
        earlier_questions=[
            r["redacted_text"]
            for r in customer_rows
            if not triggers.rejects_answer(r["redacted_text"])
        ],
        negative_history=[
            t["negative_probability"] for t in turns if t["negative_probability"] is not None
        ],
        last_turn_clarified=bool(turns) and turns[-1]["action"] == BotTurn.Action.CLARIFY,
    )


_LIVE: Any = object()


def decide(
    *, conversation: Conversation, message: Message, scope: Scope | None = _LIVE
) -> Decision:
    """The bot's decision on one customer message. `scope` limits it to a rollout phase's
    categories (retrieval too); by default the live phase's, None for no limit. The test
    suite passes the phase under test, so a phase is tested before it goes live."""
    if scope is _LIVE:
        scope = bot_gate(workspace=conversation.workspace_id).scope
    settings = bot_settings_get(workspace=conversation.workspace)
    text = message.redacted_text or redact(message.text).text
    context = _context(conversation, message, text)
    is_rejection = triggers.rejects_answer(text) and context.last_bot_kind in (
        Message.Kind.ANSWER,
        Message.Kind.TEXT,
    )
    decision = Decision(action=BotTurn.Action.ANSWER)
    decision.scores = {
        "customer_turns": context.customer_turns,
        "rejection": is_rejection,
        "rejections": context.rejections if is_rejection else context.rejections,
    }

    vector = embed_query_cached(text)
    decision.query_vector = vector
    if settings.explicit_request_enabled:
        request = triggers.explicit_request_check(text, vector=vector)
        if request.matched:
            decision.fired.append(
                Fired(
                    triggers.EXPLICIT_REQUEST, "the customer asked for a person", request.scores()
                )
            )

    if not decision.fired and context.order_check_pending and any(_order_details(message)):
        # The answer to "send me both" (a reply naming neither moved on: an ordinary turn).
        return _order_check(decision, settings, conversation, message, context)

    if (
        not decision.fired
        and context.last_bot_kind == Message.Kind.ANSWER
        and triggers.acknowledges(text)
    ):
        # "ok", "hmm", "thanks" right after an answer: nothing to search for and no reason
        # to call a person; ask whether it solved it instead.
        decision.action = BotTurn.Action.CLARIFY
        decision.reply = answers.after_acknowledgement()
        decision.scores["acknowledgement"] = True
        return decision

    if not decision.fired:
        reading = gibberish.read(message.text)
        if reading.gibberish:
            return _not_understood(decision, context, reading)

    _classify(decision, settings, text, vector)
    _check_turns(decision, settings, context, text, vector, is_rejection)
    _check_sentiment(decision, settings, text, vector, context, is_rejection)
    if settings.vip_enabled and conversation.customer.is_vip:
        decision.fired.append(Fired(triggers.VIP, "VIP customers go to a person", {"vip": True}))
    if scope is not None:
        _check_scope(decision, scope, conversation, text)

    hits: list[Hit] = []
    if (
        not decision.fired
        and not is_rejection
        and not conversation.customer.is_verified
        and not context.verified_order_ids
        and (_ORDER_STATUS.search(text) or _ORDER_NUMBER.search(text))
    ):
        # Nothing account-specific for a visitor before they name the order number and
        # its email together; both in this message is the first look-up.
        return _order_check(decision, settings, conversation, message, context, ask=True)
    if not decision.fired and not is_rejection and not triggers.asks_if_bot(text):
        hits = _search(conversation, text, vector, scope)
        decision.retrieved = [_hit_row(h) for h in hits]
        best = hits[0].fused_score if hits else 0.0
        decision.scores["retrieval"] = round(best, 4)
        records = _records_for(conversation.customer, text, context.verified_order_ids)
        decision.records = [answers.order_record(o) for o in records]
        weak_again = context.last_turn_clarified and best < settings.clarify_below
        if (
            settings.low_confidence_enabled
            and not decision.records
            and (best < settings.min_retrieval_score or weak_again)
        ):
            decision.fired.append(
                Fired(
                    triggers.LOW_CONFIDENCE,
                    "no help-centre passage matches the question well enough"
                    + (", after asking once" if weak_again else ""),
                    {
                        "retrieval": round(best, 4),
                        "threshold": settings.min_retrieval_score,
                        "clarify_below": settings.clarify_below,
                        "uncovered": True,
                    },
                )
            )
            # A clear question the help centre does not cover: a person at once, and the
            # customer is told why (the knowledge-gap loop picks the conversation up).
            decision.notice = answers.not_covered(settings)

    if decision.fired:
        decision.fired.sort(key=lambda f: triggers.TRIGGER_ORDER.index(f.name))
        decision.action = BotTurn.Action.ESCALATE
        decision.trigger = decision.fired[0].name
        return decision
    return _answer(decision, settings, conversation, text, hits, is_rejection)


def _not_understood(decision: Decision, context: Context, reading: gibberish.Reading) -> Decision:
    """A message nobody could understand (`text.gibberish`): one request to rephrase per
    conversation; the second such message goes to a person."""
    decision.scores["gibberish"] = {**reading.scores(), "asked_before": context.rephrase_requests}
    if context.rephrase_requests == 0:
        decision.action = BotTurn.Action.CLARIFY
        decision.reply = answers.rephrase_request()
        return decision
    decision.fired.append(
        Fired(
            triggers.LOW_CONFIDENCE,
            "the assistant could not understand the customer's messages, after asking once "
            "to rephrase",
            {"gibberish": True, "asked_to_rephrase": context.rephrase_requests},
        )
    )
    decision.action = BotTurn.Action.ESCALATE
    decision.trigger = triggers.LOW_CONFIDENCE
    return decision


def _check_scope(decision: Decision, scope: Scope, conversation: Conversation, text: str) -> None:
    """Under a rollout phase the bot handles only the categories the phase enables: this
    message's category, else the conversation's so far. Asking whether it is a bot is no
    topic and is answered anywhere."""
    decision.scores["phase"] = scope.as_scores()
    category = decision.category or conversation.category
    if scope.enables(category) or (not category and triggers.asks_if_bot(text)):
        return
    what = f"“{category}”" if category else "no category recognised"
    decision.fired.append(
        Fired(
            triggers.CATEGORY_NOT_ENABLED,
            f"{what}: the live rollout phase enables {', '.join(scope.categories)}",
            {
                "category": category,
                "confidence": decision.category_confidence,
                "enabled": list(scope.categories),
                "phase": scope.phase_name,
            },
        )
    )


def _search(
    conversation: Conversation, text: str, vector: np.ndarray, scope: Scope | None
) -> list[Hit]:
    """Hybrid search, limited under a rollout phase to the help-centre categories named like
    the phase's (all articles when the help centre has none of those names)."""
    if scope is None or not scope.article_category_ids:
        return search(workspace=conversation.workspace, query=text, k=5, query_vector=vector).hits
    return search(
        workspace=conversation.workspace,
        query=text,
        k=5,
        query_vector=vector,
        category_ids=list(scope.article_category_ids),
    ).hits


def _classify(decision: Decision, settings: BotSettings, text: str, vector: np.ndarray) -> None:
    prediction = high_stakes_classifier().predict_vectors(vector[None, :])[0]
    high_stakes = set(HIGH_STAKES_CATEGORIES) | set(settings.high_stakes_categories or [])
    label = prediction.label
    decision.scores["high_stakes"] = {
        "label": prediction.top_label,
        "confidence": prediction.confidence,
    }
    workspace_category = _workspace_category(settings, vector)
    if workspace_category is not None:
        decision.category, decision.category_confidence = workspace_category
        decision.scores["category"] = {
            "label": workspace_category[0],
            "confidence": workspace_category[1],
        }
    if (
        label is not None
        and label in high_stakes
        and prediction.confidence >= HIGH_STAKES_CONFIDENCE
    ):
        decision.category = label
        decision.category_confidence = prediction.confidence
        if settings.high_stakes_enabled:
            decision.fired.append(
                Fired(
                    triggers.HIGH_STAKES,
                    f"high-stakes topic: {label.replace('_', ' ')}",
                    {"category": label, "confidence": prediction.confidence},
                )
            )
    elif (
        settings.high_stakes_enabled
        and workspace_category is not None
        and workspace_category[0] in high_stakes
    ):
        decision.fired.append(
            Fired(
                triggers.HIGH_STAKES,
                f"high-stakes category: {workspace_category[0]}",
                {"category": workspace_category[0], "confidence": workspace_category[1]},
            )
        )


def _workspace_category(settings: BotSettings, vector: np.ndarray) -> tuple[str, float] | None:
    """The workspace's own categories (trained from its examples and tickets), if it has any."""
    try:
        from .categories import category_classifier_for
    except ImportError:  # the categories module is optional for the turn
        return None
    classifier = category_classifier_for(workspace=settings.workspace)
    if classifier is None:
        return None
    prediction = classifier.predict_vectors(vector[None, :])[0]
    if prediction.label is None:
        return None
    return prediction.label, prediction.confidence


def _check_turns(
    decision: Decision,
    settings: BotSettings,
    context: Context,
    text: str,
    vector: np.ndarray,
    is_rejection: bool,
) -> None:
    if not settings.turn_limit_enabled:
        return
    repeat = 0.0
    if context.earlier_questions and not is_rejection:
        earlier = np.vstack([embed_query_cached(q) for q in context.earlier_questions[-3:]])
        repeat = float(np.max(earlier @ vector))
    decision.scores["repeat_similarity"] = round(repeat, 4)
    if context.customer_turns > settings.max_customer_turns:
        decision.fired.append(
            Fired(
                triggers.TURN_LIMIT,
                f"{context.customer_turns} customer messages without a resolution",
                {"turns": context.customer_turns, "limit": settings.max_customer_turns},
            )
        )
    elif is_rejection and context.rejections >= MAX_REJECTIONS:
        decision.fired.append(
            Fired(
                triggers.TURN_LIMIT,
                f"the customer said {context.rejections} times that the answer did not help",
                {"rejections": context.rejections, "limit": MAX_REJECTIONS},
            )
        )
    elif repeat >= settings.repeat_similarity:
        decision.fired.append(
            Fired(
                triggers.TURN_LIMIT,
                "the customer asked the same question again",
                {"similarity": round(repeat, 4), "threshold": settings.repeat_similarity},
            )
        )


def _check_sentiment(
    decision: Decision,
    settings: BotSettings,
    text: str,
    vector: np.ndarray,
    context: Context,
    is_rejection: bool,
) -> None:
    sentiment = sentiment_score(text, vector=vector)
    decision.sentiment = sentiment.label
    decision.negative_probability = sentiment.negative_probability
    decision.scores["sentiment"] = {
        "label": sentiment.label,
        "negative": sentiment.negative_probability,
        "cues": list(sentiment.cues),
    }
    if not settings.frustration_enabled:
        return
    negative = sentiment.negative_probability
    # The model alone also scores plain how-to questions as negative now and then; anger
    # needs words or signs of it too (the lexicon's negative strength, shouting, repeats).
    upset_words = valence(text)[1]
    decision.scores["sentiment"]["negative_words"] = round(upset_words, 2)
    history = context.negative_history[-2:]
    rising = (
        len(history) == 2 and history[0] < history[1] < negative and negative >= 0.6
    ) and upset_words > 0
    if is_rejection:
        # "Nope, not working" is disappointment, not anger: it counts towards the turn limit
        # and only hands off as frustration with clear signs of anger.
        angry = (
            negative >= max(settings.frustration_threshold, 0.9)
            and bool(sentiment.cues)
            and upset_words >= UPSET_WORDS
        )
    else:
        shouting = sentiment.label == "negative" and bool(sentiment.cues)
        angry = (
            (negative >= settings.frustration_threshold and upset_words >= UPSET_WORDS)
            or shouting
            or rising
        )
    if angry:
        decision.fired.append(
            Fired(
                triggers.FRUSTRATION,
                "the customer sounds frustrated" + (" (rising)" if rising else ""),
                {
                    "negative": negative,
                    "threshold": settings.frustration_threshold,
                    "cues": list(sentiment.cues),
                    "history": history,
                },
            )
        )


def _order_check(
    decision: Decision,
    settings: BotSettings,
    conversation: Conversation,
    message: Message,
    context: Context,
    *,
    ask: bool = False,
) -> Decision:
    """A visitor's look-up by order number and email, matched together (`ask`: the first
    question about an order, which gets a request for both unless it names both).

    The details are read from the message as written (the redacted text hides the email) and
    never stored in the turn's scores; only the count of failed look-ups is."""
    numbers, emails = _order_details(message)
    if ask and not (numbers and emails):
        decision.action = BotTurn.Action.CLARIFY
        decision.reply = answers.order_details_request()
        decision.scores["order_check"] = {"stage": "asked", "attempts": 0}
        return decision
    order = next(
        (
            found
            for number in numbers
            for email in emails
            if (
                found := order_matching_number_and_email(
                    workspace=conversation.workspace, number=number, email=email
                )
            )
            is not None
        ),
        None,
    )
    attempts = (0 if ask else context.order_check_attempts) + 1
    if order is not None:
        decision.records = [answers.order_record(order)]
        decision.scores["order_check"] = {
            "stage": "verified",
            "attempts": attempts,
            "order_id": order.pk,
        }
        return _answer_from_records(decision, settings, [], conversation.workspace.public_key)
    decision.scores["order_check"] = {"stage": "asked", "attempts": attempts}
    if attempts >= MAX_ORDER_CHECKS:
        decision.fired.append(
            Fired(
                triggers.TURN_LIMIT,
                f"{attempts} order look-ups by order number and email found no order",
                {"order_checks": attempts, "limit": MAX_ORDER_CHECKS},
            )
        )
        decision.action = BotTurn.Action.ESCALATE
        decision.trigger = triggers.TURN_LIMIT
        return decision
    decision.action = BotTurn.Action.CLARIFY
    decision.reply = (
        answers.order_details_no_match(MAX_ORDER_CHECKS - attempts)
        if numbers and emails
        else answers.order_details_incomplete()
    )
    return decision


def _order_details(message: Message) -> tuple[list[str], list[str]]:
    """The first order number and email address as the customer wrote them: one pair per
    look-up, so a message listing many guesses is still one try."""
    return _ORDER_NUMBER.findall(message.text)[:1], _EMAIL.findall(message.text)[:1]


def _records_for(customer: Customer, text: str, verified_order_ids: list[int]) -> list[Any]:
    if not customer.is_verified:
        # A visitor sees only the orders they proved are theirs in this conversation.
        if verified_order_ids and (_ORDER_STATUS.search(text) or _ORDER_NUMBER.search(text)):
            return orders_with_ids(workspace=customer.workspace, order_ids=verified_order_ids)
        return []
    numbers = _ORDER_NUMBER.findall(text)
    for number in numbers:
        order = customer_order_by_number(customer=customer, number=number)
        if order is not None:
            return [order]
    if _ORDER_STATUS.search(text):
        return customer_orders(customer=customer, limit=3)
    return []


def _hit_row(hit: Hit) -> dict[str, Any]:
    article = getattr(hit, "article", None)
    return {
        "article_id": hit.article_id,
        "external_id": getattr(article, "external_id", "") or "",
        "title": getattr(article, "title", ""),
        "chunk_id": hit.chunk_id,
        "vector": round(hit.vector_score, 4),
        "keyword": round(hit.keyword_score, 4),
        "fused": round(hit.fused_score, 4),
        # Which passage answers it (answers.quoted_passage) depends on these two.
        "title_similarity": round(hit.title_similarity, 4),
        "passage_similarity": round(hit.passage_similarity, 4),
    }


def _answer(
    decision: Decision,
    settings: BotSettings,
    conversation: Conversation,
    text: str,
    hits: list[Hit],
    is_rejection: bool,
) -> Decision:
    if triggers.asks_if_bot(text):
        decision.reply = answers.disclosure(settings)
        return decision
    if is_rejection:
        decision.action = BotTurn.Action.CLARIFY
        decision.reply = answers.after_rejection()
        return decision
    best = hits[0].fused_score if hits else 0.0
    public_key = conversation.workspace.public_key
    provider = get_chat_provider()
    if decision.records:
        if provider is not None:  # the model answers from the records and the passages
            return _generate(decision, settings, conversation, text, hits, provider)
        return _answer_from_records(decision, settings, hits, public_key)
    if best < settings.clarify_below:
        decision.action = BotTurn.Action.CLARIFY
        decision.reply = answers.clarify(hits)
        decision.sources = answers.sources_for(hits[:2], public_key)
        return decision
    if provider is not None:
        return _generate(decision, settings, conversation, text, hits, provider)
    decision.reply, decision.sources = answers.compose(hits, public_key)
    decision.kind = Message.Kind.ANSWER
    return decision


def _answer_from_records(
    decision: Decision, settings: BotSettings, hits: list[Hit], public_key: str
) -> Decision:
    decision.reply, decision.sources = answers.compose_with_records(
        decision.records, hits, settings, public_key
    )
    decision.kind = Message.Kind.ANSWER
    return decision


# Why a generated answer was not sent, in the words the handoff records.
_UNSENT_REASONS = {
    "leak": "the generated answer repeated its instructions or their marker",
    "contact_not_in_sources": "the generated answer gave a link or address no source gives",
}


def _generate(
    decision: Decision,
    settings: BotSettings,
    conversation: Conversation,
    text: str,
    hits: list[Hit],
    provider: OpenAIChatProvider,
) -> Decision:
    """The LLM provider: only retrieved passages and the customer's records, checked for
    grounding before anything is sent; an ungrounded answer hands off instead."""
    from .generation import generate_answer

    public_key = conversation.workspace.public_key
    sources = generation_sources(hits, public_key, settings.min_retrieval_score)
    records = [answers.record_for_model(r) for r in decision.records]
    try:
        result = generate_answer(
            question=text,
            sources=sources,
            records=records,
            persona=settings.persona_name,
            history=_history(conversation),
            provider=provider,
        )
    except ChatError as exc:
        # The model is unreachable: quote the help centre instead of leaving the customer.
        logger.warning("chat provider failed, answering extractively: %s", exc)
        decision.scores["provider_error"] = str(exc)[:200]
        if decision.records:
            return _answer_from_records(decision, settings, hits, public_key)
        decision.reply, decision.sources = answers.compose(hits, public_key)
        decision.kind = Message.Kind.ANSWER
        return decision
    call = result.call
    decision.provider = provider.name
    decision.prompt_tokens, decision.completion_tokens = call.prompt_tokens, call.completion_tokens
    decision.cost_usd = call.cost_usd
    decision.scores["llm"] = {
        "latency_ms": round(call.latency_ms, 1),
        "attempts": call.attempts,
        "estimated_usage": call.estimated_usage,
    }
    decision.scores["grounding"] = {
        "grounded": result.grounded,
        "reason": result.reason,
        "support": round(result.support, 4),
    }
    if not result.grounded:
        decision.fired.append(
            Fired(
                triggers.LOW_CONFIDENCE,
                _UNSENT_REASONS.get(
                    result.reason,
                    f"the generated answer failed the grounding check ({result.reason})",
                ),
                {"reason": result.reason, "support": round(result.support, 4)},
            )
        )
        decision.action = BotTurn.Action.ESCALATE
        decision.trigger = triggers.LOW_CONFIDENCE
        return decision
    decision.reply = result.text
    decision.sources = [
        {"article_id": s.article_id, "title": s.title, "url": s.url} for s in result.cited
    ]
    decision.kind = Message.Kind.ANSWER
    return decision


def generation_sources(hits: list[Hit], public_key: str, min_score: float) -> list[Any]:
    """The best three passages scoring at least `min_score`, numbered for the chat model."""
    from .generation import Source

    usable = [h for h in hits[:3] if h.fused_score >= min_score]
    return [
        Source(
            number=n,
            article_id=row["article_id"],
            title=row["title"],
            text=answers.plain(_chunk_text(h)),
            url=row["url"] or "",
        )
        for n, (h, row) in enumerate(
            ((h, answers.source_row(h, public_key)) for h in usable), start=1
        )
    ]


def _chunk_text(hit: Hit) -> str:
    chunk = getattr(hit, "chunk", None)
    return chunk.text if chunk is not None else ""


def _history(conversation: Conversation, turns: int = 6) -> list[tuple[str, str]]:
    rows = list(
        conversation.messages.filter(author__in=[Message.Author.CUSTOMER, Message.Author.BOT])
        .order_by("-pk")
        .values_list("author", "redacted_text", "text")[: turns + 1]
    )
    rows = rows[1:]  # the message being answered is the question itself
    return [
        ("customer" if a == Message.Author.CUSTOMER else "assistant", r or t)
        for a, r, t in reversed(rows)
    ]
