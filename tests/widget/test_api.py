"""The public widget API, called the way the embed script calls it (real PostgreSQL and Redis)."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest

from supportops.accounts.models import AuditLog
from supportops.conversations.models import Conversation, CsatResponse, Customer, Message
from supportops.conversations.services import message_post_bot
from supportops.flows import do_agent_reply
from supportops.inbox.models import Handoff
from supportops.widget.models import WidgetSettings

from .conftest import SHOP, WidgetClient, new_visitor_id, signed

pytestmark = pytest.mark.django_db

CORS_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
)


def conversation_row(started: dict) -> Conversation:
    return Conversation.objects.get(pk=started["id"])


# --- Allowed origins (CORS) ----------------------------------------------------------------


def test_allowed_origin_gets_its_origin_echoed_back(shop):
    response = shop.get("/config")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert "Origin" in response["Vary"]
    assert response.json() == {
        "title": "Acme help",
        "accent_color": "#123456",
        "workspace_name": "Acme Support",
    }


def test_disallowed_origin_is_refused_with_403_and_no_cors_headers(shop):
    shop.origin = "https://evil.example"
    for response in (
        shop.get("/config"),
        shop.post("/conversations", {"visitor_id": new_visitor_id()}),
        shop.options("/conversations", headers={"Access-Control-Request-Method": "POST"}),
    ):
        assert response.status_code == 403
        assert "not allowed" in response.json()["detail"]
        assert not [h for h in CORS_HEADERS if h in response]
    assert not Conversation.objects.exists()


def test_a_lookalike_origin_is_not_allowed(shop):
    for origin in ("https://shop.example.evil.example", "http://shop.example", "null"):
        shop.origin = origin
        assert shop.get("/config").status_code == 403, origin


def test_preflight_from_an_allowed_origin_allows_the_widget_headers(shop):
    response = shop.options(
        "/conversations/1/messages",
        headers={
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,idempotency-key,x-conversation-token",
        },
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SHOP
    allowed = {h.strip().lower() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "x-conversation-token", "idempotency-key"} <= allowed
    assert {"GET", "POST"} <= set(
        response["Access-Control-Allow-Methods"].replace(" ", "").split(",")
    )
    assert response["Vary"] == "Origin"


def test_requests_without_origin_or_from_the_app_itself_are_allowed(shop):
    shop.origin = None  # server-to-server, or a same-origin GET
    assert shop.get("/config").status_code == 200
    shop.origin = "http://testserver"  # the app's own pages, e.g. the demo page
    response = shop.post("/conversations", {"visitor_id": new_visitor_id()})
    assert response.status_code == 200


def test_a_workspace_without_widget_settings_accepts_only_the_app_itself(client, workspace):
    WidgetSettings.objects.filter(workspace=workspace).delete()
    api = WidgetClient(client=client, workspace=workspace)
    assert api.get("/config").status_code == 403
    api.origin = "http://testserver"
    assert api.get("/config").json()["title"] == "Support"


def test_unknown_workspace_key_is_404(shop):
    response = shop.client.get(
        "/api/widget/v1/workspaces/pk_doesnotexist/config", headers={"Origin": SHOP}
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Unknown workspace key."}


# --- Starting, identity ----------------------------------------------------------------------


def test_starting_returns_a_pending_token_and_the_ai_greeting_and_stores_nothing(shop):
    started = shop.start()
    assert started["status"] == "bot"
    assert started["wait"] is None
    [greeting] = started["messages"]
    assert greeting["author"] == "bot"
    assert greeting["kind"] == "greeting"
    assert greeting["author_label"] == "AI assistant"
    assert "AI assistant" in greeting["text"]
    assert "id" not in started and "token" not in started
    assert not Conversation.objects.exists()
    assert not Customer.objects.exists()
    assert not Message.objects.exists()


def test_the_first_message_begins_the_conversation_with_the_greeting_it_was_shown(shop):
    started = shop.start()
    response = shop.say(started, "Where is my order?")
    assert response.status_code == 201
    body = response.json()
    assert (body["author"], body["text"]) == ("customer", "Where is my order?")
    conversation = body["conversation"]
    assert len(conversation["token"]) >= 32
    assert conversation["status"] == "bot"
    stored = [(m["author"], m["kind"], m["text"]) for m in conversation["messages"]]
    greeting = started["messages"][0]
    assert stored == [
        ("bot", "greeting", greeting["text"]),
        ("customer", "text", "Where is my order?"),
    ]
    # Only a hash of the token is stored, and the token opens the conversation.
    assert conversation_row(conversation).token_hash != conversation["token"]
    assert shop.read(conversation).json()["messages"] == conversation["messages"]
    assert Conversation.objects.count() == 1


def test_an_anonymous_visitor_gets_no_account(shop):
    visitor = new_visitor_id()
    shop.chat(visitor_id=visitor, customer_name="Alice", customer_email="alice@acme.example")
    customer = Customer.objects.get(visitor_id=visitor)
    assert customer.external_id == ""
    assert customer.email == ""
    assert not customer.is_verified


def test_the_same_visitor_is_one_customer_across_conversations(shop):
    visitor = new_visitor_id()
    first, second = shop.chat(visitor_id=visitor), shop.chat(visitor_id=visitor)
    assert first["id"] != second["id"]
    assert conversation_row(first).customer_id == conversation_row(second).customer_id


def test_a_verified_customer_is_linked_to_their_record(shop, workspace):
    started = shop.chat(**signed(workspace, "C-1001", name="Dana Reyes", email="dana@example.com"))
    customer = conversation_row(started).customer
    assert (customer.external_id, customer.name, customer.email) == (
        "C-1001",
        "Dana Reyes",
        "dana@example.com",
    )


def test_an_uppercase_signature_is_accepted(shop, workspace):
    identity = signed(workspace, "C-1001")
    shop.start(**{**identity, "signature": identity["signature"].upper()})


@pytest.mark.parametrize(
    "signature",
    # Non-ASCII text (and a lone surrogate, which JSON can carry) once crashed the
    # constant-time comparison with a 500; schemathesis found it.
    ["", "deadbeef", "not hex at all", "SIGNATURE-OF-ANOTHER-ID", "ünïcödé ✓", "\ud800"],
)
def test_a_customer_id_without_its_signature_is_refused(shop, workspace, signature):
    identity = signed(workspace, "C-1001")
    if signature == "SIGNATURE-OF-ANOTHER-ID":
        signature = signed(workspace, "C-2002")["signature"]
    response = shop.post("/conversations", {**identity, "signature": signature})
    assert response.status_code == 403
    assert response.json() == {"detail": "The signature does not match."}
    # The refusal still carries CORS headers, so the widget can read and report it.
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert not Customer.objects.filter(external_id="C-1001").exists()


def test_a_signature_from_another_workspace_is_refused(shop, outsider):
    from supportops.accounts.models import Workspace

    other = Workspace.objects.get(slug="other")
    response = shop.post("/conversations", signed(other, "C-1001"))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "visitor_id or customer_id"),
        ({"visitor_id": "short"}, "16 to 64 characters"),
        ({"visitor_id": "x" * 65}, "16 to 64 characters"),
        ({"visitor_id": "<script>alert(1)</script>"}, "letters, digits"),
        ({"visitor_id": 12345}, "visitor_id"),
    ],
)
def test_starting_without_a_usable_identity_is_400(shop, body, message):
    response = shop.post("/conversations", body)
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_a_verified_customer_with_a_bad_email_is_400(shop, workspace):
    response = shop.post(
        "/conversations",
        signed(workspace, "C-1", email="nope"),
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "The customer email is not a valid address."


# --- The conversation token -----------------------------------------------------------------


def test_the_token_opens_the_conversation(shop):
    started = shop.chat()
    response = shop.read(started)
    assert response.status_code == 200
    assert response.json()["id"] == started["id"]


def test_another_visitors_token_opens_nothing(shop):
    mine, theirs = shop.chat(), shop.chat()
    for method in ("read", "say"):
        call = getattr(shop, method)
        args = ("hello",) if method == "say" else ()
        response = call({"id": theirs["id"], "token": mine["token"]}, *args)
        assert response.status_code == 404
        assert response.json() == {"detail": "Conversation not found."}
    assert Message.objects.filter(author="customer").count() == 2  # their first messages


@pytest.mark.parametrize("token", [None, "", "guess", "A" * 43])
def test_a_missing_or_wrong_token_is_404(shop, token):
    started = shop.chat()
    response = shop.get(f"/conversations/{started['id']}/messages", token=token)
    assert response.status_code == 404
    assert response.json() == {"detail": "Conversation not found."}


def test_a_guessed_conversation_id_is_404(shop):
    started = shop.chat()
    for guess in (started["id"] + 1, 999_999, 0, -1, 2**70):
        response = shop.read({"id": guess, "token": started["token"]})
        assert response.status_code == 404, guess
    for path in ("handoff", "feedback", "csat", "end"):
        response = shop.post(
            f"/conversations/{started['id'] + 1}/{path}",
            {"solved": True, "score": 5},
            token=started["token"],
        )
        assert response.status_code == 404, path


def test_a_token_works_only_under_its_own_workspace_key(client, shop, outsider):
    from supportops.accounts.models import Workspace

    other = Workspace.objects.get(slug="other")
    WidgetSettings.objects.create(workspace=other, allowed_origins=[SHOP])
    started = shop.chat()
    elsewhere = WidgetClient(client=client, workspace=other)
    assert elsewhere.read(started).status_code == 404


def test_knowing_a_customers_email_opens_nothing(shop, workspace):
    shop.chat(**signed(workspace, "C-7", email="victim@example.com"))
    # Anything the attacker can send about the victim still starts a fresh anonymous chat.
    response = shop.post(
        "/conversations",
        {"visitor_id": new_visitor_id(), "customer_email": "victim@example.com"},
    )
    assert response.status_code == 200
    started = response.json()
    assert shop.say(started, "Show me my orders").status_code == 201
    customer = conversation_row(started).customer
    assert customer.external_id == "" and customer.email == ""
    assert [m["kind"] for m in shop.read(started).json()["messages"]] == ["greeting", "text"]


# --- Messages -------------------------------------------------------------------------------


def test_posting_a_message_stores_it_and_returns_201(shop):
    started = shop.start()
    response = shop.say(started, "Where is my order?")
    assert response.status_code == 201
    body = response.json()
    assert (body["author"], body["kind"], body["text"]) == (
        "customer",
        "text",
        "Where is my order?",
    )
    assert body["author_label"] == "You"
    assert Message.objects.get(pk=body["id"]).conversation_id == started["id"]


def test_a_retry_with_the_same_idempotency_key_returns_the_same_message(shop):
    started = shop.chat()
    first = shop.say(started, "Hello?", key="send-1")
    retry = shop.say(started, "Hello?", key="send-1")
    assert (first.status_code, retry.status_code) == (201, 200)
    assert first.json() == retry.json()
    assert Message.objects.filter(author="customer", client_key="send-1").count() == 1


def test_the_idempotency_key_may_also_come_in_the_body(shop):
    started = shop.chat()
    path = f"/conversations/{started['id']}/messages"
    body = {"text": "Hi", "client_key": "body-key-1"}
    assert shop.post(path, body, token=started["token"]).status_code == 201
    assert shop.post(path, body, token=started["token"]).status_code == 200
    assert Message.objects.filter(author="customer", client_key="body-key-1").count() == 1


def test_messages_without_a_key_are_each_stored(shop):
    started = shop.start()
    assert shop.say(started, "one").status_code == 201
    assert shop.say(started, "one").status_code == 201
    assert Message.objects.filter(author="customer").count() == 2


def test_an_overlong_idempotency_key_is_400(shop):
    started = shop.start()
    response = shop.say(started, "hi", key="k" * 65)
    assert response.status_code == 400
    assert "idempotency key" in response.json()["detail"]


def test_a_message_of_4000_characters_is_accepted_and_4001_refused(shop):
    started = shop.start()
    assert shop.say(started, "a" * 4000).status_code == 201
    response = shop.say(started, "a" * 4001)
    assert response.status_code == 400
    assert response.json() == {"detail": "The message is 4001 characters; the limit is 4000."}
    assert Message.objects.filter(author="customer").count() == 1


def test_an_empty_message_is_400(shop):
    started = shop.start()
    response = shop.say(started, "   ")
    assert response.status_code == 400
    assert response.json() == {"detail": "The message is empty."}


def test_html_is_stored_verbatim_and_returned_as_a_json_string(shop):
    started = shop.start()
    html = '<img src=x onerror="alert(1)"><script>steal()</script> & <b>bold</b>'
    posted = shop.say(started, html)
    assert posted.status_code == 201
    assert posted["Content-Type"].startswith("application/json")
    assert posted.json()["text"] == html
    assert Message.objects.get(pk=posted.json()["id"]).text == html
    listed = shop.read(started).json()["messages"]
    assert listed[-1]["text"] == html


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "The request body is not valid JSON."),
        ("", "The request body must be a JSON object."),
        ("{}", "text: Field required."),
        ('{"text": 5}', "text: Input should be a valid string."),
    ],
)
def test_bad_request_bodies_are_400_with_a_readable_message(shop, raw, message):
    started = shop.chat()
    response = shop.post(
        f"/conversations/{started['id']}/messages", raw=raw, token=started["token"]
    )
    assert response.status_code == 400  # never ninja's default 422
    assert response.json() == {"detail": message}


def test_a_body_over_the_upload_limit_is_413_and_stores_nothing(shop, settings):
    started = shop.chat()
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    body = json.dumps({"text": "x" * 4000})
    response = shop.post(
        f"/conversations/{started['id']}/messages", raw=body, token=started["token"]
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large."}
    assert Message.objects.filter(author=Message.Author.CUSTOMER).count() == 1  # the first


def test_reading_after_a_cursor_returns_only_newer_messages(shop):
    started = shop.chat()
    cursor = shop.read(started).json()["cursor"]
    first = shop.say(started, "first").json()
    second = shop.say(started, "second").json()

    page = shop.read(started, after=cursor).json()
    assert [m["id"] for m in page["messages"]] == [first["id"], second["id"]]
    assert page["cursor"] == second["id"]
    assert page["status"] == "bot"
    assert page["more"] is False
    assert set(page["messages"][0]) == {
        "id",
        "author",
        "author_label",
        "author_name",
        "kind",
        "text",
        "sources",
        "client_key",
        "created_at",
    }

    empty = shop.read(started, after=page["cursor"]).json()
    assert empty["messages"] == []
    assert empty["cursor"] == page["cursor"]


def test_a_long_history_comes_in_pages(shop):
    started = shop.chat()
    conversation = conversation_row(started)
    Message.objects.bulk_create(
        Message(
            workspace=conversation.workspace, conversation=conversation, author="bot", text=str(i)
        )
        for i in range(120)
    )
    first = shop.read(started).json()
    assert (len(first["messages"]), first["more"]) == (100, True)
    rest = shop.read(started, after=first["cursor"]).json()
    assert (len(rest["messages"]), rest["more"]) == (22, False)  # with greeting and "Hello"


def test_a_negative_or_non_numeric_cursor_is_400(shop):
    started = shop.chat()
    for after in ("-1", "abc"):
        response = shop.get(
            f"/conversations/{started['id']}/messages?after={after}", token=started["token"]
        )
        assert response.status_code == 400, after
        assert response.json()["detail"].startswith("after")


def test_bot_answers_show_their_sources_as_safe_absolute_links(shop):
    started = shop.chat()
    message_post_bot(
        conversation=conversation_row(started),
        text="You can return items within 30 days.",
        kind=Message.Kind.ANSWER,
        sources=[
            {"article_id": "returns", "title": "How to return", "url": "/help/pk_x/12/"},
            {"article_id": 7, "title": "Shop policy", "url": "https://shop.example/policy"},
            {"article_id": 8, "title": "Sneaky", "url": "javascript:alert(1)"},
            {"article_id": 9, "title": "No link", "url": ""},
            {"title": ""},
        ],
    )
    answer = shop.read(started).json()["messages"][-1]
    assert answer["kind"] == "answer"
    assert answer["sources"] == [
        {
            "title": "How to return",
            "url": "http://testserver/help/pk_x/12/",
            "article_id": "returns",
        },
        {"title": "Shop policy", "url": "https://shop.example/policy", "article_id": 7},
        {"title": "Sneaky", "url": None, "article_id": 8},
        {"title": "No link", "url": None, "article_id": 9},
    ]


def test_an_agent_is_labelled_by_first_name_only(shop, teammate):
    teammate.first_name = "Bob"
    teammate.last_name = "Secretlastname"
    teammate.save()
    started = shop.chat()
    do_agent_reply(conversation=conversation_row(started), agent=teammate, text="Hi, Bob here.")
    page = shop.read(started).json()
    assert page["messages"][-1]["author_label"] == "Bob from Acme Support"
    assert page["messages"][-1]["author_name"] == "Bob"
    assert page["status"] == "with_agent"
    assert "bob@acme.example" not in str(page) and "Secretlastname" not in str(page)


# --- Actions --------------------------------------------------------------------------------


def test_talk_to_a_person_hands_off_and_says_so(shop):
    started = shop.chat()
    path = f"/conversations/{started['id']}/handoff"
    response = shop.post(path, token=started["token"])
    assert response.status_code == 200
    assert response.json()["status"] == "handed_off"
    handoff = Handoff.objects.get(conversation_id=started["id"])
    assert handoff.trigger == "explicit_request"
    assert handoff.reason == "customer pressed Talk to a person"
    notice = shop.read(started, after=started["cursor"]).json()["messages"]
    assert [m["kind"] for m in notice] == ["text", "handoff"]

    # Pressing again neither queues a second handoff nor repeats the notice.
    assert shop.post(path, token=started["token"]).status_code == 200
    assert Handoff.objects.filter(conversation_id=started["id"]).count() == 1
    assert len(shop.read(started, after=started["cursor"]).json()["messages"]) == 2


def test_talk_to_a_person_before_writing_begins_the_conversation_once(shop):
    started = shop.start()
    assert not Conversation.objects.exists()
    body = {"pending_token": started["pending_token"]}
    response = shop.post("/pending/handoff", body)
    assert response.status_code == 201
    chat = response.json()
    assert chat["status"] == "handed_off"
    assert [m["kind"] for m in chat["messages"]] == ["greeting", "handoff"]
    assert chat["messages"][0]["text"] == started["messages"][0]["text"]
    handoff = Handoff.objects.get(conversation_id=chat["id"])
    assert (handoff.trigger, handoff.reason) == (
        "explicit_request",
        "customer pressed Talk to a person",
    )
    # The token it returns opens the conversation; a second press changes nothing.
    assert shop.read(chat).json()["status"] == "handed_off"
    again = shop.post("/pending/handoff", body)
    assert again.status_code == 200
    assert (again.json()["id"], again.json()["token"]) == (chat["id"], chat["token"])
    assert Conversation.objects.count() == 1
    assert Handoff.objects.filter(conversation_id=chat["id"]).count() == 1
    # The first message then goes to the same conversation.
    assert shop.say(dict(started), "Are you there?").json()["conversation"]["id"] == chat["id"]


def test_yes_it_solved_it_resolves_and_asks_for_a_rating(shop):
    started = shop.chat()
    response = shop.post(
        f"/conversations/{started['id']}/feedback", {"solved": True}, token=started["token"]
    )
    assert response.status_code == 200
    assert response.json() == {
        "status": "resolved",
        "solved": True,
        "csat_score": None,
        "wait": None,
        "followup_email": None,
        "person_name": None,
        "person_label": None,
        "typing": None,
        "known_email": None,
    }
    assert shop.read(started).json()["messages"][-1]["kind"] == "csat_request"


def test_no_it_did_not_keeps_the_bot_and_offers_a_person(shop):
    started = shop.chat()
    response = shop.post(
        f"/conversations/{started['id']}/feedback", {"solved": False}, token=started["token"]
    )
    assert response.json() == {
        "status": "bot",
        "solved": False,
        "csat_score": None,
        "wait": None,
        "followup_email": None,
        "person_name": None,
        "person_label": None,
        "typing": None,
        "known_email": None,
    }
    assert "Talk to a person" in shop.read(started).json()["messages"][-1]["text"]


def test_feedback_must_be_a_boolean(shop):
    started = shop.chat()
    response = shop.post(
        f"/conversations/{started['id']}/feedback", {"solved": "maybe"}, token=started["token"]
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("solved:")


def test_ending_the_chat_resolves_it_and_asks_for_a_rating_once(shop):
    started = shop.chat()
    path = f"/conversations/{started['id']}/end"
    assert shop.post(path, token=started["token"]).json()["status"] == "resolved"
    assert shop.post(path, token=started["token"]).status_code == 200
    kinds = [m["kind"] for m in shop.read(started).json()["messages"]]
    assert kinds.count("csat_request") == 1


def test_a_rating_with_a_comment_is_stored(shop):
    started = shop.chat()
    shop.post(f"/conversations/{started['id']}/end", token=started["token"])
    response = shop.post(
        f"/conversations/{started['id']}/csat",
        {"score": 4, "comment": "Quick <b>and</b> kind"},
        token=started["token"],
    )
    assert response.status_code == 200
    assert response.json() == {
        "status": "resolved",
        "solved": None,
        "csat_score": 4,
        "wait": None,
        "followup_email": None,
        "person_name": None,
        "person_label": None,
        "typing": None,
        "known_email": None,
    }
    csat = CsatResponse.objects.get(conversation_id=started["id"])
    assert (csat.score, csat.comment) == (4, "Quick <b>and</b> kind")
    assert shop.read(started).json()["csat_score"] == 4


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"score": 0}, "score: Input should be greater than or equal to 1."),
        ({"score": 6}, "score: Input should be less than or equal to 5."),
        ({"score": "five"}, "score: Input should be a valid integer"),
        ({}, "score: Field required."),
        ({"score": 3, "comment": "x" * 2001}, "The comment is over 2000 characters."),
    ],
)
def test_a_bad_rating_is_400(shop, body, message):
    started = shop.chat()
    response = shop.post(f"/conversations/{started['id']}/csat", body, token=started["token"])
    assert response.status_code == 400
    assert response.json()["detail"].startswith(message)
    assert not CsatResponse.objects.exists()


def test_writing_after_the_end_reopens_the_conversation(shop):
    started = shop.chat()
    shop.post(f"/conversations/{started['id']}/end", token=started["token"])
    shop.say(started, "One more thing")
    assert shop.read(started).json()["status"] == "bot"


# --- Rate limits ------------------------------------------------------------------------------


def test_too_many_messages_from_one_visitor_get_429_with_retry_after(shop, settings):
    settings.WIDGET_RATE_MESSAGES_PER_VISITOR_PER_MIN = 3
    started = shop.start()  # the first message (the pending chat's) counts too
    for i in range(3):
        assert shop.say(started, f"message {i}").status_code == 201
    response = shop.say(started, "one too many")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "messages" in response.json()["detail"]
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert Message.objects.filter(author="customer").count() == 3
    # Another visitor is not affected.
    assert shop.say(shop.start(), "hello").status_code == 201


def test_too_many_requests_from_one_visitor_get_429(shop, settings):
    settings.WIDGET_RATE_PER_VISITOR_PER_MIN = 4
    started = shop.chat()  # the start and the first message count as two
    for _ in range(2):
        assert shop.read(started).status_code == 200
    response = shop.read(started)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1


def test_too_many_writes_to_one_workspace_get_429(shop, settings):
    settings.WIDGET_RATE_PER_WORKSPACE_PER_MIN = 2
    shop.start()
    shop.start()
    response = shop.post("/conversations", {"visitor_id": new_visitor_id()})
    assert response.status_code == 429
    assert "workspace" in response.json()["detail"]
    assert not Conversation.objects.exists()


def test_polling_does_not_use_up_the_workspace_budget(shop, settings):
    settings.WIDGET_RATE_PER_WORKSPACE_PER_MIN = 2
    started = shop.chat()  # two writes: the start and the first message
    for _ in range(5):
        assert shop.read(started).status_code == 200


def _start_from(shop, ip: str, **body: Any):
    """A start as the browser at `ip` makes it, behind one trusted proxy."""
    body.setdefault("visitor_id", new_visitor_id())
    return shop.post("/conversations", body, headers={"X-Forwarded-For": f"{ip}"})


def test_one_client_flooding_starts_cannot_lock_other_visitors_out(shop, settings):
    # The review's attack: 620 starts from one address with random visitor ids, against the
    # default limits (the workspace allows 600 writes a minute).
    settings.TRUSTED_PROXY_COUNT = 1
    first_minute = int(time.time() // 60)
    codes = Counter(_start_from(shop, "198.51.100.23").status_code for _ in range(620))
    allowed = int(settings.WIDGET_RATE_STARTS_PER_IP.split("/")[0])
    assert codes == {200: allowed, 429: 620 - allowed}
    # Starting stores nothing: the flood left no conversation and no customer behind.
    assert not Conversation.objects.exists()
    assert not Customer.objects.exists()
    refused = _start_from(shop, "198.51.100.23")
    assert refused.status_code == 429
    assert "your network" in refused.json()["detail"]
    assert 1 <= int(refused["Retry-After"]) <= 60
    # A real visitor elsewhere still gets a chat.
    assert _start_from(shop, "203.0.113.9").status_code == 200
    # The flood is in the audit log once a minute, not 600 times (twice if it went on over the
    # turn of a clock minute).
    minutes = int(time.time() // 60) - first_minute + 1
    rows = AuditLog.objects.filter(workspace=shop.workspace, action="widget.rate_limited")
    assert 1 <= rows.count() <= minutes
    assert {row.details["client"] for row in rows} == {"198.51.100.23"}


def test_the_client_address_is_read_behind_the_trusted_proxies_only(shop, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.WIDGET_RATE_STARTS_PER_IP = "2/minute"
    # Entries left of the proxy's own are the client's to invent: they change nothing.
    for fake in ("10.0.0.1", "10.0.0.2"):
        assert _start_from(shop, f"{fake}, 198.51.100.40").status_code == 200
    assert _start_from(shop, "10.0.0.3, 198.51.100.40").status_code == 429


def test_an_ipv6_client_is_limited_by_its_network(shop, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.WIDGET_RATE_STARTS_PER_IP = "2/minute"
    assert _start_from(shop, "2001:db8:1:2::1").status_code == 200
    assert _start_from(shop, "2001:db8:1:2::ffff").status_code == 200
    assert _start_from(shop, "2001:db8:1:2:abcd::7").status_code == 429
    assert _start_from(shop, "2001:db8:1:3::1").status_code == 200


def test_messages_from_one_address_are_limited_across_its_chats(shop, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.WIDGET_RATE_WRITES_PER_IP = "5/minute"
    ip = {"X-Forwarded-For": "198.51.100.77"}
    chats = [_start_from(shop, "198.51.100.77").json() for _ in range(2)]  # 2 writes

    def post(chat: dict, text: str) -> int:
        if "id" not in chat:  # the first message begins the conversation
            response = shop.post(
                "/pending/messages",
                {"text": text, "pending_token": chat["pending_token"]},
                headers=ip,
            )
            if response.status_code == 201:
                chat.update(response.json()["conversation"])
            return response.status_code
        return shop.post(
            f"/conversations/{chat['id']}/messages", {"text": text}, token=chat["token"], headers=ip
        ).status_code

    codes = [post(chat, f"hello {n}") for n in range(2) for chat in chats]
    assert codes == [201, 201, 201, 429]
