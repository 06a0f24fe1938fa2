"""Timelines played through the real flows with the clock at each event's time
(time-machine), and the ledger read as of a chosen hour."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from supportops import flows
from supportops.analytics.ledger import outcome_refresh
from supportops.analytics.models import Outcome
from supportops.conversations.models import Conversation, EmailChannel
from supportops.conversations.selectors import email_thread_ids
from supportops.conversations.services import InboundEmail, customer_get_or_create_verified
from supportops.inbox.services import handoff_claim, handoff_open_get

T0 = datetime(2025, 5, 5, 9, 0, tzinfo=UTC)
DAY0 = T0.date()
HUMAN = Conversation.Arm.HUMAN_ONLY
PASSWORD_Q = "How do I reset my password?"
PASSWORD_AGAIN = "I forgot my password, how can I reset it?"
EMAIL_Q = "How do I change the email address on my account?"


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


@dataclass
class Play:
    workspace: object
    agent: object
    customer: object

    def chat(self, hours, text, conversation=None, arm=Conversation.Arm.AI_FIRST):
        with time_machine.travel(at(hours), tick=False):
            if conversation is None:
                conversation = flows.do_conversation_start(
                    workspace=self.workspace, customer=self.customer, arm=arm
                ).conversation
            conversation.refresh_from_db()
            posted = flows.do_customer_message(
                conversation=conversation, text=text, queue_bot=False
            )
            flows.do_bot_turn(message_id=posted.message.pk)
        conversation.refresh_from_db()
        return conversation

    def email(self, hours, text, *, subject="Help please", conversation=None):
        thread = []
        if conversation is not None:
            thread = email_thread_ids(conversation=conversation, newest_first=True)
        with time_machine.travel(at(hours), tick=False):
            result = flows.do_email_inbound(
                workspace=self.workspace,
                email=InboundEmail(
                    sender=self.customer.email,
                    subject=subject,
                    text=text,
                    message_id=f"<{uuid.uuid4().hex}@mail.customer.example>",
                    thread_ids=thread,
                ),
            )
        return result.conversation

    def feedback(self, hours, conversation, solved):
        with time_machine.travel(at(hours), tick=False):
            conversation.refresh_from_db()
            flows.do_feedback(conversation=conversation, solved=solved)

    def agent_reply(self, hours, conversation, text="Done: I changed it for you."):
        with time_machine.travel(at(hours), tick=False):
            conversation.refresh_from_db()
            handoff = handoff_open_get(conversation=conversation)
            if handoff is not None and handoff.assignee_id is None:
                handoff_claim(handoff=handoff, agent=self.agent)
            flows.do_agent_reply(conversation=conversation, agent=self.agent, text=text)

    def resolve(self, hours, conversation, resolution="solved"):
        with time_machine.travel(at(hours), tick=False):
            conversation.refresh_from_db()
            flows.do_resolve(conversation=conversation, actor=self.agent, resolution=resolution)

    def leave(self, hours, conversation):
        with time_machine.travel(at(hours), tick=False):
            conversation.refresh_from_db()
            flows.do_customer_end(conversation=conversation)

    def outcome(self, conversation, hours) -> Outcome:
        with time_machine.travel(at(hours), tick=False):
            row = outcome_refresh(conversation=conversation, as_of=at(hours))
        assert row is not None
        return row


@pytest.fixture
def help_centre(make_article):
    make_article(
        title=PASSWORD_Q,
        body=f"{PASSWORD_Q}\n\nOpen Settings, choose Security and press Reset password. We "
        "email you a link that works for one hour.",
    )
    make_article(
        title="Change the email address on your account",
        body="Change the email address on your account\n\nOpen Profile, choose Email and "
        "enter the new address. We send a confirmation link to it.",
    )


@pytest.fixture
def play(workspace, teammate, help_centre) -> Play:
    EmailChannel.objects.create(workspace=workspace, address="help@acme.example")
    customer = customer_get_or_create_verified(
        workspace=workspace, external_id="C-1", name="Dana Reyes", email="dana@customer.example"
    )
    return Play(workspace=workspace, agent=teammate, customer=customer)


def handled_by_a_person(play):
    """A control conversation: 09:00 question, 09:06 claim and reply, 09:09 customer,
    09:12 reply, 09:42 customer (after 30 idle minutes), 09:48 reply, 09:51 resolved.
    Handling by hand: 3 + 3 + (30 idle, not counted) + 6 + 3 = 15 minutes = 900 s."""
    c = play.chat(0, EMAIL_Q, arm=HUMAN)
    play.agent_reply(0.1, c, "Open Profile, then Email.")
    play.chat(0.15, "I don't see Profile", conversation=c)
    play.agent_reply(0.2, c, "It is under your name at the top right.")
    play.chat(0.7, "Found it, but the link expired", conversation=c)
    play.agent_reply(0.8, c, "I sent a new link.")
    play.resolve(0.85, c)
    c.refresh_from_db()
    return c
