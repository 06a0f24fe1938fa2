"""Cheap, explainable detectors the escalation rules read: explicit requests for a person,
questions about whether the assistant is a bot, and replies that reject the last answer."""

from __future__ import annotations

import re
import unicodedata

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

_PERSON = (
    r"(?:(?:a|an|the|some|one|your|real|live|actual|proper|human|another|other|of|from|"
    r"with|to|your)\s+){0,3}"
    r"(?:human(?:\s+being)?s?|person|people|agent|representative|rep|operator|somebody|someone|"
    r"staff|member\s+of\s+(?:your\s+)?staff|support\s+team|customer\s+(?:service|support|care)|"
    r"advisor|adviser|consultant|manager|supervisor|employee|man|woman|guy)"
)
_EXPLICIT_PATTERNS = [
    # "agent", "HUMAN PLEASE", "a real person!", "operator?"
    re.compile(
        rf"^\s*(?:please\s+)?{_PERSON}\s*(?:please|pls|plz|now|asap|thanks?)?\s*[.!?]*\s*$",
        re.I,
    ),
    # "I want to talk to a real person", "can I speak to someone from your support team"
    re.compile(rf"\b(?:talk|speak|chat|communicate)\w*\s+(?:to|with)\s+{_PERSON}\b", re.I),
    # "connect me to an agent", "transfer me to a human", "put me through to someone"
    re.compile(
        r"\b(?:connect|transfer|put|pass|hand|forward|route|switch|escalate)\w*\s+"
        rf"(?:me|this|it|us)?\s*(?:through|over|on)?\s*(?:to|with)\s+{_PERSON}\b",
        re.I,
    ),
    # "I want a human", "get me an agent", "need a real person"
    re.compile(rf"\b(?:want|need|get|give)\s+(?:me\s+)?{_PERSON}\b", re.I),
    re.compile(r"\b(?:is|are)\s+there\s+(?:a|any)\s+(?:human|real\s+person|person|agent)\b", re.I),
    re.compile(r"\b(?:stop|enough\s+with)\s+(?:the\s+)?(?:bot|robot|machine|ai)\b", re.I),
    re.compile(r"\bnot\s+(?:a|the|this)\s+(?:bot|robot|machine|ai)\b", re.I),
    re.compile(r"\b(?:call|phone|ring)\s+me\b", re.I),
    # Other languages, where it is cheap: German, French, Spanish, Italian, Dutch, Portuguese.
    re.compile(
        r"\b(?:mitarbeiter(?:in)?|mensch(?:en)?|sachbearbeiter|kundendienst|"
        r"humain|conseill(?:er|ère)|un\s+agent|une\s+personne|"
        r"humano|una\s+persona|un\s+agente|operador(?:a)?|asesor(?:a)?|"
        r"operatore|una\s+persona\s+vera|"
        r"medewerker|een\s+mens|"
        r"atendente|um\s+humano|uma\s+pessoa)\b",
        re.I,
    ),
]
# "I don't need a human", "no agent please", "without talking to anyone"
_NEGATED = re.compile(
    r"\b(?:don'?t|do\s+not|no\s+need|never|without|rather\s+not|not\s+(?:need|want))\b"
    r".{0,30}\b(?:human|person|agent|someone|anyone|representative|operator)\b",
    re.I,
)
# Phrases where the person-word is not a request ("user agent", "travel agent", "agent of").
_NOT_A_REQUEST = re.compile(
    r"\b(?:user|travel|estate|secret|shipping|delivery|booking)\s+agents?\b|"
    r"\bperson(?:al|ally|alise|alize)\b|\bpeople\s+(?:can|who|that|in|on|i)\b",
    re.I,
)

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


def _fold(text: str) -> str:
    """Lower-case text without accents, so "operateur" and "opérateur" match alike."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def explicit_request(text: str) -> bool:
    """Does the customer ask for a person (any phrasing, one word, capitals, some languages)?"""
    if _NEGATED.search(text) or _BOT_QUESTION.search(text):
        return False
    cleaned = _NOT_A_REQUEST.sub(" ", text)
    folded = _fold(cleaned)
    return any(p.search(cleaned) or p.search(folded) for p in _EXPLICIT_PATTERNS)


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
    if explicit_request(text) and len(text.split()) <= REQUEST_ONLY_WORDS:
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
