"""The dashboards in headless Chromium: the overview draws its plotly charts under the
Content-Security-Policy, a filter by arm changes the figures and the URL, and a click on a
chart's bar lands on the list of its conversations, which downloads as CSV and reads back."""

from __future__ import annotations

import csv
import re

import pytest

from tests.analytics.ledger_rows import PERIOD, known_ledger
from tests.conftest import PASSWORD
from tests.e2e.conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: the browser tests need Debian's chromium package",
    ),
]


def sign_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/w/acme/inbox/$"))


@pytest.mark.django_db(transaction=True)
def test_overview_filter_by_arm_and_click_a_bar_to_its_conversations(
    live_server, page, manager, workspace
):
    ledger = known_ledger(workspace)
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(page.url + " " + m.text) if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page, live_server, manager)
    page.click("nav.mainnav a:has-text('Dashboards')")
    page.wait_for_url(re.compile(r"/w/acme/dashboards/$"))
    page.fill("#f-from", PERIOD["from"])
    page.fill("#f-to", PERIOD["to"])
    page.click("button:has-text('Apply filters')")
    page.wait_for_url(re.compile(r"from=2026-03-01"))
    assert page.locator("[data-kpi=fcr]").inner_text() == "42.9%"
    page.wait_for_selector("[data-chart=chart-resolution][data-ready] svg .bars path")

    # Filter by arm: the figures swap in place and the URL keeps the filter.
    page.select_option("#f-arm", "ai_first")
    page.click("button:has-text('Apply filters')")
    page.wait_for_url(re.compile(r"arm=ai_first"))
    # AI first (rows 1-6 and 9): confirmed 1, 3, 6, 9 of 7 (of all 9 it was 5: 55.6%).
    page.wait_for_function(
        "document.querySelector('[data-kpi=confirmed]').textContent.trim() === '57.1%'"
    )
    assert "7 conversations started" in page.locator("#dashboard-figures").inner_text()
    chart = page.locator("[data-chart=chart-resolution][data-ready]")
    chart.wait_for()

    # The gap bar (the second trace) opens the list of its conversations, filters kept.
    # As a person does it: the pointer rests on the bar (plotly shows its label), then clicks.
    # (plotly's drag layer lies over the bars and takes the pointer, as it does for a person).
    box = chart.locator(".trace.bars").nth(1).locator("path").first.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    chart.locator(".hoverlayer .hovertext").wait_for()
    page.mouse.click(x, y)
    page.wait_for_url(re.compile(r"/w/acme/conversations/\?.*figure=gap"))
    assert "arm=ai_first" in page.url
    ids = {
        int(i)
        for i in page.locator("tr[data-conversation]").evaluate_all(
            "rows => rows.map(r => r.dataset.conversation)"
        )
    }
    assert ids == {ledger[i].conversation_id for i in (1, 3, 4)}

    # The same list as CSV, downloaded and read back.
    with page.expect_download() as download:
        page.click("[data-export=conversations]")
    path = download.value.path()
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][2] == "started_at (UTC)"
    assert {int(r[0]) for r in rows[1:]} == ids
    assert not problems, problems  # no CSP refusals, no script errors
