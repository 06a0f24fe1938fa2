"""The customer's latest open need: what a person (or the co-pilot) should answer now.

One rule, shared by the handoff packet (its suggested reply and summary) and the co-pilot
(its drafts and summaries), so both answer the same question:

- A customer message *names a need* when `triggers.names_a_need` says so (not "agent please",
  not "that didn't help", not "are you a bot?"), it is not a bare acknowledgement or a
  confirmation ("ok", "thanks, that worked"), and it has at least `MIN_WORDS` words once order
  numbers, email addresses, links and figures are taken out ("TW-100234, rosa@example.com"
  is a detail for the need before it, not a need of its own).
- A need is *closed* when someone replied after it (the assistant or a person) and the
  customer then confirmed that it worked, before raising anything else.
- The latest open need is the last need that is not closed; the customer messages after it
  that name no need of their own are its details. A conversation that began with "Where is
  my order?" and moved on to "I was charged twice" has the double charge as its open need.

Pure: it reads a list of `Said` (author, text as models read it) and nothing else. (The
outcome ledger's "same need", `analytics/need.py`, compares what a conversation was about
at its start: another question.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from . import triggers

CUSTOMER = "customer"
REPLIERS = ("bot", "agent")
MIN_WORDS = 2
_NOT_WORDS = re.compile(
    r"https?://\S+|www\.\S+|[^\s@]+@[^\s@]+\.\w+|\b[A-Z]{2,4}-?\d{3,}\b|\S*\d\S*", re.I
)
_WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class Said:
    """One message: `author` is "customer", "bot", "agent" or "system"; `text` as models
    read it (redacted); `rejection` what the bot turn decided about it, if it did."""

    author: str
    text: str
    key: Any = None  # the message id, handed back
    rejection: bool | None = None


@dataclass(frozen=True)
class Need:
    key: Any  # the message that raised it
    text: str
    index: int  # its position in the messages read
    details: tuple[str, ...] = ()  # later customer messages that add to it
    earlier: tuple[str, ...] = field(default=())  # needs raised before it (closed or not)
    answered: bool = False  # someone replied after the need was raised

    @property
    def moved_on(self) -> bool:
        """The customer raised something else before this need."""
        return bool(self.earlier)


def names_a_need(said: Said) -> bool:
    text = said.text.strip()
    if said.author != CUSTOMER or not text:
        return False
    if len(_WORD.findall(_NOT_WORDS.sub(" ", text))) < MIN_WORDS:
        return False
    if triggers.acknowledges(text) or triggers.confirms_answer(text):
        return False
    return triggers.names_a_need(text, rejection=said.rejection)


def latest_open_need(messages: Sequence[Said]) -> Need | None:
    """The last need the customer raised that nobody has settled yet; None when the customer
    has named none, or confirmed that the last one was solved."""
    needs: list[int] = []
    closed: set[int] = set()
    replied_since = False
    for i, said in enumerate(messages):
        if said.author in REPLIERS:
            replied_since = bool(needs)
        elif said.author == CUSTOMER:
            if names_a_need(said):
                needs.append(i)
                replied_since = False
            elif needs and replied_since and triggers.confirms_answer(said.text):
                closed.add(needs[-1])
    open_needs = [i for i in needs if i not in closed]
    if not open_needs:
        return None
    index = open_needs[-1]
    later = messages[index + 1 :]
    details = tuple(
        s.text.strip()
        for s in later
        if s.author == CUSTOMER
        and s.text.strip()
        and not triggers.acknowledges(s.text)
        and not triggers.confirms_answer(s.text)
        and triggers.names_a_need(s.text, rejection=s.rejection)
    )
    return Need(
        key=messages[index].key,
        text=messages[index].text.strip(),
        index=index,
        details=details,
        earlier=tuple(messages[i].text.strip() for i in needs if i < index),
        answered=any(s.author in REPLIERS for s in later),
    )
