"""What a model or an external provider may receive: `ModelText`, and only that.

Personal data must never reach a model unredacted (DESIGN, "The bot turn" 3), whoever
builds the prompt. So the one gate is a type, checked where text leaves the process:

- `ModelText` is a `str` that went through the one redaction function,
  `supportops.text.redaction.for_model` (the only caller of `mint`, which
  tests/text/test_model_text.py checks), or that the product's own code wrote (`fixed`:
  instructions, block tags). Any string operation on it (an f-string, `+`, `.replace`)
  gives a plain `str` again, so a prompt assembled by hand from unchecked parts is not one;
  `join` and `compose` assemble a prompt from parts that all are.
- The chat client (`llm.OpenAIChatProvider.complete`) refuses a message whose content is
  not a `ModelText` (`UnredactedText`, a programming error, never sent).
- The embeddings client (`embeddings.OpenAIEmbedder`) sends each text through `clear`, the
  same redaction function, unless it already is a `ModelText`: texts to embed come from
  many places (articles, category examples and imported tickets, questions, answers).

This module sits below the text package, so the redaction function registers itself here
when `supportops.text.redaction` is imported (the conversations app imports it at start-up);
with none registered, `clear` refuses rather than send anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

_MINT = object()


class UnredactedText(TypeError):
    """Text that did not pass the redaction function was about to reach a model."""


class ModelText(str):
    """A string cleared for a model or an external provider (see the module docstring)."""

    __slots__ = ()

    def __new__(cls, value: str, *, _mint: object = None) -> ModelText:
        if _mint is not _MINT:
            raise UnredactedText(
                "ModelText comes from supportops.text.redaction.for_model (or fixed() for "
                "the product's own instructions), not from the constructor"
            )
        return super().__new__(cls, value)


def mint(text: str) -> ModelText:
    """Mark redacted text as cleared: for `supportops.text.redaction` only."""
    return ModelText(text, _mint=_MINT)


def fixed(text: str) -> ModelText:
    """Text written into the product's code (instructions, tags), never user data."""
    return ModelText(text, _mint=_MINT)


def require(value: object, what: str) -> ModelText:
    if not isinstance(value, ModelText):
        raise UnredactedText(
            f"{what} did not pass the redaction function (supportops.text.redaction.for_model)"
        )
    return value


def join(separator: str, parts: Iterable[ModelText]) -> ModelText:
    """`separator.join(parts)`, where every part is cleared and the separator is fixed."""
    checked = [require(part, "a part of the prompt") for part in parts]
    return ModelText(fixed(separator).join(checked), _mint=_MINT)


def compose(template: ModelText, **parts: ModelText) -> ModelText:
    """`template.format(**parts)`: a fixed template filled with cleared parts only."""
    require(template, "the template")
    for name, part in parts.items():
        require(part, f"the part {name!r}")
    return ModelText(template.format(**parts), _mint=_MINT)


Redactor = Callable[[str], ModelText]
_redactor: Redactor | None = None


def register_redactor(redactor: Redactor) -> None:
    global _redactor
    _redactor = redactor


def clear(text: str) -> ModelText:
    """`text` through the registered redaction function (a `ModelText` passes as it is)."""
    if isinstance(text, ModelText):
        return text
    if _redactor is None:
        raise UnredactedText("no redaction function is registered; nothing is sent")
    return require(_redactor(text), "the redactor's output")
