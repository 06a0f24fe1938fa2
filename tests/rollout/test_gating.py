"""What reaches the bot under a rollout: the control group never does (its category is
labelled silently and it waits for people like any hand-off), categories the live phase
does not enable go to people whatever the arm, and the kill switch stops the bot at once."""

from __future__ import annotations

import pytest

from supportops.bot.models import BotTurn
from supportops.conversations.models import Conversation, Message
from supportops.flows import do_bot_turn, do_customer_message
from supportops.inbox import copilot
from supportops.inbox.models import Handoff, Routing
from supportops.rollout.services import bot_pause, bot_resume

from .conftest import RETURN_QUESTION, RETURNS, SHIPPING, SHIPPING_QUESTION, start_as


def say(conversation: Conversation, text: str) -> BotTurn | None:
    message = do_customer_message(conversation=conversation, text=text, queue_bot=False).message
    return do_bot_turn(message_id=message.pk)


def bot_replies(conversation: Conversation) -> int:
    return (
        conversation.messages.filter(author=Message.Author.BOT)
        .exclude(kind__in=[Message.Kind.GREETING, Message.Kind.HANDOFF])
        .count()
    )


@pytest.mark.django_db
def test_a_control_conversation_goes_to_people_with_its_category_labelled(
    workspace, live_phase, help_centre
):
    conversation = start_as(workspace, "human_only")
    turn = say(conversation, RETURN_QUESTION)
    conversation.refresh_from_db()
    assert turn.action == BotTurn.Action.SKIP and turn.trigger == "control"
    assert conversation.category == RETURNS  # labelled silently
    assert bot_replies(conversation) == 0
    assert not conversation.messages.filter(author=Message.Author.BOT).exists()
    handoff = Handoff.objects.get(conversation=conversation)
    assert handoff.trigger == "control"
    routing = Routing.objects.get(handoff=handoff)
    assert routing.category == RETURNS and routing.first_reply_due > handoff.created_at
    # The person gets no drafted reply, from the packet or the co-pilot; a summary is fine.
    assert handoff.packet["suggested_reply"]["text"] == ""
    with pytest.raises(copilot.CopilotRefused):
        copilot.copilot_draft_create(conversation=conversation, agent=None)
    with pytest.raises(copilot.CopilotRefused):
        copilot.copilot_rewrite_create(
            conversation=conversation, agent=None, text="Hi there", tone="formal"
        )
    assert copilot.summarise(conversation=conversation)
    # A second message changes nothing: still one hand-off, still no bot.
    say(conversation, "Hello? Anyone there?")
    assert Handoff.objects.filter(conversation=conversation).count() == 1
    assert bot_replies(conversation) == 0


@pytest.mark.django_db
def test_an_enabled_category_is_answered_from_its_own_articles(workspace, live_phase, help_centre):
    conversation = start_as(workspace, "ai_first")
    turn = say(conversation, RETURN_QUESTION)
    assert turn.action == BotTurn.Action.ANSWER, turn.triggers
    assert turn.category == RETURNS
    assert [s["title"] for s in turn.reply.sources] == ["How do I return an item?"]
    assert turn.scores["phase"]["categories"] == [RETURNS]
    # Retrieval only saw the enabled category's articles.
    assert {r["external_id"] for r in turn.retrieved} == {"ret-1"}


@pytest.mark.django_db
def test_a_category_the_phase_does_not_enable_goes_to_people_with_the_reason(
    workspace, live_phase, help_centre
):
    conversation = start_as(workspace, "ai_first")
    turn = say(conversation, SHIPPING_QUESTION)
    assert turn.action == BotTurn.Action.ESCALATE
    assert turn.trigger == "category_not_enabled"
    assert turn.triggers[0]["scores"]["category"] == SHIPPING
    assert Handoff.objects.get(conversation=conversation).trigger == "category_not_enabled"
    assert bot_replies(conversation) == 0


@pytest.mark.django_db
def test_the_kill_switch_stops_the_bot_for_new_and_open_conversations(
    workspace, owner, manager, help_centre
):
    open_one = start_as(workspace, "ai_first")
    queued = start_as(workspace, "ai_first", prefix="queued")
    waiting = do_customer_message(conversation=queued, text=RETURN_QUESTION, queue_bot=False)
    settings = bot_pause(workspace=workspace, actor=manager, reason="wrong refund answers")
    assert settings.bot_paused
    row = workspace.audit_logs.get(action="rollout.bot_pause")
    assert row.actor == manager and row.details["reason"] == "wrong refund answers"

    # The open conversation goes to people on its next message, at once, with no bot reply.
    message = do_customer_message(conversation=open_one, text="How do I return boots?").message
    open_one.refresh_from_db()
    assert open_one.status == Conversation.Status.HANDED_OFF
    assert Handoff.objects.get(conversation=open_one).trigger == "bot_paused"
    assert not BotTurn.objects.filter(message=message).exists()
    assert bot_replies(open_one) == 0
    # A turn queued before the switch was thrown hands off instead of answering.
    turn = do_bot_turn(message_id=waiting.message.pk)
    assert turn.action == BotTurn.Action.ESCALATE and turn.trigger == "bot_paused"
    assert bot_replies(queued) == 0

    # A new conversation starts with people and is never greeted as an AI.
    new = start_as(workspace, "ai_first", prefix="new")
    assert new.status == Conversation.Status.HANDED_OFF
    assert not new.messages.filter(kind=Message.Kind.GREETING).exists()
    do_customer_message(conversation=new, text="Where is my parcel?")
    assert Handoff.objects.get(conversation=new).trigger == "bot_paused"

    bot_resume(workspace=workspace, actor=owner, reason="answers fixed")
    resumed = workspace.audit_logs.get(action="rollout.bot_resume")
    assert resumed.actor == owner and resumed.details["was_paused_for"] == "wrong refund answers"
    fresh = start_as(workspace, "ai_first", prefix="fresh")
    assert fresh.status == Conversation.Status.BOT
    assert fresh.messages.get().kind == Message.Kind.GREETING


@pytest.mark.django_db
def test_only_managers_and_admins_throw_the_kill_switch(workspace, teammate):
    from supportops.rollout.services import RolloutError

    with pytest.raises(RolloutError):
        bot_pause(workspace=workspace, actor=teammate, reason="testing")
    with pytest.raises(RolloutError, match="why"):
        bot_pause(workspace=workspace, actor=None, reason="  ")
    assert not workspace.audit_logs.filter(action__startswith="rollout.bot").exists()


@pytest.mark.django_db
def test_the_gate_reads_the_live_phase_before_a_paused_one_in_one_query(
    workspace, owner, categories, django_assert_max_num_queries
):
    from supportops.rollout.models import PHASE_PAUSED
    from supportops.rollout.selectors import bot_gate, rollout_settings_get
    from supportops.rollout.services import phase_pause

    from .conftest import make_phase

    rollout_settings_get(workspace=workspace)  # created once, read on every turn after
    first = make_phase(workspace, owner, categories)
    phase_pause(phase=first, actor=owner, reason="checking the figures")
    with django_assert_max_num_queries(2):
        gate = bot_gate(workspace=workspace)
    assert gate.stop == PHASE_PAUSED and gate.phase == first
    second = make_phase(workspace, owner, categories)
    with django_assert_max_num_queries(3):  # and the help-centre categories of its scope
        gate = bot_gate(workspace=workspace)
    assert not gate.stop and gate.phase == second
