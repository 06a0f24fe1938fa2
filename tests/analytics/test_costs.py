"""Cost lines (supportops/analytics/costs.py) against amounts worked out by hand, on
timelines played through the real flows with the clock at each event's time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from supportops.accounts.models import AuditLog
from supportops.analytics.costs import (
    cost_lines_refresh,
    cost_lines_reprice,
    costs_due,
    costs_sweep_run,
)
from supportops.analytics.ledger import outcome_refresh
from supportops.analytics.models import ConversationCost, CostLine, ModelPrice
from supportops.analytics.selectors import (
    COST_PER_RESOLUTION_BASIS,
    cost_per_resolution,
)
from supportops.analytics.services import (
    AnalyticsError,
    handling_rate_set,
    idle_gap_update,
    model_price_set,
)
from supportops.bot.models import BotTurn
from supportops.conversations.models import Conversation
from supportops.conversations.services import customer_get_or_create_verified
from supportops.inbox.models import Routing
from tests.analytics.conftest import DAY0, EMAIL_Q, HUMAN, PASSWORD_Q, at, handled_by_a_person

pytestmark = pytest.mark.django_db


def test_handling_time_counts_claim_to_resolve_minus_idle_gaps_at_the_default_rate(
    play, workspace, manager
):
    handling_rate_set(workspace=workspace, actor=manager, hourly_cost="36.00", effective_from=DAY0)
    c = handled_by_a_person(play)
    cost = cost_lines_refresh(conversation=c)
    assert cost.handling_seconds == 900
    agent = CostLine.objects.get(conversation=c, kind=CostLine.Kind.AGENT)
    assert (agent.seconds, agent.agent_id, agent.key) == (
        900,
        play.agent.pk,
        f"agent:{play.agent.pk}",
    )
    assert agent.amount_usd == Decimal("9.00")  # 900 s x $36 / 3600 s
    assert cost.agent_usd == Decimal("9.00") and not cost.unpriced
    assert (agent.started_at, agent.arm) == (c.created_at, HUMAN)


def test_a_longer_idle_gap_setting_counts_the_pause(play, workspace, manager):
    handling_rate_set(workspace=workspace, actor=manager, hourly_cost="36.00", effective_from=DAY0)
    idle_gap_update(workspace=workspace, actor=manager, minutes=45)
    c = handled_by_a_person(play)
    cost = cost_lines_refresh(conversation=c)
    # The 30-minute pause now counts: 15 + 30 = 45 minutes = 2700 s, x $36/h = $27.
    assert (cost.handling_seconds, cost.agent_usd) == (2700, Decimal("27.00"))
    assert AuditLog.objects.filter(action="analytics.idle_gap", details={"from": 10, "to": 45})


def test_an_agents_own_rate_beats_the_teams_which_beats_the_default(play, workspace, manager):
    c = handled_by_a_person(play)
    team = Routing.objects.get(handoff__conversation=c).queue
    assert team is not None
    handling_rate_set(workspace=workspace, actor=manager, hourly_cost="36", effective_from=DAY0)
    handling_rate_set(
        workspace=workspace,
        actor=manager,
        hourly_cost="48",
        effective_from=DAY0,
        queue_id=team.pk,
    )
    assert cost_lines_refresh(conversation=c).agent_usd == Decimal("12.00")  # 900 s at $48
    handling_rate_set(
        workspace=workspace,
        actor=manager,
        hourly_cost="60",
        effective_from=DAY0,
        agent_id=play.agent.pk,
    )
    assert cost_lines_refresh(conversation=c).agent_usd == Decimal("15.00")  # 900 s at $60


def test_model_tokens_times_the_price_and_extractive_compute_per_thousand_turns(
    play, workspace, manager
):
    set_model_prices(workspace, manager)
    c = play.chat(0, PASSWORD_Q)
    c = play.chat(0.05, EMAIL_Q, conversation=c)
    c = play.chat(0.1, "and can I change my user name too?", conversation=c)
    turns = list(BotTurn.objects.filter(conversation=c).order_by("pk"))
    assert len(turns) == 3 and {t.provider for t in turns} == {"extractive"}
    # Two of the turns as the model answered them (what the provider reported).
    BotTurn.objects.filter(pk=turns[0].pk).update(
        provider="openai:gpt-test", prompt_tokens=1000, completion_tokens=500
    )
    BotTurn.objects.filter(pk=turns[1].pk).update(
        provider="openai:gpt-test", prompt_tokens=3000, completion_tokens=200
    )
    cost = cost_lines_refresh(conversation=c)
    model = {line.key: line for line in CostLine.objects.filter(conversation=c)}
    # 4000 x 0.15 / 1M = 0.0006 and 700 x 0.60 / 1M = 0.00042
    assert model["openai:gpt-test"].amount_usd == Decimal("0.00102")
    assert (model["openai:gpt-test"].turns, model["openai:gpt-test"].prompt_tokens) == (2, 4000)
    assert model["extractive"].amount_usd == Decimal("0.0004")  # 1 turn x 0.40 / 1000
    assert cost.model_usd == cost.total_usd == Decimal("0.00142")
    assert cost.handling_seconds == 0 and not cost.unpriced


def test_a_turn_without_a_price_costs_nothing_and_says_so(play):
    c = play.chat(0, PASSWORD_Q)
    cost = cost_lines_refresh(conversation=c)
    line = CostLine.objects.get(conversation=c)
    assert (line.price, line.amount_usd, line.turns) == (None, Decimal(0), 1)
    assert cost.unpriced


def test_a_new_price_applies_from_its_date_and_history_keeps_the_old_one(
    play, workspace, manager, django_capture_on_commit_callbacks
):
    model_price_set(
        workspace=workspace,
        actor=manager,
        provider="extractive",
        per_thousand_turns="1.00",
        effective_from=DAY0,
    )
    first = play.chat(0, PASSWORD_Q)  # 5 May
    second = play.chat(48, EMAIL_Q)  # 7 May
    for c in (first, second):
        cost_lines_refresh(conversation=c)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        model_price_set(
            workspace=workspace,
            actor=manager,
            provider="extractive",
            per_thousand_turns="3.00",
            effective_from=date(2025, 5, 6),
        )
    assert len(callbacks) == 1  # the reprice is queued for Celery on commit
    assert cost_lines_reprice(workspace=workspace, since=date(2025, 5, 6)) == 1  # only `second`
    assert ConversationCost.objects.get(conversation=first).model_usd == Decimal("0.001")
    assert ConversationCost.objects.get(conversation=second).model_usd == Decimal("0.003")
    # Even recomputed on purpose, the first conversation keeps the price of its day.
    assert cost_lines_refresh(conversation=first).model_usd == Decimal("0.001")
    audit = AuditLog.objects.filter(action="analytics.model_price").order_by("pk").last()
    assert audit.details["to"]["per_thousand_turns"] == "3.00"
    assert audit.details["effective_from"] == "2025-05-06"


def test_a_rate_changing_mid_conversation_splits_the_line(play, workspace, manager):
    handling_rate_set(workspace=workspace, actor=manager, hourly_cost="30", effective_from=DAY0)
    handling_rate_set(
        workspace=workspace, actor=manager, hourly_cost="60", effective_from=date(2025, 5, 6)
    )
    c = play.chat(14.8, EMAIL_Q, arm=HUMAN)  # 5 May 23:48 (UTC)
    play.agent_reply(14.9, c, "Looking into it.")  # claim 23:54
    play.agent_reply(14.95, c, "Still on it.")  # 23:57
    play.chat(15.05, "I see it now", conversation=c)  # 6 May 00:03
    play.agent_reply(15.1, c, "Done.")  # 00:06
    play.resolve(15.15, c)  # 00:09
    cost = cost_lines_refresh(conversation=c)
    lines = sorted(CostLine.objects.filter(conversation=c), key=lambda line: line.seconds)
    # An interval is priced on the day it starts. 5 May: 23:54-23:57 and 23:57-00:03,
    # 180 + 360 = 540 s at $30 = $4.50. 6 May: 00:03-00:06-00:09, 360 s at $60 = $6.00.
    assert [(line.seconds, line.amount_usd) for line in lines] == [
        (360, Decimal("6.00")),
        (540, Decimal("4.50")),
    ]
    assert cost.agent_usd == Decimal("10.50")


def test_refreshing_with_nothing_new_writes_nothing(play, workspace, manager):
    handling_rate_set(workspace=workspace, actor=manager, hourly_cost="36", effective_from=DAY0)
    c = handled_by_a_person(play)
    first = cost_lines_refresh(conversation=c)
    ids = list(CostLine.objects.filter(conversation=c).values_list("pk", "computed_at"))
    again = cost_lines_refresh(conversation=c)
    assert again.computed_at == first.computed_at
    assert list(CostLine.objects.filter(conversation=c).values_list("pk", "computed_at")) == ids


def test_the_sweep_costs_what_the_ledger_saw_and_then_finds_nothing(play, workspace, manager):
    handling_rate_set(workspace=workspace, actor=manager, hourly_cost="36", effective_from=DAY0)
    c = handled_by_a_person(play)
    with time_machine.travel(at(1), tick=False):
        outcome_refresh(conversation=c, as_of=at(1))
    ConversationCost.objects.filter(conversation=c).delete()
    CostLine.objects.filter(conversation=c).delete()
    assert costs_sweep_run(workspace=workspace) == 1
    assert ConversationCost.objects.get(conversation=c).agent_usd == Decimal("9.00")
    assert costs_sweep_run(workspace=workspace) == 0


def test_cost_per_resolution_divides_all_cost_by_confirmed_plus_unconfirmed(
    play, workspace, manager
):
    handling_rate_set(workspace=workspace, actor=manager, hourly_cost="36", effective_from=DAY0)
    model_price_set(
        workspace=workspace,
        actor=manager,
        provider="extractive",
        per_thousand_turns="2.00",
        effective_from=DAY0,
    )
    human = handled_by_a_person(play)  # resolved by a person: $9.00, confirmed
    confirmed = play.chat(2, PASSWORD_Q)  # bot answer, "Yes": 1 turn, $0.002
    play.feedback(2.05, confirmed, solved=True)
    # Another customer (the same one with the same need would make `human` a repeat contact).
    play.customer = customer_get_or_create_verified(
        workspace=workspace, external_id="C-2", name="Eli Park", email="eli@customer.example"
    )
    rejected = play.chat(3, EMAIL_Q)  # bot answer, rejected: 1 turn, $0.002, no resolution
    play.feedback(3.05, rejected, solved=False)
    play.leave(3.1, rejected)
    for c in (human, confirmed, rejected):
        with time_machine.travel(at(200), tick=False):
            outcome_refresh(conversation=c, as_of=at(200))
        cost_lines_refresh(conversation=c)
    [everything] = cost_per_resolution(workspace=workspace)
    assert (everything.conversations, everything.confirmed, everything.unconfirmed) == (3, 2, 0)
    assert everything.total_usd == Decimal("9.004")
    assert everything.per_resolution_usd == Decimal("4.5020")  # 9.004 / 2
    by_arm = {row.group: row for row in cost_per_resolution(workspace=workspace, group_by="arm")}
    assert by_arm["human_only"].per_resolution_usd == Decimal("9.0000")
    assert by_arm["ai_first"].per_resolution_usd == Decimal("0.0040")  # 0.004 / 1
    assert "confirmed plus unconfirmed resolutions" in COST_PER_RESOLUTION_BASIS


def test_a_group_without_resolutions_has_no_figure_not_zero(play, workspace):
    c = play.chat(0, PASSWORD_Q)
    play.feedback(0.05, c, solved=False)
    play.leave(0.1, c)
    with time_machine.travel(at(100), tick=False):
        outcome_refresh(conversation=c, as_of=at(100))
    cost_lines_refresh(conversation=c)
    [row] = cost_per_resolution(workspace=workspace)
    assert row.resolutions == 0 and row.per_resolution_usd is None


def test_months_are_cut_in_the_given_time_zone_and_groups_combine(play, workspace):
    # 31 May 23:00 UTC is already 1 June in Berlin (UTC+2 in summer).
    c = play.chat(638, PASSWORD_Q)
    assert c.created_at == datetime(2025, 5, 31, 23, 0, tzinfo=UTC)
    Conversation.objects.filter(pk=c.pk).update(category="password")
    cost_lines_refresh(conversation=c)
    [utc] = cost_per_resolution(workspace=workspace, group_by="month", tz=UTC)
    [berlin] = cost_per_resolution(
        workspace=workspace, group_by="month", tz=ZoneInfo("Europe/Berlin")
    )
    assert (utc.group, berlin.group) == ("2025-05", "2025-06")
    [both] = cost_per_resolution(
        workspace=workspace, group_by=("month", "arm", "category"), tz=UTC, category="password"
    )
    assert (both.key, both.group) == (
        ("2025-05", "ai_first", "password"),
        "2025-05 / ai_first / password",
    )
    assert cost_per_resolution(workspace=workspace, category="billing") == []
    with pytest.raises(ValueError, match="group_by"):
        cost_per_resolution(workspace=workspace, group_by=("month", "weekday"))


def set_model_prices(workspace, manager) -> None:
    """The prices the hand-computed costs below use: gpt-test at $0.15 / $0.60 per million
    input / output tokens, the extractive provider at $0.40 per 1,000 turns."""
    model_price_set(
        workspace=workspace,
        actor=manager,
        provider="openai",
        model="gpt-test",
        input_per_mtok="0.15",
        output_per_mtok="0.60",
        effective_from=DAY0,
    )
    model_price_set(
        workspace=workspace,
        actor=manager,
        provider="extractive",
        per_thousand_turns="0.40",
        effective_from=DAY0,
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"provider": "openai", "model": ""}, "model's name"),
        ({"provider": "extractive", "model": "x"}, "no model name"),
        ({"provider": "cloud"}, "Unknown provider"),
        ({"provider": "extractive", "per_thousand_turns": "-1"}, "between 0 and"),
        ({"provider": "extractive", "per_thousand_turns": "abc"}, "must be a number"),
        ({"provider": "extractive", "per_thousand_turns": "NaN"}, "between 0 and"),
    ],
)
def test_a_bad_price_is_refused_with_a_reason(workspace, manager, kwargs, message):
    with pytest.raises(AnalyticsError, match=message):
        model_price_set(workspace=workspace, actor=manager, effective_from=DAY0, **kwargs)
    assert not ModelPrice.objects.exists()


def test_only_admins_and_managers_set_prices_and_rates(workspace, teammate, finance, outsider):
    for person in (teammate, finance, outsider, None):
        with pytest.raises(AnalyticsError, match="Only admins and managers"):
            model_price_set(
                workspace=workspace, actor=person, provider="extractive", effective_from=DAY0
            )
        with pytest.raises(AnalyticsError, match="Only admins and managers"):
            handling_rate_set(
                workspace=workspace, actor=person, hourly_cost="1", effective_from=DAY0
            )


def test_a_rate_for_someone_outside_the_workspace_is_refused(workspace, manager, outsider):
    with pytest.raises(AnalyticsError, match="not a member"):
        handling_rate_set(
            workspace=workspace,
            actor=manager,
            hourly_cost="10",
            effective_from=DAY0,
            agent_id=outsider.pk,
        )


def test_co_pilot_calls_are_cost_lines_of_their_own_priced_by_the_same_table(
    play, workspace, manager, teammate
):
    from supportops.flows import do_copilot_draft, do_copilot_summary
    from supportops.inbox.copilot import copilot_call_record
    from supportops.inbox.models import CopilotCall

    set_model_prices(workspace, manager)
    c = play.chat(0, PASSWORD_Q)
    outcome_refresh(conversation=c)
    cost_lines_refresh(conversation=c)
    assert c.pk not in costs_due(workspace=workspace)
    do_copilot_draft(conversation=c, agent=teammate)
    do_copilot_summary(conversation=c)
    # A rewrite by the chat model, with the tokens the provider reported.
    copilot_call_record(
        conversation=c,
        kind=CopilotCall.Kind.REWRITE,
        provider="openai:gpt-test",
        prompt_tokens=1200,
        completion_tokens=300,
    )
    assert c.pk in costs_due(workspace=workspace)  # no message or event says so

    cost = cost_lines_refresh(conversation=c)

    lines = {(line.kind, line.key): line for line in CostLine.objects.filter(conversation=c)}
    assert set(lines) == {
        ("model", "extractive"),
        ("copilot", "extractive"),
        ("copilot", "openai:gpt-test"),
    }
    assert lines[("model", "extractive")].amount_usd == Decimal("0.0004")  # the bot's turn
    # The draft and the summary: 2 x 0.40 / 1000.
    assert lines[("copilot", "extractive")].turns == 2
    assert lines[("copilot", "extractive")].amount_usd == Decimal("0.0008")
    # 1200 x 0.15 / 1M = 0.00018 and 300 x 0.60 / 1M = 0.00018.
    rewrite = lines[("copilot", "openai:gpt-test")]
    assert (rewrite.turns, rewrite.prompt_tokens, rewrite.completion_tokens) == (1, 1200, 300)
    assert rewrite.amount_usd == Decimal("0.00036")
    assert cost.model_usd == cost.total_usd == Decimal("0.00156")
    assert not cost.unpriced
    assert c.pk not in costs_due(workspace=workspace)
