"""What the widget's state says about the person side of the chat: who the customer is
chatting with, and the signed-in customer's own address offered for answers by email."""

from __future__ import annotations

import pytest

from supportops.conversations.models import Conversation
from supportops.flows import do_agent_reply
from supportops.inbox.models import Handoff
from supportops.inbox.services import handoff_claim

from .conftest import signed

pytestmark = pytest.mark.django_db


def hand_off(shop, started: dict) -> dict:
    response = shop.post(f"/conversations/{started['id']}/handoff", token=started["token"])
    assert response.status_code == 200
    return response.json()


def use_known(shop, started: dict):
    return shop.post(
        f"/conversations/{started['id']}/email", {"use_known": True}, token=started["token"]
    )


def named(user, first_name: str):
    user.first_name = first_name
    user.save(update_fields=["first_name"])
    return user


# --- The person's name ----------------------------------------------------------------------


def test_no_person_is_named_while_the_bot_answers_or_the_customer_waits(shop):
    started = shop.chat()
    assert started["person_name"] is None
    assert hand_off(shop, started)["person_name"] is None
    assert shop.read(started).json()["person_name"] is None


def test_with_a_person_the_state_names_the_assigned_agent(shop, teammate, manager):
    named(teammate, "Maren")
    named(manager, "Mia")
    started = shop.chat()
    hand_off(shop, started)
    handoff = Handoff.objects.get(conversation_id=started["id"])
    handoff_claim(handoff=handoff, agent=teammate)
    # Someone else answered first; the conversation is still Maren's.
    do_agent_reply(
        conversation=Conversation.objects.get(pk=started["id"]), agent=manager, text="Hi there."
    )
    state = shop.read(started).json()
    assert state["status"] == "with_agent"
    assert state["person_name"] == "Maren"


def test_without_an_assignee_the_last_agent_who_replied_is_named(shop, teammate):
    named(teammate, "  Maren ")
    started = shop.chat()
    do_agent_reply(
        conversation=Conversation.objects.get(pk=started["id"]), agent=teammate, text="Hello."
    )
    assert shop.read(started).json()["person_name"] == "Maren"


def test_an_agent_without_a_first_name_is_not_named(shop, teammate):
    named(teammate, "")
    started = shop.chat()
    do_agent_reply(
        conversation=Conversation.objects.get(pk=started["id"]), agent=teammate, text="Hello."
    )
    state = shop.read(started).json()
    assert state["status"] == "with_agent"
    assert state["person_name"] is None


def test_an_ended_chat_names_nobody(shop, teammate):
    named(teammate, "Maren")
    started = shop.chat()
    do_agent_reply(
        conversation=Conversation.objects.get(pk=started["id"]), agent=teammate, text="Hello."
    )
    ended = shop.post(f"/conversations/{started['id']}/end", token=started["token"]).json()
    assert ended["status"] == "resolved"
    assert ended["person_name"] is None


# --- The signed-in customer's own address ---------------------------------------------------


def test_a_signed_in_customers_address_is_offered_masked_while_waiting(shop, workspace):
    started = shop.chat(**signed(workspace, "C-7", email="dana@example.com", name="Dana"))
    assert started["known_email"] is None  # nothing to offer while the bot answers
    state = hand_off(shop, started)
    assert state["known_email"] == "d***@example.com"
    assert "dana@" not in str(shop.read(started).json())


def test_using_the_known_address_stores_it_without_the_customer_typing_it(shop, workspace):
    started = shop.chat(**signed(workspace, "C-7", email="dana@example.com"))
    hand_off(shop, started)
    response = use_known(shop, started)
    assert response.status_code == 200
    assert response.json()["followup_email"] == "d***@example.com"
    assert response.json()["known_email"] is None  # given: no longer offered
    assert Conversation.objects.get(pk=started["id"]).followup_email == "dana@example.com"
    notice = shop.read(started).json()["messages"][-1]
    assert notice["text"].startswith("We'll email you at d***@example.com")


def test_the_customer_may_give_another_address_instead(shop, workspace):
    started = shop.chat(**signed(workspace, "C-7", email="dana@example.com"))
    hand_off(shop, started)
    response = shop.post(
        f"/conversations/{started['id']}/email",
        {"email": "dana.work@example.org"},
        token=started["token"],
    )
    assert response.json()["followup_email"] == "d***@example.org"
    assert Conversation.objects.get(pk=started["id"]).followup_email == "dana.work@example.org"


def test_an_anonymous_visitor_has_no_known_address_to_use(shop):
    started = shop.chat()
    assert hand_off(shop, started)["known_email"] is None
    response = use_known(shop, started)
    assert response.status_code == 400
    assert response.json()["detail"] == "We have no address for you yet; enter one."
    assert Conversation.objects.get(pk=started["id"]).followup_email == ""


def test_a_signed_in_customer_without_an_email_is_asked_for_one(shop, workspace):
    started = shop.chat(**signed(workspace, "C-8"))
    assert hand_off(shop, started)["known_email"] is None
    assert use_known(shop, started).status_code == 400
