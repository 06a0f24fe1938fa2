"""The email channel: the inbound webhook (authentication, threading, duplicates, bad
input), agent replies and the resolve email going out in the customer's thread, and the
one-click rating links."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from supportops import flows
from supportops.conversations.csat import csat_link_token
from supportops.conversations.models import (
    Conversation,
    ConversationEvent,
    CsatRequest,
    CsatResponse,
    Customer,
    EmailChannel,
    Message,
)
from supportops.conversations.services import customer_get_or_create_verified
from supportops.inbox.followup import csat_links

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(workspace) -> EmailChannel:
    return EmailChannel.objects.create(workspace=workspace, address="help@acme.example")


@pytest.fixture(autouse=True)
def email_in_memory(settings):
    """Email to memory; tasks queued on commit run in this process (run the callbacks with
    django_capture_on_commit_callbacks(execute=True))."""
    from supportops.celery import app

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def url(workspace) -> str:
    return f"/api/email/v1/inbound/{workspace.public_key}/"


def deliver(client, channel, payload, *, sign=True, secret=None, bearer=None):
    body = json.dumps(payload).encode()
    headers = {}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    elif sign:
        key = (secret or channel.inbound_secret).encode()
        digest = hmac.new(key, body, hashlib.sha256).hexdigest()
        headers["X-SupportOps-Signature"] = f"sha256={digest}"
    return client.post(
        url(channel.workspace), data=body, content_type="application/json", headers=headers
    )


def email(**overrides):
    payload = {
        "from": "Dana Reyes <dana@customer.example>",
        "subject": "My order never came",
        "text": "Hello, order 1234 never arrived. Can you check?",
        "message_id": "<first@mail.customer.example>",
    }
    payload.update(overrides)
    return payload


def test_an_email_opens_a_conversation_that_goes_to_people(client, channel, workspace):
    response = deliver(client, channel, email())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] and body["new_conversation"]
    conversation = Conversation.objects.get(pk=body["conversation_id"])
    assert conversation.channel == Conversation.Channel.EMAIL
    assert conversation.subject == "My order never came"
    assert conversation.status == Conversation.Status.HANDED_OFF
    handoff = conversation.handoffs.get()
    assert handoff.trigger == "channel"
    assert not conversation.messages.filter(author=Message.Author.BOT).exists()
    customer = conversation.customer
    assert customer.email == "dana@customer.example" and customer.is_email_only


def test_an_email_from_a_verified_customers_address_joins_that_customer(client, channel, workspace):
    verified = customer_get_or_create_verified(
        workspace=workspace, external_id="C-7", email="Dana@Customer.example"
    )
    body = deliver(client, channel, email()).json()
    assert Conversation.objects.get(pk=body["conversation_id"]).customer_id == verified.pk


def test_a_reply_continues_its_thread_by_in_reply_to(
    client, channel, teammate, django_capture_on_commit_callbacks
):
    first = deliver(client, channel, email()).json()
    conversation = Conversation.objects.get(pk=first["conversation_id"])
    with django_capture_on_commit_callbacks(execute=True):
        flows.do_agent_reply(conversation=conversation, agent=teammate, text="It ships today.")
    ours = Message.objects.filter(conversation=conversation, author="agent").get()
    assert ours.email_message_id.startswith("<")  # sent by email, with our Message-ID
    sent = mail.outbox[-1]
    assert sent.to == ["dana@customer.example"]
    assert sent.subject == "Re: My order never came"
    assert sent.extra_headers["In-Reply-To"] == "<first@mail.customer.example>"
    assert sent.extra_headers["Message-ID"] == ours.email_message_id

    reply = email(
        subject="Something else entirely",  # the headers decide, not the subject
        text="Thanks! And when will it arrive?\n\nOn Mon, Support wrote:\n> It ships today.",
        message_id="<second@mail.customer.example>",
        in_reply_to=ours.email_message_id,
    )
    body = deliver(client, channel, reply).json()
    assert body["conversation_id"] == conversation.pk and not body["new_conversation"]
    stored = Message.objects.get(pk=body["message_id"])
    assert stored.text == "Thanks! And when will it arrive?"  # the quoted history is cut


def test_without_thread_headers_the_open_conversation_with_the_same_subject_continues(
    client, channel
):
    first = deliver(client, channel, email()).json()
    again = deliver(
        client,
        channel,
        email(subject="RE: my order never came", message_id="<again@mail.customer.example>"),
    ).json()
    assert again["conversation_id"] == first["conversation_id"]
    other = deliver(
        client,
        channel,
        email(subject="Invoice question", message_id="<invoice@mail.customer.example>"),
    ).json()
    assert other["new_conversation"] and other["conversation_id"] != first["conversation_id"]


def test_a_duplicate_delivery_stores_one_message(client, channel):
    first = deliver(client, channel, email())
    second = deliver(client, channel, email())
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["created"] is False
    assert second.json()["message_id"] == first.json()["message_id"]
    assert Message.objects.filter(email_message_id="<first@mail.customer.example>").count() == 1
    assert Conversation.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "status", "words"),
    [
        (email(**{"from": ""}), 422, "Unknown sender"),
        (email(**{"from": "not an address"}), 422, "Unknown sender"),
        (email(**{"from": "a@x.example, b@y.example"}), 422, "Unknown sender"),
        (email(**{"from": "help@acme.example"}), 422, "Unknown sender"),
        (email(**{"from": "MAILER-DAEMON@mx.example"}), 422, "Unknown sender"),
        (email(message_id=""), 400, "message_id"),
        (email(message_id="no-brackets"), 400, "message_id"),
        (email(text="   "), 400, "text"),
        (email(text=["a list"]), 400, "text"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_stores_nothing(
    client, channel, payload, status, words
):
    response = deliver(client, channel, payload)
    assert response.status_code == status
    assert words in response.json()["detail"]
    assert not Message.objects.exists() and not Customer.objects.exists()


def test_a_body_that_is_not_a_json_object_is_refused(client, channel):
    for raw in (b"not json", b"[1, 2]"):
        digest = hmac.new(channel.inbound_secret.encode(), raw, hashlib.sha256).hexdigest()
        response = client.post(
            url(channel.workspace),
            data=raw,
            content_type="application/json",
            headers={"X-SupportOps-Signature": f"sha256={digest}"},
        )
        assert response.status_code == 400


def test_a_bad_signature_or_token_is_refused(client, channel):
    assert deliver(client, channel, email(), secret="wrong").status_code == 401
    assert deliver(client, channel, email(), sign=False).status_code == 401
    assert deliver(client, channel, email(), bearer="wrong").status_code == 401
    assert not Message.objects.exists()
    assert deliver(client, channel, email(), bearer=channel.inbound_secret).status_code == 201


def test_an_unknown_workspace_or_one_without_email_is_not_found(client, workspace, outsider):
    response = client.post(
        "/api/email/v1/inbound/pk_nothing/", data="{}", content_type="application/json"
    )
    assert response.status_code == 404
    assert (
        client.post(url(workspace), data="{}", content_type="application/json").status_code == 404
    )
    assert client.get(url(workspace)).status_code == 405


def resolve_by_email(client, channel, teammate):
    body = deliver(client, channel, email()).json()
    conversation = Conversation.objects.get(pk=body["conversation_id"])
    flows.do_agent_reply(conversation=conversation, agent=teammate, text="Refunded.")
    flows.do_resolve(conversation=conversation, actor=teammate, resolution="solved")
    return conversation


def test_the_resolve_email_carries_one_signed_link_per_score(
    client, channel, teammate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        conversation = resolve_by_email(client, channel, teammate)
    ask = CsatRequest.objects.get(conversation=conversation)
    assert ask.channel == "email" and ask.emailed_at is not None and ask.answered_at is None
    sent = mail.outbox[-1]
    assert "How would you rate" in sent.body
    links = [line.split(": ", 1)[1] for line in sent.body.splitlines() if "/csat/" in line]
    assert len(links) == 5
    assert ConversationEvent.objects.filter(conversation=conversation, kind="csat_asked").exists()


def test_a_rating_link_records_the_score_once(client, channel, teammate):
    conversation = resolve_by_email(client, channel, teammate)
    ask = CsatRequest.objects.get(conversation=conversation)
    four = csat_links(ask)[3][2].split("testserver")[-1].split("localhost:8000")[-1]
    first = client.get(four)
    assert first.status_code == 200 and b"4</strong> out of 5" in first.content
    again = client.get(four)  # a second click changes nothing
    assert again.status_code == 200
    ask.refresh_from_db()
    assert (ask.score, CsatResponse.objects.get(conversation=conversation).score) == (4, 4)
    answered = ConversationEvent.objects.filter(conversation=conversation, kind="csat_answered")
    assert answered.count() == 1

    token = csat_link_token(request=ask, score=2)
    page = client.get(f"/csat/{token}/")  # another score: offered, not applied
    assert b"You rated this before" in page.content
    assert CsatResponse.objects.get(conversation=conversation).score == 4
    client.post(f"/csat/{token}/", {"action": "change", "comment": "slow"})
    assert CsatResponse.objects.get(conversation=conversation).score == 2
    ask.refresh_from_db()
    assert ask.answered_at is not None and ask.score == 2


@pytest.mark.parametrize("tamper", ["garbage", "flip"])
def test_a_bad_rating_link_is_refused(client, channel, teammate, tamper):
    conversation = resolve_by_email(client, channel, teammate)
    ask = CsatRequest.objects.get(conversation=conversation)
    token = csat_link_token(request=ask, score=5)
    bad = "garbage" if tamper == "garbage" else token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    response = client.get(f"/csat/{bad}/")
    assert response.status_code == 400 and b"not valid" in response.content
    assert not CsatResponse.objects.exists()


def test_an_expired_rating_link_is_refused(client, channel, teammate, settings):
    conversation = resolve_by_email(client, channel, teammate)
    ask = CsatRequest.objects.get(conversation=conversation)
    token = csat_link_token(request=ask, score=5)
    later = timezone.now() + timedelta(days=settings.CSAT_LINK_MAX_AGE_DAYS, hours=1)
    with time_machine.travel(later, tick=False):
        response = client.get(f"/csat/{token}/")
    assert response.status_code == 400 and b"expired" in response.content
    assert not CsatResponse.objects.exists()


def test_the_widgets_rating_records_its_request_too(workspace):
    from supportops.conversations.services import csat_submit, customer_get_or_create_visitor

    customer = customer_get_or_create_visitor(workspace=workspace, visitor_id="v" * 20)
    conversation = flows.do_conversation_start(workspace=workspace, customer=customer).conversation
    flows.do_customer_end(conversation=conversation)
    ask = CsatRequest.objects.get(conversation=conversation)
    assert ask.channel == "widget" and ask.answered_at is None
    csat_submit(conversation=conversation, score=5)
    ask.refresh_from_db()
    assert ask.score == 5 and ask.answered_at is not None
