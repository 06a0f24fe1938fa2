"""The rollout readout over outcome-ledger rows: intention to treat within the phase's
categories, final outcomes only, verdicts, and the guardrail that pauses a phase, tells the
managers and shows a banner."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from supportops.analytics.models import Outcome
from supportops.analytics.readout import guardrails_enforce, readout_build
from supportops.conversations.models import Conversation, Customer
from supportops.conversations.services import conversation_create
from supportops.rollout.models import Assignment, Phase
from tests.rollout.conftest import RETURNS, SHIPPING, make_phase

K = Outcome.Kind


@pytest.fixture
def categories() -> list[str]:
    return [RETURNS, SHIPPING]  # the names a phase may enable (no classifier needed here)


def add(workspace, phase, arm, outcome, *, n=1, category=RETURNS, final=True, csat=None, day=0):
    started = timezone.now() - timedelta(days=10 - day)
    for _ in range(n):
        customer = Customer.objects.create(workspace=workspace)
        conversation = conversation_create(
            workspace=workspace, customer=customer, arm=arm
        ).conversation
        Assignment.objects.create(
            workspace=workspace,
            conversation=conversation,
            customer_id=customer.pk,
            phase=phase,
            arm=arm,
            bucket=0.1 if arm == "human_only" else 0.9,
        )
        Outcome.objects.create(
            workspace=workspace,
            conversation=conversation,
            outcome=outcome,
            final=final,
            arm=arm,
            category=category,
            channel=Conversation.Channel.WIDGET,
            started_at=started,
            first_response_at=started + timedelta(minutes=1 if arm == "ai_first" else 30),
            csat_asked=csat is not None,
            csat_score=csat,
        )


@pytest.mark.django_db
def test_the_readout_compares_the_arms_by_intention_to_treat(workspace, owner, categories):
    phase = make_phase(workspace, owner, categories)
    # AI-first: 70 of 100 resolved (a hand-off resolved by a person counts for AI-first).
    add(workspace, phase, "ai_first", K.RESOLVED_BY_BOT_CONFIRMED, n=40)
    add(workspace, phase, "ai_first", K.RESOLVED_AFTER_HANDOFF, n=30)
    add(workspace, phase, "ai_first", K.NOT_RESOLVED, n=30)
    # Control: 50 of 100 resolved.
    add(workspace, phase, "human_only", K.RESOLVED_BY_HUMAN, n=50)
    add(workspace, phase, "human_only", K.ABANDONED, n=50)
    # Not counted: another category, a provisional outcome.
    add(workspace, phase, "ai_first", K.NOT_RESOLVED, n=20, category=SHIPPING)
    add(workspace, phase, "ai_first", K.NOT_RESOLVED, n=5, final=False)
    built = readout_build(phase=phase)
    fcr = built.results[0]
    assert (fcr.ai.n, fcr.control.n) == (100, 100)
    assert fcr.ai.mean == pytest.approx(0.70) and fcr.control.mean == pytest.approx(0.50)
    assert fcr.comparison.difference == pytest.approx(0.20)
    assert fcr.comparison.low < 0.20 < fcr.comparison.high
    assert built.provisional == 5
    # 200 conversations against the ~17,000 planned for 3 points: an early look, which an
    # always-valid interval keeps wide.
    assert fcr.verdict.startswith("No difference shown in first-contact resolution yet")
    assert "(now +20.0 points)" in fcr.verdict
    first = next(r for r in built.results if r.metric.key == "first_response")
    assert first.comparison.difference == pytest.approx(-29.0)
    assert built.underpowered  # 100 per arm is far from what 3 points need


@pytest.mark.django_db
def test_a_crossed_guardrail_pauses_the_phase_and_tells_the_managers(
    client, workspace, owner, manager, teammate, categories
):
    phase = make_phase(workspace, owner, categories)
    add(workspace, phase, "ai_first", K.REPEAT_CONTACT, n=120)
    add(workspace, phase, "ai_first", K.RESOLVED_BY_BOT_CONFIRMED, n=280)
    add(workspace, phase, "human_only", K.REPEAT_CONTACT, n=20)
    add(workspace, phase, "human_only", K.RESOLVED_BY_HUMAN, n=380)
    breaches = guardrails_enforce(phase_id=phase.pk)
    assert breaches and "repeat contacts" in breaches[0]
    phase.refresh_from_db()
    assert phase.status == Phase.Status.PAUSED and phase.paused_by_guardrail
    assert "limit is 3" in phase.paused_reason
    row = workspace.audit_logs.get(action="rollout.phase_paused")
    assert row.actor is None and row.details["guardrail"] is True
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == {owner.email, manager.email}  # not the agent
    client.force_login(teammate)
    page = client.get(reverse("rollout:index", args=["acme"])).content.decode()
    assert "A guardrail paused" in page
    # While paused, nothing reaches the bot; a second check changes nothing.
    assert guardrails_enforce(phase_id=phase.pk) == []


@pytest.mark.django_db
def test_no_guardrail_fires_on_a_small_or_harmless_difference(workspace, owner, categories):
    phase = make_phase(workspace, owner, categories)
    add(workspace, phase, "ai_first", K.REPEAT_CONTACT, n=6)
    add(workspace, phase, "ai_first", K.RESOLVED_BY_BOT_CONFIRMED, n=94)
    add(workspace, phase, "human_only", K.REPEAT_CONTACT, n=4)
    add(workspace, phase, "human_only", K.RESOLVED_BY_HUMAN, n=96)
    assert guardrails_enforce(phase_id=phase.pk) == []
    phase.refresh_from_db()
    assert phase.status == Phase.Status.LIVE


def test_the_verdict_says_it_in_plain_words():
    from supportops.analytics.readout import METRICS, verdict
    from supportops.rollout.stats import ArmData, Comparison

    ai, control = ArmData(5000, 0.641, 0.23), ArmData(5000, 0.600, 0.24)
    comparison = Comparison(0.041, 0.012, 0.070, ai, control)
    assert verdict(METRICS[0], comparison, ai, control) == (
        "AI-first is 4.1 points higher on first-contact resolution, between 1.2 and 7.0 "
        "points (better than control)."
    )
    repeat = Comparison(0.02, 0.005, 0.035, ai, control)
    assert "worse than control" in verdict(METRICS[2], repeat, ai, control)
