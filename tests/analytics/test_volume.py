"""seed_volume fills the scratch workspace up to N with a year of both arms, channels and
outcomes, and tops up rather than doubles; bench_dashboards prints the contract's keys with
every row of the export counted."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db.models import F

from supportops.accounts.models import AuditLog
from supportops.analytics.models import Outcome, RollupDay
from supportops.analytics.volume import SLUG
from supportops.conversations.models import Conversation, Message
from supportops.exports.models import ExportJob

pytestmark = pytest.mark.django_db


def run(command: str, **options) -> dict:
    out = io.StringIO()
    call_command(command, json=True, stdout=out, stderr=io.StringIO(), **options)
    return json.loads(out.getvalue())


def test_seed_volume_fills_up_to_n_and_tops_up(db):
    assert run("seed_volume", conversations=400)["conversations"] == 400
    again = run("seed_volume", conversations=500)
    assert (again["conversations"], again["added"]) == (500, 100)
    rows = Outcome.objects.filter(workspace__slug=SLUG)
    assert rows.count() == 500 == Conversation.objects.filter(workspace__slug=SLUG).count()
    assert set(rows.values_list("arm", flat=True)) == {"ai_first", "human_only"}
    assert set(rows.values_list("channel", flat=True)) == {"widget", "email"}
    assert set(rows.values_list("outcome", flat=True)) == set(Outcome.Kind.values)
    # A year: the conversations' own dates are the outcomes' start.
    spread = rows.order_by("started_at").values_list("started_at", flat=True)
    assert (spread.last() - spread.first()).days > 300
    assert not rows.exclude(conversation__created_at=F("started_at")).exists()
    assert not rows.exclude(conversation__last_message_at=F("last_event_at")).exists()
    # The bot's answers are dated inside their conversation, not on the day of seeding.
    answers = Message.objects.filter(workspace__slug=SLUG)
    assert answers.count() == rows.filter(bot_answered=True).count() > 0
    assert not answers.filter(created_at__lt=F("conversation__created_at")).exists()
    assert not answers.filter(created_at__gt=F("conversation__last_message_at")).exists()


def test_bench_dashboards_reports_the_contract_keys(db):
    result = run("bench_dashboards", conversations=300)
    assert result["conversations"] == 300
    assert (result["export_via"], result["export_rows"]) == ("stream", 300)
    for key in ("dashboard_ms", "drilldown_ms"):
        assert 0 < result[key]["p50"] <= result[key]["p95"]
    assert result["export_peak_mb"] > 0 and result["export_s"] >= 0
    assert result["rollup_day_s"] > 0
    assert result["rollup_matches_direct"] is True, result["rollup_mismatches"]
    # The first build rolled up every past day of the seeded year.
    assert result["rollups_built_days"] >= 360
    assert RollupDay.objects.filter(workspace__slug=SLUG, outcomes__gt=0).count() > 150


@pytest.mark.django_db(transaction=True)
def test_bench_dashboards_measures_a_large_export_as_the_background_job(settings, tmp_path):
    # Above the streaming limit a manager gets a background job, so that is what is timed:
    # the job's task runs in the bench's process and its file's rows are counted.
    settings.EXPORT_STREAM_MAX_ROWS = 100
    settings.MEDIA_ROOT = tmp_path
    result = run("bench_dashboards", conversations=250)
    assert (result["export_via"], result["export_rows"]) == ("job", 250)
    assert result["export_peak_mb"] >= result["export_base_mb"] > 0
    # The job was audited like any export, and its file and row are gone afterwards.
    assert AuditLog.objects.filter(action="export.conversations").count() == 1
    assert not ExportJob.objects.exists()
    assert not any(path.is_file() for path in tmp_path.rglob("*"))
