"""The rollout readout over the outcome ledger's rows: intention to treat within the phase's
categories, final outcomes only, ratings from the conversations' CSAT requests and answers,
verdicts, and the guardrail that pauses a phase, tells the managers and shows a banner."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from supportops import flows
from supportops.analytics.ledger import outcome_refresh
from supportops.analytics.models import Outcome
from supportops.analytics.readout import guardrails_enforce, readout_build
from supportops.conversations.models import Conversation, Customer
from supportops.conversations.services import conversation_create, csat_request_add, csat_submit
from supportops.inbox.services import handoff_claim, handoff_open_get
from supportops.rollout.models import Assignment, Phase
from tests.rollout.conftest import (
    RETURN_QUESTION,
    RETURNS,
    SHIPPING,
    SHIPPING_QUESTION,
    make_phase,
    start_as,
)

K = Outcome.Kind
BOT_RESOLVED = (K.RESOLVED_BY_BOT_CONFIRMED, K.RESOLVED_BY_BOT_UNCONFIRMED)


@pytest.fixture
def phase_categories() -> list[str]:
    return [RETURNS, SHIPPING]  # the names a phase may enable (no classifier needed here)


def add(workspace, phase, arm, outcome, *, n=1, category=RETURNS, final=True, csat=None, day=0):
    """`n` conversations the phase assigned to `arm`, each with a ledger row as the ledger
    writes it (for figures over hundreds of conversations; the flows themselves are played
    in the last test). `csat`: the customer was asked for a rating and gave this score."""
    started = timezone.now() - timedelta(days=10 - day)
    first_response = started + timedelta(minutes=1 if arm == "ai_first" else 30)
    bot = arm == "ai_first" and outcome in BOT_RESOLVED
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
        if csat is not None:
            csat_request_add(conversation=conversation)
            csat_submit(conversation=conversation, score=csat)
        Outcome.objects.create(
            workspace=workspace,
            conversation=conversation,
            outcome=outcome,
            final=final,
            final_at=started + timedelta(hours=49) if final else None,
            why={"rule": "written by the test"},
            customer=customer,
            channel=Conversation.Channel.WIDGET,
            arm=arm,
            category=category,
            contained=bot,
            bot_answered=bot,
            started_at=started,
            last_event_at=first_response,
            first_response_at=first_response,
            first_response_by="bot" if arm == "ai_first" else "person",
            resolved_at=first_response if outcome != K.NOT_RESOLVED else None,
            as_of=timezone.now(),
            computed_at=timezone.now(),
        )


@pytest.mark.django_db
def test_the_readout_compares_the_arms_by_intention_to_treat(workspace, owner, phase_categories):
    phase = make_phase(workspace, owner, phase_categories)
    # AI-first: 70 of 100 resolved (a hand-off resolved by a person counts for AI-first).
    add(workspace, phase, "ai_first", K.RESOLVED_BY_BOT_CONFIRMED, n=20, csat=5)
    add(workspace, phase, "ai_first", K.RESOLVED_BY_BOT_CONFIRMED, n=20)
    add(workspace, phase, "ai_first", K.RESOLVED_AFTER_HANDOFF, n=30)
    add(workspace, phase, "ai_first", K.NOT_RESOLVED, n=30)
    # Control: 50 of 100 resolved.
    add(workspace, phase, "human_only", K.RESOLVED_BY_HUMAN, n=40, csat=4)
    add(workspace, phase, "human_only", K.RESOLVED_BY_HUMAN, n=10, csat=2)
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
    csat = next(r for r in built.results if r.metric.key == "csat")
    assert (csat.ai.n, csat.ai.mean) == (20, 5.0)
    assert (csat.control.n, csat.control.mean) == (50, pytest.approx(3.6))
    assert csat.comparison.difference == pytest.approx(1.4)


@pytest.mark.django_db
def test_a_crossed_guardrail_pauses_the_phase_and_tells_the_managers(
    client, workspace, owner, manager, teammate, phase_categories
):
    phase = make_phase(workspace, owner, phase_categories)
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
def test_no_guardrail_fires_on_a_small_or_harmless_difference(workspace, owner, phase_categories):
    phase = make_phase(workspace, owner, phase_categories)
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


def _say(conversation: Conversation, text: str) -> None:
    posted = flows.do_customer_message(conversation=conversation, text=text, queue_bot=False)
    flows.do_bot_turn(message_id=posted.message.pk)
    conversation.refresh_from_db()


def _person_resolves(conversation: Conversation, agent) -> None:
    handoff = handoff_open_get(conversation=conversation)
    handoff_claim(handoff=handoff, agent=agent)
    flows.do_agent_reply(conversation=conversation, agent=agent, text="Here is your label.")
    flows.do_resolve(conversation=conversation, actor=agent, resolution="solved")
    conversation.refresh_from_db()


@pytest.mark.django_db
def test_the_readout_reads_what_the_flows_recorded(workspace, owner, teammate, make_article):
    """Customers through the real flows under a live phase, the ledger read once the
    repeat-contact window has passed, and the readout over those rows."""
    from supportops.bot.demo import demo_categories_seed
    from supportops.bot.models import BotTurn

    demo_categories_seed(workspace=workspace)
    make_article(
        title="How do I return an item?",
        body="How do I return an item?\n\nOpen Account > Orders, choose Return items and print "
        "the free label. Send the parcel back within 30 days.",
        category=RETURNS,
    )
    make_article(
        title="How long does delivery take?",
        body="How long does delivery take?\n\nStandard delivery takes 3 to 5 working days in "
        "the EU; express takes 1 to 2.",
        category=SHIPPING,
    )
    phase = make_phase(workspace, owner, [RETURNS, SHIPPING])

    answered = start_as(workspace, "ai_first", prefix="ai-one")
    _say(answered, RETURN_QUESTION)
    assert answered.messages.filter(kind="answer").exists()
    flows.do_feedback(conversation=answered, solved=True)
    csat_submit(conversation=answered, score=5)

    not_enabled = start_as(workspace, "ai_first", prefix="ai-two")
    _say(not_enabled, SHIPPING_QUESTION)
    assert not_enabled.category == SHIPPING and not_enabled.status == "handed_off"

    unrated = start_as(workspace, "human_only", prefix="control-one")
    _say(unrated, RETURN_QUESTION)
    assert unrated.category == RETURNS  # labelled silently, the bot said nothing
    _person_resolves(unrated, teammate)

    rated = start_as(workspace, "human_only", prefix="control-two")
    _say(rated, RETURN_QUESTION)
    _person_resolves(rated, teammate)
    csat_submit(conversation=rated, score=3)

    assert not BotTurn.objects.filter(
        conversation__in=[unrated, rated], action__in=["answer", "clarify"]
    ).exists()
    counted = [answered, not_enabled, unrated, rated]
    for conversation in counted:  # provisional: the window has not passed yet
        assert not outcome_refresh(conversation=conversation).final
    assert readout_build(phase=phase).provisional == 4

    with time_machine.travel(timezone.now() + timedelta(hours=72), tick=False):
        rows = {c.pk: outcome_refresh(conversation=c) for c in counted}
        built = readout_build(phase=phase)
    assert all(row.final for row in rows.values())
    assert rows[answered.pk].outcome == K.RESOLVED_BY_BOT_CONFIRMED
    assert rows[unrated.pk].outcome == K.RESOLVED_BY_HUMAN
    assert rows[unrated.pk].first_handoff_trigger == "control"
    by_key = {r.metric.key: r for r in built.results}
    # The shipping conversation is outside the phase's enabled category: not counted.
    assert (built.n_ai, built.n_control, built.provisional) == (1, 2, 0)
    assert by_key["fcr"].ai.mean == 1.0 and by_key["fcr"].control.mean == 1.0
    assert by_key["csat"].ai.mean == 5.0 and by_key["csat"].control.mean == 3.0
    # Both control customers were asked for a rating; one answered.
    assert (by_key["csat_response"].control.n, by_key["csat_response"].control.mean) == (2, 0.5)
    assert (by_key["csat_response"].ai.n, by_key["csat_response"].ai.mean) == (1, 1.0)
    assert (by_key["first_response"].ai.n, by_key["first_response"].control.n) == (1, 2)
