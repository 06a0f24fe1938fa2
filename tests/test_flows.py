"""The flows that cross apps (supportops/flows.py): the bot's turn is claimed, computed with
no lock held and applied once; hand-offs, reopens and conversations without the assistant."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from supportops.bot.models import BotTurn
from supportops.bot.turn import TurnWaiting, bot_turn_claim
from supportops.conversations.models import Conversation, Message
from supportops.conversations.services import customer_get_or_create_visitor
from supportops.flows import (
    do_agent_reply,
    do_bot_turn,
    do_conversation_start,
    do_customer_end,
    do_customer_message,
    do_hand_off,
    do_resolve,
)
from supportops.inbox.models import Handoff
from tests.conftest import wait_for
from tests.standins import fixtures
from tests.standins.chat_completions import Reply

chat_server = fixtures.chat_server
llm = fixtures.llm

QUESTION = "How do I reset my password?"
ANSWER_BODY = (
    "Open Settings, choose Security and press Reset password. We email you a link that works "
    "for one hour."
)


def start(workspace, visitor: str = "v" * 20) -> Conversation:
    customer = customer_get_or_create_visitor(workspace=workspace, visitor_id=visitor)
    return do_conversation_start(workspace=workspace, customer=customer).conversation


def ask(conversation: Conversation, text: str = QUESTION) -> Message:
    return do_customer_message(conversation=conversation, text=text, queue_bot=False).message


def bot_replies_after(message: Message) -> int:
    return Message.objects.filter(
        conversation_id=message.conversation_id,
        pk__gt=message.pk,
        author=Message.Author.BOT,
    ).count()


@pytest.mark.django_db
def test_a_turn_left_by_a_dead_worker_is_taken_over_once_its_claim_goes_stale(
    workspace, make_article
):
    make_article(title=QUESTION, body=f"{QUESTION}\n\n{ANSWER_BODY}")
    message = ask(start(workspace))
    dead = bot_turn_claim(message_id=message.pk)  # a worker claims it, then is killed
    assert dead.turn is not None and dead.turn.status == BotTurn.Status.PENDING

    assert do_bot_turn(message_id=message.pk) is None  # the claim is fresh: hands off
    assert bot_replies_after(message) == 0

    BotTurn.objects.filter(pk=dead.turn.pk).update(claimed_at=timezone.now() - timedelta(minutes=2))
    turn = do_bot_turn(message_id=message.pk)
    assert turn is not None and turn.status == BotTurn.Status.DONE
    assert turn.action == BotTurn.Action.ANSWER and turn.attempts == 2
    assert do_bot_turn(message_id=message.pk).pk == turn.pk  # and it stays decided
    assert bot_replies_after(message) == 1


@pytest.mark.django_db
def test_a_later_message_waits_for_an_earlier_one_of_the_same_burst(workspace, make_article):
    make_article(title=QUESTION, body=f"{QUESTION}\n\n{ANSWER_BODY}")
    conversation = start(workspace)
    first, second = ask(conversation), ask(conversation, "and can I change my email too?")
    with pytest.raises(TurnWaiting):
        do_bot_turn(message_id=second.pk)
    assert not BotTurn.objects.filter(message=second).exists()
    do_bot_turn(message_id=first.pk)
    assert do_bot_turn(message_id=second.pk) is not None


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_message_send_one_reply(workspace, make_article):
    make_article(title=QUESTION, body=f"{QUESTION}\n\n{ANSWER_BODY}")
    message = ask(start(workspace))
    results: list[object] = []

    def work() -> None:
        try:
            results.append(do_bot_turn(message_id=message.pk))
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert len(results) == 2
    assert BotTurn.objects.filter(message=message).count() == 1
    assert bot_replies_after(message) == 1


@pytest.mark.django_db(transaction=True)
def test_the_conversation_is_not_locked_while_the_model_answers(llm, workspace, make_article):
    """A slow model must not hold the conversation: the customer's "Talk to a person" goes
    through at once, and the late answer is recorded but never sent."""
    make_article(title=QUESTION, body=f"{QUESTION}\n\n{ANSWER_BODY}")
    llm.enqueue(Reply(text=ANSWER_BODY + " [1]", delay_s=3.0))
    conversation = start(workspace)
    message = ask(conversation)
    done: list[BotTurn | None] = []

    def work() -> None:
        try:
            done.append(do_bot_turn(message_id=message.pk))
        finally:
            connection.close()

    worker = threading.Thread(target=work)
    worker.start()
    wait_for(lambda: llm.requests, timeout=30)  # the turn now waits for the model
    with transaction.atomic():
        locked = Conversation.objects.select_for_update(nowait=True).get(pk=conversation.pk)
        assert locked.status == Conversation.Status.BOT
    handoff = do_hand_off(
        conversation=conversation,
        trigger="explicit_request",
        reason="customer pressed Talk to a person",
    )
    assert handoff is not None
    assert not done, "the hand-off had to wait for the model"
    worker.join(timeout=60)

    turn = done[0]
    assert turn is not None and turn.action == BotTurn.Action.SKIP
    assert turn.scores["superseded"] == {"status": "handed_off", "action": "answer"}
    notice = Message.objects.get(conversation=conversation, kind=Message.Kind.HANDOFF)
    assert bot_replies_after(notice) == 0


@pytest.mark.django_db
def test_a_second_hand_off_returns_the_open_one(workspace):
    conversation = start(workspace)
    ask(conversation, "I want a person")
    first = do_hand_off(conversation=conversation, trigger="explicit_request", reason="asked")
    second = do_hand_off(conversation=conversation, trigger="explicit_request", reason="again")
    assert first is not None and second is not None and first.pk == second.pk
    assert conversation.messages.filter(kind=Message.Kind.HANDOFF).count() == 1
    assert first.packet  # every hand-off carries a packet, built before the lock


@pytest.mark.django_db
def test_a_customer_writing_after_a_person_resolved_goes_back_to_people(workspace, teammate):
    conversation = start(workspace)
    ask(conversation, "I want a person")
    do_hand_off(conversation=conversation, trigger="explicit_request", reason="asked")
    do_agent_reply(conversation=conversation, agent=teammate, text="Hello, I can help.")
    do_resolve(conversation=conversation, actor=teammate, resolution="solved")

    again = ask(conversation, "One more thing about it")
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.HANDED_OFF
    assert Handoff.objects.filter(conversation=conversation, trigger="reopened").count() == 1
    assert not BotTurn.objects.filter(message=again).exists()


@pytest.mark.django_db
def test_a_conversation_the_bot_ended_reopens_with_the_bot(workspace, make_article):
    make_article(title=QUESTION, body=f"{QUESTION}\n\n{ANSWER_BODY}")
    conversation = start(workspace)
    do_bot_turn(message_id=ask(conversation).pk)
    assert do_customer_end(conversation=conversation) is True
    assert do_customer_end(conversation=conversation) is False  # no second rating request
    ask(conversation, "Sorry, one more question")
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.BOT
    assert not Handoff.objects.filter(conversation=conversation).exists()
