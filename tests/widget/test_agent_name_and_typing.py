"""The customer sees who answers ("Maren from Acme Support") and, both ways, that the other
side is typing: pings kept in Redis for a few seconds, never in the database."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from supportops.conversations import typing
from supportops.conversations.models import Conversation
from supportops.flows import do_agent_reply
from supportops.inbox.models import Handoff
from supportops.inbox.services import handoff_claim
from supportops.widget.api import person_label
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def named(user, first_name: str):
    user.first_name = first_name
    user.save(update_fields=["first_name"])
    return user


def hand_off(shop, started: dict) -> dict:
    response = shop.post(f"/conversations/{started['id']}/handoff", token=started["token"])
    assert response.status_code == 200
    return response.json()


def ping(shop, started: dict, token: str | None = None):
    return shop.post(f"/conversations/{started['id']}/typing", token=token or started["token"])


def redis_ttl(key: str) -> int:
    return cache._cache.get_client(write=False).ttl(cache.make_key(key))


# --- The agent's name ------------------------------------------------------------------------


def test_person_label_says_first_name_and_company():
    assert person_label("Maren", "Tidewell") == "Maren from Tidewell"
    assert person_label("  Maren ", "Tidewell") == "Maren from Tidewell"
    assert person_label("", "Tidewell") == "Tidewell support team"
    assert person_label("", "") == "Support team"


def test_each_agent_message_and_the_state_name_the_agent_and_the_company(shop, teammate, manager):
    named(teammate, "Maren")
    named(manager, "Mia")
    started = shop.chat()
    hand_off(shop, started)
    handoff_claim(handoff=Handoff.objects.get(conversation_id=started["id"]), agent=teammate)
    conversation = Conversation.objects.get(pk=started["id"])
    do_agent_reply(conversation=conversation, agent=teammate, text="Hi, Maren here.")
    do_agent_reply(conversation=conversation, agent=manager, text="And Mia, her manager.")

    page = shop.read(started).json()
    agents = [m for m in page["messages"] if m["author"] == "agent"]
    assert [m["author_label"] for m in agents] == [
        "Maren from Acme Support",
        "Mia from Acme Support",
    ]
    assert [m["author_name"] for m in agents] == ["Maren", "Mia"]
    # The header while chatting: the person the conversation is assigned to.
    assert page["status"] == "with_agent"
    assert page["person_name"] == "Maren"
    assert page["person_label"] == "Maren from Acme Support"
    # Nothing else about the agent reaches the customer.
    assert teammate.email not in str(page) and manager.email not in str(page)


def test_an_agent_without_a_first_name_is_the_company_team(shop, teammate):
    named(teammate, "")
    started = shop.chat()
    do_agent_reply(
        conversation=Conversation.objects.get(pk=started["id"]), agent=teammate, text="Hello."
    )
    page = shop.read(started).json()
    assert page["messages"][-1]["author_label"] == "Acme Support support team"
    assert page["messages"][-1]["author_name"] is None
    assert page["person_label"] == "Acme Support support team"


def test_no_person_label_while_the_bot_answers_or_the_customer_waits(shop):
    started = shop.chat()
    assert started["person_label"] is None
    assert hand_off(shop, started)["person_label"] is None


def test_the_agent_label_costs_no_query_per_message(shop, teammate):
    named(teammate, "Maren")
    started = shop.chat()
    conversation = Conversation.objects.get(pk=started["id"])
    do_agent_reply(conversation=conversation, agent=teammate, text="One.")
    shop.read(started)  # the first read also marks the chat as seen
    with CaptureQueriesContext(connection) as one:
        shop.read(started)
    for n in range(5):
        do_agent_reply(conversation=conversation, agent=teammate, text=f"More {n}.")
    shop.read(started)
    with CaptureQueriesContext(connection) as six:
        page = shop.read(started).json()
    assert len(page["messages"]) >= 6
    assert len(six) == len(one)


# --- The customer is typing ------------------------------------------------------------------


def test_a_customer_typing_ping_is_kept_in_redis_for_a_few_seconds(shop):
    started = shop.chat()
    hand_off(shop, started)
    response = ping(shop, started)
    assert response.status_code == 204
    assert response.content == b""
    key = typing.typing_key(conversation_id=started["id"], who=typing.CUSTOMER)
    assert 0 < redis_ttl(key) <= typing.TYPING_TTL_S
    assert typing.typing_now(conversation_id=started["id"], who=typing.CUSTOMER) == ""


def test_the_agent_page_shows_customer_is_typing_until_the_mark_expires(
    shop, client, teammate, monkeypatch
):
    started = shop.chat()
    hand_off(shop, started)
    url = reverse("inbox:conversation", args=["acme", started["id"]])
    agent = type(client)()
    assert agent.login(username=teammate.username, password=PASSWORD)

    assert "Customer is typing" not in agent.get(url).content.decode()
    monkeypatch.setattr(typing, "TYPING_TTL_S", 1)
    assert ping(shop, started).status_code == 204
    assert "Customer is typing" in agent.get(url).content.decode()
    transcript = agent.get(url + "?region=transcript", headers={"HX-Request": "true"})
    assert 'id="customer-typing"' in transcript.content.decode()

    time.sleep(1.3)
    transcript = agent.get(url + "?region=transcript", headers={"HX-Request": "true"})
    assert "Customer is typing" not in transcript.content.decode()


def test_typing_needs_the_conversations_own_token(shop):
    started = shop.chat()
    other = shop.chat()
    hand_off(shop, started)
    assert ping(shop, started, token=other["token"]).status_code == 404
    assert ping(shop, started, token="not-a-token").status_code == 404
    no_token = shop.post(f"/conversations/{started['id']}/typing")
    assert no_token.status_code == 404
    assert typing.typing_now(conversation_id=started["id"], who=typing.CUSTOMER) is None


def test_typing_to_the_bot_is_ignored(shop):
    started = shop.chat()
    assert ping(shop, started).status_code == 204
    assert typing.typing_now(conversation_id=started["id"], who=typing.CUSTOMER) is None


def test_the_openapi_schema_documents_the_typing_endpoint(client):
    schema = client.get("/api/widget/v1/openapi.json").json()
    [path] = [p for p in schema["paths"] if p.endswith("/typing")]
    responses = schema["paths"][path]["post"]["responses"]
    assert {"204", "400", "403", "404", "429", "503"} <= set(responses)
    assert "Retry-After" in responses["429"]["headers"]
    state = schema["components"]["schemas"]["StateOut"]["properties"]
    assert {"typing", "person_label"} <= set(state)


# --- The agent is typing ---------------------------------------------------------------------


def test_the_widget_shows_the_agent_typing_by_first_name(shop, client, teammate):
    named(teammate, "Maren")
    started = shop.chat()
    hand_off(shop, started)
    assert shop.read(started).json()["typing"] is None
    assert client.login(username=teammate.username, password=PASSWORD)
    response = client.post(reverse("inbox:typing", args=["acme", started["id"]]))
    assert response.status_code == 204
    key = typing.typing_key(conversation_id=started["id"], who=typing.AGENT)
    assert 0 < redis_ttl(key) <= typing.TYPING_TTL_S
    assert shop.read(started).json()["typing"] == "Maren is typing\u2026"


def test_an_agent_without_a_first_name_types_as_the_team(shop, client, teammate):
    named(teammate, "")
    started = shop.chat()
    hand_off(shop, started)
    assert client.login(username=teammate.username, password=PASSWORD)
    client.post(reverse("inbox:typing", args=["acme", started["id"]]))
    assert shop.read(started).json()["typing"] == "Someone from the team is typing\u2026"


def test_agent_typing_is_for_inbox_members_of_the_workspace_only(shop, client, outsider, finance):
    started = shop.chat()
    hand_off(shop, started)
    url = reverse("inbox:typing", args=["acme", started["id"]])
    assert client.login(username=outsider.username, password=PASSWORD)
    assert client.post(url).status_code == 404
    assert client.login(username=finance.username, password=PASSWORD)
    assert client.post(url).status_code == 403
    assert shop.read(started).json()["typing"] is None
