"""Routing rules: priority, queue choice, automatic assignment, claims (including a real race on
PostgreSQL), transfers, SLA computation and reopening to the same agent."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from supportops.accounts.models import AuditLog, Membership, Role
from supportops.bot.models import BotTurn, IssueCategory
from supportops.conversations.models import Conversation, Message
from supportops.conversations.services import ConversationError, customer_get_or_create_verified
from supportops.flows import (
    do_agent_reply,
    do_bot_turn,
    do_conversation_start,
    do_customer_message,
    do_hand_off,
    do_resolve,
)
from supportops.inbox.models import AgentStatus, Handoff, Priority, Queue, Routing, SlaPolicy
from supportops.inbox.selectors import inbox_list
from supportops.inbox.services import (
    InboxError,
    agent_status_set,
    handoff_claim,
    handoff_transfer,
    priority_bumped,
    sla_state,
)
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

_ids = itertools.count()


def hand_off(
    workspace,
    *,
    category: str = "",
    vip: bool = False,
    trigger: str = "explicit_request",
    text: str = "I need help with this",
) -> Handoff:
    """A verified customer's conversation, handed off by the bot with `category` in the packet."""
    customer = customer_get_or_create_verified(
        workspace=workspace, external_id=f"cust-{next(_ids)}", name="Dana"
    )
    if vip:
        customer.is_vip = True
        customer.save(update_fields=["is_vip"])
    conversation = do_conversation_start(workspace=workspace, customer=customer).conversation
    do_customer_message(conversation=conversation, text=text, queue_bot=False)
    return do_hand_off(
        conversation=conversation,
        trigger=trigger,
        reason="test",
        packet={"category": category} if category else {"summary": "no category"},
    )


def agent(workspace, name: str, *, status: str = "online", skills=(), max_open: int = 5):
    user = make_user(f"{name}@acme.example")
    Membership.objects.create(user=user, workspace=workspace, role=Role.AGENT)
    if status:
        agent_status_set(
            workspace=workspace, user=user, status=status, skills=list(skills), max_open=max_open
        )
    return user


def fresh(handoff: Handoff) -> Handoff:
    return Handoff.objects.select_related("routing", "routing__queue").get(pk=handoff.pk)


# --- Priority ------------------------------------------------------------------------------------


def test_a_high_stakes_category_is_urgent(workspace):
    IssueCategory.objects.create(workspace=workspace, name="billing_dispute", is_high_stakes=True)
    routing = fresh(hand_off(workspace, category="billing_dispute", vip=True)).routing
    assert routing.priority == Priority.URGENT
    assert routing.priority_reason == "high-stakes category"


def test_the_high_stakes_trigger_is_urgent_even_without_a_category(workspace):
    assert fresh(hand_off(workspace, trigger="high_stakes")).routing.priority == Priority.URGENT


def test_a_vip_customer_is_high_priority(workspace):
    IssueCategory.objects.create(workspace=workspace, name="shipping", is_high_stakes=False)
    routing = fresh(hand_off(workspace, category="shipping", vip=True)).routing
    assert (routing.priority, routing.priority_reason) == (Priority.HIGH, "VIP customer")


def test_other_handoffs_are_normal_priority(workspace):
    assert fresh(hand_off(workspace, category="shipping")).routing.priority == Priority.NORMAL


def test_waiting_without_a_reply_bumps_the_priority_one_level_per_half_hour():
    assert priority_bumped(priority="normal", waiting=timedelta(minutes=29)) == "normal"
    assert priority_bumped(priority="normal", waiting=timedelta(minutes=31)) == "high"
    assert priority_bumped(priority="low", waiting=timedelta(hours=5)) == "urgent"


def test_the_list_puts_a_long_waiting_normal_conversation_before_a_fresh_vip(workspace, owner):
    old = hand_off(workspace, text="old normal")
    Handoff.objects.filter(pk=old.pk).update(created_at=old.created_at - timedelta(minutes=65))
    vip = hand_off(workspace, vip=True, text="fresh vip")
    rows = inbox_list(workspace=workspace, user=owner, view="all")
    assert [c.pk for c in rows] == [old.conversation_id, vip.conversation_id]
    assert [c.priority for c in rows] == [Priority.URGENT, Priority.HIGH]


