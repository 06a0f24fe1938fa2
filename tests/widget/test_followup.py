"""Waiting for a person: the live wait figures in the widget's poll, the email address the
customer leaves when nobody is there, and the agent's reply sent there (Django's outbox)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from supportops.celery import app as celery_app
from supportops.conversations.models import Conversation, Message
from supportops.flows import do_agent_reply
from supportops.inbox.followup import message_email_send
from supportops.inbox.models import SlaPolicy
from supportops.inbox.tasks import followup_email_send
from tests.inbox.test_routing import agent

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_celery():
    """Tasks queued on commit run right away, in this process."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def handed_off(shop) -> dict:
    started = shop.chat()
    response = shop.post(f"/conversations/{started['id']}/handoff", token=started["token"])
    assert response.status_code == 200
    return started


def leave_email(shop, started: dict, email: str = "dana@example.com", **extra: str):
    return shop.post(
        f"/conversations/{started['id']}/email", {"email": email, **extra}, token=started["token"]
    )


def away(started: dict, minutes: int = 5) -> None:
    """The customer closed the tab: no poll for a while."""
    Conversation.objects.filter(pk=started["id"]).update(
        customer_seen_at=timezone.now() - timedelta(minutes=minutes)
    )


# --- Wait figures in the poll ---------------------------------------------------------------------


def test_while_the_bot_answers_there_is_no_wait(shop):
    started = shop.chat()
    assert started["wait"] is None
    assert shop.read(started).json()["wait"] is None


def test_with_nobody_online_the_poll_says_so_honestly(shop):
    started = handed_off(shop)
    wait = shop.read(started).json()["wait"]
    assert wait["open_now"] is False
    assert wait["agents_online"] == 0
    assert wait["estimated_minutes"] is None
    assert wait["position"] == 1


def test_with_an_agent_online_the_poll_gives_place_and_minutes(shop, workspace):
    agent(workspace, "ann", max_open=1)
    handed_off(shop)  # Ann takes this one
    second = handed_off(shop)
    wait = shop.read(second).json()["wait"]
    assert wait["open_now"] is True
    assert wait["position"] == 1
    assert wait["agents_online"] == 1
    assert wait["estimated_minutes"] == SlaPolicy.DEFAULTS["normal"][0]
    # The handoff action answers with the figures too.
    again = shop.post(f"/conversations/{second['id']}/handoff", token=second["token"]).json()
    assert again["wait"]["position"] == 1


def test_once_a_person_answered_the_wait_is_gone(shop, workspace, teammate):
    started = handed_off(shop)
    conversation = Conversation.objects.get(pk=started["id"])
    do_agent_reply(conversation=conversation, agent=teammate, text="Hi, I'm here.")
    body = shop.read(started).json()
    assert body["status"] == "with_agent"
    assert body["wait"] is None


def test_the_openapi_schema_describes_the_wait_and_the_email_endpoint(client):
    schema = client.get("/api/widget/v1/openapi.json").json()
    assert "WaitOut" in schema["components"]["schemas"]
    paths = [p for p in schema["paths"] if p.endswith("/email")]
    assert paths and "post" in schema["paths"][paths[0]]


# --- Leaving an email -----------------------------------------------------------------------------


def test_leaving_an_email_stores_it_and_confirms_it_masked(shop):
    started = handed_off(shop)
    response = leave_email(shop, started, "  dana@example.com ")
    assert response.status_code == 200
    assert response.json()["followup_email"] == "d***@example.com"
    assert Conversation.objects.get(pk=started["id"]).followup_email == "dana@example.com"
    messages = shop.read(started).json()["messages"]
    assert messages[-1]["author"] == "system"
    assert messages[-1]["text"].startswith("We'll email you at d***@example.com")
    assert "dana@example.com" not in messages[-1]["text"]


def test_the_same_address_twice_confirms_once_and_a_new_one_replaces_it(shop):
    started = handed_off(shop)
    assert leave_email(shop, started).status_code == 200
    assert leave_email(shop, started, "DANA@example.com").status_code == 200
    system = Message.objects.filter(conversation_id=started["id"], author="system")
    assert system.count() == 1
    assert leave_email(shop, started, "other@example.org").json()["followup_email"] == (
        "o***@example.org"
    )
    assert system.count() == 2
    assert Conversation.objects.get(pk=started["id"]).followup_email == "other@example.org"


