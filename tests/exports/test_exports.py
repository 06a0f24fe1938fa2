"""CSV exports: content on the known ledger, formula cells neutralised, ISO 8601 times in the
workspace's time zone, streamed from a server-side cursor, audited, and who may download."""

from __future__ import annotations

import csv
import html
import io

import pytest
from django.db import connection
from django.urls import reverse

from supportops.accounts.models import AuditLog, Workspace
from supportops.conversations.models import Message
from supportops.exports import services
from supportops.inbox.models import BusinessHours
from tests.analytics.cost_scenario import COST_PERIOD, costed_conversations
from tests.analytics.ledger_rows import KNOWN, PERIOD, Row, known_ledger, ledger_row
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
SECRET_TEXT = "my parcel never came, order 4471"


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def url(name: str) -> str:
    return reverse(f"exports:{name}", args=["acme"])


def read(response) -> list[list[str]]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def ledger(workspace, outsider):
    rows = known_ledger(workspace)
    Message.objects.create(
        workspace=workspace,
        conversation=rows[0].conversation,
        author="customer",
        text=SECRET_TEXT,
        prompt_tokens=0,
    )
    Message.objects.create(
        workspace=workspace,
        conversation=rows[0].conversation,
        author="bot",
        kind="answer",
        text="Here is how.",
        prompt_tokens=120,
        completion_tokens=30,
    )
    ledger_row(Workspace.objects.get(slug="other"), KNOWN[0], 99)
    return rows


def test_finance_downloads_one_row_per_conversation_without_message_text(client, finance, ledger):
    rows = read(login(client, finance).get(url("conversations"), PERIOD))
    header, body = rows[0], rows[1:]
    assert header[:4] == [
        "conversation_id",
        "customer_id",
        "started_at (UTC)",
        "first_response_at (UTC)",
    ]
    assert "cost (USD)" in header and "handling_minutes" in header
    assert sorted(int(r[0]) for r in body) == sorted(o.conversation_id for o in ledger[:9])
    first = next(r for r in body if int(r[0]) == ledger[0].conversation_id)
    record = dict(zip(header, first, strict=True))
    assert record["started_at (UTC)"] == "2026-03-02T11:00:00+00:00"
    assert record["first_response_s"] == "10" and record["resolution_s"] == "60"
    assert record["outcome"] == "resolved_by_bot_confirmed" and record["final"] == "final"
    assert (record["prompt_tokens"], record["completion_tokens"]) == ("120", "30")
    assert record["csat_score"] == "5"
    # No cost lines were computed for the known ledger: the cost cells are empty, not 0.
    assert (record["handling_minutes"], record["cost (USD)"], record["cost_unpriced"]) == (
        "",
        "",
        "",
    )
    assert SECRET_TEXT not in "".join(",".join(r) for r in rows)


def test_times_are_in_the_workspace_time_zone_named_in_the_header(client, manager, ledger):
    BusinessHours.objects.create(workspace=ledger[0].workspace, timezone="Asia/Tokyo")
    rows = read(login(client, manager).get(url("conversations"), PERIOD))
    assert rows[0][2] == "started_at (Asia/Tokyo)"
    started = {int(r[0]): r[2] for r in rows[1:]}
    assert started[ledger[0].conversation_id] == "2026-03-02T20:00:00+09:00"


