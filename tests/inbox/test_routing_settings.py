"""The routing settings page: managers add, change and remove queues, set SLA targets per
priority and agents' skills and limits; what they save is what routing then does. Bad input
is refused with a message and the typed values kept; agents read, finance and outsiders
do not get in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from supportops.accounts.models import AuditLog, Workspace
from supportops.inbox.models import AgentStatus, Handoff, Queue, Routing, SlaPolicy
from supportops.inbox.services import InboxError, handoff_claim, queue_default_get, queue_save
from tests.inbox.test_routing import agent, hand_off
from tests.inbox.test_wait import login

pytestmark = pytest.mark.django_db

URL = reverse("inbox:routing", args=["acme"])


def queue_data(name: str, *categories: str, skill: str = "", prefix: str = "new") -> dict:
    return {
        "action": "queue",
        f"{prefix}-name": name,
        f"{prefix}-categories": list(categories),
        f"{prefix}-required_skill": skill,
    }


def sla_data(**overrides: int | str) -> dict:
    data: dict[str, int | str] = {"action": "sla"}
    for priority, (first, resolution) in SlaPolicy.DEFAULTS.items():
        data[f"{priority}_first"], data[f"{priority}_resolution"] = first, resolution
    data.update(overrides)
    return data


def body(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def test_the_page_lists_the_default_queue_sla_targets_and_agents(workspace, manager, teammate):
    page = login(manager).get(URL)
    assert page.status_code == 200
    text = body(page)
    assert "General" in text and "default" in text
    assert 'value="240"' in text  # normal priority: first reply within 4 hours
    assert "billing_dispute" in text  # a shipped high-stakes category can get its own queue
    assert "bob@acme.example" in text
    assert "Add queue" in text and "Save SLA targets" in text


def test_a_manager_adds_a_queue_and_new_handoffs_of_its_category_wait_there(workspace, manager):
    response = login(manager).post(URL, queue_data("Billing", "billing_dispute", skill="billing"))
    assert response.status_code == 302
    queue = Queue.objects.get(workspace=workspace, name="Billing")
    assert queue.categories == ["billing_dispute"] and queue.required_skill == "billing"
    assert AuditLog.objects.filter(action="inbox.queue_save").count() == 1
    routing = Routing.objects.get(handoff=hand_off(workspace, category="billing_dispute"))
    assert routing.queue == queue
    other = Routing.objects.get(handoff=hand_off(workspace, category="shipping"))
    assert other.queue == queue_default_get(workspace=workspace)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (queue_data("   "), "This field is required"),
        (queue_data("general"), "There is already a queue called 'general'"),
        (queue_data("Refunds", "billing_dispute"), "billing_dispute already goes to the queue"),
        (queue_data("Refunds", "no_such_category"), "Select a valid choice"),
        (queue_data("x" * 81), "at most 80 characters"),
    ],
)
def test_a_bad_queue_is_refused_with_a_message_and_the_typed_values_kept(
    workspace, manager, data, message
):
    queue_save(workspace=workspace, actor=manager, name="Billing", categories=["billing_dispute"])
    queue_default_get(workspace=workspace)
    before = list(Queue.objects.values_list("name", "categories"))
    response = login(manager).post(URL, data)
    assert response.status_code == 400
    assert message in body(response)
    if data["new-name"].strip():
        assert f'value="{data["new-name"]}"' in body(response)
    assert list(Queue.objects.values_list("name", "categories")) == before


def test_each_queue_shows_what_waits_in_it_and_what_agents_hold(workspace, manager):
    queue_save(workspace=workspace, actor=manager, name="Legal", categories=["legal_threat"])
    hand_off(workspace, category="legal_threat")
    hand_off(workspace, category="legal_threat")
    held = hand_off(workspace, category="legal_threat")
    handoff_claim(handoff=held, agent=manager)
    hand_off(workspace)  # the default queue
    text = body(login(manager).get(URL))
    legal = text[text.index("<h3>Legal") :]
    assert "2 waiting, 1 with an agent" in legal[: legal.index("</h3>")]
    general = text[text.index("<h3>General") :]
    assert "1 waiting, 0 with an agent" in general[: general.index("</h3>")]


def test_a_queue_is_changed_in_place(workspace, manager):
    queue = queue_save(workspace=workspace, actor=manager, name="Legal", categories=[])
    data = queue_data("Legal and privacy", "legal_threat", "data_deletion", prefix=f"q{queue.pk}")
    response = login(manager).post(URL, {**data, "queue_id": queue.pk})
    assert response.status_code == 302
    queue.refresh_from_db()
    assert queue.name == "Legal and privacy"
    assert queue.categories == ["legal_threat", "data_deletion"]


def test_the_default_queue_takes_no_categories_and_cannot_be_removed(workspace, manager):
    default = queue_default_get(workspace=workspace)
    client = login(manager)
    data = {
        **queue_data("General", "legal_threat", prefix=f"q{default.pk}"),
        "queue_id": default.pk,
    }
    response = client.post(URL, data)
    assert response.status_code == 400 and "is the default queue" in body(response)
    response = client.post(URL, {**data, "delete": "1"})
    assert response.status_code == 400 and "cannot be removed" in body(response)
    default.refresh_from_db()
    assert default.categories == [] and Queue.objects.filter(pk=default.pk).exists()


def test_removing_a_queue_moves_what_waits_in_it_to_the_default_queue(workspace, manager):
    queue = queue_save(
        workspace=workspace, actor=manager, name="Fraud", categories=["fraud_account_security"]
    )
    waiting = hand_off(workspace, category="fraud_account_security")
    assert Routing.objects.get(handoff=waiting).queue == queue
    response = login(manager).post(
        URL, {"action": "queue", "queue_id": queue.pk, "delete": "1"}, follow=True
    )
    assert "1 conversation(s) moved" in body(response)
    assert not Queue.objects.filter(pk=queue.pk).exists()
    assert Routing.objects.get(handoff=waiting).queue == queue_default_get(workspace=workspace)
    assert AuditLog.objects.filter(action="inbox.queue_delete").count() == 1


def test_a_queue_of_another_workspace_is_not_found(workspace, manager, outsider):
    theirs = Workspace.objects.get(slug="other")
    queue = queue_save(workspace=theirs, actor=outsider, name="Theirs", categories=[])
    response = login(manager).post(URL, {"action": "queue", "queue_id": queue.pk, "delete": "1"})
    assert response.status_code == 400 and "no longer exists" in body(response)
    assert Queue.objects.filter(pk=queue.pk).exists()


def test_new_sla_targets_set_the_due_times_of_new_handoffs_only(workspace, manager):
    earlier = hand_off(workspace)
    earlier_due = Routing.objects.get(handoff=earlier).first_reply_due
    response = login(manager).post(URL, sla_data(normal_first=30, normal_resolution=120))
    assert response.status_code == 302
    policy = SlaPolicy.objects.get(workspace=workspace, priority="normal")
    assert (policy.first_reply_minutes, policy.resolution_minutes) == (30, 120)
    later = hand_off(workspace)
    routing = Routing.objects.get(handoff=later)
    assert routing.first_reply_due - later.created_at == pytest.approx(
        timedelta(minutes=30), abs=timedelta(seconds=5)
    )
    assert Routing.objects.get(handoff=earlier).first_reply_due == earlier_due
    assert AuditLog.objects.filter(action="inbox.sla_save").count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"high_first": 600, "high_resolution": 60}, "High: resolution must not be due before"),
        ({"urgent_first": 0}, "greater than or equal to 1"),
        ({"low_resolution": "soon"}, "Enter a whole number"),
        ({"normal_resolution": 10**9}, "less than or equal to"),
    ],
)
def test_bad_sla_targets_are_refused_and_kept_as_typed(workspace, manager, overrides, message):
    response = login(manager).post(URL, sla_data(**overrides))
    assert response.status_code == 400
    assert message in body(response)
    for value in overrides.values():
        assert f'value="{value}"' in body(response)
    policy = SlaPolicy.objects.get(workspace=workspace, priority="high")
    assert policy.first_reply_minutes == 60  # nothing saved


def test_a_manager_sets_skills_and_a_higher_limit_and_the_agent_picks_up_waiting_work(
    workspace, manager
):
    queue_save(
        workspace=workspace,
        actor=manager,
        name="Billing",
        categories=["billing_dispute"],
        required_skill="billing",
    )
    rita = agent(workspace, "rita", max_open=1)
    first = hand_off(workspace)
    waiting = hand_off(workspace, category="billing_dispute")
    first.refresh_from_db()
    assert first.assignee == rita
    assert Handoff.objects.get(pk=waiting.pk).assignee is None  # no skill, no room
    response = login(manager).post(
        URL,
        {
            "action": "agent",
            "user_id": rita.pk,
            f"a{rita.pk}-skills": " billing , German, billing",
            f"a{rita.pk}-max_open": "3",
        },
    )
    assert response.status_code == 302
    row = AgentStatus.objects.get(workspace=workspace, user=rita)
    assert row.skills == ["billing", "German"] and row.max_open == 3
    assert Handoff.objects.get(pk=waiting.pk).assignee == rita
    assert AuditLog.objects.filter(action="inbox.agent_routing").count() == 1


def test_a_bad_agent_limit_or_a_stranger_is_refused(workspace, manager, teammate, outsider):
    client = login(manager)
    response = client.post(
        URL,
        {
            "action": "agent",
            "user_id": teammate.pk,
            f"a{teammate.pk}-skills": "vip",
            f"a{teammate.pk}-max_open": "0",
        },
    )
    assert response.status_code == 400
    assert "greater than or equal to 1" in body(response) and 'value="vip"' in body(response)
    response = client.post(
        URL, {"action": "agent", "user_id": outsider.pk, f"a{outsider.pk}-max_open": "3"}
    )
    assert response.status_code == 400 and "not an agent in this workspace" in body(response)
    assert not AgentStatus.objects.filter(user__in=[teammate, outsider]).exists()


def test_agents_read_the_settings_and_may_not_change_them(workspace, teammate):
    client = login(teammate)
    page = client.get(URL)
    assert page.status_code == 200
    assert "Add queue" not in body(page) and "Only managers and admins" in body(page)
    assert client.post(URL, queue_data("Mine")).status_code == 403
    assert client.post(URL, sla_data(normal_first=1)).status_code == 403
    assert not Queue.objects.filter(name="Mine").exists()
    with pytest.raises(InboxError, match="Only managers and admins"):
        queue_save(workspace=workspace, actor=teammate, name="Mine", categories=[])


def test_finance_gets_403_and_outsiders_404(workspace, finance, outsider):
    assert login(finance).get(URL).status_code == 403
    assert login(outsider).get(URL).status_code == 404
    assert login(outsider).post(URL, queue_data("Theirs")).status_code == 404
    assert not Queue.objects.filter(name="Theirs").exists()
