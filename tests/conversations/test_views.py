"""The human queue: who may see it, what it lists and in which order, the transcript (escaped),
and the reply and Resolve actions."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from supportops.accounts.models import AuditLog
from supportops.accounts.services import workspace_create
from supportops.conversations.models import Conversation, Handoff, Message
from supportops.conversations.services import (
    agent_reply,
    conversation_hand_off,
    conversation_resolve,
    conversation_start,
    customer_get_or_create_verified,
    customer_get_or_create_visitor,
    message_post_customer,
)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
XSS = '<script>alert("x")</script>'
_visitors = itertools.count()


def queue_url(name: str = "queue", *args: object, slug: str = "acme") -> str:
    return reverse(f"conversations:{name}", args=[slug, *args])


def login(client: Client, user) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def handed_off(
    workspace,
    *,
    text: str = "Where is my parcel?",
    name: str = "",
    trigger: str = "explicit_request",
    reason: str = "the customer asked for a person",
    minutes_ago: int = 5,
) -> Conversation:
    """A conversation the assistant handed off `minutes_ago`, after one customer message."""
    if name:
        customer = customer_get_or_create_verified(
            workspace=workspace, external_id=f"cust-{next(_visitors)}", name=name
        )
    else:
        customer = customer_get_or_create_visitor(
            workspace=workspace, visitor_id=f"visitor-{next(_visitors):06d}-abcdefgh"
        )
    conversation = conversation_start(workspace=workspace, customer=customer).conversation
    message_post_customer(conversation=conversation, text=text, queue_bot=False)
    conversation_hand_off(
        conversation=conversation,
        trigger=trigger,
        reason=reason,
        scores={"negative_probability": 0.91234, "turns": 2},
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        handed_off_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    conversation.refresh_from_db()
    return conversation


@pytest.fixture
def waiting(workspace) -> Conversation:
    return handed_off(workspace, text=XSS)


# --- Permissions: every page and action, every kind of user ------------------------------------


@dataclass(frozen=True)
class Page:
    name: str
    method: str = "get"
    with_conversation: bool = False
    writes: bool = False
    ok: int = 200


PAGES = [
    Page("queue"),
    Page("conversation-detail", with_conversation=True),
    Page("conversation-reply", "post", with_conversation=True, writes=True, ok=302),
    Page("conversation-resolve", "post", with_conversation=True, writes=True, ok=302),
]


def page_id(page: Page) -> str:
    return f"{page.method}-{page.name}"


def request_page(client: Client, page: Page, conversation: Conversation, slug: str = "acme"):
    args = [conversation.pk] if page.with_conversation else []
    data = {"text": "Hello, I can help."} if page.name == "conversation-reply" else {}
    return getattr(client, page.method)(queue_url(page.name, *args, slug=slug), data)


def state(conversation: Conversation) -> tuple[object, ...]:
    conversation.refresh_from_db()
    return conversation.status, conversation.messages.count()


@pytest.mark.parametrize("page", PAGES, ids=page_id)
@pytest.mark.parametrize("who", ["owner", "manager", "teammate"])
def test_agents_managers_and_admins_may_use_every_page(client, request, page, who, waiting):
    login(client, request.getfixturevalue(who))
    assert request_page(client, page, waiting).status_code == page.ok


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_finance_is_refused(client, finance, page, waiting):
    login(client, finance)
    before = state(waiting)
    assert request_page(client, page, waiting).status_code == 403
    assert state(waiting) == before


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_outsider_gets_404(client, outsider, page, waiting):
    login(client, outsider)
    before = state(waiting)
    assert request_page(client, page, waiting).status_code == 404
    assert state(waiting) == before


@pytest.mark.parametrize("page", [p for p in PAGES if p.with_conversation], ids=page_id)
def test_outsider_cannot_reach_a_conversation_through_their_own_workspace(
    client, outsider, page, waiting
):
    """Charlie is admin of 'other'; Acme's conversation id under his slug is still not found."""
    login(client, outsider)
    before = state(waiting)
    assert request_page(client, page, waiting, slug="other").status_code == 404
    assert state(waiting) == before


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_anonymous_is_sent_to_login(client, page, waiting):
    before = state(waiting)
    response = request_page(client, page, waiting)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert state(waiting) == before


def test_post_without_csrf_token_is_refused(owner, waiting):
    client = Client(enforce_csrf_checks=True)
    login(client, owner)
    before = state(waiting)
    assert client.post(queue_url("conversation-resolve", waiting.pk)).status_code == 403
    assert state(waiting) == before


# --- The queue ---------------------------------------------------------------------------------


def test_the_queue_lists_waiting_first_then_oldest_first(client, teammate, workspace, outsider):
    answered = handed_off(workspace, text="Answered already", minutes_ago=60)
    agent_reply(conversation=answered, agent=teammate, text="On it.")
    newer = handed_off(workspace, text="Newer question", minutes_ago=2)
    older = handed_off(workspace, text="Older question", minutes_ago=30, name="Dana Smith")
    with_bot = conversation_start(
        workspace=workspace,
        customer=customer_get_or_create_visitor(workspace=workspace, visitor_id="b" * 20),
    ).conversation
    message_post_customer(conversation=with_bot, text="Still with the bot", queue_bot=False)
    resolved = handed_off(workspace, text="All done")
    conversation_resolve(conversation=resolved, actor=teammate)
    other = workspace_create(name="Third", owner=outsider, slug="third")
    handed_off(other, text="Another company's customer")

    html = login(client, teammate).get(queue_url()).content.decode()

    positions = [html.index(text) for text in ("Older question", "Newer question", "Answered")]
    assert positions == sorted(positions)
    for absent in ("Still with the bot", "All done", "Another company"):
        assert absent not in html
    assert queue_url("conversation-detail", older.pk) in html
    assert queue_url("conversation-detail", newer.pk) in html
    assert "Dana Smith" in html and "visitor" in html
    assert "explicit_request" in html and "the customer asked for a person" in html
    assert "0.912" in html  # the scores behind the handoff
    assert "30\xa0minutes" in html  # how long the older one has waited


