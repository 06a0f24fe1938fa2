"""Each KPI against numbers worked out by hand from the known ledger (tests/analytics/
ledger_rows.py), the drill-down lists against the numbers they link from, and the filters."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from supportops.accounts.models import Workspace
from supportops.analytics.filters import FilterError, filters_parse
from supportops.analytics.kpis import (
    drilldown_outcomes,
    kpi_costs,
    kpis_overview,
    kpis_overview_direct,
)
from supportops.analytics.selectors import COST_PER_RESOLUTION_BASIS
from supportops.inbox.models import BusinessHours
from tests.analytics.cost_scenario import COST_PERIOD, costed_conversations
from tests.analytics.ledger_rows import KNOWN, PERIOD, known_ledger, ledger_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(workspace, outsider):
    known_ledger(workspace)
    # Another workspace's conversation in the same period never counts.
    ledger_row(Workspace.objects.get(slug="other"), KNOWN[0], 99)
    return workspace


def overview(workspace, **params):
    return kpis_overview(
        workspace=workspace, filters=filters_parse({**PERIOD, **params}, workspace=workspace)
    )


def pair(share):
    return (share.n, share.of)


def test_rates_on_the_known_ledger(ledger):
    o = overview(ledger)
    s = o.shares
    assert pair(s["conversations"]) == (9, 9)  # row 10 is in February
    # Final: rows 1-7; resolved and never reopened: 1, 3, 7 (6 was reopened).
    assert pair(s["fcr"]) == (3, 7)
    # Confirmed by the customer or resolved by a person: 1, 3, 6, 7, 9.
    assert pair(s["confirmed"]) == (5, 9)
    # AI first: 1-6 and 9; contained 1, 2, 4, 5, 6, 9; of those confirmed 1, 6, 9.
    assert pair(s["contained"]) == (6, 7)
    assert pair(s["bot_confirmed"]) == (3, 7)
    assert pair(s["gap"]) == (3, 7)
    assert s["contained"].n == s["bot_confirmed"].n + s["gap"].n
    assert pair(s["repeat"]) == (1, 9)
    assert pair(s["abandoned"]) == (1, 9)
    assert pair(s["provisional"]) == (2, 9)
    assert pair(s["escalated"]) == (2, 7)
    assert s["fcr"].rate == pytest.approx(3 / 7)


def test_csat_for_bot_human_and_control_with_response_rates(ledger):
    csat = {c.segment: c for c in overview(ledger).csat}
    # Bot-handled: rows 1, 2, 4, 5, 6, 9; asked 1 and 2; rated 1 (5).
    assert pair(csat["bot"].asked) == (2, 6)
    assert pair(csat["bot"].answered) == (1, 2)
    assert (csat["bot"].mean, csat["bot"].satisfied) == (5, 1.0)
    # Human-handled: row 3, asked and rated 4.
    assert pair(csat["human"].answered) == (1, 1)
    assert (csat["human"].mean, csat["human"].satisfied) == (4, 1.0)
    # Control: rows 7 and 8; 7 asked and rated 2.
    assert pair(csat["control"].asked) == (1, 2)
    assert pair(csat["control"].answered) == (1, 1)
    assert (csat["control"].mean, csat["control"].satisfied) == (2, 0.0)


def test_escalation_by_category_and_trigger(ledger):
    o = overview(ledger)
    assert [(c.segment, c.n, c.of) for c in o.by_category] == [
        ("billing", 0, 4),
        ("shipping", 2, 3),
    ]
    assert [(t.segment, t.n, t.of) for t in o.by_trigger] == [
        ("explicit_request", 1, 7),
        ("low_confidence", 1, 7),
    ]


def test_first_response_and_resolution_percentiles(ledger):
    # Exact (interpolated) percentiles, counted directly from the ledger.
    o = kpis_overview_direct(workspace=ledger, filters=filters_parse(PERIOD, workspace=ledger))
    first = {t.who: t for t in o.first_response}
    # Bot first: 10, 20, 30, 40, 50, 60 s. p50 = 35; p90 at rank 4.5: 50 + 0.5 * 10 = 55.
    assert (first["bot"].n, first["bot"].p50, first["bot"].p90) == (6, 35, 55)
    # People first: 120, 300. p50 = 210; p90 = 120 + 0.9 * 180 = 282.
    assert first["person"].n == 2
    assert first["person"].p50 == pytest.approx(210)
    assert first["person"].p90 == pytest.approx(282)
    resolution = {t.who: t for t in o.resolution}
    # Resolved and contained: 60, 200, 300 (the repeat contact and the unconfirmed answer
    # are not resolutions). p90 at rank 1.8: 200 + 0.8 * 100 = 280.
    assert (resolution["bot"].n, resolution["bot"].p50) == (3, 200)
    assert resolution["bot"].p90 == pytest.approx(280)
    # People: 600, 1200. p90 = 600 + 0.9 * 600 = 1140.
    assert (resolution["person"].n, resolution["person"].p50) == (2, 900)
    assert resolution["person"].p90 == pytest.approx(1140)


def test_dashboard_percentiles_are_the_bucket_of_the_exact_percentile(ledger):
    """The dashboards read percentiles from fixed-bucket histograms (analytics.rollups):
    the geometric middle of the 2^(1/4)-wide bucket holding percentile_disc's value."""
    o = overview(ledger)

    def middle(seconds):
        k = 1 + math.floor(4 * math.log2(seconds))
        return 2 ** ((k - 0.5) / 4)

    first = {t.who: t for t in o.first_response}
    resolution = {t.who: t for t in o.resolution}
    # percentile_disc takes the ceil(f * n)-th smallest: bot first 10..60 s -> p50 the 3rd
    # (30 s), p90 the 6th (60 s); people 120, 300 -> 120, 300; resolution bot 60, 200, 300
    # -> 200, 300; people 600, 1200 -> 600, 1200.
    expected = {
        ("first", "bot"): (6, 30, 60),
        ("first", "person"): (2, 120, 300),
        ("resolution", "bot"): (3, 200, 300),
        ("resolution", "person"): (2, 600, 1200),
    }
    for (what, who), (n, p50, p90) in expected.items():
        timing = (first if what == "first" else resolution)[who]
        assert timing.n == n
        assert timing.p50 == pytest.approx(middle(p50))
        assert timing.p90 == pytest.approx(middle(p90))
        assert 2 ** (-1 / 8) <= timing.p50 / p50 <= 2 ** (1 / 8)  # within 9%
    assert first["bot"].p50 == pytest.approx(2 ** (19.5 / 4))  # 29.3 s: bucket [26.9, 32)


