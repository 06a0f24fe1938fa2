"""The outcome rules (supportops/analytics/ledger.py) on timelines played through the real
flows with the clock at each event's time."""

from __future__ import annotations

import pytest
import time_machine
from django.db import DatabaseError, transaction

from supportops import flows
from supportops.analytics.ledger import outcome_compute, outcome_refresh, outcomes_sweep_run
from supportops.analytics.models import AnalyticsSettings, Outcome
from supportops.bot.models import BotTurn
from supportops.conversations.models import Conversation, ConversationEvent, Message
from tests.analytics.conftest import EMAIL_Q, PASSWORD_AGAIN, PASSWORD_Q, at

Kind = Outcome.Kind
pytestmark = pytest.mark.django_db


def bot_answered(conversation) -> bool:
    return conversation.messages.filter(author="bot", kind=Message.Kind.ANSWER).exists()


def test_yes_to_did_that_solve_it_is_a_confirmed_bot_resolution(play):
    a = play.chat(0, PASSWORD_Q)
    assert bot_answered(a)
    play.feedback(0.05, a, solved=True)
    row = play.outcome(a, 1)
    assert (row.outcome, row.final) == (Kind.RESOLVED_BY_BOT_CONFIRMED, False)
    assert row.contained and row.bot_answered and row.first_response_by == "bot"
    assert row.why["rule"] == "confirmed"
    assert [e["kind"] for e in row.why["events"]] == ["bot_message", "feedback"]
    assert row.why["events"][1]["via"] == "button"


def test_a_typed_confirmation_counts_like_the_button_and_ends_the_chat(play):
    a = play.chat(0, PASSWORD_Q)
    a = play.chat(0.1, "thanks, that worked", conversation=a)
    assert a.status == Conversation.Status.RESOLVED
    assert not BotTurn.objects.filter(conversation=a, action=BotTurn.Action.ESCALATE).exists()
    row = play.outcome(a, 1)
    assert row.outcome == Kind.RESOLVED_BY_BOT_CONFIRMED
    assert row.why["events"][-1]["via"] == "typed"


@pytest.mark.parametrize("reply", ["ok", "hmm", "thanks"])
def test_a_vague_reply_is_no_confirmation_and_calls_no_person(play, reply):
    a = play.chat(0, PASSWORD_Q)
    a = play.chat(0.1, reply, conversation=a)
    assert a.status == Conversation.Status.BOT  # the bot asked whether it solved it
    row = play.outcome(a, 60)
    assert (row.outcome, row.final) == (Kind.RESOLVED_BY_BOT_UNCONFIRMED, True)


def test_silence_after_an_answer_is_unconfirmed_never_confirmed(play):
    a = play.chat(0, PASSWORD_Q)
    row = play.outcome(a, 100)
    assert (row.outcome, row.final) == (Kind.RESOLVED_BY_BOT_UNCONFIRMED, True)
    assert row.why["rule"] == "answer_stood"


def test_ending_the_chat_after_an_answer_is_unconfirmed(play):
    a = play.chat(0, PASSWORD_Q)
    play.leave(0.2, a)
    row = play.outcome(a, 1)
    assert row.outcome == Kind.RESOLVED_BY_BOT_UNCONFIRMED
    assert row.resolved_at == at(0.2)


@pytest.mark.parametrize("typed", [False, True])
def test_a_rejected_answer_nothing_resolved_is_not_resolved(play, typed):
    a = play.chat(0, PASSWORD_Q)
    if typed:
        play.chat(0.1, "that didn't help", conversation=a)
    else:
        play.feedback(0.1, a, solved=False)
    play.leave(0.2, a)
    row = play.outcome(a, 60)
    assert (row.outcome, row.final) == (Kind.NOT_RESOLVED, True)
    assert row.why["rule"] == "rejected"
    feedback = next(e for e in row.why["events"] if e["kind"] == "feedback")
    assert feedback["via"] == ("typed" if typed else "button")


