"""The dashboard pages and drill-down lists: who may open them, the figures they show on the
known ledger, filters in the URL, and bad filter values answered with a message."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils.html import escape

from supportops.analytics.selectors import COST_PER_RESOLUTION_BASIS
from tests.analytics.cost_scenario import COST_PERIOD, costed_conversations
from tests.analytics.ledger_rows import PERIOD, known_ledger
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def dashboard_url(area: str = "") -> str:
    if area:
        return reverse("dashboards:area", args=["acme", area])
    return reverse("dashboards:overview", args=["acme"])


def drill_url() -> str:
    return reverse("dashboards:conversations", args=["acme"])


@pytest.fixture
def ledger(workspace):
    return known_ledger(workspace)


@pytest.mark.parametrize("who", ["owner", "manager", "finance"])
def test_admins_managers_and_finance_read_the_dashboards(client, ledger, who, request):
    user = request.getfixturevalue(who)
    response = login(client, user).get(dashboard_url(), PERIOD)
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'data-kpi="fcr">42\.9%</a> <small class="muted">3 of 7 final', html)
    assert 'data-kpi="gap">42.9%</a>' in html
    assert "First-contact resolution</strong>: of the conversations whose outcome is final" in html
    # The known ledger has no cost lines: its conversations count as $0 and the page says so.
    assert 'data-cost="per-resolution">$0.0000' in html
    assert "9 conversations have no cost lines yet" in html


def test_agents_may_not_open_the_dashboards_but_may_list_conversations(client, teammate, ledger):
    login(client, teammate)
    assert client.get(dashboard_url(), PERIOD).status_code == 403
    response = client.get(drill_url(), {**PERIOD, "figure": "gap"})
    assert response.status_code == 200
    # The list shows an agent only what their queues allow (as the inbox does): these
    # conversations never reached a person, so none of them.
    assert "<span data-count>0</span>" in response.content.decode()


def test_outsiders_get_404(client, outsider, ledger):
    login(client, outsider)
    assert client.get(dashboard_url(), PERIOD).status_code == 404
    assert client.get(drill_url(), PERIOD).status_code == 404
    assert client.get(dashboard_url("speed"), PERIOD).status_code == 404


def test_unknown_area_is_404(client, manager):
    assert login(client, manager).get(dashboard_url("weather")).status_code == 404


def test_every_chart_bar_and_number_links_to_a_list_of_exactly_its_conversations(
    client, manager, ledger
):
    html = login(client, manager).get(dashboard_url(), PERIOD).content.decode()
    specs = re.findall(r'<script id="(chart-[\w-]+)" type="application/json">(.*?)</script>', html)
    assert {name for name, _ in specs} == {
        "chart-resolution",
        "chart-csat",
        "chart-escalation-category",
        "chart-escalation-trigger",
        "chart-times",
    }
    links = set()
    for _, spec in specs:
        for trace in json.loads(spec)["data"]:
            links.update(trace["customdata"])
    assert len(links) >= 12
    # The resolution chart's gap bar and its list: 3 conversations (rows 2, 4, 5).
    gap = next(link for link in links if "figure=gap" in link)
    page = client.get(gap).content.decode()
    assert re.search(r"<span data-count>3</span> conversations", page)
    ids = {int(i) for i in re.findall(r'data-conversation="(\d+)"', page)}
    assert ids == {ledger[i].conversation_id for i in (1, 3, 4)}
    # Every link keeps the dashboard's filters.
    for link in links:
        query = parse_qs(urlsplit(link).query)
        assert query["from"] == [PERIOD["from"]] and query["to"] == [PERIOD["to"]]


def test_filters_stay_in_the_url_and_narrow_the_figures(client, manager, ledger):
    login(client, manager)
    html = client.get(dashboard_url(), {**PERIOD, "arm": "human_only"}).content.decode()
    assert "2 conversations started 2026-03-01 to 2026-03-31" in html
    assert '<option value="human_only" selected>' in html
    # The area pages keep the filters in their links.
    assert "arm=human_only" in re.search(r'href="(/w/acme/dashboards/speed/[^"]*)"', html).group(1)


def test_the_csat_table_shows_response_rates(client, manager, ledger):
    html = login(client, manager).get(dashboard_url("satisfaction"), PERIOD).content.decode()
    row = re.search(r'<tr data-csat="bot">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r">2</a> of 6<", row) and "50.0%" in row and "5.00" in row


@pytest.mark.parametrize(
    "params",
    [
        {"arm": "robots"},
        {"from": "yesterday"},
        {"from": "2026-03-05", "to": "2026-03-01"},
    ],
)
def test_bad_filter_values_get_a_clear_message_not_a_500(client, manager, params):
    login(client, manager)
    for url in (dashboard_url(), drill_url()):
        response = client.get(url, params)
        assert response.status_code == 400
        assert "Check the filters:" in response.content.decode()


def test_a_drilldown_of_an_unknown_figure_is_a_clear_400(client, manager):
    response = login(client, manager).get(drill_url(), {"figure": "csat_asked", "segment": "x"})
    assert response.status_code == 400
    assert "needs a segment: one of bot, control, human" in response.content.decode()


def test_finance_sees_the_list_without_text_or_links_to_conversations(client, finance, ledger):
    html = login(client, finance).get(drill_url(), PERIOD).content.decode()
    assert html.count("data-conversation=") == 9
    assert "/inbox/" not in html


def test_the_htmx_request_gets_only_the_figures(client, manager, ledger):
    login(client, manager)
    response = client.get(dashboard_url(), PERIOD, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="dashboard-figures">') and "<html" not in html


def test_plotly_is_served_from_the_package_not_a_cdn(client, manager, ledger):
    html = login(client, manager).get(dashboard_url(), PERIOD).content.decode()
    assert '<script src="/static/vendor/plotly/plotly.min.js" defer></script>' in html
    assert "cdn" not in html.lower()
    assert finders.find("vendor/plotly/plotly.min.js").endswith("plotly.min.js")
    assert "<script>" not in html  # no inline script (CSP)


def cost_row(html: str, group: str) -> str:
    match = re.search(rf'<tr data-cost-group="{group}">(.*?)</tr>', html, re.S)
    assert match, group
    return re.sub(r"\s+", " ", match.group(1))


def test_the_cost_area_shows_cost_per_resolution_and_conversation_by_arm_and_category(
    client, play, workspace, manager, finance
):
    costed = costed_conversations(play, workspace, manager)
    response = login(client, finance).get(dashboard_url("cost"), COST_PERIOD)
    html = response.content.decode()
    assert response.status_code == 200
    # All three: $9.004 over 2 resolutions and over 3 conversations.
    assert 'data-cost="per-resolution">$4.5020 <small class="muted">$9.0040 over 2 resolutions' in (
        html
    )
    assert 'data-cost="per-conversation">$3.0013 <small class="muted">over 3 conversations' in html
    assert escape(COST_PER_RESOLUTION_BASIS) in html
    ai = cost_row(html, "ai_first")
    assert '<th scope="row">AI first</th>' in ai
    assert '<td data-cost="per-resolution">$0.0040</td>' in ai
    assert '<td data-cost="per-conversation">$0.0020</td>' in ai
    assert "<td>1 + 0</td>" in ai  # confirmed + unconfirmed
    human = cost_row(html, "human_only")
    assert '<td data-cost="per-resolution">$9.0000</td>' in human and "<td>$9.0000</td>" in human
    email = cost_row(html, "email")
    assert '<td data-cost="per-resolution">no resolutions</td>' in email
    assert '<td data-cost="per-conversation">$0.0020</td>' in email
    # The count links to the list of exactly that group's conversations.
    link = re.search(r'<a href="([^"]+)">1</a>', email)
    assert link
    href = unescape(link.group(1))
    assert parse_qs(urlsplit(href).query)["category"] == ["email"]
    listed = re.findall(r'data-conversation="(\d+)"', client.get(href).content.decode())
    assert listed == [str(costed.rejected.pk)]
    # Under a filter the figures are of the filtered conversations only.
    filtered = client.get(dashboard_url("cost"), {**COST_PERIOD, "arm": "human_only"})
    page = filtered.content.decode()
    assert (
        'data-cost="per-resolution">$9.0000 <small class="muted">$9.0000 over 1 resolution<' in page
    )
    assert 'data-cost-group="ai_first"' not in page