def test_the_queue_includes_conversations_that_started_with_the_assistant_off(
    client, owner, workspace
):
    from supportops.bot.services import bot_settings_get

    settings = bot_settings_get(workspace=workspace)
    settings.enabled = False
    settings.save()
    customer = customer_get_or_create_visitor(workspace=workspace, visitor_id="c" * 20)
    conversation = conversation_start(workspace=workspace, customer=customer).conversation
    message_post_customer(conversation=conversation, text="Hello, anyone there?", queue_bot=False)
    html = login(client, owner).get(queue_url()).content.decode()
    assert "Hello, anyone there?" in html
    assert "assistant off" in html


def test_the_queue_escapes_customer_text(client, owner, waiting):
    html = login(client, owner).get(queue_url()).content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert XSS not in html


def test_the_queue_takes_the_same_number_of_queries_for_more_conversations(
    client, owner, workspace
):
    login(client, owner)
    handed_off(workspace)
    client.get(queue_url())  # warm up (session, content types)
    with CaptureQueriesContext(connection) as one:
        client.get(queue_url())
    for _ in range(4):
        handed_off(workspace)
    with CaptureQueriesContext(connection) as five:
        response = client.get(queue_url())
    assert response.content.decode().count("Where is my parcel?") == 5
    assert len(five) == len(one)


def test_the_htmx_refresh_returns_only_the_list(client, owner, waiting):
    response = login(client, owner).get(queue_url(), headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="queue-list"')
    assert "<html" not in html


# --- One conversation --------------------------------------------------------------------------


def test_the_transcript_shows_every_message_escaped(client, teammate, waiting):
    html = login(client, teammate).get(queue_url("conversation-detail", waiting.pk)).content
    html = html.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert XSS not in html
    for message in waiting.messages.all():  # greeting, customer, handoff notice
        assert message.get_author_display() in html
    assert "AI assistant" in html  # the greeting
    assert "explicit_request" in html and "0.912" in html


def test_an_htmx_reply_is_stored_and_the_panel_returned(client, teammate, waiting):
    login(client, teammate)
    response = client.post(
        queue_url("conversation-reply", waiting.pk),
        {"text": "Hi, I'm Bob. <b>Hello</b>"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="conversation-panel"')
    assert "Hi, I&#x27;m Bob. &lt;b&gt;Hello&lt;/b&gt;" in html
    reply = waiting.messages.get(author=Message.Author.AGENT)
    assert reply.agent == teammate
    waiting.refresh_from_db()
    assert waiting.status == Conversation.Status.WITH_AGENT
    assert Handoff.objects.get(conversation=waiting).first_human_reply_at is not None


def test_an_empty_reply_is_refused_with_the_reason(client, teammate, waiting):
    login(client, teammate)
    before = state(waiting)
    response = client.post(
        queue_url("conversation-reply", waiting.pk), {"text": "  "}, headers=HTMX
    )
    assert "The message is empty." in response.content.decode()
    assert state(waiting) == before
    full_page = client.post(queue_url("conversation-reply", waiting.pk), {"text": ""})
    assert full_page.status_code == 400


def test_a_resolved_conversation_takes_no_reply(client, teammate, waiting):
    conversation_resolve(conversation=waiting, actor=teammate)
    login(client, teammate)
    before = state(waiting)
    response = client.post(
        queue_url("conversation-reply", waiting.pk), {"text": "Anything else?"}, headers=HTMX
    )
    assert "This conversation is resolved" in response.content.decode()
    assert state(waiting) == before


def test_resolving_with_htmx_closes_the_conversation_once(client, manager, waiting):
    login(client, manager)
    response = client.post(queue_url("conversation-resolve", waiting.pk), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="conversation-panel"')
    assert "Resolved" in html and 'name="text"' not in html
    waiting.refresh_from_db()
    assert waiting.status == Conversation.Status.RESOLVED
    assert Handoff.objects.get(conversation=waiting).status == Handoff.Status.RESOLVED
    log = AuditLog.objects.get(action="conversation.resolve")
    assert log.actor == manager and log.target_id == str(waiting.pk)

    client.post(queue_url("conversation-resolve", waiting.pk), headers=HTMX)
    assert waiting.messages.filter(kind=Message.Kind.CSAT_REQUEST).count() == 1


def test_resolving_without_htmx_returns_to_the_inbox(client, owner, waiting):
    response = login(client, owner).post(queue_url("conversation-resolve", waiting.pk))
    assert response.status_code == 302
    assert response["Location"] == reverse("inbox:index", args=["acme"])
    assert "Nobody is waiting" in client.get(queue_url()).content.decode()


def test_the_agent_sees_the_customers_earlier_conversations(client, teammate, workspace):
    current = handed_off(workspace, name="Ana Lima", text="My refund still has not arrived")
    customer = current.customer
    earlier = conversation_start(workspace=workspace, customer=customer).conversation
    message_post_customer(
        conversation=earlier, text="I sent the boots back last week", queue_bot=False
    )
    stranger = handed_off(workspace, name="Someone Else", text="A question of someone else")
    html = login(client, teammate).get(queue_url("conversation-detail", current.pk)).content
    html = html.decode()
    assert "Earlier conversations with this customer" in html
    assert "I sent the boots back last week" in html
    assert "A question of someone else" not in html
    assert stranger.customer_id != customer.pk