# --- Queues --------------------------------------------------------------------------------------


def test_the_queue_is_chosen_by_category_else_general(workspace):
    billing = Queue.objects.create(workspace=workspace, name="Billing", categories=["billing"])
    assert fresh(hand_off(workspace, category="billing")).routing.queue == billing
    general = fresh(hand_off(workspace, category="shipping")).routing.queue
    assert (general.name, general.is_default) == ("General", True)
    assert fresh(hand_off(workspace)).routing.queue == general
    assert Queue.objects.filter(workspace=workspace, is_default=True).count() == 1


def test_without_a_packet_category_the_latest_classified_turn_decides(workspace):
    billing = Queue.objects.create(workspace=workspace, name="Billing", categories=["billing"])
    customer = customer_get_or_create_verified(workspace=workspace, external_id="turns")
    conversation = do_conversation_start(workspace=workspace, customer=customer).conversation
    message = do_customer_message(
        conversation=conversation, text="my invoice", queue_bot=False
    ).message
    BotTurn.objects.create(
        workspace=workspace,
        conversation=conversation,
        message=message,
        action=BotTurn.Action.CLARIFY,
        category="billing",
    )
    handoff = do_hand_off(
        conversation=conversation, trigger="explicit_request", reason="x", packet={"a": 1}
    )
    assert fresh(handoff).routing.queue == billing


# --- Automatic assignment ------------------------------------------------------------------------


def test_it_assigns_the_least_busy_online_agent_skipping_away_offline_and_full(workspace):
    busy, full = agent(workspace, "busy", status=""), agent(workspace, "full", status="")
    light = agent(workspace, "light", status="")
    for _ in range(2):
        handoff_claim(handoff=hand_off(workspace), agent=busy)
    handoff_claim(handoff=hand_off(workspace), agent=full)
    handoff_claim(handoff=hand_off(workspace), agent=light)
    agent(workspace, "away", status="away")
    agent(workspace, "offline", status="offline")
    for user, max_open in ((busy, 5), (full, 1), (light, 5)):
        agent_status_set(workspace=workspace, user=user, status="online", max_open=max_open)

    handoff = fresh(hand_off(workspace))

    assert handoff.assignee == light
    assert handoff.status == Handoff.Status.ASSIGNED
    assert handoff.routing.assigned_at is not None
    assert fresh(hand_off(workspace)).assignee in (light, busy)


def test_equal_loads_take_turns(workspace):
    first, second = agent(workspace, "first"), agent(workspace, "second")
    assignees = [fresh(hand_off(workspace)).assignee for _ in range(4)]
    assert sorted(u.username for u in assignees[:2]) == sorted([first.username, second.username])
    assert {assignees[0], assignees[1]} == {assignees[2], assignees[3]} == {first, second}


def test_a_queue_with_a_required_skill_goes_only_to_agents_with_that_skill(workspace):
    Queue.objects.create(
        workspace=workspace, name="Legal", categories=["legal"], required_skill="legal"
    )
    agent(workspace, "generalist")
    lawyer = agent(workspace, "lawyer", skills=["legal"])
    for _ in range(3):
        assert fresh(hand_off(workspace, category="legal")).assignee == lawyer


def test_with_nobody_online_it_stays_unassigned_until_someone_comes_online(workspace):
    agent(workspace, "sleepy", status="away")
    handoff = fresh(hand_off(workspace))
    assert handoff.assignee is None and handoff.status == Handoff.Status.QUEUED
    assert handoff.routing.assigned_at is None

    late = agent(workspace, "late")
    assert fresh(handoff).assignee == late


def test_routing_is_audited(workspace):
    handoff = hand_off(workspace)
    log = AuditLog.objects.get(action="handoff.route", target_id=str(handoff.pk))
    assert log.details["queue"] == "General" and log.details["priority"] == "normal"


