"""Never tell a customer to reach us by the channel they are already using.

Help-centre passages and earlier answers say "chat with us" or "email us at help@...": quoted
into a reply on that same channel, they send the customer in a circle. `strip_same_channel`
is the post-check every drafted reply passes: a sentence that only gives such advice is
dropped; one that makes it conditional ("If it has not arrived by Friday, reach us by live
chat.") keeps its condition and says "reply here" (chat) or "reply to this email" instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CHAT = "widget"
EMAIL = "email"
_US = r"(?:us|our\s+(?:support\s+)?team|our\s+support|our\s+agents?|customer\s+service)"
_CHAT_NOUN = r"(?:live[\s-]?chat|chat)(?:\s+(?:widget|window|button|box|service))?"
_SITE = r"(?:\s+(?:on|at|via)\s+(?:our|the)\s+(?:web\s*site|site|app|help\s+centre|help\s+center))?"
_ADDRESS = r"[^\s@]+@[^\s@]+\.[A-Za-z]{2,}"
_ADVICE = {
    CHAT: re.compile(
        rf"(?:(?:contact|reach|message|get\s+in\s+touch\s+with|talk\s+to|speak\s+(?:to|with)|"
        rf"ask|write\s+to)\s+{_US}\s+(?:via|by|through|over|on|in|using)\s+(?:our\s+|the\s+|a\s+)?"
        rf"{_CHAT_NOUN}{_SITE}"
        rf"|(?:live[\s-]?)?chat\s+(?:with\s+{_US}|to\s+{_US}){_SITE}"
        rf"|(?:use|open|start|try|click)\s+(?:the|our|a)\s+{_CHAT_NOUN}{_SITE}"
        rf"|(?:via|by|through|over|in|on)\s+(?:our\s+|the\s+)?live[\s-]?chat{_SITE})",
        re.I,
    ),
    EMAIL: re.compile(
        rf"(?:(?:contact|reach|message|write\s+to|get\s+in\s+touch\s+with)\s+{_US}\s+"
        rf"(?:(?:by|via|through|over)\s+e-?mail(?:\s+at\s+{_ADDRESS})?|at\s+{_ADDRESS})"
        rf"|(?:send|drop|shoot|write)\s+(?:us|{_US})\s+an?\s+e-?mail(?:\s+(?:at|to)\s+{_ADDRESS})?"
        rf"|e-?mail\s+(?:us|{_US})(?:\s+at\s+{_ADDRESS})?"
        rf"|(?:write|send\s+it|send\s+them)\s+to\s+{_ADDRESS}"
        rf"|(?:via|by)\s+e-?mail\s+(?:at|to)\s+{_ADDRESS})",
        re.I,
    ),
}
_INSTEAD = {CHAT: "reply here", EMAIL: "reply to this email"}
_CONDITIONAL = re.compile(
    r"^\s*(?:if|should|when|whenever|once|unless|in\s+case|as\s+soon\s+as|after)\b", re.I
)
# Sentence ends (not the dot of "e.g." or of an address), or line breaks.
_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"“(•])|\n")


@dataclass(frozen=True)
class Checked:
    text: str
    removed: tuple[str, ...]  # the sentences that were dropped or rewritten, as they were


def _pieces(text: str) -> list[tuple[str, str]]:
    """(sentence, the separator that followed it) in order, so the text can be put back."""
    out: list[tuple[str, str]] = []
    start = 0
    for match in _SENTENCES.finditer(text):
        out.append((text[start : match.start()], match.group(0)))
        start = match.end()
    out.append((text[start:], ""))
    return out


def strip_same_channel(text: str, channel: str) -> Checked:
    """`text` without advice to contact us by `channel` ("widget" or "email")."""
    advice = _ADVICE.get(channel)
    if advice is None or not advice.search(text):
        return Checked(text, ())
    kept: list[str] = []
    removed: list[str] = []
    for sentence, separator in _pieces(text):
        if not advice.search(sentence):
            kept.append(sentence + separator)
            continue
        removed.append(sentence.strip())
        if _CONDITIONAL.match(sentence):
            kept.append(advice.sub(_INSTEAD[channel], sentence) + separator)
        elif separator == "\n":
            kept.append(separator)  # the line is dropped, the paragraph break stays
    result = re.sub(r"[ \t]+\n", "\n", "".join(kept))
    result = re.sub(r"\n{3,}", "\n\n", result).strip()
    return Checked(result, tuple(removed))
