"""The per-conversation export has PostgreSQL write its times and durations; what it writes
must be exactly what Python's `isoformat(timespec="seconds")` and the seconds' rounding wrote
before, in zones east and west of UTC, on half-hour offsets and across summer-time changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F, Value
from django.db.models.functions import Cast

from supportops.analytics.kpis import Seconds
from supportops.conversations.models import Customer
from supportops.exports.services import IsoInZone, _seconds

pytestmark = pytest.mark.django_db

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Adelaide"]
MOMENTS = [
    datetime(2026, 3, 29, 0, 59, 59, 999_999, tzinfo=UTC),  # Berlin: the hour before summer
    datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC),  # and the first second of it
    datetime(2026, 11, 1, 5, 30, 0, 500_000, tzinfo=UTC),  # New York's autumn change
    datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),  # a new year east of UTC
    datetime(2026, 7, 4, 12, 0, 0, 1, tzinfo=UTC),
]


@pytest.mark.parametrize("zone", ZONES)
def test_times_are_written_as_python_writes_them(workspace, zone):
    customer = Customer.objects.create(workspace=workspace, name="Clock")
    rows = Customer.objects.filter(pk=customer.pk)
    for moment in MOMENTS:
        Customer.objects.filter(pk=customer.pk).update(created_at=moment)
        written = rows.annotate(text=IsoInZone(F("created_at"), zone)).get().text
        assert written == moment.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")
    # No time: an empty cell.
    empty = rows.annotate(
        text=IsoInZone(Cast(Value(None), output_field=Customer._meta.get_field("created_at")), zone)
    ).get()
    assert empty.text == ""


def test_durations_round_as_before(workspace):
    customer = Customer.objects.create(workspace=workspace, name="Clock")
    rows = Customer.objects.filter(pk=customer.pk)
    start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    for gap in [
        timedelta(seconds=59.4),
        timedelta(seconds=59.6),
        timedelta(hours=49, microseconds=7),
    ]:
        Customer.objects.filter(pk=customer.pk).update(created_at=start + gap)
        seconds = rows.annotate(s=Seconds(F("created_at"), Value(start))).get().s
        assert _seconds(seconds) == f"{gap.total_seconds():.0f}"
    assert _seconds(None) == ""
