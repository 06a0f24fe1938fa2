"""Cheap, explainable detectors the escalation rules read: explicit requests for a person,
questions about whether the assistant is a bot, and replies that reject the last answer."""

from __future__ import annotations

import re

import numpy as np

from . import person_request
from .person_request import RequestCheck

# Trigger families, in the order they are checked: the first that fires is the reason
# recorded as the handoff's trigger (all that fired are stored with their scores).
EXPLICIT_REQUEST = "explicit_request"
HIGH_STAKES = "high_stakes"
TURN_LIMIT = "turn_limit"
FRUSTRATION = "frustration"
VIP = "vip"
LOW_CONFIDENCE = "low_confidence"
# The live rollout phase does not let the bot handle the message's category (rollout app).
CATEGORY_NOT_ENABLED = "category_not_enabled"
TRIGGER_ORDER = (
    EXPLICIT_REQUEST,
    HIGH_STAKES,
    TURN_LIMIT,
    FRUSTRATION,
    VIP,
    CATEGORY_NOT_ENABLED,
    LOW_CONFIDENCE,
)
# Hand-offs decided before the bot looks at the message: the customer is in the rollout's
# control group (human-only support), or wrote on a channel the assistant does not answer.
CONTROL = "control"
CHANNEL = "channel"
# A short "talk to a person" says nothing about the problem; a long one may describe it.
REQUEST_ONLY_WORDS = 8

_BOT_QUESTION = re.compile(
    r"\b(?:are|r)\s+(?:you|u)\s+(?:a|an)?\s*(?:real\s+)?(?:bot|robot|machine|ai|"
    r"artificial|computer|program|chat\s*bot|human|real\s+person|person)\b|"
    r"\b(?:am\s+i\s+(?:talking|speaking|chatting)\s+(?:to|with)\s+(?:a|an)\s+"
    r"(?:bot|robot|machine|ai|human|real\s+person|person))\b|"
    r"\bis\s+this\s+(?:a|an)\s+(?:bot|robot|ai|automated|real\s+person|human)\b",
    re.I,
)

_REJECTION = re.compile(
    r"^\s*(?:no|nope|nah|wrong|not\s+(?:really|helpful|it|that)|"
    r"(?:that|this|it)(?:'s|\s+is|\s+was)?\s+(?:(?:did|does|do)\s*n[o']?t|not|still\s+not|"
    r"wrong|useless|not\s+helpful|unhelpful)|"
    r"(?:it|that|this)?\s*(?:still\s+)?(?:does|did|do|is|isn'?t|doesn'?t|didn'?t)\s*"
    r"(?:n[o']?t)?\s*(?:work|working|help|helping|helped|fix|solve)|"
    r"still\s+(?:not|doesn'?t|does\s+not|broken|the\s+same|same|nothing|no)|"
    r"same\s+(?:error|problem|issue|thing)|"
    r"(?:that|this)\s+(?:isn'?t|is\s+not|wasn'?t)\s+(?:it|what|my)|"
    r"(?:didn'?t|doesn'?t|did\s+not|does\s+not)\s+(?:work|help|answer))\b",
    re.I,
)
_WORDS = re.compile(r"[^\W\d_]+", re.UNICODE)


def explicit_request_check(text: str, *, vector: np.ndarray | None = None) -> RequestCheck:
    """Does the customer ask for a person, and on what evidence (`person_request`)?

    `vector` is the message's embedding where the caller has it (the bot turn does); without
    it a message no rule matches is embedded here (cached)."""
    return person_request.check(text, vector=vector)


def explicit_request(text: str, vector: np.ndarray | None = None) -> bool:
    """Does the customer ask for a person (any phrasing, typos, chat spelling, six more
    languages, inside a longer message)?"""
    return explicit_request_check(text, vector=vector).matched


def asks_if_bot(text: str) -> bool:
    return bool(_BOT_QUESTION.search(text))


def rejects_answer(text: str) -> bool:
    """A short follow-up that says the last answer did not help ("that didn't work")."""
    return len(_WORDS.findall(text)) <= 14 and bool(_REJECTION.search(text))


