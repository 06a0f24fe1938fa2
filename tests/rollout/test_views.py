"""Rollout pages: who may change and read, bad input answered with a clear error and
nothing half-saved, and the history with before and after."""

from __future__ import annotations

import pytest
from django.urls import reverse

from supportops.rollout.models import Phase, Plan

from .conftest import RETURNS, make_phase


def url(name, *args):
    return reverse(f"rollout:{name}", args=["acme", *args])


@pytest.mark.django_db
def test_managers_change_agents_and_finance_read_outsiders_see_nothing(
    client, workspace, owner, manager, teammate, finance, outsider, categories
):
    phase = make_phase(workspace, owner, categories)
    for user, status in ((teammate, 200), (finance, 200), (manager, 200), (outsider, 404)):
        client.force_login(user)
        assert client.get(url("index")).status_code == status
        assert client.get(url("plan", phase.plan_id)).status_code == status
        assert client.get(url("cases")).status_code == status
        readout = reverse("analytics:readout", args=["acme", phase.pk])
        assert client.get(readout).status_code == status
    for user, status in ((teammate, 403), (finance, 403), (outsider, 404)):
        client.force_login(user)
        response = client.post(url("kill-switch"), {"action": "pause", "reason": "x"})
        assert response.status_code == status
        response = client.post(url("plan-create"), {"name": "Sneaky"})
        assert response.status_code == status
    assert not Plan.objects.filter(name="Sneaky").exists()
    client.force_login(manager)
    response = client.post(url("kill-switch"), {"action": "pause", "reason": "bad answers"})
    assert response.status_code == 302
    page = client.get(url("index")).content.decode()
    assert "paused for the whole workspace" in page and "bad answers" in page


@pytest.mark.django_db
def test_bad_phase_input_is_refused_clearly_and_nothing_is_saved(
    client, workspace, manager, categories
):
    client.force_login(manager)
    client.post(url("plan-create"), {"name": "Launch"})
    plan = Plan.objects.get(name="Launch")
    bad = [
        ({"name": "P", "categories": [RETURNS], "control_share": "150"}, "0% to 100%"),
        ({"name": "P", "categories": [RETURNS], "control_share": "-5"}, "0% to 100%"),
        ({"name": "P", "categories": [RETURNS], "control_share": "lots"}, "number of percent"),
        ({"name": "P", "categories": ["pets"], "control_share": "10"}, "Unknown category"),
        ({"name": "P", "categories": [], "control_share": "10"}, "at least one category"),
        (
            {
                "name": "P",
                "categories": [RETURNS],
                "control_share": "10",
                "starts_on": "2027-13-01",
            },
            "not a date",
        ),
    ]
    for data, words in bad:
        response = client.post(url("phase-create", plan.pk), data)
        assert response.status_code == 400
        assert words in response.content.decode()
    assert not Phase.objects.exists()
    response = client.post(
        url("phase-create", plan.pk),
        {"name": "Returns", "categories": [RETURNS], "control_share": "12.5"},
    )
    assert response.status_code == 302
    phase = Phase.objects.get()
    assert phase.control_share == 0.125 and phase.status == "draft"
    # Promotion without a passing suite run is refused with the reason.
    client.post(url("phase-action", phase.pk, "test"))
    response = client.post(url("phase-action", phase.pk, "promote"))
    assert response.status_code == 400 and "Run the test suite" in response.content.decode()
    # The history shows who changed what, before and after.
    client.post(
        url("phase-update", phase.pk),
        {"name": "Returns", "categories": [RETURNS], "control_share": "20"},
    )
    page = client.get(url("plan", plan.pk)).content.decode()
    assert (
        "phase_update" in page and "control_share: 0.125" in page and "control_share: 0.2" in page
    )
    assert "mia@acme.example" in page


@pytest.mark.django_db
def test_the_readout_warns_while_underpowered_and_checks_its_inputs(
    client, workspace, owner, categories
):
    phase = make_phase(workspace, owner, categories)
    client.force_login(owner)
    readout = reverse("analytics:readout", args=["acme", phase.pk])
    page = client.get(readout).content.decode()
    assert "Underpowered" in page and "always-valid" in page
    assert "Needs cost lines" in page
    response = client.get(readout, {"baseline": "120"})
    assert response.status_code == 400 and "from 1 to 99" in response.content.decode()
    page = client.get(readout, {"baseline": "50", "effect": "3", "share": "50"}).content.decode()
    assert "4359 AI-first" in page or "AI-first and" in page
