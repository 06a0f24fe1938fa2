"""The conversation page of the inbox: who may use it, the transcript (escaped), the reply and
Resolve actions, and the customer's earlier conversations."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from supportops.accounts.models import AuditLog
from supportops.bot.services import bot_settings_get
from supportops.conversations.models import Conversation, Message
from supportops.conversations.services import (
    customer_get_or_create_verified,
    customer_get_or_create_visitor,
)
from supportops.flows import (
    do_conversation_start,
    do_customer_message,
    do_hand_off,
    do_resolve,
)
from supportops.inbox.models import Handoff
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
XSS = '<script>alert("x")</script>'
_visitors = itertools.count()


def inbox_url(name: str = "index", *args: object, slug: str = "acme") -> str:
    return reverse(f"inbox:{name}", args=[slug, *args])


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
    conversation = do_conversation_start(workspace=workspace, customer=customer).conversation
    do_customer_message(conversation=conversation, text=text, queue_bot=False)
    do_hand_off(
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
    Page("conversation", with_conversation=True),
    Page("reply", "post", with_conversation=True, writes=True, ok=302),
    Page("resolve", "post", with_conversation=True, writes=True, ok=302),
]


def page_id(page: Page) -> str:
    return f"{page.method}-{page.name}"


def request_page(client: Client, page: Page, conversation: Conversation, slug: str = "acme"):
    args = [conversation.pk] if page.with_conversation else []
    data = {"text": "Hello, I can help."} if page.name == "reply" else {}
    return getattr(client, page.method)(inbox_url(page.name, *args, slug=slug), data)


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
    assert client.post(inbox_url("resolve", waiting.pk)).status_code == 403
    assert state(waiting) == before


# --- Conversations that never had the assistant -----------------------------------------------


def test_a_conversation_started_with_the_assistant_off_waits_in_the_inbox(client, owner, workspace):
    settings = bot_settings_get(workspace=workspace)
    settings.enabled = False
    settings.save()
    customer = customer_get_or_create_visitor(workspace=workspace, visitor_id="c" * 20)
    conversation = do_conversation_start(workspace=workspace, customer=customer).conversation
    assert Handoff.objects.filter(conversation=conversation).count() == 0  # nothing said yet
    do_customer_message(conversation=conversation, text="Hello, anyone there?", queue_bot=False)
    handoff = Handoff.objects.get(conversation=conversation)
    assert handoff.trigger == "bot_off"
    # One notice only: the customer was told at the start that a person will reply.
    assert conversation.messages.filter(kind=Message.Kind.HANDOFF).count() == 0
    html = login(client, owner).get(inbox_url() + "?view=unassigned").content.decode()
    assert "Hello, anyone there?" in html
    assert inbox_url("conversation", conversation.pk) in html


# --- One conversation --------------------------------------------------------------------------


def test_the_transcript_shows_every_message_escaped(client, teammate, waiting):
    html = login(client, teammate).get(inbox_url("conversation", waiting.pk)).content
    html = html.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert XSS not in html
    for message in waiting.messages.all():  # greeting, customer, handoff notice
        assert message.get_author_display() in html
    assert "AI assistant" in html  # the greeting
    # The trigger in words, not its machine name; its scores stay in the handoff card.
    assert "Asked for a person" in html and "explicit_request" not in html
    assert "0.912" in html


def test_an_htmx_reply_is_stored_and_the_panel_returned(client, teammate, waiting):
    login(client, teammate)
    response = client.post(
        inbox_url("reply", waiting.pk),
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
    response = client.post(inbox_url("reply", waiting.pk), {"text": "  "}, headers=HTMX)
    assert "The message is empty." in response.content.decode()
    assert state(waiting) == before
    full_page = client.post(inbox_url("reply", waiting.pk), {"text": ""})
    assert full_page.status_code == 400


def test_a_resolved_conversation_takes_no_reply(client, teammate, waiting):
    do_resolve(conversation=waiting, actor=teammate)
    login(client, teammate)
    before = state(waiting)
    response = client.post(inbox_url("reply", waiting.pk), {"text": "Anything else?"}, headers=HTMX)
    assert "This conversation is resolved" in response.content.decode()
    assert state(waiting) == before


def test_resolving_with_htmx_closes_the_conversation_once(client, manager, waiting):
    login(client, manager)
    response = client.post(inbox_url("resolve", waiting.pk), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="conversation-panel"')
    assert "Resolved" in html and 'name="text"' not in html
    waiting.refresh_from_db()
    assert waiting.status == Conversation.Status.RESOLVED
    assert Handoff.objects.get(conversation=waiting).status == Handoff.Status.RESOLVED
    log = AuditLog.objects.get(action="conversation.resolve")
    assert log.actor == manager and log.target_id == str(waiting.pk)

    client.post(inbox_url("resolve", waiting.pk), headers=HTMX)
    assert waiting.messages.filter(kind=Message.Kind.CSAT_REQUEST).count() == 1


def test_resolving_without_htmx_returns_to_the_inbox(client, owner, waiting):
    response = login(client, owner).post(inbox_url("resolve", waiting.pk))
    assert response.status_code == 302
    assert response["Location"] == reverse("inbox:index", args=["acme"])


def test_the_agent_sees_the_customers_earlier_conversations(client, teammate, workspace):
    current = handed_off(workspace, name="Ana Lima", text="My refund still has not arrived")
    customer = current.customer
    earlier = do_conversation_start(workspace=workspace, customer=customer).conversation
    do_customer_message(
        conversation=earlier, text="I sent the boots back last week", queue_bot=False
    )
    stranger = handed_off(workspace, name="Someone Else", text="A question of someone else")
    html = login(client, teammate).get(inbox_url("conversation", current.pk)).content
    html = html.decode()
    assert "Earlier conversations with this customer" in html
    assert "I sent the boots back last week" in html
    assert "A question of someone else" not in html
    assert stranger.customer_id != customer.pk
