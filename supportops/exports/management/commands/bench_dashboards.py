"""`manage.py bench_dashboards --conversations N --json`: the dashboards, drill-down lists
and the per-conversation CSV export at volume, on the volume scratch workspace (seeded up to
N first when it holds fewer; see analytics.volume).

Server time of each request through Django's test client (routing, views, queries,
templates; no network) over a spread of filters; the whole per-conversation CSV streamed,
its rows counted from the output, and the process's resident set sampled while it streams
(`export_peak_mb`; `export_base_mb` is the resident set before the export began).

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
        export = self._export(client, workspace.slug, periods[1])
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
        response = client.get(url, params)
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

    def _export(self, client: Client, slug: str, period: dict[str, str]) -> dict[str, Any]:
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
        response = client.get(reverse("exports:conversations", args=[slug]), period)
        # Rows counted from the streamed output (csv ends each row with CRLF; no exported
        # cell holds a line break); the header is not a conversation.
        rows, tail = 0, ""
        for chunk in response.streaming_content:  # type: ignore[attr-defined]
            text = tail + (chunk.decode() if isinstance(chunk, bytes) else chunk)
            lines = text.split("\r\n")
            tail = lines.pop()
            rows += len(lines)
        elapsed = time.perf_counter() - started
        done.set()
        sampler.join()
        peak[0] = max(peak[0], process.memory_info().rss)
        rows += 1 if tail else 0
        return {
            "export_rows": rows - 1,
            "export_s": round(elapsed, 1),
            "export_peak_mb": round(peak[0] / 2**20, 1),
            # The process's resident set before the export began (Django, the apps and
            # their libraries loaded): the export's own share is the difference.
            "export_base_mb": round(base / 2**20, 1),
        }