# --- Claim ---------------------------------------------------------------------------------------


def test_claiming_twice_is_a_no_op_and_a_second_agent_is_refused(workspace, teammate, manager):
    handoff = hand_off(workspace)
    handoff_claim(handoff=handoff, agent=teammate)
    handoff_claim(handoff=handoff, agent=teammate)
    with pytest.raises(InboxError, match="already claimed"):
        handoff_claim(handoff=handoff, agent=manager)
    assert fresh(handoff).assignee == teammate
    assert AuditLog.objects.filter(action="handoff.claim").count() == 1


def test_finance_and_outsiders_cannot_claim(workspace, finance, outsider):
    handoff = hand_off(workspace)
    for user in (finance, outsider):
        with pytest.raises(InboxError, match="not an agent"):
            handoff_claim(handoff=handoff, agent=user)
    assert fresh(handoff).assignee is None


def test_a_resolved_conversation_cannot_be_claimed(workspace, teammate):
    handoff = hand_off(workspace)
    do_resolve(conversation=handoff.conversation, actor=teammate)
    with pytest.raises(InboxError, match="resolved"):
        handoff_claim(handoff=handoff, agent=teammate)


@pytest.mark.django_db(transaction=True)
def test_two_agents_claiming_at_once_give_exactly_one_assignee(workspace, teammate, manager):
    handoff = hand_off(workspace)
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def claim(user) -> None:
        try:
            barrier.wait(timeout=10)
            handoff_claim(handoff=Handoff.objects.get(pk=handoff.pk), agent=user)
            results[user.username] = "ok"
        except InboxError as exc:
            results[user.username] = str(exc)
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=claim, args=(u,)) for u in (teammate, manager)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == sorted([teammate.username, manager.username])
    winners = [name for name, result in results.items() if result == "ok"]
    assert len(winners) == 1
    loser = next(result for result in results.values() if result != "ok")
    assert "already claimed" in loser
    assert fresh(handoff).assignee.username == winners[0]
    assert AuditLog.objects.filter(action="handoff.claim").count() == 1


# --- Transfer ------------------------------------------------------------------------------------


def test_transfer_to_a_colleague(workspace, teammate, manager):
    handoff = hand_off(workspace)
    handoff_claim(handoff=handoff, agent=teammate)
    handoff_transfer(handoff=handoff, actor=teammate, to_agent=manager)
    assert fresh(handoff).assignee == manager
    log = AuditLog.objects.get(action="handoff.transfer")
    assert log.details["from_assignee_id"] == teammate.pk
    assert log.details["to_assignee_id"] == manager.pk


def test_transfer_to_a_queue_goes_to_a_free_agent_of_that_queue_not_back(workspace, teammate):
    legal = Queue.objects.create(workspace=workspace, name="Legal", required_skill="legal")
    agent_status_set(workspace=workspace, user=teammate, status="online", skills=["legal"])
    handoff = fresh(hand_off(workspace))
    assert handoff.assignee == teammate
    lawyer = agent(workspace, "lawyer", skills=["legal"])
    handoff_transfer(handoff=handoff, actor=teammate, to_queue=legal)
    handoff = fresh(handoff)
    assert (handoff.routing.queue, handoff.assignee) == (legal, lawyer)


def test_transfer_to_a_queue_with_nobody_free_leaves_it_unassigned(workspace, teammate):
    billing = Queue.objects.create(workspace=workspace, name="Billing")
    handoff = hand_off(workspace)
    handoff_claim(handoff=handoff, agent=teammate)
    handoff_transfer(handoff=handoff, actor=teammate, to_queue=billing)
    handoff = fresh(handoff)
    assert handoff.assignee is None and handoff.status == Handoff.Status.QUEUED
    assert handoff.routing.queue == billing