def names_a_need(text: str, *, rejection: bool | None = None) -> bool:
    """Does a customer message say what they came for? Not a bare request for a person
    ("agent please", up to REQUEST_ONLY_WORDS words), not "that didn't help" (`rejection`,
    where the bot turn already decided it), not "are you a bot?". The handoff packet and
    the co-pilot read the customer's question with this one rule."""
    if rejects_answer(text) if rejection is None else rejection:
        return False
    if len(text.split()) <= REQUEST_ONLY_WORDS and _asks_for_a_person(text):
        return False
    return not asks_if_bot(text)


# "thanks, that worked", "yes that fixed it", "perfect, sorted", "all good now, cheers".
_CONFIRMATION = re.compile(
    r"\b(?:(?:that|this|it)(?:'s|\s+has|\s+is)?\s+(?:(?:all\s+)?(?:worked|works|working|"
    r"fixed|solved|sorted|resolved|did\s+it|did\s+the\s+trick|helped|answers?\s+it|"
    r"answered\s+(?:it|my\s+question))|"
    r"(?:exactly\s+)?what\s+i\s+(?:needed|was\s+looking\s+for))|"
    r"(?:problem|issue)\s+(?:is\s+)?(?:solved|fixed|sorted|resolved|gone)|"
    r"(?:all\s+)?(?:sorted|solved|fixed|resolved)\s+(?:now|it|that)|"
    r"(?:works|working)\s+now|all\s+good(?:\s+now)?|got\s+it\s+working|"
    r"(?:that|this)\s+(?:was|is)\s+(?:(?:very|really|super)\s+)?(?:helpful|useful)|"
    r"perfect|brilliant|excellent|awesome|great\s+(?:thanks|thank\s+you|help)|"
    r"(?:thanks?|thank\s+you|thx|cheers|ty),?\s+(?:that|this|it)\s+"
    r"(?:worked|works|helped|did\s+it|fixed\s+it|solved\s+it|sorted\s+it)|"
    r"yes,?\s+(?:that|this|it)\s+(?:worked|works|helped|fixed|solved|did))\b",
    re.I,
)
# A confirmation word under a negation or a doubt is not one: "that hasn't fixed it",
# "not perfect", "it worked before but...", "did that fix it?".
_CONFIRMATION_DENIED = re.compile(
    r"\b(?:not|never|no\s+longer|hasn'?t|haven'?t|hadn'?t|didn'?t|doesn'?t|don'?t|isn'?t|"
    r"wasn'?t|won'?t|can'?t|cannot|couldn'?t|nothing|neither|nor|still|but|however|"
    r"except|unless|until|anymore|any\s+more|before|used\s+to)\b|\?",
    re.I,
)
CONFIRMATION_MAX_WORDS = 14


def confirms_answer(text: str) -> bool:
    """A short follow-up that says the last answer solved it ("thanks, that worked").

    Vague acknowledgements ("ok", "hmm", "thanks", "I'll try that") are not confirmations:
    they say the answer was read, not that it worked. Anything negated, doubted or asked
    ("that didn't fix it", "perfect, but...", "did that work?") is not one either."""
    if len(_WORDS.findall(text)) > CONFIRMATION_MAX_WORDS:
        return False
    if _CONFIRMATION_DENIED.search(text) or rejects_answer(text):
        return False
    return bool(_CONFIRMATION.search(text))


_ACKNOWLEDGEMENT = re.compile(
    r"^\s*(?:(?:ok(?:ay)?|k|kk|hm+|hmm+|mhm|uh\s*huh|alright|right|sure|i\s+see|got\s+it|"
    r"noted|cool|fine|thanks?|thank\s+you|thx|ty|cheers|will\s+do|(?:i'?ll|let\s+me|i\s+will)"
    r"\s+(?:try|check|look\s+at)\s+(?:that|this|it)(?:\s+out)?|understood)[\s,.!]*)+$",
    re.I,
)


def acknowledges(text: str) -> bool:
    """A bare acknowledgement ("ok", "hmm", "thanks", "I'll try that"): the customer read
    the answer, and says nothing about whether it worked or what else they need."""
    return bool(_ACKNOWLEDGEMENT.match(text)) and not confirms_answer(text)


def _asks_for_a_person(text: str) -> bool:
    from supportops.integrations.embeddings import EmbeddingError

    try:
        return explicit_request(text)
    except EmbeddingError:  # the rules alone, when the embedding provider is down
        return person_request.rules(text).rule is not None
