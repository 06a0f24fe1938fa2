"""Business hours (pure rules and the settings page) and the wait estimate the widget shows."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from supportops.accounts.models import AuditLog
from supportops.inbox.hours import is_open, next_opening, timezone_valid, window_error
from supportops.inbox.models import WEEKDAYS, BusinessHours, Handoff, SlaPolicy
from supportops.inbox.selectors import wait_estimate
from tests.conftest import PASSWORD
from tests.inbox.test_routing import agent, hand_off

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def office_hours(tz: str = "Europe/Berlin", **days: tuple[time, time]) -> BusinessHours:
    """Weekdays 09:00-17:00 unless `days` says otherwise; weekends closed."""
    hours = BusinessHours(enabled=True, timezone=tz)
    for day in WEEKDAYS[:5]:
        setattr(hours, f"{day}_open", time(9))
        setattr(hours, f"{day}_close", time(17))
    for day, (opens, closes) in days.items():
        setattr(hours, f"{day}_open", opens)
        setattr(hours, f"{day}_close", closes)
    return hours


# --- is_open / next_opening ----------------------------------------------------------------------


def test_without_hours_the_team_is_always_open():
    now = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # a Sunday night
    assert is_open(None, now)
    assert is_open(BusinessHours(enabled=False, timezone="UTC"), now)
    assert next_opening(None, now) == now


def test_open_on_a_weekday_inside_the_hours_in_the_workspace_timezone():
    hours = office_hours()
    assert is_open(hours, datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN))  # Monday
    assert not is_open(hours, datetime(2026, 11, 23, 8, 59, tzinfo=BERLIN))
    assert not is_open(hours, datetime(2026, 11, 23, 17, 0, tzinfo=BERLIN))  # close is exclusive
    assert not is_open(hours, datetime(2026, 11, 28, 12, 0, tzinfo=BERLIN))  # Saturday


def test_the_same_utc_moment_is_open_in_one_timezone_and_closed_in_another():
    moment = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)  # 14:30 Berlin, 08:30 New York
    assert is_open(office_hours("Europe/Berlin"), moment)
    assert not is_open(office_hours("America/New_York"), moment)
    assert is_open(office_hours("America/New_York"), moment + timedelta(hours=1))


def test_a_day_closing_at_midnight_is_open_until_the_end_of_that_day():
    hours = office_hours("UTC", mon=(time(18), time(0)), tue=(None, None))
    assert is_open(hours, datetime(2026, 11, 23, 23, 30, tzinfo=UTC))  # Monday night
    assert not is_open(hours, datetime(2026, 11, 24, 0, 10, tzinfo=UTC))  # Tuesday, closed


def test_a_night_shift_runs_past_midnight_into_the_next_morning():
    hours = office_hours("UTC", fri=(time(22), time(6)))  # Friday 22:00 to Saturday 06:00
    assert not is_open(hours, datetime(2026, 11, 27, 21, 59, tzinfo=UTC))  # Friday evening
    assert is_open(hours, datetime(2026, 11, 27, 23, 30, tzinfo=UTC))
    assert is_open(hours, datetime(2026, 11, 28, 5, 59, tzinfo=UTC))  # Saturday, still open
    assert not is_open(hours, datetime(2026, 11, 28, 6, 0, tzinfo=UTC))
    assert next_opening(hours, datetime(2026, 11, 28, 7, 0, tzinfo=UTC)) == datetime(
        2026, 11, 30, 9, 0, tzinfo=UTC
    )  # Monday
    assert next_opening(hours, datetime(2026, 11, 27, 18, 0, tzinfo=UTC)) == datetime(
        2026, 11, 27, 22, 0, tzinfo=UTC
    )


def test_a_night_shift_keeps_its_local_hours_across_a_clock_change():
    # Berlin leaves summer time on Sunday 2026-10-25 at 03:00: the shift still ends at 06:00
    hours = office_hours("Europe/Berlin", sat=(time(22), time(6)))
    assert is_open(hours, datetime(2026, 10, 25, 5, 30, tzinfo=BERLIN))
    assert not is_open(hours, datetime(2026, 10, 25, 6, 0, tzinfo=BERLIN))


def test_next_opening_after_friday_evening_is_monday_morning():
    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=BERLIN)
    assert next_opening(office_hours(), friday_evening) == datetime(
        2026, 11, 30, 9, 0, tzinfo=BERLIN
    )


def test_next_opening_before_the_doors_open_is_the_same_day():
    early = datetime(2026, 11, 23, 7, 0, tzinfo=NEW_YORK)
    assert next_opening(office_hours("America/New_York"), early) == datetime(
        2026, 11, 23, 9, 0, tzinfo=NEW_YORK
    )


def test_hours_with_no_open_day_never_open():
    hours = BusinessHours(enabled=True, timezone="UTC")
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert not is_open(hours, now)
    assert next_opening(hours, now) is None


def test_window_and_timezone_checks():
    assert window_error(time(9), time(17)) is None
    assert window_error(None, None) is None
    assert window_error(time(9), time(0)) is None  # until midnight
    assert window_error(time(22), time(6)) is None  # overnight
    assert window_error(time(0), time(0)) is None  # the whole day
    assert "are the same" in (window_error(time(9), time(9)) or "")
    assert "both" in (window_error(time(9), None) or "")
    assert timezone_valid("Europe/Berlin")
    assert not timezone_valid("Mars/Olympus")
    assert not timezone_valid("")


# --- wait_estimate -------------------------------------------------------------------------------


def test_with_nobody_online_there_is_no_estimate(workspace):
    handoff = hand_off(workspace)
    wait = wait_estimate(workspace=workspace, conversation=handoff.conversation)
    assert wait == {
        "agents_online": 0,
        "position": 1,
        "estimated_minutes": None,
        "open_now": False,
        "reopens_at": None,  # within hours (24/7), just nobody there
    }


def test_position_follows_priority_then_age_and_the_estimate_scales_with_it(workspace):
    busy = agent(workspace, "ann", max_open=1)
    first = hand_off(workspace)  # goes straight to Ann
    assert first.assignee_id == busy.pk
    older = hand_off(workspace)
    newer = hand_off(workspace)
    vip = hand_off(workspace, vip=True)  # high priority: ahead of both
    normal_target = SlaPolicy.DEFAULTS["normal"][0]

    def wait(handoff: Handoff) -> dict:
        return wait_estimate(workspace=workspace, conversation=handoff.conversation)

    assert wait(first)["position"] == 1
    assert wait(vip)["position"] == 1
    assert wait(older)["position"] == 2
    assert wait(newer)["position"] == 3
    # No history yet: the SLA first-reply target per place in line, shared by online agents.
    assert wait(newer)["estimated_minutes"] == normal_target * 3
    assert wait(newer)["open_now"] is True and wait(newer)["agents_online"] == 1
    agent(workspace, "ben", max_open=1)  # going online, Ben picks up the oldest waiting
    assert Handoff.objects.get(pk=older.pk).assignee_id is not None
    assert wait(newer)["position"] == 2
    assert wait(newer)["agents_online"] == 2
    assert wait(newer)["estimated_minutes"] == normal_target  # 2nd in line, 2 agents


def test_the_estimate_uses_recent_first_reply_times(workspace):
    agent(workspace, "ann", max_open=1)
    for minutes in (4, 6, 30):
        answered = hand_off(workspace)
        Handoff.objects.filter(pk=answered.pk).update(
            status=Handoff.Status.RESOLVED,
            first_human_reply_at=answered.created_at + timedelta(minutes=minutes),
        )
    stale = hand_off(workspace)  # over a week old: ignored
    Handoff.objects.filter(pk=stale.pk).update(
        status=Handoff.Status.RESOLVED,
        created_at=timezone.now() - timedelta(days=8),
        first_human_reply_at=timezone.now() - timedelta(days=8) + timedelta(hours=5),
    )
    waiting = hand_off(workspace)
    wait = wait_estimate(workspace=workspace, conversation=waiting.conversation)
    assert wait["position"] == 1
    assert wait["estimated_minutes"] == 6  # the median of 4, 6 and 30


def test_outside_business_hours_there_is_no_estimate_and_a_reopening_time(workspace):
    agent(workspace, "ann")
    hours = office_hours("Europe/Berlin")
    hours.workspace = workspace
    hours.save()
    sunday = datetime(2026, 11, 29, 12, 0, tzinfo=BERLIN)
    wait = wait_estimate(workspace=workspace, now=sunday)
    assert wait["agents_online"] == 1
    assert wait["open_now"] is False
    assert wait["estimated_minutes"] is None
    assert wait["reopens_at"] == datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)


# --- The business hours page ---------------------------------------------------------------------


def login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


HOURS_URL = reverse("inbox:hours", args=["acme"])


def form_data(**overrides: str) -> dict[str, str]:
    data = {"enabled": "on", "timezone": "Europe/Berlin"}
    for day in WEEKDAYS[:5]:
        data[f"{day}_open"], data[f"{day}_close"] = "09:00", "17:00"
    data.update(overrides)
    return data


def test_a_manager_saves_business_hours(workspace, manager):
    response = login(manager).post(HOURS_URL, form_data(fri_close="15:30"))
    assert response.status_code == 302
    hours = BusinessHours.objects.get(workspace=workspace)
    assert hours.enabled and hours.timezone == "Europe/Berlin"
    assert hours.fri_close == time(15, 30) and hours.sat_open is None
    assert AuditLog.objects.filter(action="inbox.business_hours").count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "is not a timezone we know"),
        ({"wed_open": "17:00", "wed_close": "17:00"}, "Wednesday: The opening and closing times"),
        ({"thu_close": ""}, "Thursday: Give both an opening and a closing time"),
        ({"mon_open": "9 o'clock"}, "Enter a valid time"),
    ],
)
def test_bad_hours_are_refused_with_a_clear_message_and_nothing_lost(
    workspace, owner, overrides, message
):
    response = login(owner).post(HOURS_URL, form_data(**overrides))
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body.replace("&#x27;", "'")
    assert 'value="Europe/Berlin"' in body or "Mars/Olympus" in body
    assert 'value="17:00"' in body  # the other days are kept as typed
    assert not BusinessHours.objects.filter(workspace=workspace).exists()


def test_an_agent_sees_the_hours_read_only_and_may_not_change_them(workspace, teammate):
    client = login(teammate)
    page = client.get(HOURS_URL)
    assert page.status_code == 200
    assert "Save hours" not in page.content.decode()
    assert client.post(HOURS_URL, form_data()).status_code == 403
    assert not BusinessHours.objects.filter(workspace=workspace).exists()


def test_finance_gets_403_and_outsiders_404(workspace, finance, outsider):
    assert login(finance).get(HOURS_URL).status_code == 403
    assert login(outsider).get(HOURS_URL).status_code == 404
