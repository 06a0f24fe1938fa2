"""The "could not understand that" detector: keyboard mash is gibberish, short messages of
real languages (English, German, French, Spanish and others) are not."""

from __future__ import annotations

import pytest

from supportops.text.gibberish import is_gibberish, read


@pytest.mark.parametrize(
    "text",
    [
        "asdkj qwpeo zzz",
        "asdfghjkl",
        "jjjjjjjjjj",
        "sdfsdf sdfsdf",
        "xcvb nmzx",
        "kjsdhf kjshdf lkjsdf",
        "hgfhgf!!",
    ],
)
def test_keyboard_mash_is_gibberish(text):
    assert is_gibberish(text)


@pytest.mark.parametrize(
    "text",
    [
        # English, with and without typos, and chat spelling
        "Where is my order?",
        "wher is my ordr",
        "ok",
        "refund pls",
        "lol",
        # German
        "Wo ist meine Bestellung?",
        "Danke",
        "Rücksendung",
        "Meine Rechnung stimmt nicht",
        # French
        "Où est ma commande ?",
        "Merci",
        "remboursement",
        # Spanish
        "¿Dónde está mi pedido?",
        "Gracias",
        "reembolso por favor",
        # Italian, Dutch, Portuguese
        "ciao",
        "dank je",
        "obrigado",
    ],
)
def test_short_messages_in_real_languages_are_not_gibberish(text):
    assert not is_gibberish(text)


@pytest.mark.parametrize("text", ["TW-100234", "TW-100234 rosa@example.com", "??", "🙂", "42"])
def test_details_and_signs_alone_are_never_gibberish(text):
    assert not is_gibberish(text)
    assert read(text).words == 0


def test_one_real_word_among_mash_is_not_enough():
    assert is_gibberish("asdkj qwpeo order")  # 1 of 3 words known
    assert not is_gibberish("my order kjsdhf")  # 2 of 3 known: a typo, not mash
