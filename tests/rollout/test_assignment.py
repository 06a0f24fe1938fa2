"""Sticky arm assignment: shares, stability across conversations and channels, and the
fewest customers moved when the control share changes."""

from __future__ import annotations

import pytest

from supportops.conversations.models import Conversation, Message
from supportops.conversations.services import (
    InboundEmail,
    customer_get_or_create_verified,
    customer_get_or_create_visitor,
)
from supportops.flows import do_conversation_start, do_email_inbound
from supportops.rollout.models import Assignment
from supportops.rollout.selectors import rollout_settings_get
from supportops.rollout.services import arm_of, bucket_of, phase_update

from .conftest import RETURN_QUESTION, RETURNS, make_phase


def test_buckets_are_uniform_so_shares_match_the_configuration():
    buckets = [
        bucket_of(key="k" * 64, workspace_id=7, identity=f"visitor:{n}") for n in range(20_000)
    ]
    for share in (0.1, 0.25, 0.5):
        control = sum(arm_of(bucket=b, control_share=share) == "human_only" for b in buckets)
        assert abs(control / len(buckets) - share) < 0.01
    assert all(0 <= b < 1 for b in buckets)


def test_the_bucket_depends_on_the_key_and_the_workspace():
    one = bucket_of(key="a" * 64, workspace_id=1, identity="customer:42")
    assert one == bucket_of(key="a" * 64, workspace_id=1, identity="customer:42")
    assert one != bucket_of(key="b" * 64, workspace_id=1, identity="customer:42")
    assert one != bucket_of(key="a" * 64, workspace_id=2, identity="customer:42")


def known_key(workspace) -> None:
    """A fixed assignment key, so which of a dozen customers land in control is the same on
    every run (with the workspace's random key, all twelve fall in one arm once in 2,048)."""
    settings = rollout_settings_get(workspace=workspace)
    settings.assignment_key = "known".ljust(64, "k")
    settings.save(update_fields=["assignment_key"])


@pytest.mark.django_db
def test_a_customer_keeps_their_arm_on_every_conversation_and_channel(workspace, owner, categories):
    make_phase(workspace, owner, categories, share=0.5)
    known_key(workspace)
    arms = {}
    for n in range(12):
        customer = customer_get_or_create_verified(workspace=workspace, external_id=f"c-{n}")
        seen = {
            do_conversation_start(
                workspace=workspace, customer=customer, channel=channel
            ).conversation.arm
            for channel in (Conversation.Channel.WIDGET, Conversation.Channel.EMAIL, "widget")
        }
        assert len(seen) == 1
        arms[n] = seen.pop()
    assert set(arms.values()) == {"ai_first", "human_only"}  # 12 customers, both arms


@pytest.mark.django_db
def test_an_email_from_a_customer_opens_a_conversation_in_their_arm(workspace, owner, categories):
    phase = make_phase(workspace, owner, categories, share=0.5)
    known_key(workspace)
    arms = set()
    for n in range(12):
        customer = customer_get_or_create_verified(
            workspace=workspace, external_id=f"m-{n}", email=f"m{n}@customer.example"
        )
        chat = do_conversation_start(workspace=workspace, customer=customer).conversation
        email = do_email_inbound(
            workspace=workspace,
            email=InboundEmail(
                sender=customer.email,
                subject="Sending something back",
                text=RETURN_QUESTION,
                message_id=f"<m{n}@mail.customer.example>",
                thread_ids=[],
            ),
        ).conversation
        assert email.customer_id == customer.pk and email.arm == chat.arm
        assignment = Assignment.objects.get(conversation=email)
        # Counted in the live phase by intention to treat; people answer email either way.
        assert (assignment.arm, assignment.start, assignment.phase_id) == (
            chat.arm,
            "channel",
            phase.pk,
        )
        assert email.handoffs.get().trigger == "channel"
        arms.add(email.arm)
    assert arms == {"ai_first", "human_only"}


@pytest.mark.django_db
def test_the_control_group_is_told_a_person_will_reply_not_greeted_as_an_ai(
    workspace, owner, categories
):
    phase = make_phase(workspace, owner, categories, share=1.0)
    customer = customer_get_or_create_visitor(workspace=workspace, visitor_id="v" * 20)
    conversation = do_conversation_start(workspace=workspace, customer=customer).conversation
    assert conversation.arm == "human_only"
    assert conversation.status == Conversation.Status.HANDED_OFF
    first = conversation.messages.get()
    assert first.author == Message.Author.SYSTEM and "person" in first.text
    assert "AI" not in first.text and "assistant" not in first.text.lower()
    assignment = Assignment.objects.get(conversation=conversation)
    assert (assignment.arm, assignment.start, assignment.phase_id) == (
        "human_only",
        "control",
        phase.pk,
    )


@pytest.mark.django_db
def test_without_a_live_phase_everyone_is_ai_first(workspace):
    customer = customer_get_or_create_visitor(workspace=workspace, visitor_id="w" * 20)
    conversation = do_conversation_start(workspace=workspace, customer=customer).conversation
    assert conversation.arm == "ai_first"
    assert conversation.messages.get().kind == Message.Kind.GREETING
    assert Assignment.objects.get(conversation=conversation).phase is None


@pytest.mark.django_db
def test_raising_the_share_moves_only_the_customers_between_the_two_shares(
    workspace, owner, categories
):
    phase = make_phase(workspace, owner, categories, share=0.2)
    key = rollout_settings_get(workspace=workspace).assignment_key
    customers = [
        customer_get_or_create_verified(workspace=workspace, external_id=f"m-{n}")
        for n in range(60)
    ]
    before = {}
    for customer in customers:
        before[customer.pk] = do_conversation_start(
            workspace=workspace, customer=customer
        ).conversation.arm
    change = phase_update(phase=phase, actor=owner, known_categories=categories, control_share="35")
    buckets = {
        c.pk: bucket_of(key=key, workspace_id=workspace.pk, identity=f"customer:{c.external_id}")
        for c in customers
    }
    expected_moved = {pk for pk, b in buckets.items() if 0.2 <= b < 0.35}
    assert change.customers_moved == len(expected_moved) > 0
    after = {
        c.pk: do_conversation_start(workspace=workspace, customer=c).conversation.arm
        for c in customers
    }
    moved = {pk for pk in after if after[pk] != before[pk]}
    assert moved == expected_moved
    assert all(after[pk] == "human_only" for pk in moved)
    row = workspace.audit_logs.filter(action="rollout.phase_update").latest("pk")
    assert row.details["changes"]["control_share"] == {"before": 0.2, "after": 0.35}
    assert row.details["customers_moved"] == len(expected_moved)
    assert RETURNS in phase.categories