def test_an_agent_cannot_transfer_a_colleagues_conversation_but_a_manager_can(
    workspace, teammate, manager, owner
):
    handoff = hand_off(workspace)
    handoff_claim(handoff=handoff, agent=owner)
    with pytest.raises(InboxError, match="Only the assigned agent or a manager"):
        handoff_transfer(handoff=handoff, actor=teammate, to_agent=teammate)
    handoff_transfer(handoff=handoff, actor=manager, to_agent=teammate)
    assert fresh(handoff).assignee == teammate


def test_transfer_needs_a_target_in_the_same_workspace(workspace, teammate, outsider):
    handoff = hand_off(workspace)
    with pytest.raises(InboxError, match="Choose a person or a queue"):
        handoff_transfer(handoff=handoff, actor=teammate)
    with pytest.raises(InboxError, match="not an agent"):
        handoff_transfer(handoff=handoff, actor=teammate, to_agent=outsider)


# --- SLA -----------------------------------------------------------------------------------------

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def routing_at(*, first_reply_at=None, resolved_at=None) -> Routing:
    handoff = Handoff(created_at=T0, first_human_reply_at=first_reply_at, resolved_at=resolved_at)
    return Routing(
        handoff=handoff,
        first_reply_due=T0 + timedelta(minutes=60),
        resolution_due=T0 + timedelta(hours=8),
    )


def test_sla_counts_down_before_anything_happened():
    state = sla_state(routing=routing_at(), now=T0 + timedelta(minutes=20))
    assert state["first_reply"] == {
        "due": T0 + timedelta(minutes=60),
        "remaining_s": 40 * 60,
        "breached": False,
        "met": False,
    }
    assert state["resolution"]["remaining_s"] == (8 * 60 - 20) * 60


def test_sla_first_reply_in_time_is_met_and_stops_the_clock():
    state = sla_state(
        routing=routing_at(first_reply_at=T0 + timedelta(minutes=50)), now=T0 + timedelta(hours=3)
    )
    assert state["first_reply"]["met"] and not state["first_reply"]["breached"]
    assert state["first_reply"]["remaining_s"] == 10 * 60
    assert not state["resolution"]["met"] and not state["resolution"]["breached"]


def test_sla_is_breached_when_the_due_time_passes_without_a_reply():
    state = sla_state(routing=routing_at(), now=T0 + timedelta(minutes=75))
    assert state["first_reply"]["breached"] and not state["first_reply"]["met"]
    assert state["first_reply"]["remaining_s"] == -15 * 60


def test_sla_a_late_reply_stays_breached_and_late_resolution_too():
    routing = routing_at(
        first_reply_at=T0 + timedelta(minutes=90), resolved_at=T0 + timedelta(hours=9)
    )
    state = sla_state(routing=routing, now=T0 + timedelta(days=2))
    assert state["first_reply"]["breached"] and not state["first_reply"]["met"]
    assert state["resolution"]["breached"] and state["resolution"]["remaining_s"] == -3600


def test_sla_due_times_follow_the_workspace_policy(workspace):
    IssueCategory.objects.create(workspace=workspace, name="fraud", is_high_stakes=True)
    SlaPolicy.objects.create(
        workspace=workspace, priority="urgent", first_reply_minutes=5, resolution_minutes=30
    )
    handoff = fresh(hand_off(workspace, category="fraud"))
    assert handoff.routing.first_reply_due == handoff.created_at + timedelta(minutes=5)
    assert handoff.routing.resolution_due == handoff.created_at + timedelta(minutes=30)
    normal = fresh(hand_off(workspace)).routing  # the default policy is created lazily
    assert normal.first_reply_due - normal.handoff.created_at == timedelta(hours=4)
    assert SlaPolicy.objects.filter(workspace=workspace).count() == 2


def test_agent_reply_and_resolve_feed_the_sla(workspace, teammate):
    handoff = hand_off(workspace)
    do_agent_reply(conversation=handoff.conversation, agent=teammate, text="Hello")
    do_resolve(conversation=handoff.conversation, actor=teammate, resolution="solved")
    handoff = fresh(handoff)
    state = sla_state(routing=handoff.routing, now=handoff.resolved_at + timedelta(days=1))
    assert state["first_reply"]["met"] and state["resolution"]["met"]
    assert handoff.assignee == teammate  # replying to an unassigned conversation claims it