def test_a_confirmation_followed_by_a_reopen_that_rejects_is_not_resolved(play):
    a = play.chat(0, PASSWORD_Q)
    play.feedback(0.05, a, solved=True)
    a = play.chat(2, "It's still not working", conversation=a)
    assert ConversationEvent.objects.filter(conversation=a, kind="reopened").exists()
    row = play.outcome(a, 3)
    assert row.outcome == Kind.NOT_RESOLVED
    assert row.last_event_at >= at(2)


def test_asking_for_a_person_then_a_person_solving_it_is_resolved_after_handoff(play):
    a = play.chat(0, PASSWORD_Q)
    play.feedback(0.02, a, solved=False)
    play.chat(0.05, "Please connect me with someone from your team", conversation=a)
    play.agent_reply(0.5, a)
    play.resolve(0.6, a)
    row = play.outcome(a, 80)
    assert (row.outcome, row.final) == (Kind.RESOLVED_AFTER_HANDOFF, True)
    assert not row.contained and row.first_handoff_trigger == "explicit_request"
    assert row.resolution == "solved"


def test_a_person_closing_it_as_not_solvable_is_not_resolved(play):
    a = play.chat(0, "I want to talk to a person")
    play.agent_reply(0.3, a)
    play.resolve(0.4, a, resolution="not_solvable")
    row = play.outcome(a, 80)
    assert row.outcome == Kind.NOT_RESOLVED and row.why["rule"] == "closed_not_solved"


def test_a_control_conversation_is_resolved_by_a_human_and_the_bot_never_answers(play):
    a = play.chat(0, PASSWORD_Q, arm=Conversation.Arm.HUMAN_ONLY)
    assert not bot_answered(a)
    assert a.handoffs.get().trigger == "control"
    play.agent_reply(1, a)
    play.resolve(1.1, a)
    row = play.outcome(a, 80)
    assert (row.outcome, row.arm) == (Kind.RESOLVED_BY_HUMAN, "human_only")
    assert row.first_response_by == "person"


def test_an_arm_set_before_the_first_message_is_respected(play, workspace):
    with time_machine.travel(at(0), tick=False):
        started = flows.do_conversation_start(workspace=workspace, customer=play.customer)
    # Rollout assigns the arm after the start (the assistant already greeted the customer).
    Conversation.objects.filter(pk=started.conversation.pk).update(arm=Conversation.Arm.HUMAN_ONLY)
    b = play.chat(0.1, PASSWORD_Q, conversation=started.conversation)
    assert b.status == Conversation.Status.HANDED_OFF and not bot_answered(b)
    assert b.handoffs.get().trigger == "control"


def test_leaving_while_waiting_in_the_queue_is_abandoned(play):
    a = play.chat(0, PASSWORD_Q, arm=Conversation.Arm.HUMAN_ONLY)
    play.leave(0.5, a)
    row = play.outcome(a, 60)
    assert (row.outcome, row.final) == (Kind.ABANDONED, True)
    assert row.first_response_at is None and row.why["rule"] == "no_answer"


def test_the_same_need_again_within_the_window_makes_a_repeat_contact(play):
    a = play.chat(0, PASSWORD_Q)
    play.feedback(0.05, a, solved=True)
    b = play.chat(20, PASSWORD_AGAIN)
    row = play.outcome(a, 100)
    assert (row.outcome, row.final) == (Kind.REPEAT_CONTACT, True)
    assert row.repeat_conversation_id == b.pk
    assert row.why["replaced"] == Kind.RESOLVED_BY_BOT_CONFIRMED
    assert row.why["linked_conversation_id"] == b.pk and row.why["similarity"] > 0
    assert play.outcome(b, 100).outcome != Kind.REPEAT_CONTACT


def test_a_repeat_on_another_channel_counts(play):
    a = play.chat(0, PASSWORD_Q)
    play.leave(0.1, a)
    b = play.email(30, PASSWORD_AGAIN, subject="Password")
    assert b.channel == Conversation.Channel.EMAIL and b.customer_id == a.customer_id
    row = play.outcome(a, 100)
    assert row.outcome == Kind.REPEAT_CONTACT and row.repeat_conversation_id == b.pk


