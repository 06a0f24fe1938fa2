"""The co-pilot's rules as pure functions: the latest open need, no advice to use the channel
the customer is already on, rewrites that keep every fact, and complete suggested replies."""

from __future__ import annotations

import pytest

from supportops.text.facts import capitalise_sentences, missing_facts
from supportops.text.need import Said, latest_open_need
from supportops.text.replies import is_complete_answer
from supportops.text.same_channel import strip_same_channel


def customer(text: str) -> Said:
    return Said(author="customer", text=text)


def bot(text: str) -> Said:
    return Said(author="bot", text=text)


def agent(text: str) -> Said:
    return Said(author="agent", text=text)


# --- The latest open need ---------------------------------------------------------------------


def test_a_conversation_that_moved_on_has_the_new_need():
    need = latest_open_need(
        [
            customer("Where is my order?"),
            bot("Here is the latest on your order: it ships tomorrow."),
            customer("ok"),
            customer("Also I was charged twice for it on my card"),
        ]
    )

    assert need is not None
    assert need.text == "Also I was charged twice for it on my card"
    assert need.moved_on and need.earlier == ("Where is my order?",)
    assert not need.answered


def test_details_and_rejections_keep_the_need_they_belong_to():
    need = latest_open_need(
        [
            customer("My refund has not arrived yet"),
            bot("Refunds take 5 working days."),
            customer("that didn't help"),
            customer("TW-100234, rosa@example.com"),
            customer("agent please"),
        ]
    )

    assert need is not None and need.text == "My refund has not arrived yet"
    assert need.details == ("TW-100234, rosa@example.com",)
    assert need.answered and not need.moved_on


def test_a_need_the_customer_confirmed_is_closed():
    messages = [
        customer("How do I reset my password?"),
        bot("Use the Forgot password link on the sign-in page."),
        customer("thanks, that worked"),
    ]

    assert latest_open_need(messages) is None
    later = latest_open_need([*messages, customer("And how do I change my email address?")])
    assert later is not None and later.text == "And how do I change my email address?"


def test_no_need_before_the_customer_says_what_they_want():
    assert latest_open_need([bot("Hi, I'm Tide"), customer("are you a bot?")]) is None
    assert latest_open_need([customer("hello"), customer("ok")]) is None


# --- Never the channel the customer is on -----------------------------------------------------

CHAT_ADVICE = (
    "Refunds take 5 working days. If it has not arrived by Friday, reach us by live chat. "
    "You can also chat with us on our website."
)


def test_advice_to_use_the_chat_goes_from_a_chat_reply():
    checked = strip_same_channel(CHAT_ADVICE, "widget")

    assert checked.text == (
        "Refunds take 5 working days. If it has not arrived by Friday, reply here."
    )
    assert len(checked.removed) == 2


@pytest.mark.parametrize(
    "sentence",
    [
        "Contact us via live chat.",
        "Feel free to use the chat widget.",
        "Just open the live chat on our website.",
        "Talk to our support team via chat.",
    ],
)
def test_every_way_of_saying_use_the_chat_is_removed(sentence):
    checked = strip_same_channel(f"Returns are free. {sentence}", "widget")

    assert checked.text == "Returns are free."


def test_chat_advice_stays_in_an_email_and_email_advice_goes():
    text = "Returns are free. Email us at help@tidewell.example for a label. Or chat with us."

    assert strip_same_channel(text, "widget").text == (
        "Returns are free. Email us at help@tidewell.example for a label."
    )
    assert strip_same_channel(text, "email").text == "Returns are free. Or chat with us."
    assert strip_same_channel("If the label is missing, send us an email.", "email").text == (
        "If the label is missing, reply to this email."
    )


def test_a_reply_without_channel_advice_is_unchanged():
    text = "Your order ships today.\n\nThe tracking link follows by email."

    assert strip_same_channel(text, "widget").text == text
    assert strip_same_channel(text, "widget").removed == ()


# --- Rewrites keep every fact ----------------------------------------------------------------

DRAFT = (
    "Hi Rosa, order TW-100234 was charged twice (2 x 49.90 EUR). I'll refund 49.90 EUR "
    "today and you'll see it by Friday 17:00, or at 5 pm on 12 March at the latest."
)


def test_a_rewrite_that_keeps_everything_loses_nothing():
    rewrite = (
        "Dear Rosa, order TW-100234 was charged twice (2 x 49,90 EUR). I will refund "
        "49.90 EUR today; you will see it by 17:00 on Friday, or at 5pm on 12 March at the latest."
    )

    assert missing_facts(DRAFT, rewrite) == []


@pytest.mark.parametrize(
    ("rewrite", "lost"),
    [
        ("Dear Rosa, your order was charged twice. I will refund it today.", "order:100234"),
        (DRAFT.replace("17:00", "soon"), "number:1700"),
        (DRAFT.replace("5 pm", "the afternoon"), "time:5:00pm"),
        (DRAFT.replace("Friday", "the weekend"), "day:friday"),
        (DRAFT.replace("I'll refund", "Refunds take"), "promise:refund"),
        (DRAFT.replace("49.90 EUR today", "today"), "number:4990"),
    ],
)
def test_a_rewrite_that_drops_a_number_a_time_or_a_promise_is_caught(rewrite, lost):
    assert lost in missing_facts(DRAFT, rewrite)


def test_sentences_start_with_a_capital():
    assert capitalise_sentences("we'll send a new valve. it ships today! ok?\nthanks") == (
        "We'll send a new valve. It ships today! Ok?\nThanks"
    )
    assert capitalise_sentences("See e.g. the label. it is free") == (
        "See e.g. the label. It is free"
    )


# --- A suggested reply is a complete answer or nothing ----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Hi Rosa, thanks for waiting.",
        "Hi Rosa, thanks for waiting. Here is what our help centre says in \u201cReturns\u201d:",
        "Hi, thanks for waiting. Here is how to return an item:\n\nTo start a return:",
        "Hi Rosa, thanks for waiting. Let me know if that covers it or if anything is unclear.",
    ],
)
def test_an_introduction_or_boilerplate_is_not_a_complete_answer(text):
    assert not is_complete_answer(text)


def test_a_quoted_answer_is_complete():
    assert is_complete_answer(
        "Hi Rosa, thanks for waiting. Here is what our help centre says in \u201cReturns\u201d:"
        "\n\nStart a return from your order page within 30 days; we email you a free label."
    )