@pytest.mark.parametrize(
    "category", ['=HYPERLINK("http://x.example")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
)
def test_cells_a_spreadsheet_would_execute_are_neutralised(client, manager, workspace, category):
    ledger_row(workspace, Row("ai_first", "widget", category, "abandoned", True), 1)
    rows = read(login(client, manager).get(url("conversations"), PERIOD))
    assert rows[1][8] == "'" + category


def test_the_export_streams_from_a_server_side_cursor(client, manager, ledger, monkeypatch):
    monkeypatch.setattr(services, "CHUNK_ROWS", 2)
    monkeypatch.setattr(services, "LINES_PER_WRITE", 1)
    response = login(client, manager).get(url("conversations"), PERIOD)
    chunks = iter(response.streaming_content)
    next(chunks), next(chunks)  # the header and the first row
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors WHERE name LIKE '_django_curs_%%'")
        assert cursor.fetchone()[0] == 1
    assert len(list(chunks)) == 8  # the other eight rows, one write each


def test_every_export_is_an_audit_row(client, finance, ledger):
    login(client, finance)
    read(client.get(url("conversations"), {**PERIOD, "arm": "ai_first"}))
    read(client.get(url("finance-summary"), PERIOD))
    rows = AuditLog.objects.filter(workspace__slug="acme", action__startswith="export.")
    assert [(r.action, r.actor_id, r.details.get("arm")) for r in rows.order_by("pk")] == [
        ("export.conversations", finance.pk, "ai_first"),
        ("export.finance_summary", finance.pk, None),
    ]


def test_the_monthly_finance_summary_counts_outcomes_by_arm_and_category(client, finance, ledger):
    rows = read(login(client, finance).get(url("finance-summary"), PERIOD))
    header = rows[0]
    assert header[:4] == ["month (UTC)", "arm", "category", "conversations"]
    assert header[-5:] == [
        "resolutions",
        "model_cost (USD)",
        "agent_cost (USD)",
        "cost_per_resolution (USD)",
        "cost_per_conversation (USD)",
    ]
    table = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    got = [
        (
            r["month (UTC)"],
            r["arm"],
            r["category"],
            r["conversations"],
            r["resolved_by_bot_confirmed"],
            r["confirmed_resolutions"],
        )
        for r in table
    ]
    assert got == [
        ("2026-03", "ai_first", "billing", "4", "2", "2"),
        ("2026-03", "ai_first", "shipping", "3", "1", "2"),
        ("2026-03", "human_only", "", "1", "0", "0"),
        ("2026-03", "human_only", "billing", "1", "0", "1"),
    ]
    assert table[0]["repeat_contact"] == "1" and table[1]["abandoned"] == "1"


def test_a_drilldown_list_exports_exactly_its_conversations(client, manager, ledger):
    rows = read(login(client, manager).get(url("conversations"), {**PERIOD, "figure": "gap"}))
    assert {int(r[0]) for r in rows[1:]} == {ledger[i].conversation_id for i in (1, 3, 4)}


def test_agents_may_not_export_and_outsiders_get_404(client, teammate, outsider, ledger):
    for name in ("index", "conversations", "finance-summary"):
        assert login(client, teammate).get(url(name), PERIOD).status_code == 403
        assert login(client, outsider).get(url(name), PERIOD).status_code == 404
    assert not AuditLog.objects.filter(action__startswith="export.").exists()


@pytest.mark.parametrize("name", ["index", "conversations", "finance-summary"])
def test_bad_filters_get_a_clear_message_and_no_file(client, finance, name):
    response = login(client, finance).get(url(name), {"from": "last tuesday"})
    assert response.status_code == 400
    assert "'from' must be a date written as YYYY-MM-DD" in html.unescape(response.content.decode())
    assert not AuditLog.objects.filter(action__startswith="export.").exists()


def test_the_exports_page_links_both_files_with_the_filters(client, finance, ledger):
    page = login(client, finance).get(url("index"), {**PERIOD, "channel": "email"}).content.decode()
    for name in ("conversations", "finance-summary"):
        assert f'href="{url(name)}?from=2026-03-01&amp;to=2026-03-31&amp;channel=email"' in page


def test_both_csvs_carry_the_cost_lines_worked_out_by_hand(
    client, finance, play, workspace, manager
):
    costed = costed_conversations(play, workspace, manager)
    login(client, finance)
    rows = read(client.get(url("conversations"), COST_PERIOD))
    table = {int(r[0]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    columns = ("handling_minutes", "model_cost (USD)", "agent_cost (USD)", "cost (USD)")
    got = {pk: tuple(table[pk][name] for name in (*columns, "cost_unpriced")) for pk in table}
    assert got == {
        costed.human.pk: ("15.00", "0.00", "9.00", "9.00", "no"),  # 900 s at $36/h
        costed.confirmed.pk: ("0.00", "0.002", "0.00", "0.002", "no"),  # 1 turn at $2/1,000
        costed.rejected.pk: ("0.00", "0.002", "0.00", "0.002", "no"),
    }

    rows = read(client.get(url("finance-summary"), COST_PERIOD))
    summary = [
        (
            r["arm"],
            r["category"],
            r["conversations"],
            r["resolutions"],
            r["model_cost (USD)"],
            r["agent_cost (USD)"],
            r["cost_per_resolution (USD)"],
            r["cost_per_conversation (USD)"],
        )
        for r in (dict(zip(rows[0], line, strict=True)) for line in rows[1:])
    ]
    assert summary == [
        ("ai_first", "email", "1", "0", "0.002", "0.00", "no resolutions", "0.002"),
        ("ai_first", "password", "1", "1", "0.002", "0.00", "0.002", "0.002"),
        ("human_only", "account", "1", "1", "0.00", "9.00", "9.00", "9.00"),
    ]
    assert {line[0] for line in rows[1:]} == {"2025-05"}

    # Under an arm filter only that arm's conversations are costed.
    rows = read(client.get(url("finance-summary"), {**COST_PERIOD, "arm": "human_only"}))
    assert [line[-3:] for line in rows[1:]] == [["9.00", "9.00", "9.00"]]
