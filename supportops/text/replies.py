"""Is a suggested reply a complete answer, or only its wrapping?

The handoff packet offers a reply the person can send; it must answer something. An
introduction that ends with a colon ("Here is how to return an item:") whose steps were cut
off, or an opener made only of courtesies ("Hi Rosa, thanks for waiting. Let me know if
anything is unclear."), is not offered at all: the person writes the reply instead.
"""

from __future__ import annotations

import re

MIN_CONTENT_WORDS = 6
_BOILERPLATE = re.compile(
    r"^(?:(?:hi|hello|hey|dear)\b[^.!?\n]*[,!.]?\s*)?(?:"
    r"thanks?(?:\s+you)?\s+(?:for\s+(?:waiting|your\s+patience|getting\s+in\s+touch|"
    r"your\s+message|reaching\s+out))?|"
    r"let\s+me\s+know\s+if\s+.*|just\s+reply\s+here.*|hope\s+(?:that|this)\s+helps.*|"
    r"i(?:'m|\s+am)\s+from\s+the\s+support\s+team.*|"
    r"(?:best|kind)?\s*regards|many\s+thanks|cheers"
    r")[.!,]*$",
    re.I,
)
_GREETING_ONLY = re.compile(r"^(?:hi|hello|hey|dear)\b[^.!?\n]{0,40}[,!.]?$", re.I)
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[^\W_]+")
_INTRO_END = re.compile(r":[\s\"'\u201d\u2019)]*$")


def content_sentences(text: str) -> list[str]:
    """The sentences of `text` that are not greetings, thanks or sign-offs."""
    sentences = [s.strip() for s in _SENTENCES.split(text or "") if s.strip()]
    return [s for s in sentences if not (_BOILERPLATE.match(s) or _GREETING_ONLY.match(s))]


def is_complete_answer(text: str) -> bool:
    """True when `text` says something of substance and does not stop at an introduction."""
    text = (text or "").strip()
    if not text:
        return False
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    content = content_sentences(text)
    if not content or _INTRO_END.search(content[-1]):
        return False
    if any(_INTRO_END.search(line) for line in lines[-1:]):
        return False
    return sum(len(_WORD.findall(s)) for s in content) >= MIN_CONTENT_WORDS