def test_every_number_drills_down_to_exactly_its_conversations(ledger):
    o = overview(ledger)
    shares = [*o.shares.values(), *o.by_category, *o.by_trigger]
    shares += [c.asked for c in o.csat] + [c.answered for c in o.csat]
    filters = filters_parse(PERIOD, workspace=ledger)
    for share in shares:
        rows = drilldown_outcomes(
            workspace=ledger, filters=filters, figure=share.figure, segment=share.segment
        )
        assert rows.count() == share.n, share
    for timing in o.first_response:
        rows = drilldown_outcomes(
            workspace=ledger, filters=filters, figure="first_response", segment=timing.who
        )
        assert rows.count() == timing.n


@pytest.mark.parametrize(
    ("params", "conversations"),
    [({"arm": "human_only"}, 2), ({"channel": "email"}, 2), ({"category": "billing"}, 5)],
)
def test_filters_narrow_every_figure(ledger, params, conversations):
    assert overview(ledger, **params).shares["conversations"].n == conversations


def test_the_period_is_cut_in_the_workspace_time_zone(ledger):
    from supportops.inbox.models import BusinessHours

    BusinessHours.objects.create(workspace=ledger, timezone="Asia/Tokyo")
    # Row n starts 2026-03-02 at 10:00 + n hours UTC (+9 h in Tokyo): rows 1-4 at 20:00-23:00
    # on 2 March in Tokyo, row 5 at midnight, already 3 March there.
    o = overview(ledger, **{"from": "2026-03-02", "to": "2026-03-02"})
    assert o.shares["conversations"].n == 4


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"arm": "robots"}, "'arm' must be one of"),
        ({"channel": "fax"}, "'channel' must be one of"),
        ({"from": "2026-13-01"}, "'from' must be a date"),
        ({"from": "2026-03-05", "to": "2026-03-01"}, "must not be after"),
        ({"from": "2000-01-01", "to": "2026-01-01"}, "at most"),
        ({"category": "x" * 81}, "at most 80"),
    ],
)
def test_bad_filter_values_are_a_clear_error(workspace, params, message):
    with pytest.raises(FilterError, match=message):
        filters_parse(params, workspace=workspace)


