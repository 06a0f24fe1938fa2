"""The inbox pages: who may use them, what each tab lists, SLA badges, the routing panel's
actions, internal notes (never shown to the customer) and a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from supportops.accounts.services import workspace_create
from supportops.conversations.models import Conversation, Message
from supportops.inbox.models import AgentStatus, Handoff, InternalNote, Queue
from supportops.inbox.selectors import inbox_list
from supportops.inbox.services import InboxError, agent_status_set, handoff_claim, note_add
from supportops.widget.models import WidgetSettings
from tests.conftest import PASSWORD
from tests.inbox.test_routing import hand_off
from tests.widget.conftest import SHOP, WidgetClient

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
XSS = '<script>alert("x")</script>'


def url(name: str, *args: object, slug: str = "acme") -> str:
    return reverse(f"inbox:{name}", args=[slug, *args])


def login(client: Client, user) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def waiting(workspace) -> Handoff:
    return hand_off(workspace, text="Where is my refund?")


# --- Permissions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    name: str
    method: str = "get"
    with_conversation: bool = False
    ok: int = 200


PAGES = [
    Page("index"),
    Page("status-set", "post", ok=302),
    Page("claim", "post", with_conversation=True, ok=302),
    Page("transfer", "post", with_conversation=True, ok=302),
    Page("note", "post", with_conversation=True, ok=302),
]


def request_page(client: Client, page: Page, handoff: Handoff, slug: str = "acme"):
    args = [handoff.conversation_id] if page.with_conversation else []
    data = {"status": "away", "note": "a note", "queue": ""}
    return getattr(client, page.method)(url(page.name, *args, slug=slug), data)


def untouched(handoff: Handoff) -> tuple[object, ...]:
    handoff.refresh_from_db()
    return handoff.assignee_id, InternalNote.objects.count(), AgentStatus.objects.count()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: f"{p.method}-{p.name}")
@pytest.mark.parametrize("who", ["owner", "manager", "teammate"])
def test_agents_managers_and_admins_may_use_the_inbox(client, request, page, who, waiting):
    login(client, request.getfixturevalue(who))
    assert request_page(client, page, waiting).status_code == page.ok


@pytest.mark.parametrize("page", PAGES, ids=lambda p: f"{p.method}-{p.name}")
def test_finance_sees_no_conversations(client, finance, page, waiting):
    login(client, finance)
    before = untouched(waiting)
    assert request_page(client, page, waiting).status_code == 403
    assert untouched(waiting) == before


@pytest.mark.parametrize("page", PAGES, ids=lambda p: f"{p.method}-{p.name}")
def test_outsiders_get_404_even_through_their_own_workspace(client, outsider, page, waiting):
    login(client, outsider)
    before = untouched(waiting)
    assert request_page(client, page, waiting).status_code == 404
    if page.with_conversation:
        assert request_page(client, page, waiting, slug="other").status_code == 404
    assert untouched(waiting) == before


def test_anonymous_is_sent_to_login(client, waiting):
    response = client.get(url("index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_finance_and_agents_asking_for_everything_are_refused_by_the_selector(
    workspace, finance, teammate
):
    with pytest.raises(PermissionDenied):
        inbox_list(workspace=workspace, user=finance, view="unassigned")
    with pytest.raises(PermissionDenied):
        inbox_list(workspace=workspace, user=teammate, view="all")


# --- The list ------------------------------------------------------------------------------------


def test_each_tab_lists_its_conversations_and_only_this_workspace(
    client, workspace, teammate, owner, outsider
):
    mine = hand_off(workspace, text="Mine to answer")
    handoff_claim(handoff=mine, agent=teammate)
    theirs = hand_off(workspace, text="Owner has this")
    handoff_claim(handoff=theirs, agent=owner)
    hand_off(workspace, text="Nobody has this")
    other = workspace_create(name="Third", owner=outsider, slug="third")
    hand_off(other, text="Another company")

    login(client, teammate)
    tabs = {
        view: client.get(url("index"), {"view": view}).content.decode()
        for view in ("mine", "unassigned", "queues")
    }
    assert "Mine to answer" in tabs["mine"] and "Nobody has this" not in tabs["mine"]
    assert "Nobody has this" in tabs["unassigned"] and "Mine to answer" not in tabs["unassigned"]
    for text in ("Mine to answer", "Owner has this", "Nobody has this"):
        assert text in tabs["queues"]
    assert all("Another company" not in html for html in tabs.values())
    assert "?view=all" not in tabs["mine"]
    # An agent asking for `all` gets their own tab instead.
    assert "Owner has this" not in client.get(url("index"), {"view": "all"}).content.decode()

    html = login(client, owner).get(url("index"), {"view": "all"}).content.decode()
    assert "?view=all" in html and "Owner has this" in html and "Another company" not in html


def test_an_agents_queues_are_those_their_skills_admit(client, workspace, teammate):
    Queue.objects.create(
        workspace=workspace, name="Legal", categories=["legal"], required_skill="legal"
    )
    hand_off(workspace, category="legal", text="A legal matter")
    hand_off(workspace, text="A general matter")
    login(client, teammate)
    html = client.get(url("index"), {"view": "queues"}).content.decode()
    assert "A general matter" in html and "A legal matter" not in html
    agent_status_set(workspace=workspace, user=teammate, status="away", skills=["legal"])
    html = client.get(url("index"), {"view": "queues"}).content.decode()
    assert "A legal matter" in html


def test_the_list_shows_priority_time_left_and_breaches(client, workspace, owner):
    fresh = hand_off(workspace, vip=True, text="Fresh VIP question")
    late = hand_off(workspace, text="Late question")
    Handoff.objects.filter(pk=late.pk).update(created_at=late.created_at - timedelta(hours=5))
    late.routing.first_reply_due = late.created_at - timedelta(minutes=60)
    late.routing.save(update_fields=["first_reply_due"])
    html = login(client, owner).get(url("index"), {"view": "all"}).content.decode()
    assert html.index("Late question") < html.index("Fresh VIP question")
    assert "First reply: breached 1 h 00 min ago" in html
    assert "First reply: 59 min left" in html or "First reply: 1 h 00 min left" in html
    assert "priority-high" in html and "priority-urgent" in html
    assert str(fresh.conversation_id) in html


def test_the_list_takes_the_same_number_of_queries_for_ten_conversations(
    client, workspace, owner, teammate
):
    login(client, owner)
    first = hand_off(workspace)
    handoff_claim(handoff=first, agent=teammate)
    client.get(url("index"), {"view": "all"})  # warm up (session, content types)
    with CaptureQueriesContext(connection) as one:
        client.get(url("index"), {"view": "all"})
    for i in range(9):
        handoff = hand_off(workspace, vip=i % 2 == 0)
        if i % 3 == 0:
            handoff_claim(handoff=handoff, agent=teammate)
    with CaptureQueriesContext(connection) as ten:
        response = client.get(url("index"), {"view": "all"})
    assert response.content.decode().count("I need help with this") == 10
    assert len(ten) == len(one)


def test_the_htmx_refresh_returns_only_the_list(client, owner, waiting):
    response = login(client, owner).get(url("index"), headers=HTMX)
    assert response.content.decode().lstrip().startswith('<div id="inbox-list"')


# --- Availability --------------------------------------------------------------------------------


def test_the_availability_selector_sets_the_agents_status(client, workspace, teammate, waiting):
    login(client, teammate)
    response = client.post(url("status-set"), {"status": "online"}, headers=HTMX)
    assert response.status_code == 200
    assert 'value="online" selected' in response.content.decode()
    assert AgentStatus.objects.get(user=teammate).status == "online"
    waiting.refresh_from_db()
    assert waiting.assignee == teammate  # going online picked up the waiting conversation
    bad = client.post(url("status-set"), {"status": "busy"}, headers=HTMX)
    assert bad.status_code == 400 and "online, away or offline" in bad.content.decode()


# --- The routing panel on the conversation page --------------------------------------------------


def detail(client: Client, handoff: Handoff) -> str:
    path = reverse("inbox:conversation", args=["acme", handoff.conversation_id])
    return client.get(path).content.decode()


def test_the_conversation_page_shows_the_routing_panel(client, teammate, waiting):
    html = detail(login(client, teammate), waiting)
    assert 'id="routing-panel"' in html
    assert "Queue: General" in html and "Unassigned" in html
    assert "First reply:" in html and "left" in html
    assert url("claim", waiting.conversation_id) in html
    assert 'name="resolution"' in html


def test_claim_with_htmx_returns_the_panel_and_a_second_claim_is_refused(
    client, workspace, teammate, manager, waiting
):
    login(client, teammate)
    response = client.post(url("claim", waiting.conversation_id), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="routing-panel"')
    assert "Assigned to bob@acme.example" in html
    client.logout()
    login(client, manager)
    refused = client.post(url("claim", waiting.conversation_id), headers=HTMX)
    assert refused.status_code == 400
    assert "has already claimed" in refused.content.decode()
    waiting.refresh_from_db()
    assert waiting.assignee == teammate


def test_transfer_through_the_panel(client, workspace, teammate, manager, waiting):
    legal = Queue.objects.create(workspace=workspace, name="Legal")
    login(client, manager)
    client.post(url("transfer", waiting.conversation_id), {"agent": teammate.pk}, headers=HTMX)
    waiting.refresh_from_db()
    assert waiting.assignee == teammate
    response = client.post(
        url("transfer", waiting.conversation_id), {"queue": legal.pk}, headers=HTMX
    )
    assert "Queue: Legal" in response.content.decode()


def test_transfer_to_someone_of_another_workspace_is_404(client, teammate, outsider, waiting):
    login(client, teammate)
    response = client.post(url("transfer", waiting.conversation_id), {"agent": outsider.pk})
    assert response.status_code == 404
    waiting.refresh_from_db()
    assert waiting.assignee is None


def test_resolve_with_a_resolution_type(client, teammate, waiting):
    login(client, teammate)
    path = reverse("inbox:resolve", args=["acme", waiting.conversation_id])
    client.post(path, {"resolution": "spam"}, headers=HTMX)
    conversation = Conversation.objects.get(pk=waiting.conversation_id)
    assert conversation.status == Conversation.Status.RESOLVED
    assert conversation.resolution == Conversation.Resolution.SPAM


# --- Internal notes ------------------------------------------------------------------------------


def test_notes_are_shown_to_colleagues_escaped(client, teammate, waiting):
    login(client, teammate)
    response = client.post(url("note", waiting.conversation_id), {"note": XSS}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html and XSS not in html
    assert "&lt;script&gt;" in detail(client, waiting)
    assert not Message.objects.filter(text__contains="alert").exclude(
        author=Message.Author.CUSTOMER
    )


def test_an_empty_or_too_long_note_is_refused_with_the_reason(client, teammate, waiting):
    login(client, teammate)
    empty = client.post(url("note", waiting.conversation_id), {"note": "   "}, headers=HTMX)
    assert empty.status_code == 400 and "The note is empty." in empty.content.decode()
    with pytest.raises(InboxError, match="the limit is 4000"):
        note_add(conversation=waiting.conversation, author=teammate, text="x" * 4001)
    assert not InternalNote.objects.exists()


def test_notes_never_appear_in_the_widgets_message_api(client, workspace, teammate):
    WidgetSettings.objects.create(workspace=workspace, allowed_origins=[SHOP])
    shop = WidgetClient(client=client, workspace=workspace)
    started = shop.start()
    # "Talk to a person" before writing: begins the conversation and hands it off.
    handed = shop.post("/pending/handoff", {"pending_token": started["pending_token"]})
    assert handed.status_code == 201
    started.update(handed.json())
    conversation = Conversation.objects.get(pk=started["id"])
    shop.say(started, "Hello, is anyone there?")
    note_add(conversation=conversation, author=teammate, text="SECRET: customer is rude")

    response = shop.read(started)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Hello, is anyone there?" in body
    assert "SECRET" not in body
    assert InternalNote.objects.filter(conversation=conversation).count() == 1
