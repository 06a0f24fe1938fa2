"""`manage.py bench_dashboards --conversations N --json`: the dashboards, drill-down lists
and the per-conversation CSV export at volume, on the volume scratch workspace (seeded up to
N first when it holds fewer; see analytics.volume).

Server time of each request through Django's test client (routing, views, queries,
templates; no network) over a spread of filters; the whole per-conversation CSV for twelve
months, its rows counted from the output, and the process's resident set sampled while it is
written (`export_peak_mb`; `export_base_mb` is the resident set before the export began).
The export goes the way a manager's would (`export_via`): streamed by the download view up
to settings.EXPORT_STREAM_MAX_ROWS rows, above that as a background export job, whose task
body (what a Celery worker runs) runs here in-process so its time and memory are measured;
its rows are counted from the file it wrote, which is then deleted.

The dashboards read the daily rollups (analytics.rollups), so the rollups are brought up to
date after seeding, as the beat task would (`rollups_build_s`, and `rollups_built_days`: how
many days that build rebuilt; a first build covers the whole year). `rollup_day_s` is the
time to rebuild one day (the busiest past day); `rollup_matches_direct` is true when
`rollups.rollup_compare` finds every figure of a sample of periods and filters equal to a
direct count on the ledger (`rollup_mismatches` lists any difference)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from supportops.analytics.filters import filters_parse, workspace_timezone
from supportops.analytics.models import RollupDay
from supportops.analytics.rollups import rollup_compare, rollup_day, rollups_build
from supportops.analytics.volume import volume_count, volume_seed, volume_workspace
from supportops.celery import app as celery_app
from supportops.exports.models import ExportJob
from supportops.exports.services import export_conversations_count, export_job_start
from supportops.lib.commands import database_ready, percentile, print_json

AREAS = ["", "resolution", "satisfaction", "escalations", "speed", "cost"]
DRILLDOWNS = [
    {"figure": "gap"},
    {"figure": "fcr"},
    {"figure": "abandoned"},
    {"figure": "csat_answered", "segment": "bot"},
    {"figure": "escalation_category", "segment": "billing"},
    {"figure": "escalation_trigger", "segment": "low_confidence"},
    {"figure": "first_response", "segment": "person"},
    {"figure": "conversations", "page": "40"},
]


def _summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 50), 1), "p95": round(percentile(values, 95), 1)}


class Command(BaseCommand):
    help = "Time the KPI dashboards, drill-down lists and CSV export at volume."

    def add_arguments(self, parser):
        parser.add_argument("--conversations", type=int, default=100_000)
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **opts):
        if opts["conversations"] < 1:
            raise CommandError("--conversations must be at least 1")
        database_ready(self, opts)
        workspace, user = volume_workspace()
        have = volume_count(workspace=workspace)
        if have < opts["conversations"]:
            self.stderr.write(f"seeding {opts['conversations'] - have} conversations ...")
            volume_seed(workspace=workspace, conversations=opts["conversations"] - have)
        started = time.perf_counter()
        rebuilt = rollups_build(workspace=workspace)
        rollups_build_s = time.perf_counter() - started
        host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"), "localhost")
        client = Client(HTTP_HOST=host)
        client.force_login(user)
        today = timezone.now().astimezone(workspace_timezone(workspace=workspace)).date()
        periods = [
            {"from": (today.replace(day=1)).isoformat(), "to": today.isoformat()},
            {"from": f"{today.year - 1}-{today.month:02d}-01", "to": today.isoformat()},
            {},  # the default: the last 30 days
        ]
        spread = [
            {},
            {"arm": "ai_first"},
            {"arm": "human_only", "channel": "email"},
            {"category": "billing"},
        ]
        dashboard_ms = []
        for area in AREAS:
            url = (
                reverse("dashboards:area", args=[workspace.slug, area])
                if area
                else reverse("dashboards:overview", args=[workspace.slug])
            )
            for period in periods:
                for extra in spread:
                    dashboard_ms.append(self._time(client, url, {**period, **extra}))
        drill = reverse("dashboards:conversations", args=[workspace.slug])
        drilldown_ms = [
            self._time(client, drill, {**period, **extra, **params})
            for period in periods
            for extra in spread[:2]
            for params in DRILLDOWNS
        ]
        rollup_day_s = self._rollup_day(workspace)
        mismatches = []
        for period in periods:
            for extra in spread:
                filters = filters_parse({**period, **extra}, workspace=workspace)
                found = rollup_compare(workspace=workspace, filters=filters)
                mismatches += [f"{period} {extra}: {diff}" for diff in found]
        export = self._export(client, workspace, user, periods[1])
        result = {
            "conversations": volume_count(workspace=workspace),
            "dashboard_ms": _summary(dashboard_ms),
            "drilldown_ms": _summary(drilldown_ms),
            "rollup_day_s": rollup_day_s,
            "rollup_matches_direct": not mismatches,
            **export,
            "requests": {"dashboard": len(dashboard_ms), "drilldown": len(drilldown_ms)},
            "rollups_build_s": round(rollups_build_s, 2),
            "rollups_built_days": len(rebuilt),
            "rollup_mismatches": mismatches[:20],
        }
        if opts["json"]:
            print_json(result, self.stdout)
        else:
            for key, value in result.items():
                self.stdout.write(f"{key}: {value}")

    def _time(self, client: Client, url: str, params: dict[str, str]) -> float:
        started = time.perf_counter()
        response = client.get(url, params, secure=True)  # as behind HTTPS in production
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise CommandError(f"{url} {params} answered {response.status_code}")
        return elapsed

    def _rollup_day(self, workspace: Any) -> float:
        """Seconds to rebuild the busiest past day's rollups."""
        tz = workspace_timezone(workspace=workspace)
        yesterday = timezone.now().astimezone(tz).date() - timedelta(days=1)
        busiest = (
            RollupDay.objects.filter(workspace=workspace, day__lte=yesterday)
            .order_by("-outcomes", "-day")
            .values_list("day", flat=True)
            .first()
        ) or yesterday
        started = time.perf_counter()
        rollup_day(workspace=workspace, day=busiest)
        return round(time.perf_counter() - started, 3)

    def _export(
        self, client: Client, workspace: Any, user: Any, period: dict[str, str]
    ) -> dict[str, Any]:
        filters = filters_parse(period, workspace=workspace)
        via = (
            "job"
            if export_conversations_count(workspace=workspace, filters=filters)
            > settings.EXPORT_STREAM_MAX_ROWS
            else "stream"
        )
        process = psutil.Process()
        base = process.memory_info().rss
        peak = [base]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.05):
                peak[0] = max(peak[0], process.memory_info().rss)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        try:
            if via == "stream":
                rows = self._streamed_rows(client, workspace.slug, period)
            else:
                rows = self._job_rows(workspace, user, filters)
        finally:
            elapsed = time.perf_counter() - started
            done.set()
            sampler.join()
        peak[0] = max(peak[0], process.memory_info().rss)
        return {
            "export_rows": rows,
            "export_s": round(elapsed, 1),
            "export_peak_mb": round(peak[0] / 2**20, 1),
            # The process's resident set before the export began (Django, the apps and
            # their libraries loaded): the export's own share is the difference.
            "export_base_mb": round(base / 2**20, 1),
            "export_via": via,
        }

    def _streamed_rows(self, client: Client, slug: str, period: dict[str, str]) -> int:
        """The download view's CSV, its data rows counted from the streamed output (csv ends
        each row with CRLF; no exported cell holds a line break)."""
        response = client.get(reverse("exports:conversations", args=[slug]), period, secure=True)
        if response.status_code != 200 or not response.streaming:
            raise CommandError(f"the export download answered {response.status_code}")
        lines, tail = 0, ""
        for chunk in response.streaming_content:  # type: ignore[attr-defined]
            text = tail + (chunk.decode() if isinstance(chunk, bytes) else chunk)
            parts = text.split("\r\n")
            tail = parts.pop()
            lines += len(parts)
        return lines + (1 if tail else 0) - 1  # the header is not a conversation

    def _job_rows(self, workspace: Any, user: Any, filters: Any) -> int:
        """A background export job, its task run here as the worker would run it (eagerly,
        when the job is committed); data rows counted from its file (each ends with CRLF, no
        cell holds a line break), then the file removed."""
        eager = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = True
        try:
            job = export_job_start(workspace=workspace, actor=user, filters=filters)
        finally:
            celery_app.conf.task_always_eager = eager
        job.refresh_from_db()
        if job.status != ExportJob.Status.DONE:
            raise CommandError(f"the export job ended {job.status}: {job.error}")
        path = Path(settings.MEDIA_ROOT) / job.file_path
        lines = 0
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                lines += block.count(b"\n")  # not CRLF: a block may end between the two
        path.unlink()
        job.delete()
        return lines - 1  # the header is not a conversation
