"""The facts and commitments of a reply, to check that a rewrite kept every one of them.

A tone rewrite may change greetings, contractions and wording, never what the customer was
told: order numbers, amounts, figures, times, dates, days, links, addresses, and what we
promised to do ("I'll check again on Friday"). `missing_facts(original, rewrite)` lists what
the rewrite lost; the co-pilot falls back when it is not empty.
"""

from __future__ import annotations

import re
from collections import Counter

_ORDER = re.compile(r"\b[A-Z]{2,4}-?\d{3,}\b", re.I)
_LINK = re.compile(r"https?://[^\s<>()]+[^\s<>().,;:!?]|[^\s@<>()]+@[^\s@<>()]+\.[A-Za-z]{2,}")
_TIME = re.compile(r"\b(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?\s*m\b\.?", re.I)
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_DAYS = (
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tonight|tomorrow|"
    r"yesterday|weekend|january|february|march|april|june|july|august|september|october|"
    r"november|december|midnight|noon|morning|afternoon|evening"
)
_DAY = re.compile(rf"\b(?:{_DAYS})\b", re.I)
# Promises: "I'll check", "we will refund", "I am going to send", "we'll be in touch".
_PROMISE = re.compile(
    r"\b(?:i|we)\s*(?:'ll|\s+will|\s+shall|\s+am\s+going\s+to|\s+are\s+going\s+to)\s+"
    r"(?:(?:also|then|personally|definitely|certainly|now|again)\s+)?([a-z]+)",
    re.I,
)
_CURRENCY = re.compile(r"[$€£¥]|\b(?:eur|usd|gbp|chf|sek|nok|dkk|pln)\b", re.I)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _found(text: str) -> list[tuple[str, str]]:
    """(normalised fact, as written) for every fact of `text`."""
    text = text.replace("\u2019", "'")
    found: list[tuple[str, str]] = []
    found += [("link:" + m.group(0).lower(), m.group(0)) for m in _LINK.finditer(text)]
    rest = _LINK.sub(" ", text)
    found += [("order:" + _digits(m.group(0)), m.group(0)) for m in _ORDER.finditer(rest)]
    rest = _ORDER.sub(" ", rest)
    for match in _TIME.finditer(rest):
        hour, minute, half = match.groups()
        found.append((f"time:{int(hour)}:{minute or '00'}{half.lower()}m", match.group(0)))
    rest = _TIME.sub(" ", rest)
    found += [("number:" + _digits(m.group(0)), m.group(0)) for m in _NUMBER.finditer(rest)]
    found += [("day:" + m.group(0).lower(), m.group(0)) for m in _DAY.finditer(rest)]
    found += [("currency:" + _currency(m.group(0)), m.group(0)) for m in _CURRENCY.finditer(rest)]
    found += [("promise:" + m.group(1).lower(), m.group(0)) for m in _PROMISE.finditer(rest)]
    return found


def facts(text: str) -> Counter[str]:
    """Every fact of `text`, normalised so a rewrite may write it another way ("17:00" and
    "5 pm" differ, "49,90" and "49.90" do not)."""
    return Counter(key for key, _ in _found(text))


def missing_written(original: str, rewrite: str) -> list[str]:
    """The facts `rewrite` lost, as `original` wrote them ("17:00", "TW-100234")."""
    lost = set(missing_facts(original, rewrite))
    return list(dict.fromkeys(written for key, written in _found(original) if key in lost))


def _currency(symbol: str) -> str:
    return {"$": "usd", "€": "eur", "£": "gbp", "¥": "jpy"}.get(symbol, symbol.lower())


def missing_facts(original: str, rewrite: str) -> list[str]:
    """The facts of `original` that `rewrite` no longer states (as "kind:value")."""
    lost = facts(original) - facts(rewrite)
    return sorted(lost.elements())


def has_fact(text: str) -> bool:
    return bool(facts(text))


_SENTENCE_START = re.compile(r"(^|[.!?]\s+|\n\s*)([a-z])")
_ABBREVIATION = re.compile(r"\b(?:e\.g|i\.e|etc|approx|incl|vs|no|nr)\.\s+$", re.I)


def capitalise_sentences(text: str) -> str:
    """Each sentence starts with a capital ("hi, we'll send it. it ships" -> "Hi, we'll send
    it. It ships"); abbreviations ("e.g. the") are left alone."""

    def upper(match: re.Match[str]) -> str:
        before = text[: match.start(2)]
        if match.group(1).strip() and _ABBREVIATION.search(before):
            return match.group(0)
        return match.group(1) + match.group(2).upper()

    return _SENTENCE_START.sub(upper, text)