def test_an_email_whose_subject_names_the_need_is_a_repeat(play):
    a = play.chat(0, PASSWORD_Q)
    play.leave(0.1, a)
    b = play.email(30, "Hello, could you help me with this? Thanks, Sam", subject="Password reset")
    row = play.outcome(a, 100)
    assert row.outcome == Kind.REPEAT_CONTACT and row.repeat_conversation_id == b.pk
    assert play.outcome(b, 100).need["question"].startswith("Password reset\n")


def test_an_email_subject_naming_another_need_is_no_repeat(play):
    a = play.chat(0, PASSWORD_Q)
    play.leave(0.1, a)
    play.email(30, "Hello, could you help me with this? Thanks, Sam", subject=EMAIL_Q)
    assert play.outcome(a, 100).outcome == Kind.RESOLVED_BY_BOT_UNCONFIRMED


def test_a_close_but_different_need_is_no_repeat(play):
    a = play.chat(0, PASSWORD_Q)
    play.feedback(0.05, a, solved=True)
    play.chat(5, EMAIL_Q)
    row = play.outcome(a, 100)
    assert row.outcome == Kind.RESOLVED_BY_BOT_CONFIRMED
    assert row.repeat_conversation_id is None


def test_a_not_resolved_conversation_stays_not_resolved_when_the_customer_comes_back(play):
    a = play.chat(0, PASSWORD_Q)
    play.feedback(0.05, a, solved=False)
    play.chat(3, PASSWORD_AGAIN)
    assert play.outcome(a, 100).outcome == Kind.NOT_RESOLVED


@pytest.mark.parametrize(
    ("back_after_h", "repeat"), [(48, True), (48 + 1 / 3600, False)], ids=["at-48h", "48h-and-1s"]
)
def test_the_window_ends_exactly_48_hours_after_the_last_event(play, back_after_h, repeat):
    a = play.chat(0, PASSWORD_Q)
    play.feedback(1, a, solved=True)  # the last event
    play.chat(1 + back_after_h, PASSWORD_AGAIN)
    row = play.outcome(a, 100)
    assert (row.outcome == Kind.REPEAT_CONTACT) is repeat


def test_an_outcome_is_provisional_until_the_window_has_passed(play):
    a = play.chat(0, PASSWORD_Q)
    play.feedback(1, a, solved=True)
    assert not play.outcome(a, 49 - 1 / 3600).final
    row = play.outcome(a, 49)
    assert row.final and row.final_at == at(49)


def test_the_window_is_a_workspace_setting(play, workspace):
    AnalyticsSettings.objects.create(workspace=workspace, repeat_window_hours=24)
    a = play.chat(0, PASSWORD_Q)
    play.feedback(0.05, a, solved=True)
    play.chat(30, PASSWORD_AGAIN)
    row = play.outcome(a, 100)
    assert row.outcome == Kind.RESOLVED_BY_BOT_CONFIRMED and row.why["window_hours"] == 24
    assert play.outcome(a, 25).final


def test_the_ledger_reads_history_as_of_any_time(play):
    a = play.chat(0, PASSWORD_Q)
    play.feedback(0.05, a, solved=True)
    play.chat(20, PASSWORD_AGAIN)
    a.refresh_from_db()
    before = outcome_compute(conversation=a, as_of=at(10))
    after = outcome_compute(conversation=a, as_of=at(21))
    assert before.outcome == Kind.RESOLVED_BY_BOT_CONFIRMED
    assert after.outcome == Kind.REPEAT_CONTACT
    assert outcome_compute(conversation=a, as_of=at(-1)) is None  # nothing asked yet


def test_refreshing_twice_changes_nothing(play):
    a = play.chat(0, PASSWORD_Q)
    first = play.outcome(a, 5)
    with time_machine.travel(at(6), tick=False):
        again = outcome_refresh(conversation=a, as_of=at(6))
    assert again.pk == first.pk and again.computed_at == first.computed_at
    assert Outcome.objects.filter(conversation=a).count() == 1


