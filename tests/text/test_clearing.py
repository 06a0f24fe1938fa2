"""Secrets and identity documents are found; the one redaction function for models
(`clearing.for_model`) makes the only text a provider client accepts; the transcript keeps
secrets masked. Every example is written for this file."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from supportops.integrations import modeltext
from supportops.integrations.llm import OpenAIChatProvider
from supportops.integrations.modeltext import ModelText, UnredactedText
from supportops.text.clearing import SECRET_MASK, for_model, mask_secrets, published_values
from supportops.text.redaction import detect

ROOT = Path(__file__).resolve().parents[2] / "supportops"


def found(text: str) -> list[tuple[str, str]]:
    return [(s.type, text[s.start : s.end]) for s in detect(text)]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("my password is Lantern-88!", "PASSWORD", "Lantern-88"),
        ('I set the password to "moss and pebbles"', "PASSWORD", "moss and pebbles"),
        ("new password: Qx7#fellwalk", "PASSWORD", "Qx7#fellwalk"),
        ("the old passcode was 271828", "PASSWORD", "271828"),
        ("PIN 5093 for the gift card", "PASSWORD", "5093"),
        ("the verification code is 640118", "PASSWORD", "640118"),
        ("my memorable word is heron", "PASSWORD", "heron"),
        (
            "api key sk-live-9f8e7d6c5b4a39281706ffee",
            "PASSWORD",
            "sk-live-9f8e7d6c5b4a39281706ffee",
        ),
        ("expiry 09/28, CVV 417", "CARD_SECURITY_CODE", "417"),
        ("the three digits on the back are 082", "CARD_SECURITY_CODE", "082"),
        ("security code: 3391", "CARD_SECURITY_CODE", "3391"),
        ("I was born on 14 February 1987", "DATE_OF_BIRTH", "14 February 1987"),
        ("DOB 07/11/1979", "DATE_OF_BIRTH", "07/11/1979"),
        ("date of birth: 1991-06-30", "DATE_OF_BIRTH", "1991-06-30"),
        ("birthday is March 3rd, 2001", "DATE_OF_BIRTH", "March 3rd, 2001"),
        ("passport number K4471920", "PASSPORT_NUMBER", "K4471920"),
        ("passport no. 710 455 391", "PASSPORT_NUMBER", "710 455 391"),
        ("driving licence number HOLLA607229JB8QX", "ID_NUMBER", "HOLLA607229JB8QX"),
    ],
)
def test_secrets_and_documents_are_found_by_what_the_customer_says_they_are(text, kind, value):
    assert (kind, value) in found(text), found(text)


@pytest.mark.parametrize(
    "text",
    [
        "My password is wrong and I can't log in",
        "I forgot my password yesterday",
        "the verification code never arrived",
        "my passport is expired, can I still collect?",
        "the last 4 digits are 4242",
        "order TW-552018 was placed on 2025-03-02 and arrived 12/03/2025",
        "Social security number: 078 05 1120",
        "security code is wrong",
    ],
)
def test_words_about_a_secret_and_ordinary_dates_are_left_alone(text):
    kinds = {kind for kind, _ in found(text)}
    assert not kinds & {"PASSWORD", "CARD_SECURITY_CODE", "DATE_OF_BIRTH", "PASSPORT_NUMBER"}


def test_the_transcript_masks_secrets_and_keeps_the_last_four_digits_of_a_card():
    text = (
        "Card 4539 1488 0343 6467, CVC 902, and my password is Fjord!2024. "
        "Mail me at ola@fjell.example"
    )

    masked = mask_secrets(text)

    assert "4539 1488 0343 6467" not in masked and f"{SECRET_MASK} 6467" in masked
    assert "902" not in masked and "Fjord!2024" not in masked
    assert "ola@fjell.example" in masked  # not a secret: the customer's view keeps it


def test_for_model_redacts_everything_and_returns_the_only_type_a_provider_takes():
    cleared = for_model("I'm Greta Lindqvist, greta@lind.example, born on 2 May 1990, PIN 8812")

    assert isinstance(cleared, ModelText)
    assert "greta@lind.example" not in cleared and "8812" not in cleared
    assert "[EMAIL]" in cleared and "[DATE_OF_BIRTH]" in cleared and "[PASSWORD]" in cleared


def test_what_the_workspace_published_is_kept_wherever_it_appears():
    passage = "Questions? Write to care@fellside.example and we reply within a day."
    public = published_values([passage])

    assert for_model(passage, keep=public) == passage
    assert "care@fellside.example" in for_model("I wrote to care@fellside.example", keep=public)
    assert "[EMAIL]" in for_model("I am at me@home.example", keep=public)


def test_text_built_by_hand_from_cleared_parts_is_no_longer_cleared():
    cleared = for_model("Where is my order?")

    assert not isinstance(cleared + " Also: jan@x.example", ModelText)
    assert not isinstance(f"{cleared}", ModelText)
    with pytest.raises(UnredactedText):
        modeltext.join(" ", [cleared, "jan@x.example"])  # type: ignore[list-item]
    with pytest.raises(UnredactedText):
        ModelText("jan@x.example")


def test_the_chat_client_refuses_content_that_did_not_pass_the_redaction_function():
    # Nothing listens on this port: a refused message must fail before any request is made.
    provider = OpenAIChatProvider(
        base_url="http://127.0.0.1:9/v1", model="m", api_key="k", timeout=0.1
    )

    with pytest.raises(UnredactedText, match=r"messages\[1\]\.content"):
        provider.complete(
            messages=[
                {"role": "system", "content": modeltext.fixed("Answer briefly.")},
                {"role": "user", "content": "my card is 4539 1488 0343 6467"},  # type: ignore[typeddict-item]
            ]
        )


def _calls(path: Path, name: str) -> list[ast.Call]:
    tree = ast.parse(path.read_text())
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Attribute) and node.func.attr == name)
            or (isinstance(node.func, ast.Name) and node.func.id == name)
        )
    ]


def test_only_the_redaction_function_mints_cleared_text():
    minting = sorted(
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if path.name != "modeltext.py" and _calls(path, "mint")
    )
    assert minting == ["text/clearing.py"]


def _is_product_text(node: ast.expr) -> bool:
    """A string written in the code: a literal, or a module constant in capitals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    return isinstance(node, ast.Name) and node.id.lstrip("_").isupper()


def test_fixed_text_is_only_ever_text_written_in_the_code():
    offenders = [
        f"{path.relative_to(ROOT)}:{call.lineno}"
        for path in ROOT.rglob("*.py")
        if path.name != "modeltext.py"
        for call in _calls(path, "fixed")
        if not (len(call.args) == 1 and _is_product_text(call.args[0]))
    ]
    assert offenders == []