# --- Resolve and reopen --------------------------------------------------------------------------


def test_resolve_records_the_resolution_type_and_refuses_unknown_ones(workspace, teammate):
    handoff = hand_off(workspace)
    with pytest.raises(ConversationError, match="Unknown resolution"):
        do_resolve(conversation=handoff.conversation, actor=teammate, resolution="meh")
    do_resolve(conversation=handoff.conversation, actor=teammate, resolution="duplicate")
    conversation = Conversation.objects.get(pk=handoff.conversation_id)
    assert conversation.resolution == Conversation.Resolution.DUPLICATE
    assert AuditLog.objects.get(action="conversation.resolve").details == {
        "resolution": "duplicate"
    }


def test_a_reopened_conversation_goes_back_to_the_same_online_agent_not_the_bot(
    workspace, teammate
):
    agent_status_set(workspace=workspace, user=teammate, status="online")
    handoff = hand_off(workspace)
    conversation = handoff.conversation
    do_agent_reply(conversation=conversation, agent=teammate, text="Fixed it.")
    do_resolve(conversation=conversation, actor=teammate, resolution="solved")
    agent(workspace, "other")  # never assigned: the least-busy rule alone would pick them

    do_customer_message(conversation=conversation, text="It broke again", queue_bot=True)

    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.HANDED_OFF
    assert conversation.resolution == ""
    reopened = Handoff.objects.exclude(status=Handoff.Status.RESOLVED).get(
        conversation=conversation
    )
    assert reopened.trigger == "reopened"
    assert reopened.assignee == teammate
    assert conversation.messages.filter(kind=Message.Kind.HANDOFF).count() == 2


def test_a_reopened_conversation_waits_for_people_when_its_agent_is_offline(workspace, teammate):
    handoff = hand_off(workspace)
    handoff_claim(handoff=handoff, agent=teammate)
    do_agent_reply(conversation=handoff.conversation, agent=teammate, text="Done.")
    do_resolve(conversation=handoff.conversation, actor=teammate)
    agent_status_set(workspace=workspace, user=teammate, status="offline")

    do_customer_message(conversation=handoff.conversation, text="Hello again", queue_bot=False)

    reopened = Handoff.objects.exclude(status=Handoff.Status.RESOLVED).get(
        conversation=handoff.conversation
    )
    assert reopened.assignee is None
    handoff.conversation.refresh_from_db()
    assert handoff.conversation.status == Conversation.Status.HANDED_OFF


def test_the_bot_skips_a_conversation_a_person_has(workspace, teammate):
    handoff = hand_off(workspace)
    do_agent_reply(conversation=handoff.conversation, agent=teammate, text="I'm here.")
    message = do_customer_message(
        conversation=handoff.conversation, text="thanks, and my order?", queue_bot=False
    ).message
    turn = do_bot_turn(message_id=message.pk)
    assert turn is not None and turn.action == BotTurn.Action.SKIP
    assert not handoff.conversation.messages.filter(author=Message.Author.BOT, pk__gt=message.pk)


def test_a_bot_only_conversation_reopens_to_the_bot(workspace):
    customer = customer_get_or_create_verified(workspace=workspace, external_id="botonly")
    conversation = do_conversation_start(workspace=workspace, customer=customer).conversation
    do_resolve(conversation=conversation)
    do_customer_message(conversation=conversation, text="one more thing", queue_bot=False)
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.BOT
    assert not Handoff.objects.filter(conversation=conversation).exists()


def test_agent_status_refuses_unknown_states(workspace, teammate):
    with pytest.raises(InboxError, match="online, away or offline"):
        agent_status_set(workspace=workspace, user=teammate, status="busy")
    assert not AgentStatus.objects.filter(user=teammate).exists()
