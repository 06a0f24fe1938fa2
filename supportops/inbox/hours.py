"""Business hours as pure functions: is the team open at a moment, and when does it open next.

`hours` is a BusinessHours row (saved or not) or None; None or a disabled row means 24/7.
A day's window belongs to the day it opens: a closing time of 00:00 is that day's midnight,
and a closing time before the opening time runs overnight into the next morning (a night
shift: Friday 22:00-06:00 is open until Saturday 06:00).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .models import WEEKDAYS, BusinessHours

MIDNIGHT = time(0, 0)


@cache
def timezone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def timezone_valid(name: str) -> bool:
    return name in timezone_names()


def window_error(open_at: time | None, close_at: time | None) -> str | None:
    """Why a day's times make no sense, or None. 00:00 as close means end of day."""
    if (open_at is None) != (close_at is None):
        return "Give both an opening and a closing time, or neither (closed all day)."
    if open_at is None or close_at is None:
        return None  # closed all day
    if close_at == open_at and close_at != MIDNIGHT:
        return "The opening and closing times are the same; for a whole day use 00:00 to 00:00."
    return None


def _zone(hours: BusinessHours) -> ZoneInfo:
    try:
        return ZoneInfo(hours.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _window(hours: BusinessHours, day: date, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """That day's opening and closing moments, or None if closed all day."""
    name = WEEKDAYS[day.weekday()]
    open_at: time | None = getattr(hours, f"{name}_open")
    close_at: time | None = getattr(hours, f"{name}_close")
    if open_at is None or close_at is None or window_error(open_at, close_at):
        return None
    start = datetime.combine(day, open_at, tzinfo=zone)
    # Until midnight, or overnight into the next day when it closes before it opens.
    next_day = close_at == MIDNIGHT or close_at < open_at
    end = datetime.combine(day + timedelta(days=1) if next_day else day, close_at, tzinfo=zone)
    return start, end


def always_open(hours: BusinessHours | None) -> bool:
    return hours is None or not hours.enabled


def is_open(hours: BusinessHours | None, now: datetime) -> bool:
    if always_open(hours):
        return True
    assert hours is not None
    zone = _zone(hours)
    today = now.astimezone(zone).date()
    # Yesterday too: a window that runs to midnight or overnight belongs to the day it opened.
    for day in (today - timedelta(days=1), today):
        window = _window(hours, day, zone)
        if window is not None and window[0] <= now < window[1]:
            return True
    return False


def next_opening(hours: BusinessHours | None, now: datetime) -> datetime | None:
    """`now` if open, else the next opening within a week; None if never open."""
    if is_open(hours, now):
        return now
    assert hours is not None
    zone = _zone(hours)
    today = now.astimezone(zone).date()
    for offset in range(8):
        window = _window(hours, today + timedelta(days=offset), zone)
        if window is not None and window[0] > now:
            return window[0]
    return None
