"""Messages nobody could understand get one request to rephrase per conversation, then a
person; a clear question the help centre does not cover goes to a person at once, the
customer is told why, and the conversation is a knowledge gap."""

from __future__ import annotations

import pytest

from supportops.bot.models import BotTurn
from supportops.conversations.models import Conversation, Message
from supportops.conversations.services import customer_get_or_create_visitor
from supportops.flows import do_agent_reply, do_conversation_start, do_resolve
from supportops.inbox import gaps
from supportops.inbox.models import Handoff
from tests.bot.test_turn import ARTICLES, say

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def conversation(workspace, make_article):
    for title, body in ARTICLES:
        make_article(title=title, body=body)
    customer = customer_get_or_create_visitor(workspace=workspace, visitor_id="g" * 24)
    return do_conversation_start(workspace=workspace, customer=customer).conversation


def test_gibberish_gets_one_request_to_rephrase_and_the_second_goes_to_a_person(conversation):
    first = say(conversation, "asdkj qwpeo zzz")

    assert first.action == BotTurn.Action.CLARIFY
    assert "couldn't make sense of that" in first.reply.text
    assert first.scores["gibberish"]["known"] == 0
    assert conversation.status == Conversation.Status.BOT

    second = say(conversation, "sdfsdf hjkl")

    assert second.action == BotTurn.Action.ESCALATE
    assert second.trigger == "low_confidence"
    assert second.triggers[0]["scores"] == {"gibberish": True, "asked_to_rephrase": 1}
    assert conversation.status == Conversation.Status.HANDED_OFF


def test_the_rephrase_request_is_counted_per_conversation(conversation):
    assert say(conversation, "jjjjjjjjj").action == BotTurn.Action.CLARIFY
    answered = say(conversation, "How do I return an item?")
    assert answered.action == BotTurn.Action.ANSWER

    again = say(conversation, "xcvb nmzx")

    assert again.action == BotTurn.Action.ESCALATE and again.trigger == "low_confidence"


@pytest.mark.parametrize(
    "text", ["Wo ist meine Bestellung?", "¿Dónde está mi pedido?", "Où est ma commande ?"]
)
def test_a_short_question_in_another_language_is_not_taken_for_gibberish(conversation, text):
    turn = say(conversation, text)

    assert "gibberish" not in turn.scores


def test_a_clear_question_the_help_centre_does_not_cover_goes_to_a_person_at_once(
    conversation, teammate
):
    turn = say(conversation, "Do you sponsor amateur sailing clubs in Norway?")

    assert turn.action == BotTurn.Action.ESCALATE and turn.trigger == "low_confidence"
    assert turn.triggers[0]["scores"]["uncovered"] is True
    notice = conversation.messages.filter(kind=Message.Kind.HANDOFF).get()
    assert notice.text.startswith(
        "I don't have an answer to that in our help centre, so I'm passing you to a person"
    )

    do_agent_reply(conversation=conversation, agent=teammate, text="Not at the moment, sorry.")
    do_resolve(conversation=conversation, actor=teammate)
    conversation.refresh_from_db()

    assert gaps.gap_reason(conversation=conversation) == gaps.UNCOVERED
    article = gaps.gap_draft_create(conversation=conversation, actor=teammate)
    assert article.title == "Do you sponsor amateur sailing clubs in Norway?"


def test_a_conversation_handed_off_for_gibberish_is_no_knowledge_gap(conversation, teammate):
    say(conversation, "asdkj qwpeo zzz")
    say(conversation, "sdfsdf hjkl")
    assert Handoff.objects.filter(conversation=conversation).exists()
    do_agent_reply(conversation=conversation, agent=teammate, text="Hi, how can I help?")
    do_resolve(conversation=conversation, actor=teammate)
    conversation.refresh_from_db()

    assert gaps.gap_reason(conversation=conversation) == ""
