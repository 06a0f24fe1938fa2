"""What leaves for a model, and what the transcript keeps.

`for_model` is the one redaction function for everything a model or an external provider
receives: it is the only maker of `integrations.modeltext.ModelText`, the type the chat and
embeddings clients insist on. `mask_secrets` is what a customer's message is stored as:
passwords, PINs, one-time and security codes masked, card numbers cut to their last four
digits, so they are never kept in clear, not even in the customer's own transcript.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable

from supportops.integrations import modeltext
from supportops.integrations.modeltext import ModelText

from .redaction import CARD_SECURITY_CODE, CREDIT_CARD, PASSWORD, PLACEHOLDERS, Span, detect

# Never stored in clear, not even in the customer's own transcript: a chat is no place for them.
SECRET_TYPES = frozenset({PASSWORD, CARD_SECURITY_CODE, CREDIT_CARD})
SECRET_MASK = "••••••"  # noqa: S105 - what a secret is replaced with
_NOT_DIGIT = re.compile(r"\D")


def for_model(text: str, *, keep: Collection[str] = ()) -> ModelText:
    """`text` with every entity `redaction.detect` finds replaced by its placeholder, except
    values in `keep` (what the workspace itself published, such as its help-centre address,
    which a passage may quote)."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    spans = [s for s in detect(text) if text[s.start : s.end] not in keep]
    return modeltext.mint(_replace(text, spans, lambda span, value: _placeholder(span)))


def published_values(texts: Iterable[str]) -> frozenset[str]:
    """The entity values in published text (help-centre passages): public by definition."""
    return frozenset(text[s.start : s.end] for text in texts for s in detect(text))


def mask_secrets(text: str) -> str:
    """`text` as the transcript keeps it: passwords and codes masked, card numbers down to
    their last four digits. Everything else stays as the customer wrote it."""
    spans = [s for s in detect(text) if s.type in SECRET_TYPES]
    return _replace(text, spans, _mask) if spans else text


def _placeholder(span: Span) -> str:
    return PLACEHOLDERS.get(span.type, f"[{span.type}]")


def _mask(span: Span, value: str) -> str:
    if span.type == CREDIT_CARD:
        return f"{SECRET_MASK} {_NOT_DIGIT.sub('', value)[-4:]}"
    return SECRET_MASK


def _replace(text: str, spans: list[Span], replacement: Callable[[Span, str], str]) -> str:
    pieces = []
    cursor = 0
    for span in spans:
        pieces.append(text[cursor : span.start])
        pieces.append(replacement(span, text[span.start : span.end]))
        cursor = span.end
    pieces.append(text[cursor:])
    return "".join(pieces)


modeltext.register_redactor(for_model)
