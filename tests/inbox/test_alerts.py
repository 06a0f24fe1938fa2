"""The agent's working day in the inbox: going online shows what was assigned at once, tab
counts and the "(N)" title, the alerts a browser turns into notifications, each agent's
alert preferences (sound off until chosen), and overdue conversations that cannot be missed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from supportops.accounts.models import AuditLog
from supportops.conversations.models import Message
from supportops.flows import do_agent_reply, do_customer_message
from supportops.inbox.models import AgentStatus, Handoff, Routing
from supportops.inbox.selectors import agent_alerts, inbox_counts
from supportops.inbox.services import (
    agent_alerts_set,
    agent_status_set,
    handoff_claim,
    handoff_transfer,
)
from tests.conftest import PASSWORD
from tests.inbox.test_routing import hand_off

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def url(name: str, *args: object, slug: str = "acme") -> str:
    return reverse(f"inbox:{name}", args=[slug, *args])


def login(client: Client, user) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def overdue(handoff: Handoff, minutes: int) -> None:
    """Make the first reply `minutes` late."""
    Routing.objects.filter(handoff=handoff).update(
        first_reply_due=timezone.now() - timedelta(minutes=minutes, seconds=20)
    )


def a_minute_ago() -> time_machine.travel:
    """Set-up done a minute back: older than any cursor the test takes afterwards."""
    return time_machine.travel(timezone.now() - timedelta(minutes=1))


# --- Start of shift -------------------------------------------------------------------------------


def test_an_agent_signing_in_lands_on_the_inbox(client, teammate):
    response = client.post(
        reverse("account_login"), {"login": teammate.email, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == url("index")
    assert "<h1>Inbox</h1>" in response.content.decode()


def test_going_online_shows_the_assigned_conversations_in_mine_in_the_same_response(
    client, workspace, teammate
):
    for text in ("First waiting", "Second waiting", "Third waiting"):
        hand_off(workspace, text=text)
    login(client, teammate)
    before = client.get(url("index"), {"view": "queues"}).content.decode()
    assert "assigned to you" not in before

    response = client.post(url("status-set"), {"status": "online"}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "3 conversations assigned to you." in html
    assert 'id="inbox-list" hx-swap-oob="true"' in html
    list_html = html[html.index('id="inbox-list"') :]
    for text in ("First waiting", "Second waiting", "Third waiting"):
        assert text in list_html
    assert 'hx-get="?view=mine"' in list_html  # the list now refreshes as Mine
    assert 'data-tab-count="mine">3<' in html
    assert '<a href="?view=mine" aria-current="page">' in html
    assert response["HX-Push-Url"] == url("index") + "?view=mine"
    assert Handoff.objects.filter(assignee=teammate).count() == 3


def test_going_online_with_nobody_waiting_says_so_and_one_is_singular(client, workspace, teammate):
    login(client, teammate)
    html = client.post(url("status-set"), {"status": "online"}, headers=HTMX).content.decode()
    assert "No one is waiting." in html and "assigned to you" not in html
    client.post(url("status-set"), {"status": "away"}, headers=HTMX)
    hand_off(workspace, text="Only one")
    html = client.post(url("status-set"), {"status": "online"}, headers=HTMX).content.decode()
    assert "1 conversation assigned to you." in html


def test_going_away_changes_only_the_selector(client, workspace, teammate):
    hand_off(workspace)
    login(client, teammate)
    html = client.post(url("status-set"), {"status": "away"}, headers=HTMX).content.decode()
    assert html.lstrip().startswith('<form id="agent-status"')
    assert "hx-swap-oob" not in html and "assigned to you" not in html


def test_going_online_without_htmx_redirects_to_mine_with_the_notice(client, workspace, teammate):
    hand_off(workspace, text="Waiting a while")
    hand_off(workspace)
    response = login(client, teammate).post(url("status-set"), {"status": "online"}, follow=True)
    assert response.redirect_chain[-1][0] == url("index") + "?view=mine"
    html = response.content.decode()
    assert "You are online. 2 conversations assigned to you." in html
    assert "Waiting a while" in html


# --- Counts and the title -------------------------------------------------------------------------


def test_tabs_count_their_conversations_and_the_title_counts_those_waiting_for_me(
    client, workspace, teammate, owner
):
    answered = hand_off(workspace, text="Already answered")
    handoff_claim(handoff=answered, agent=teammate)
    do_agent_reply(conversation=answered.conversation, agent=teammate, text="On it.")
    waiting = hand_off(workspace, text="Still waiting")
    handoff_claim(handoff=waiting, agent=teammate)
    hand_off(workspace, text="Nobody's")
    owners = hand_off(workspace, text="The owner's")
    handoff_claim(handoff=owners, agent=owner)

    counts = inbox_counts(workspace=workspace, user=teammate)
    assert counts["waiting_for_me"] == 1
    assert {tab: c["count"] for tab, c in counts["tabs"].items()} == {
        "mine": 2,
        "queues": 4,
        "unassigned": 1,
    }
    # The customer writes again after the reply: that one waits for me too.
    do_customer_message(conversation=answered.conversation, text="Any news?", queue_bot=False)
    assert inbox_counts(workspace=workspace, user=teammate)["waiting_for_me"] == 2

    html = login(client, teammate).get(url("index")).content.decode()
    assert "<title>(2) Inbox · SupportOps</title>" in html
    assert 'data-tab-count="mine">2<' in html and 'data-tab-count="unassigned">1<' in html
    data = client.get(url("alerts")).json()
    assert data["waiting_for_me"] == 2
    assert data["tabs"]["mine"] == {"count": 2, "overdue": 0}
    assert "all" not in data["tabs"]
    assert login(client, owner).get(url("alerts")).json()["tabs"]["all"]["count"] == 4


def test_the_waiting_count_stops_one_past_its_cap(workspace, teammate, monkeypatch):
    from supportops.inbox import selectors

    for _ in range(3):
        handoff_claim(handoff=hand_off(workspace), agent=teammate)
    assert inbox_counts(workspace=workspace, user=teammate)["waiting_for_me"] == 3
    monkeypatch.setattr(selectors, "WAITING_CAP", 1)
    assert inbox_counts(workspace=workspace, user=teammate)["waiting_for_me"] == 2


def test_the_alerts_endpoint_takes_a_fixed_number_of_queries(client, workspace, teammate):
    login(client, teammate)
    since = (timezone.now() - timedelta(minutes=1)).isoformat()
    first = hand_off(workspace)
    handoff_claim(handoff=first, agent=teammate)
    do_customer_message(conversation=first.conversation, text="Hello?", queue_bot=False)
    client.get(url("alerts"), {"since": since})  # warm up (session, content types)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(url("alerts"), {"since": since}).json()["events"]) == 1
    for _ in range(6):
        handoff = hand_off(workspace)
        handoff_claim(handoff=handoff, agent=teammate)
        do_customer_message(conversation=handoff.conversation, text="Hello?", queue_bot=False)
    with CaptureQueriesContext(connection) as seven:
        assert len(client.get(url("alerts"), {"since": since}).json()["events"]) == 7
    assert len(seven) == len(one) <= 20


def test_a_bad_cursor_is_a_clear_400_and_other_roles_are_kept_out(
    client, teammate, finance, outsider
):
    response = login(client, teammate).get(url("alerts"), {"since": "yesterday"})
    assert response.status_code == 400
    assert "since" in response.json()["error"]
    assert login(client, finance).get(url("alerts")).status_code == 403
    assert login(client, outsider).get(url("alerts")).status_code == 404


# --- Alerts for notifications ---------------------------------------------------------------------


def test_alerts_cover_assignments_by_others_customer_replies_and_sla_warnings(
    workspace, teammate, manager
):
    with a_minute_ago():
        mine = hand_off(workspace, text="Mine")
        other = hand_off(workspace, text="Someone else's")
    since = timezone.now()
    assert agent_alerts(workspace=workspace, user=teammate, since=None) == []

    handoff_transfer(handoff=mine, actor=manager, to_agent=teammate)  # a manager gives it to me
    handoff_claim(handoff=other, agent=manager)
    do_customer_message(conversation=mine.conversation, text="Hello? Anyone?", queue_bot=False)
    do_customer_message(conversation=other.conversation, text="Not for Bob", queue_bot=False)
    # Ten minutes (the default warning) before the first reply is due comes 30 s after the
    # cursor; the poll runs a minute after it.
    Routing.objects.filter(handoff=mine).update(
        first_reply_due=since + timedelta(minutes=10, seconds=30)
    )
    poll = since + timedelta(minutes=1)

    alerts = agent_alerts(workspace=workspace, user=teammate, since=since, now=poll)

    kinds = [(a["kind"], a["conversation_id"]) for a in alerts]
    assert kinds == [
        ("assigned", mine.conversation_id),
        ("customer_reply", mine.conversation_id),
        ("sla", mine.conversation_id),
    ]
    reply = alerts[1]
    assert reply["title"] == "Dana wrote" and reply["body"] == "Hello? Anyone?"
    assert alerts[2]["title"] == "First reply due in 10 min"
    assert len({a["key"] for a in alerts}) == 3
    # Warnings off: no SLA alert.
    agent_alerts_set(
        workspace=workspace,
        user=teammate,
        notify_browser=True,
        notify_sound=False,
        sla_warning_minutes=0,
    )
    again = agent_alerts(workspace=workspace, user=teammate, since=since, now=poll)
    assert [a["kind"] for a in again] == [
        "assigned",
        "customer_reply",
    ]
    # Later polls do not repeat what is older than their cursor (and its overlap).
    later = poll + timedelta(seconds=10)
    assert agent_alerts(workspace=workspace, user=teammate, since=poll, now=later) == []


def test_what_the_agent_did_themselves_is_not_an_alert(client, workspace, teammate):
    with a_minute_ago():
        claimed = hand_off(workspace)
        picked = hand_off(workspace)
    since = timezone.now()
    handoff_claim(handoff=claimed, agent=teammate)
    agent_status_set(workspace=workspace, user=teammate, status="online")
    picked.refresh_from_db()
    assert picked.assignee == teammate
    assert agent_alerts(workspace=workspace, user=teammate, since=since) == []


def test_what_the_customer_wrote_before_it_was_mine_is_not_an_alert(workspace, teammate):
    since = timezone.now()
    handoff = hand_off(workspace, text="Written while queued")
    handoff_claim(handoff=handoff, agent=teammate)
    assert agent_alerts(workspace=workspace, user=teammate, since=since) == []
    do_customer_message(conversation=handoff.conversation, text="And now", queue_bot=False)
    alerts = agent_alerts(workspace=workspace, user=teammate, since=since)
    assert [a["body"] for a in alerts] == ["And now"]


def test_a_first_poll_marks_the_last_moments_seen_instead_of_notifying(client, workspace, teammate):
    handoff = hand_off(workspace)
    handoff_claim(handoff=handoff, agent=teammate)
    posted = do_customer_message(conversation=handoff.conversation, text="Hi", queue_bot=False)
    data = login(client, teammate).get(url("alerts")).json()
    assert data["events"] == []
    assert data["seen"] == [f"reply:{posted.message.pk}"]


def test_the_endpoint_sends_alerts_with_links_and_the_members_preferences(
    client, workspace, teammate
):
    with a_minute_ago():
        handoff = hand_off(workspace)
        handoff_claim(handoff=handoff, agent=teammate)
    login(client, teammate)
    first = client.get(url("alerts")).json()
    assert first["events"] == []
    assert first["prefs"] == {"notify": True, "sound": False}
    do_customer_message(conversation=handoff.conversation, text="Still here", queue_bot=False)
    data = client.get(url("alerts"), {"since": first["now"]}).json()
    assert [(e["kind"], e["url"]) for e in data["events"]] == [
        ("customer_reply", url("conversation", handoff.conversation_id))
    ]


# --- Preferences ----------------------------------------------------------------------------------


def test_alert_preferences_default_to_notifications_on_and_sound_off(client, teammate):
    html = login(client, teammate).get(url("alert-settings")).content.decode()
    assert 'id="id_notify_browser" checked' in html
    assert 'name="notify_sound" id="id_notify_sound">' in html  # unchecked
    assert 'name="sla_warning_minutes" value="10"' in html
    assert "data-enable-notifications" in html
    row = AgentStatus(workspace_id=1, user=teammate)
    assert (row.notify_browser, row.notify_sound, row.sla_warning_minutes) == (True, False, 10)


def test_an_agent_saves_their_own_alert_preferences_audited(client, workspace, teammate):
    login(client, teammate)
    response = client.post(
        url("alert-settings"), {"notify_sound": "on", "sla_warning_minutes": "20"}
    )
    assert response.status_code == 302
    row = AgentStatus.objects.get(workspace=workspace, user=teammate)
    assert (row.notify_browser, row.notify_sound, row.sla_warning_minutes) == (False, True, 20)
    assert AuditLog.objects.filter(action="agent.alerts", actor=teammate).exists()
    assert client.get(url("alerts")).json()["prefs"] == {"notify": False, "sound": True}

    bad = client.post(url("alert-settings"), {"sla_warning_minutes": "-5"})
    assert bad.status_code == 400
    assert "greater than or equal to 0" in bad.content.decode()
    row.refresh_from_db()
    assert row.sla_warning_minutes == 20


# --- Overdue --------------------------------------------------------------------------------------


def test_an_overdue_conversation_is_marked_in_words_and_listed_first(
    client, workspace, owner, teammate
):
    hand_off(workspace, text="Urgent but in time", trigger="high_stakes")
    late = hand_off(workspace, text="Late one")
    overdue(late, 12)
    handoff_claim(handoff=late, agent=teammate)

    html = login(client, owner).get(url("index"), {"view": "all"}).content.decode()
    assert html.index("Late one") < html.index("Urgent but in time")
    assert '<tr class="row-overdue">' in html
    assert "Overdue by 12 min" in html
    assert html.count("row-overdue") == 1
    assert 'data-tab-overdue-count="all">1<' in html
    counts = inbox_counts(workspace=workspace, user=teammate)["tabs"]
    assert counts["mine"]["overdue"] == 1 and counts["unassigned"]["overdue"] == 0


def test_a_first_reply_stops_that_target_being_overdue(client, workspace, teammate):
    handoff = hand_off(workspace, text="Late then answered")
    handoff_claim(handoff=handoff, agent=teammate)
    overdue(handoff, 30)
    assert inbox_counts(workspace=workspace, user=teammate)["tabs"]["mine"]["overdue"] == 1
    do_agent_reply(conversation=handoff.conversation, agent=teammate, text="Sorry for the wait.")
    assert inbox_counts(workspace=workspace, user=teammate)["tabs"]["mine"]["overdue"] == 0
    html = login(client, teammate).get(url("index")).content.decode()
    assert "Overdue by" not in html


# --- Phone layout (markup; the browser test measures it) -----------------------------------------


def test_the_packet_folds_and_comes_after_the_reply_box_in_the_markup(client, workspace, teammate):
    handoff = hand_off(workspace)
    handoff_claim(handoff=handoff, agent=teammate)
    html = login(client, teammate).get(url("conversation", handoff.conversation_id)).content
    html = html.decode()
    assert '<details class="packet-fold" id="packet-fold" open data-fold-narrow>' in html
    assert "<summary>Handoff packet</summary>" in html
    assert Message.objects.filter(conversation=handoff.conversation).exists()
