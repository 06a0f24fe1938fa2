"""Daily rollups (analytics.rollups): a day rebuilt twice gives the same rows, the figures
read from rollups equal a direct count on the known ledger under several filters, today is
merged in live, the beat task is registered, and a changed outcome on an old day is
rebuilt by the incremental build."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from supportops.accounts.models import Workspace
from supportops.analytics import tasks
from supportops.analytics.filters import filters_parse
from supportops.analytics.kpis import (
    FIGURES,
    NO_CATEGORY,
    SEGMENTED,
    drilldown_outcomes,
    figure_count,
    kpi_costs,
    kpis_overview,
    kpis_overview_direct,
)
from supportops.analytics.models import (
    DailyCostRollup,
    DailyRollup,
    MonthlyRollup,
    Outcome,
    RollupDay,
)
from supportops.analytics.rollups import rollup_compare, rollup_day, rollups_build
from supportops.celery import app
from supportops.conversations.models import Conversation, CsatRequest, CsatResponse
from supportops.inbox.models import BusinessHours
from tests.analytics.cost_scenario import COST_PERIOD, costed_conversations
from tests.analytics.ledger_rows import AI, KNOWN, PERIOD, T0, K, Row, known_ledger, ledger_row

pytestmark = pytest.mark.django_db

MARCH_2 = T0.date()  # the known ledger's rows 1-9 start on 2026-03-02 (UTC) and after


@pytest.fixture
def ledger(workspace, outsider):
    known_ledger(workspace)
    ledger_row(Workspace.objects.get(slug="other"), KNOWN[0], 99)
    return workspace


def filters(workspace, **params):
    return filters_parse({**PERIOD, **params}, workspace=workspace)


def pair(share):
    return (share.n, share.of)


def snapshot(workspace):
    rows = DailyRollup.objects.filter(workspace=workspace).order_by(
        "day", "arm", "channel", "category", "contained"
    )
    costs = DailyCostRollup.objects.filter(workspace=workspace).order_by(
        "day", "arm", "channel", "category"
    )
    skip = {"id"}
    return (
        [{k: v for k, v in r.items() if k not in skip} for r in rows.values()],
        [{k: v for k, v in r.items() if k not in skip} for r in costs.values()],
    )


def test_rebuilding_a_day_twice_gives_identical_rows(ledger):
    rollup_day(workspace=ledger, day=MARCH_2)
    first = snapshot(ledger)
    assert first[0], "the day has outcome rows"
    rollup_day(workspace=ledger, day=MARCH_2)
    assert snapshot(ledger) == first
    assert RollupDay.objects.filter(workspace=ledger, day=MARCH_2).count() == 1


def test_the_build_covers_every_past_day_and_a_second_build_changes_nothing(ledger):
    built = rollups_build(workspace=ledger)
    today = timezone.now().date()
    assert built[0] == date(2026, 2, 20)  # row 10, ten days before the others
    assert built[-1] == today - timedelta(days=1)
    # Each month summed once more; March's cells hold the nine March rows.
    march = MonthlyRollup.objects.filter(workspace=ledger, month=date(2026, 3, 1))
    assert sum(march.values_list("conversations", flat=True)) == 9
    before = snapshot(ledger)
    # Only days touched within the safety margin before the watermark are built again (the
    # ratings of March 2 were stored just now), and to the same rows.
    assert rollups_build(workspace=ledger) == [MARCH_2]
    assert snapshot(ledger) == before
    # The other workspace's conversation is in its own rollups only.
    assert sum(r["conversations"] for r in before[0]) == len(KNOWN)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"arm": "ai_first"},
        {"arm": "human_only"},
        {"channel": "email"},
        {"category": "billing"},
        {"arm": "ai_first", "channel": "widget", "category": "shipping"},
        {"from": "2026-03-02", "to": "2026-03-02"},
        {"from": "2026-02-01", "to": "2026-03-31"},
    ],
)
def test_rollup_figures_equal_the_direct_count(ledger, params):
    rollups_build(workspace=ledger)
    assert rollup_compare(workspace=ledger, filters=filters(ledger, **params)) == []


def test_figures_come_from_the_rollups_once_built(ledger):
    rollups_build(workspace=ledger)
    o = kpis_overview(workspace=ledger, filters=filters(ledger))
    # The hand-worked numbers of test_kpis, now read from the rollups.
    assert pair(o.shares["fcr"]) == (3, 7)
    assert pair(o.shares["gap"]) == (3, 7)
    assert pair(o.shares["provisional"]) == (2, 9)
    assert [(t.segment, t.n, t.of) for t in o.by_trigger] == [
        ("explicit_request", 1, 7),
        ("low_confidence", 1, 7),
    ]
    csat = {c.segment: c for c in o.csat}
    assert (pair(csat["bot"].asked), csat["bot"].mean) == ((2, 6), 5)
    # A change written behind the ledger's back (computed_at untouched) is not seen until
    # the day is rebuilt: the figures really are read from the rollup rows.
    Outcome.objects.filter(workspace=ledger, outcome=K.ABANDONED).update(outcome=K.NOT_RESOLVED)
    stale = kpis_overview(workspace=ledger, filters=filters(ledger))
    assert pair(stale.shares["abandoned"]) == (1, 9)
    assert rollup_compare(workspace=ledger, filters=filters(ledger)) != []
    day = Outcome.objects.get(workspace=ledger, outcome=K.NOT_RESOLVED, final=True).started_at
    rollup_day(workspace=ledger, day=day.date())
    assert pair(kpis_overview(workspace=ledger, filters=filters(ledger)).shares["abandoned"]) == (
        0,
        9,
    )
    assert rollup_compare(workspace=ledger, filters=filters(ledger)) == []


def test_a_conversation_today_counts_without_a_rollup_run(ledger):
    rollups_build(workspace=ledger)
    now = timezone.now()
    period = {"from": "2026-03-01", "to": now.date().isoformat()}
    before = kpis_overview(workspace=ledger, filters=filters(ledger, **period))
    row = Row(AI, "widget", "billing", K.RESOLVED_BY_BOT_CONFIRMED, True, first_by="bot")
    row.first_s = 12
    # Started an hour ago (or at midnight, if that is earlier today).
    start = max(now - timedelta(hours=1), now.replace(hour=0, minute=0, second=1))
    row.hours = (start - T0).total_seconds() / 3600
    ledger_row(ledger, row, 500)
    after = kpis_overview(workspace=ledger, filters=filters(ledger, **period))
    assert after.shares["conversations"].n == before.shares["conversations"].n + 1
    assert after.shares["bot_confirmed"].n == before.shares["bot_confirmed"].n + 1
    assert rollup_compare(workspace=ledger, filters=filters(ledger, **period)) == []
    assert not RollupDay.objects.filter(workspace=ledger, day=now.date()).exists()
    with pytest.raises(ValueError, match="today is computed live"):
        rollup_day(workspace=ledger, day=now.date())


def test_a_past_day_not_built_yet_is_computed_live(ledger):
    # Nothing built: every figure is still right (read live from the ledger).
    assert not RollupDay.objects.filter(workspace=ledger).exists()
    assert rollup_compare(workspace=ledger, filters=filters(ledger)) == []
    rollup_day(workspace=ledger, day=MARCH_2)  # one day built, the others live
    assert rollup_compare(workspace=ledger, filters=filters(ledger)) == []


def test_a_changed_outcome_on_an_old_day_is_rebuilt(ledger):
    rollups_build(workspace=ledger)
    # The provisional row 8 (control, email) becomes final and resolved by a person, as the
    # ledger's refresh writes it (computed_at is now), long after its day.
    outcome = Outcome.objects.get(workspace=ledger, arm="human_only", final=False)
    old_day = outcome.started_at.date()
    outcome.outcome, outcome.final, outcome.computed_at = K.RESOLVED_BY_HUMAN, True, timezone.now()
    outcome.save()
    assert old_day < timezone.now().date() - timedelta(days=30)
    rebuilt = rollups_build(workspace=ledger)
    assert rebuilt == [old_day]
    o = kpis_overview(workspace=ledger, filters=filters(ledger))
    assert pair(o.shares["provisional"]) == (1, 9)
    assert pair(o.shares["confirmed"]) == (6, 9)
    assert rollup_compare(workspace=ledger, filters=filters(ledger)) == []


def test_a_rating_given_later_rebuilds_its_day(ledger):
    rollups_build(workspace=ledger)
    request = CsatRequest.objects.get(workspace=ledger, answered_at__isnull=True)
    request.answered_at, request.score = timezone.now(), 3
    request.save()
    CsatResponse.objects.create(workspace=ledger, conversation=request.conversation, score=3)
    day = request.conversation.outcome.started_at.date()
    assert rollups_build(workspace=ledger) == [day]
    csat = {c.segment: c for c in kpis_overview(workspace=ledger, filters=filters(ledger)).csat}
    assert pair(csat["bot"].answered) == (2, 2)
    assert csat["bot"].mean == 4
    assert rollup_compare(workspace=ledger, filters=filters(ledger)) == []


def test_the_nightly_verify_rebuilds_a_day_whose_conversation_was_deleted(ledger):
    rollups_build(workspace=ledger)
    gone = Outcome.objects.filter(workspace=ledger, category="shipping").first()
    day = gone.started_at.date()
    Conversation.objects.filter(pk=gone.conversation_id).delete()
    assert rollup_compare(workspace=ledger, filters=filters(ledger)) != []
    assert day in rollups_build(workspace=ledger, verify=True)
    assert rollup_compare(workspace=ledger, filters=filters(ledger)) == []


def test_cost_figures_from_rollups_equal_the_cost_lines(play, workspace, manager):
    costed_conversations(play, workspace, manager)
    rollups_build(workspace=workspace)
    assert RollupDay.objects.filter(workspace=workspace, conversations__gt=0).exists()
    for params in ({}, {"arm": "ai_first"}, {"category": "account"}, {"channel": "email"}):
        f = filters_parse({**COST_PERIOD, **params}, workspace=workspace)
        assert rollup_compare(workspace=workspace, filters=f) == []
    every = kpi_costs(workspace=workspace, filters=filters_parse(COST_PERIOD, workspace=workspace))
    assert every.total is not None and str(every.total.total_usd.normalize()) == "9.004"
    assert DailyCostRollup.objects.filter(workspace=workspace).count() == 3


def test_the_direct_count_is_what_the_dashboards_showed_before_rollups(ledger):
    rollups_build(workspace=ledger)
    rolled = kpis_overview(workspace=ledger, filters=filters(ledger))
    direct = kpis_overview_direct(workspace=ledger, filters=filters(ledger))
    assert {k: pair(s) for k, s in rolled.shares.items()} == {
        k: pair(s) for k, s in direct.shares.items()
    }


def test_the_beat_task_is_registered():
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if "rollups" in e["task"]]
    assert {e["task"] for e in entries} == {"supportops.analytics.tasks.rollups_refresh"}
    assert any(e.get("kwargs", {}).get("verify") for e in entries)  # the nightly one
    assert "supportops.analytics.tasks.rollups_refresh" in app.tasks
    assert "supportops.analytics.tasks.rollups_build_task" in app.tasks
    assert tasks.rollups_build_task.run(10**9) == 0  # a workspace that is gone: nothing


def test_days_are_cut_in_the_workspace_time_zone_and_rebuilt_when_it_changes(ledger):
    rollups_build(workspace=ledger)
    BusinessHours.objects.create(workspace=ledger, timezone="Asia/Tokyo")
    rollups_build(workspace=ledger)  # every day again, cut in Tokyo
    # Rows 1-4 start 20:00-23:00 on 2 March in Tokyo, row 5 at midnight (3 March there).
    march_2 = filters(ledger, **{"from": "2026-03-02", "to": "2026-03-02"})
    assert kpis_overview(workspace=ledger, filters=march_2).shares["conversations"].n == 4
    assert rollup_compare(workspace=ledger, filters=march_2) == []
    assert rollup_compare(workspace=ledger, filters=filters(ledger)) == []


def every_figure(workspace):
    categories = set(Outcome.objects.filter(workspace=workspace).values_list("category", flat=True))
    triggers = set(
        Outcome.objects.filter(workspace=workspace).values_list("first_handoff_trigger", flat=True)
    )
    for figure in FIGURES:
        if figure == "escalation_category":
            segments = {c or NO_CATEGORY for c in categories} | {"never-used"}
        elif figure == "escalation_trigger":
            segments = (triggers - {""}) | {"never-used"}
        else:
            segments = SEGMENTED.get(figure, {""})
        for segment in sorted(segments):
            yield figure, segment


@pytest.mark.parametrize("params", [{}, {"arm": "ai_first"}, {"channel": "email"}])
def test_a_figures_number_from_the_rollups_is_its_drilldown_row_count(ledger, params):
    rollups_build(workspace=ledger)
    # And one conversation today, merged in live.
    today = Row(AI, "widget", "billing", K.NOT_RESOLVED, False, trigger="low_confidence")
    today.first_by, today.first_s = "bot", 30
    today.hours = (timezone.now() - timedelta(minutes=5) - T0).total_seconds() / 3600
    ledger_row(ledger, today, 501)
    period = {"from": "2026-03-01", "to": timezone.now().date().isoformat(), **params}
    overview = kpis_overview(workspace=ledger, filters=filters(ledger, **period))
    checked = 0
    for figure, segment in every_figure(ledger):
        rows = drilldown_outcomes(
            workspace=ledger, filters=filters(ledger, **period), figure=figure, segment=segment
        )
        assert figure_count(overview, figure, segment) == rows.count(), (figure, segment)
        checked += 1
    assert checked > len(FIGURES)
    with pytest.raises(ValueError, match="no figure"):
        figure_count(overview, "moon")