@pytest.mark.parametrize(
    ("email", "detail"),
    [
        ("not-an-email", "doesn't look like an email address"),
        ("", "Enter your email address"),
        ("a@" + "b" * 260 + ".com", "over 254 characters"),
    ],
)
def test_a_bad_address_is_400_with_a_message(shop, email, detail):
    started = handed_off(shop)
    response = leave_email(shop, started, email)
    assert response.status_code == 400
    assert detail in response.json()["detail"]
    assert Conversation.objects.get(pk=started["id"]).followup_email == ""


def test_a_body_without_email_is_400(shop):
    started = handed_off(shop)
    response = shop.post(f"/conversations/{started['id']}/email", {}, token=started["token"])
    assert response.status_code == 400
    assert "email" in response.json()["detail"]


def test_a_wrong_token_is_404_and_stores_nothing(shop):
    started = handed_off(shop)
    other = shop.chat()
    response = shop.post(
        f"/conversations/{started['id']}/email", {"email": "x@example.com"}, token=other["token"]
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Conversation not found."}
    assert Conversation.objects.get(pk=started["id"]).followup_email == ""


def test_the_page_link_is_kept_only_for_the_workspaces_own_sites(shop):
    started = handed_off(shop)
    leave_email(shop, started, page_url="https://shop.example/help?order=7")
    row = Conversation.objects.get(pk=started["id"])
    assert row.followup_page_url == "https://shop.example/help?order=7"
    leave_email(shop, started, "new@example.com", page_url="https://evil.example/phish")
    assert Conversation.objects.get(pk=started["id"]).followup_page_url == ""


# --- The agent's reply by email -------------------------------------------------------------------


def emailing(callbacks):
    """The on-commit callbacks that send email (the ledger's refresh is queued too)."""
    return [c for c in callbacks if "followup_email_send" in repr(c)]


def test_a_reply_to_a_customer_who_left_is_emailed_once_and_stays_in_the_chat(
    shop, teammate, eager_celery, django_capture_on_commit_callbacks
):
    started = handed_off(shop)
    leave_email(shop, started, page_url="https://shop.example/help")
    away(started)
    conversation = Conversation.objects.get(pk=started["id"])
    teammate.first_name = "Bob"
    teammate.save()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        reply = do_agent_reply(
            conversation=conversation, agent=teammate, text="Your refund is sent."
        )
    assert len(emailing(callbacks)) == 1
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["dana@example.com"]
    assert email.subject == "Acme Support: a reply to your question"
    assert "Bob at Acme Support answered your question" in email.body
    assert "Your refund is sent." in email.body
    assert "https://shop.example/help" in email.body

    reply.refresh_from_db()
    assert reply.emailed_at is not None
    # A retried task sends nothing more.
    assert followup_email_send(reply.pk) == "nothing to do"
    assert message_email_send(message_id=reply.pk) is False
    assert len(mail.outbox) == 1

    texts = [(m["author"], m["text"]) for m in shop.read(started).json()["messages"]]
    assert ("agent", "Your refund is sent.") in texts


def test_a_customer_still_in_the_widget_gets_no_email(
    shop, teammate, eager_celery, django_capture_on_commit_callbacks
):
    started = handed_off(shop)
    leave_email(shop, started)
    shop.read(started)  # polling right now
    conversation = Conversation.objects.get(pk=started["id"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        do_agent_reply(conversation=conversation, agent=teammate, text="Hello!")
    assert emailing(callbacks) == []
    assert mail.outbox == []


def test_without_an_address_nothing_is_emailed(
    shop, teammate, eager_celery, django_capture_on_commit_callbacks
):
    started = handed_off(shop)
    away(started)
    conversation = Conversation.objects.get(pk=started["id"])
    with django_capture_on_commit_callbacks(execute=True):
        reply = do_agent_reply(conversation=conversation, agent=teammate, text="Hello?")
    assert mail.outbox == []
    assert message_email_send(message_id=reply.pk) is False


def test_a_failed_send_is_released_for_the_retry(shop, teammate, monkeypatch):
    started = handed_off(shop)
    leave_email(shop, started)
    conversation = Conversation.objects.get(pk=started["id"])
    reply = do_agent_reply(conversation=conversation, agent=teammate, text="Answer")

    def broken(*args, **kwargs):
        raise ConnectionError("SMTP down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken)
    with pytest.raises(ConnectionError):
        message_email_send(message_id=reply.pk)
    reply.refresh_from_db()
    assert reply.emailed_at is None
    monkeypatch.undo()
    assert message_email_send(message_id=reply.pk) is True
    assert len(mail.outbox) == 1
