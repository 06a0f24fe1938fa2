"""Starting a chat stores nothing (issue 16, finding 2): the start returns a signed, expiring
pending-chat token, and the chat's first message (or "Talk to a person") creates the customer
and the conversation. Real PostgreSQL and Redis, through the widget API."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from django.core import signing
from django.core.signing import TimestampSigner

from supportops.accounts.models import Workspace
from supportops.bot.services import bot_settings_get
from supportops.conversations.models import Conversation, Customer, Message
from supportops.flows import HUMAN_ONLY_NOTICE
from supportops.inbox.models import Handoff
from supportops.rollout.models import Assignment
from supportops.widget.models import WidgetSettings
from supportops.widget.security import PENDING_SALT
from tests.rollout.conftest import make_phase

from .conftest import SHOP, WidgetClient, new_visitor_id, signed

pytestmark = pytest.mark.django_db


def first_message(shop: WidgetClient, started: dict, text: str = "Hello", **extra):
    headers = {"Idempotency-Key": extra.pop("key")} if "key" in extra else None
    return shop.post(
        "/pending/messages",
        {"text": text, "pending_token": started["pending_token"], **extra},
        headers=headers,
    )


def nothing_stored() -> bool:
    return not (
        Conversation.objects.exists()
        or Customer.objects.exists()
        or Message.objects.exists()
        or Assignment.objects.exists()
    )


def aged(token: str, seconds: int) -> str:
    """The same pending chat, signed `seconds` ago (as if the visitor had left the tab open)."""
    payload = TimestampSigner(salt=PENDING_SALT).unsign_object(token)

    class Earlier(TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - seconds)

    return Earlier(salt=PENDING_SALT).sign_object(payload, compress=True)


# --- The start stores nothing ----------------------------------------------------------------


def test_620_starts_from_one_client_store_no_conversation_and_no_customer(shop, settings):
    # Limits high enough that every start is accepted: even then nothing is stored.
    settings.WIDGET_RATE_STARTS_PER_IP = "1000/minute"
    settings.WIDGET_RATE_WRITES_PER_IP = "1000/minute"
    settings.WIDGET_RATE_PER_WORKSPACE_PER_MIN = 1000
    codes = Counter(
        shop.post("/conversations", {"visitor_id": new_visitor_id()}).status_code
        for _ in range(620)
    )
    assert codes == {200: 620}
    assert nothing_stored()


def test_a_start_is_a_handful_of_queries(shop, django_assert_num_queries):
    # The workspace, its bot settings, its rollout settings (read once) and the live or the
    # latest paused phase (one query): no writes.
    shop.start()  # the workspace's bot and rollout settings rows exist from now on
    with django_assert_num_queries(4):
        shop.start()
    with django_assert_num_queries(4):
        shop.start(**signed(shop.workspace, "C-1", name="Dana", email="dana@example.com"))
    assert nothing_stored()


# --- The first message begins the conversation -----------------------------------------------


def test_the_first_message_creates_customer_conversation_and_message_in_one_go(shop):
    visitor = new_visitor_id()
    started = shop.start(visitor_id=visitor)
    response = first_message(shop, started, "Where is my parcel?")
    assert response.status_code == 201
    conversation = Conversation.objects.get()
    assert conversation.customer == Customer.objects.get(visitor_id=visitor)
    assert [(m.author, m.kind, m.text) for m in conversation.messages.order_by("pk")] == [
        ("bot", "greeting", started["messages"][0]["text"]),
        ("customer", "text", "Where is my parcel?"),
    ]
    assignment = Assignment.objects.get(conversation=conversation)
    assert (assignment.arm, assignment.start) == ("ai_first", "assistant")
    assert response.json()["conversation"]["id"] == conversation.pk


def test_the_first_message_sent_twice_with_the_same_key_begins_one_conversation(shop):
    started = shop.start()
    first = first_message(shop, started, "Hi there", key="first-1")
    retry = first_message(shop, started, "Hi there", key="first-1")
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["id"] == first.json()["id"]
    assert retry.json()["conversation"]["id"] == first.json()["conversation"]["id"]
    assert retry.json()["conversation"]["token"] == first.json()["conversation"]["token"]
    assert Conversation.objects.count() == 1
    assert Message.objects.filter(author="customer").count() == 1
    assert Message.objects.filter(kind="greeting").count() == 1
    assert Assignment.objects.count() == 1


def test_the_idempotency_key_of_a_first_message_may_come_in_the_body(shop):
    started = shop.start()
    assert first_message(shop, started, "Hi", client_key="body-1").status_code == 201
    assert first_message(shop, started, "Hi", client_key="body-1").status_code == 200
    assert Message.objects.filter(author="customer").count() == 1


def test_another_message_on_the_same_pending_token_joins_its_conversation(shop):
    # Two tabs of one page sent a first message each: one conversation, two messages.
    started = shop.start()
    one = first_message(shop, started, "one", key="k-1").json()
    two = first_message(shop, started, "two", key="k-2")
    assert two.status_code == 201
    assert two.json()["conversation"]["id"] == one["conversation"]["id"]
    assert Conversation.objects.count() == 1


def test_a_bad_first_message_stores_nothing(shop):
    started = shop.start()
    for text, detail in [
        ("   ", "The message is empty."),
        ("a" * 4001, "The message is 4001 characters; the limit is 4000."),
    ]:
        response = first_message(shop, started, text)
        assert response.status_code == 400
        assert response.json() == {"detail": detail}
    assert first_message(shop, started, "hi", key="k" * 65).status_code == 400
    assert shop.post("/pending/messages", {"text": "hi"}).json() == {
        "detail": "pending_token: Field required."
    }
    assert nothing_stored()


# --- Tokens that open nothing --------------------------------------------------------------


def test_a_pending_token_from_another_workspace_begins_nothing_there(client, shop, outsider):
    other = Workspace.objects.get(slug="other")
    WidgetSettings.objects.create(workspace=other, allowed_origins=[SHOP])
    started = shop.start()
    elsewhere = WidgetClient(client=client, workspace=other)
    for path, body in [
        ("/pending/messages", {"text": "hello", "pending_token": started["pending_token"]}),
        ("/pending/handoff", {"pending_token": started["pending_token"]}),
    ]:
        response = elsewhere.post(path, body)
        assert response.status_code == 404
        assert response.json() == {"detail": "This chat was not found; start a new one."}
    assert nothing_stored()
    # At home it still works.
    assert first_message(shop, started).status_code == 201
    assert Conversation.objects.get().workspace == shop.workspace


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        lambda token: "x" + token,
        lambda token: "",
        lambda token: "not-a-token",
        lambda token: "é" * 40,
        lambda token: TimestampSigner(salt="another purpose").sign_object({"workspace_id": 1}),
    ],
)
def test_a_forged_pending_token_is_404(shop, tamper):
    started = shop.start()
    response = shop.post(
        "/pending/messages", {"text": "hi", "pending_token": tamper(started["pending_token"])}
    )
    assert response.status_code == 404
    assert "start a new one" in response.json()["detail"]
    assert nothing_stored()


def test_an_expired_pending_token_is_refused_with_a_clear_message(shop, settings):
    settings.WIDGET_PENDING_CHAT_TTL_MINUTES = 120
    started = shop.start()
    old = aged(started["pending_token"], 121 * 60)
    for path, body in [
        ("/pending/messages", {"text": "hello", "pending_token": old}),
        ("/pending/handoff", {"pending_token": old}),
    ]:
        response = shop.post(path, body)
        assert response.status_code == 410
        assert response.json() == {
            "detail": "This chat expired before its first message; start a new one."
        }
    assert nothing_stored()
    # Just inside its lifetime it works.
    fresh = aged(started["pending_token"], 119 * 60)
    assert first_message(shop, {"pending_token": fresh}).status_code == 201


def test_a_first_message_retried_after_expiry_still_finds_its_conversation(shop, settings):
    # The answer to the first message was lost and the retry came late: not a second chat.
    settings.WIDGET_PENDING_CHAT_TTL_MINUTES = 120
    started = shop.start()
    first = first_message(shop, started, "Hello", key="late-1").json()
    late = {"pending_token": aged(started["pending_token"], 5 * 3600)}
    retry = first_message(shop, late, "Hello", key="late-1")
    assert retry.status_code == 200
    assert retry.json()["conversation"]["id"] == first["conversation"]["id"]
    assert Conversation.objects.count() == 1


# --- Who the customer is ---------------------------------------------------------------------


def test_the_verified_identity_comes_from_the_start_token_only(shop, workspace):
    started = shop.start(**signed(workspace, "C-9", name="Dana Reyes", email="dana@example.com"))
    assert not Customer.objects.exists()
    # Whatever else the first message carries, the customer is the one the host site signed.
    response = first_message(
        shop,
        started,
        "Where is my order?",
        customer_id="C-666",
        customer_name="Mallory",
        customer_email="mallory@evil.example",
        visitor_id=new_visitor_id(),
    )
    assert response.status_code == 201
    customer = Conversation.objects.get().customer
    assert (customer.external_id, customer.name, customer.email) == (
        "C-9",
        "Dana Reyes",
        "dana@example.com",
    )
    assert Customer.objects.count() == 1


def test_a_returning_verified_customer_is_the_same_customer(shop, workspace):
    first = shop.chat(**signed(workspace, "C-9", name="Dana", email="dana@example.com"))
    second = shop.chat(**signed(workspace, "C-9", name="Dana", email="dana@example.com"))
    assert first["id"] != second["id"]
    assert Customer.objects.filter(external_id="C-9").count() == 1


# --- Starting with people --------------------------------------------------------------------


def test_with_the_assistant_off_the_start_says_a_person_will_reply(shop, workspace):
    settings = bot_settings_get(workspace=workspace)
    settings.enabled = False
    settings.save()
    started = shop.start()
    assert started["status"] == "handed_off"
    assert [(m["author"], m["text"]) for m in started["messages"]] == [
        ("system", HUMAN_ONLY_NOTICE)
    ]
    assert set(started["wait"]) >= {"open_now", "agents_online", "position"}
    assert nothing_stored()
    response = first_message(shop, started, "I need help with an invoice")
    conversation = Conversation.objects.get(pk=response.json()["conversation"]["id"])
    assert conversation.status == Conversation.Status.HANDED_OFF
    assert [(m.author, m.text) for m in conversation.messages.order_by("pk")][0] == (
        "system",
        HUMAN_ONLY_NOTICE,
    )
    assert Handoff.objects.filter(conversation=conversation).count() == 1
    assert Assignment.objects.get(conversation=conversation).start == "bot_off"


def test_the_arm_decided_at_the_start_is_the_one_recorded(shop, workspace, owner):
    from supportops.bot.categories import category_list
    from supportops.bot.demo import demo_categories_seed

    demo_categories_seed(workspace=workspace)
    names = list(category_list(workspace=workspace).values_list("name", flat=True))
    phase = make_phase(workspace, owner, names, share=1.0)  # everyone in the control group
    started = shop.start()
    assert started["status"] == "handed_off"
    assert started["messages"][0]["text"] == HUMAN_ONLY_NOTICE
    first_message(shop, started)
    conversation = Conversation.objects.get()
    assert conversation.arm == Conversation.Arm.HUMAN_ONLY
    assignment = Assignment.objects.get(conversation=conversation)
    assert (assignment.phase_id, assignment.start, assignment.arm) == (
        phase.pk,
        "control",
        "human_only",
    )