@pytest.mark.parametrize(
    ("figure", "segment"), [("nonsense", ""), ("csat_asked", "aliens"), ("first_response", "")]
)
def test_unknown_figures_and_segments_are_a_clear_error(workspace, figure, segment):
    with pytest.raises(FilterError):
        drilldown_outcomes(
            workspace=workspace,
            filters=filters_parse(PERIOD, workspace=workspace),
            figure=figure,
            segment=segment,
        )


def test_cost_figures_are_the_cost_lines_under_the_dashboard_filters(play, workspace, manager):
    costed_conversations(play, workspace, manager)

    def costs(**params):
        filters = filters_parse({**COST_PERIOD, **params}, workspace=workspace)
        return kpi_costs(workspace=workspace, filters=filters)

    def figures(row):
        return (
            row.conversations,
            row.resolutions,
            row.per_resolution_usd,
            row.per_conversation_usd,
        )

    every = costs()
    assert every.basis == COST_PER_RESOLUTION_BASIS
    assert every.total is not None and every.total.total_usd == Decimal("9.004")
    # 9.004 / (1 confirmed by a person + 1 by the customer); 9.004 / 3 conversations.
    assert figures(every.total) == (3, 2, Decimal("4.5020"), Decimal("3.0013"))
    assert {row.group: figures(row) for row in every.by_arm} == {
        "ai_first": (2, 1, Decimal("0.0040"), Decimal("0.0020")),  # 0.004 / 1, 0.004 / 2
        "human_only": (1, 1, Decimal("9.0000"), Decimal("9.0000")),
    }
    assert {row.group: figures(row) for row in every.by_category} == {
        "account": (1, 1, Decimal("9.0000"), Decimal("9.0000")),
        "email": (1, 0, None, Decimal("0.0020")),  # no resolutions: no figure, not 0
        "password": (1, 1, Decimal("0.0020"), Decimal("0.0020")),
    }
    ai = costs(arm="ai_first")
    assert ai.total is not None
    assert figures(ai.total) == (2, 1, Decimal("0.0040"), Decimal("0.0020"))
    assert [row.group for row in ai.by_arm] == ["ai_first"]
    email = costs(category="email")
    assert email.total is not None
    assert figures(email.total) == (1, 0, None, Decimal("0.0020"))
    assert costs(channel="email").total is None  # every conversation here is a chat
    # Days are cut in the workspace's time zone: 09:00 UTC is 23:00 on 5 May in Kiritimati
    # (UTC+14), 11:00 and 12:00 UTC are already 6 May there.
    BusinessHours.objects.update_or_create(
        workspace=workspace, defaults={"timezone": "Pacific/Kiritimati"}
    )
    fifth = costs(**{"from": "2025-05-05", "to": "2025-05-05"}).total
    sixth = costs(**{"from": "2025-05-06", "to": "2025-05-06"}).total
    assert fifth is not None and figures(fifth) == (1, 1, Decimal("9.0000"), Decimal("9.0000"))
    assert sixth is not None and figures(sixth) == (2, 1, Decimal("0.0040"), Decimal("0.0020"))
