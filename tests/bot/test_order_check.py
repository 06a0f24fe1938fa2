"""A visitor who is not signed in asks about an order: the bot asks for the order number and
the email on the order, shows the order only when both match together, never says which one
was wrong, and hands over to a person after three failed look-ups."""

from __future__ import annotations

import pytest

from supportops.bot.models import BotTurn
from supportops.conversations.models import Order
from supportops.conversations.selectors import order_matching_number_and_email
from supportops.conversations.services import customer_get_or_create_verified
from supportops.inbox.models import Handoff
from tests.bot.test_turn import (  # noqa: F401  (fixtures)
    _order,
    help_centre,
    say,
    visitor_conversation,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def chat(visitor_conversation):  # noqa: F811
    """A visitor's conversation (not signed in) with the help centre in place."""
    return visitor_conversation


@pytest.fixture
def shipped(workspace):
    """Dana's shipped order, in the shop's records (not the visitor's: they are anonymous)."""
    dana = customer_get_or_create_verified(
        workspace=workspace, external_id="cust-dana", email="Dana@Example.com"
    )
    return _order(
        dana,
        "TW-20417",
        Order.Status.SHIPPED,
        carrier="DHL",
        tracking_number="JD0146000099",
        tracking_url="https://track.example/JD0146000099",
    )


# --- The selector ---------------------------------------------------------------------------


def test_the_selector_needs_number_and_email_together(workspace, shipped, outsider):
    match = order_matching_number_and_email
    assert match(workspace=workspace, number="tw-20417", email=" dana@example.COM ") == shipped
    assert match(workspace=workspace, number="TW-20417", email="") is None
    assert match(workspace=workspace, number="", email="dana@example.com") is None
    assert match(workspace=workspace, number="TW-20417", email="mallory@example.com") is None
    assert match(workspace=workspace, number="TW-20418", email="dana@example.com") is None
    other = outsider.memberships.first().workspace
    assert match(workspace=other, number="TW-20417", email="dana@example.com") is None


# --- The conversation -----------------------------------------------------------------------


def test_an_order_question_gets_a_request_for_number_and_email_first(chat, shipped):
    turn = say(chat, "Where is my order?")
    assert turn.action == BotTurn.Action.CLARIFY
    assert "order number" in turn.reply.text and "email" in turn.reply.text
    assert turn.records == []
    assert turn.scores["order_check"] == {"stage": "asked", "attempts": 0}


def test_the_number_alone_shows_nothing(chat, shipped):
    turn = say(chat, "Where is my order TW-20417?")
    assert turn.action == BotTurn.Action.CLARIFY
    assert turn.records == []
    assert "JD0146000099" not in turn.reply.text
    turn = say(chat, "It's TW-20417")
    assert turn.records == []
    assert "JD0146000099" not in turn.reply.text
    assert "both the order number and the email" in turn.reply.text


def test_number_and_email_together_show_the_order(chat, shipped):
    say(chat, "Where is my order?")
    turn = say(chat, "TW-20417, dana@example.com")
    assert turn.action == BotTurn.Action.ANSWER
    assert "TW-20417" in turn.reply.text and "JD0146000099" in turn.reply.text
    assert "https://track.example/JD0146000099" in turn.reply.text
    assert turn.records[0]["number"] == "TW-20417"
    # The details themselves are not kept in the turn's scores.
    assert "dana@" not in str(turn.scores) and "TW-20417" not in str(turn.scores)
    # A follow-up about the same order in this conversation needs no second proof.
    turn = say(chat, "When will my order arrive?")
    assert [r["number"] for r in turn.records] == ["TW-20417"]


def test_both_in_the_first_message_is_enough(chat, shipped):
    turn = say(chat, "Has my order TW-20417 shipped? My email is dana@example.com")
    assert turn.action == BotTurn.Action.ANSWER
    assert "JD0146000099" in turn.reply.text


def test_a_wrong_pair_does_not_say_which_half_was_wrong(chat, shipped):
    say(chat, "Where is my order?")
    wrong_email = say(chat, "TW-20417 mallory@example.com")
    wrong_number = say(chat, "TW-20499 dana@example.com")
    for turn in (wrong_email, wrong_number):
        assert turn.action == BotTurn.Action.CLARIFY
        assert turn.records == []
        assert "JD0146000099" not in turn.reply.text
    # The same words for either mistake, apart from the tries left.
    assert wrong_email.reply.text.replace("2 more tries", "N").replace("one more try", "N") == (
        wrong_number.reply.text.replace("2 more tries", "N").replace("one more try", "N")
    )
    assert wrong_email.scores["order_check"] == {"stage": "asked", "attempts": 1}
    assert wrong_number.scores["order_check"] == {"stage": "asked", "attempts": 2}


def test_three_failed_look_ups_go_to_a_person(chat, shipped):
    say(chat, "Where is my order?")
    say(chat, "TW-20417 mallory@example.com")
    say(chat, "TW-20418 mallory@example.com")
    turn = say(chat, "TW-20419 mallory@example.com")
    assert turn.action == BotTurn.Action.ESCALATE
    assert turn.trigger == "turn_limit"
    assert turn.triggers[0]["scores"] == {"order_checks": 3, "limit": 3}
    assert "order look-ups" in turn.triggers[0]["reason"]
    handoff = Handoff.objects.get(conversation=chat)
    assert handoff.trigger == "turn_limit"
    assert chat.status == "handed_off"
    # Even a right pair now is for the person, not the bot.
    assert say(chat, "TW-20417 dana@example.com").action == BotTurn.Action.SKIP


def test_asking_for_a_person_wins_during_the_look_up(chat, shipped):
    say(chat, "Where is my order?")
    turn = say(chat, "I want to talk to a person")
    assert turn.action == BotTurn.Action.ESCALATE
    assert turn.trigger == "explicit_request"


def test_a_new_question_instead_of_the_details_is_answered_normally(chat, shipped):
    say(chat, "Where is my order?")
    turn = say(chat, "How do I reset my password?")
    assert turn.action == BotTurn.Action.ANSWER
    assert "order_check" not in turn.scores
    assert turn.reply.sources[0]["title"] == "How do I reset my password?"


def test_a_message_listing_many_guesses_is_one_try_with_its_first_pair(chat, shipped):
    say(chat, "Where is my order?")
    turn = say(chat, "TW-11111 TW-20417 mallory@example.com dana@example.com")
    assert turn.action == BotTurn.Action.CLARIFY
    assert turn.records == []
    assert turn.scores["order_check"] == {"stage": "asked", "attempts": 1}
