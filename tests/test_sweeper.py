"""The sweeper: work whose task was lost is queued again and done exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from supportops.bot.models import BotTurn
from supportops.conversations.models import Conversation, Message, SweepDay
from supportops.conversations.services import customer_get_or_create_visitor
from supportops.flows import do_conversation_start, do_customer_message, do_sweep
from tests.conftest import wait_for

# The real worker reads what the test wrote: committed, not inside the test's transaction.
# Every test has it (the flows queue the ledger's refresh on commit), so each ends once the
# worker is idle: a task still running while the tables are emptied would deadlock the flush.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("celery_worker_process"),
]


@pytest.fixture
def help_centre(make_article):
    make_article(
        title="How do I return an item?",
        body="How do I return an item?\n\nStart the return from Orders in your account and "
        "print the prepaid label.",
    )


@pytest.fixture
def conversation(workspace, help_centre) -> Conversation:
    customer = customer_get_or_create_visitor(workspace=workspace, visitor_id="s" * 24)
    return do_conversation_start(workspace=workspace, customer=customer).conversation


def lost_message(conversation: Conversation, text: str) -> Message:
    """A message stored whose task never reached the broker (as while Redis restarts)."""
    message = do_customer_message(conversation=conversation, text=text, queue_bot=False).message
    cache.delete(f"sweeper:bot_turn:{message.pk}")  # a marker left by an earlier test run
    return message


def later() -> timezone.datetime:
    return timezone.now() + timedelta(seconds=settings.SWEEPER_DELAY_S + 1)


def bot_replies(conversation: Conversation) -> int:
    return (
        conversation.messages.filter(author=Message.Author.BOT)
        .exclude(kind=Message.Kind.GREETING)
        .count()
    )


def test_a_message_whose_task_was_lost_is_answered_once_by_a_real_worker(
    conversation, celery_worker_process
):
    message = lost_message(conversation, "How do I return an item?")
    swept = do_sweep(now=later())
    assert swept.bot_turns == 1
    wait_for(
        lambda: BotTurn.objects.filter(message=message, status=BotTurn.Status.DONE).exists(),
        timeout=900,  # a cold worker on a busy machine loads its models first
    )
    assert bot_replies(conversation) == 1
    # Answered: nothing is owed any more, however often the sweeper runs.
    cache.delete(f"sweeper:bot_turn:{message.pk}")
    assert do_sweep(now=later()).bot_turns == 0
    assert bot_replies(conversation) == 1
    day = SweepDay.objects.get(day=timezone.localdate())
    assert day.bot_turns >= 1 and day.runs >= 2


def test_a_turn_whose_worker_died_after_claiming_is_answered_once(
    conversation, celery_worker_process
):
    message = lost_message(conversation, "How do I return an item?")
    # What a worker SIGKILLed mid-turn leaves: a pending claim, nobody deciding it.
    turn = BotTurn.objects.create(
        workspace=conversation.workspace,
        conversation=conversation,
        message=message,
        status=BotTurn.Status.PENDING,
        claimed_at=timezone.now() - timedelta(seconds=5),
    )
    assert do_sweep(now=later()).bot_turns == 0  # a fresh claim: a worker may be deciding it
    BotTurn.objects.filter(pk=turn.pk).update(claimed_at=timezone.now() - timedelta(minutes=5))
    assert do_sweep(now=later()).bot_turns == 1
    turn = wait_for(
        lambda: BotTurn.objects.filter(message=message, status=BotTurn.Status.DONE).first(),
        timeout=900,  # a cold worker on a busy machine loads its models first
    )
    assert turn.attempts == 2
    assert bot_replies(conversation) == 1


def test_a_fresh_message_is_not_queued_again(conversation):
    message = lost_message(conversation, "How do I return an item?")
    assert do_sweep().bot_turns == 0
    assert cache.get(f"sweeper:bot_turn:{message.pk}") is None
    assert not BotTurn.objects.filter(message=message).exists()


def test_the_same_message_is_queued_once_within_the_delay(conversation, celery_worker_process):
    message = lost_message(conversation, "How do I return an item?")
    try:
        assert do_sweep(now=later()).bot_turns == 1
        # Still unanswered (no worker here, or it has not got to it): not queued again.
        assert do_sweep(now=later()).bot_turns == 0
    finally:
        cache.delete(f"sweeper:bot_turn:{message.pk}")


def test_a_message_the_conversation_moved_past_is_not_queued(conversation):
    # The customer asked for a person and was handed off, then the conversation was resolved
    # and reopened: the old unanswered message is not the bot's to answer now.
    message = lost_message(conversation, "How do I return an item?")
    Message.objects.create(
        workspace=conversation.workspace,
        conversation=conversation,
        author=Message.Author.SYSTEM,
        text="This conversation was closed.",
    )
    assert do_sweep(now=later()).bot_turns == 0
    assert not BotTurn.objects.filter(message=message).exists()


def test_a_handed_off_conversation_is_not_swept(conversation):
    lost_message(conversation, "How do I return an item?")
    Conversation.objects.filter(pk=conversation.pk).update(status=Conversation.Status.HANDED_OFF)
    assert do_sweep(now=later()).bot_turns == 0


def test_healthz_shows_what_the_sweeper_queued_again(conversation, celery_worker_process):
    message = lost_message(conversation, "How do I return an item?")
    try:
        do_sweep(now=later())
    finally:
        cache.delete(f"sweeper:bot_turn:{message.pk}")
    body = Client().get("/healthz").json()
    assert body["status"] == "ok"
    assert body["sweeper"]["requeued_today"]["bot_turns"] >= 1
    assert body["sweeper"]["last_run_at"]


def test_an_agent_reply_whose_email_was_never_sent_is_queued_again(
    conversation, teammate, celery_worker_process
):
    Conversation.objects.filter(pk=conversation.pk).update(followup_email="jo@example.com")
    reply = Message.objects.create(
        workspace=conversation.workspace,
        conversation=conversation,
        author=Message.Author.AGENT,
        agent=teammate,
        text="Your refund is on its way.",
    )
    cache.delete(f"sweeper:email:{reply.pk}")
    soon = timezone.now() + timedelta(seconds=settings.SWEEPER_DELAY_S + 1)
    slow = timezone.now() + timedelta(seconds=settings.SWEEPER_SLOW_DELAY_S + 1)
    try:
        assert do_sweep(now=soon).emails == 0  # its own task may still be retrying
        assert do_sweep(now=slow).emails == 1
        Message.objects.filter(pk=reply.pk).update(emailed_at=timezone.now())
        cache.delete(f"sweeper:email:{reply.pk}")
        assert do_sweep(now=slow).emails == 0  # sent: nothing owed
    finally:
        cache.delete(f"sweeper:email:{reply.pk}")