def test_the_sweep_finalises_what_is_due_and_a_second_run_finds_nothing(play, workspace):
    a = play.chat(0, PASSWORD_Q)
    b = play.chat(0, EMAIL_Q)  # missed by the on-commit refresh: no row yet
    play.outcome(a, 1)
    assert not Outcome.objects.filter(conversation=b).exists()
    with time_machine.travel(at(60), tick=False):
        assert outcomes_sweep_run(now=at(60), workspace=workspace) == 2
        assert outcomes_sweep_run(now=at(60), workspace=workspace) == 0
    assert set(Outcome.objects.filter(workspace=workspace).values_list("final", flat=True)) == {
        True
    }


def test_events_are_append_only(play):
    a = play.chat(0, PASSWORD_Q)
    event = ConversationEvent.objects.filter(conversation=a).first()
    with pytest.raises(DatabaseError), transaction.atomic():
        ConversationEvent.objects.filter(pk=event.pk).update(kind="resolved")


def test_flows_refresh_the_ledger_on_commit_and_a_new_conversation_updates_earlier_ones(
    play, django_capture_on_commit_callbacks
):
    from supportops.celery import app

    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            a = play.chat(0, PASSWORD_Q)
            play.feedback(0.05, a, solved=True)
        assert Outcome.objects.get(conversation=a).outcome == Kind.RESOLVED_BY_BOT_CONFIRMED
        with django_capture_on_commit_callbacks(execute=True):
            b = play.chat(10, PASSWORD_AGAIN)
    finally:
        app.conf.task_always_eager = False
    assert Outcome.objects.get(conversation=a).repeat_conversation_id == b.pk


def test_a_customer_with_many_conversations_in_one_window_keeps_each_refresh_bounded(play):
    from supportops.analytics.ledger import MAX_REPEAT_CANDIDATES, customer_earlier_in_window

    started = []
    for i in range(MAX_REPEAT_CANDIDATES + 5):
        with time_machine.travel(at(i * 0.1), tick=False):
            started.append(
                flows.do_conversation_start(
                    workspace=play.workspace, customer=play.customer
                ).conversation
            )
    newest = started[-1]
    earlier = customer_earlier_in_window(conversation=newest)
    # The latest ones (closest to the new conversation) are the ones refreshed.
    assert earlier == [c.pk for c in reversed(started[-MAX_REPEAT_CANDIDATES - 1 : -1])]


def test_a_refresh_with_nothing_new_is_skipped_and_anything_new_is_computed(play):
    from supportops.analytics.ledger import outcome_up_to_date
    from supportops.analytics.tasks import outcome_refresh_task

    a = play.chat(0, PASSWORD_Q)
    assert not outcome_up_to_date(conversation=a)  # no outcome yet
    assert outcome_refresh_task.run(a.pk) != "up to date"
    a.refresh_from_db()
    computed_at = Outcome.objects.get(conversation=a).computed_at
    assert outcome_up_to_date(conversation=a)
    assert outcome_refresh_task.run(a.pk) == "up to date"
    assert Outcome.objects.get(conversation=a).computed_at == computed_at
    # The earlier-conversations refresh is never skipped: it is about the other ones.
    assert outcome_refresh_task.run(a.pk, True) != "up to date"

    a = play.chat(0.1, "thanks, that worked", conversation=a)  # a new message and event
    assert not outcome_up_to_date(conversation=a)
    assert outcome_refresh_task.run(a.pk) == Kind.RESOLVED_BY_BOT_CONFIRMED
    a.refresh_from_db()
    assert outcome_up_to_date(conversation=a)

    Conversation.objects.filter(pk=a.pk).update(category="Accounts and passwords")
    a.refresh_from_db()  # labelled later, with no new message (the control arm's silent label)
    assert not outcome_up_to_date(conversation=a)
    outcome_refresh_task.run(a.pk)
    assert Outcome.objects.get(conversation=a).category == "Accounts and passwords"
