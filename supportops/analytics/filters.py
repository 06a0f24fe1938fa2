"""The dashboards' filters, read from a URL's query string (so a view can be shared and
bookmarked) and checked: a bad value is a `FilterError` with a message for the person, never
a 500."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Q
from django.utils import timezone

from supportops.accounts.models import Workspace
from supportops.conversations.models import Conversation
from supportops.inbox.selectors import business_hours_get

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366
CATEGORY_MAX = 80


class FilterError(ValueError):
    """A filter value that cannot be used; the message says which and why."""


def workspace_timezone(*, workspace: Workspace) -> tzinfo:
    """The workspace's time zone (its business hours'), in which days and months are cut."""
    name = business_hours_get(workspace=workspace).timezone or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class Filters:
    """Conversations that started on days `start`..`end` (inclusive, in the workspace's time
    zone), optionally of one arm, channel and category."""

    start: date
    end: date
    tz: tzinfo
    arm: str = ""
    channel: str = ""
    category: str = ""

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=self.tz)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=self.tz)

    def q(self) -> Q:
        """The filter on `Outcome` rows."""
        q = Q(started_at__gte=self.since, started_at__lt=self.until)
        if self.arm:
            q &= Q(arm=self.arm)
        if self.channel:
            q &= Q(channel=self.channel)
        if self.category:
            q &= Q(category=self.category)
        return q

    def params(self, **extra: str) -> dict[str, str]:
        out = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        for name in ("arm", "channel", "category"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        out.update({k: v for k, v in extra.items() if v})
        return out

    def query(self, **extra: str) -> str:
        """The query string that reproduces these filters (plus `extra`)."""
        return urlencode(self.params(**extra))

    def as_json(self) -> dict[str, str]:
        return self.params()


def _date(raw: str, name: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FilterError(f"'{name}' must be a date written as YYYY-MM-DD, not {raw!r}.") from None


def filters_parse(
    params: Mapping[str, str], *, workspace: Workspace, today: date | None = None
) -> Filters:
    """Filters from query parameters `from`, `to`, `arm`, `channel`, `category`; missing ones
    take defaults (the last 30 days up to today, everything)."""
    tz = workspace_timezone(workspace=workspace)
    today = today or timezone.now().astimezone(tz).date()
    raw_to = (params.get("to") or "").strip()
    raw_from = (params.get("from") or "").strip()
    end = _date(raw_to, "to") if raw_to else today
    start = _date(raw_from, "from") if raw_from else end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise FilterError("'from' must not be after 'to'.")
    if (end - start).days + 1 > MAX_DAYS:
        raise FilterError(f"A period may be at most {MAX_DAYS} days long.")
    arm = (params.get("arm") or "").strip()
    if arm and arm not in Conversation.Arm.values:
        allowed = ", ".join(Conversation.Arm.values)
        raise FilterError(f"'arm' must be one of {allowed}, not {arm!r}.")
    channel = (params.get("channel") or "").strip()
    if channel and channel not in Conversation.Channel.values:
        allowed = ", ".join(Conversation.Channel.values)
        raise FilterError(f"'channel' must be one of {allowed}, not {channel!r}.")
    category = (params.get("category") or "").strip()
    if len(category) > CATEGORY_MAX:
        raise FilterError(f"'category' may be at most {CATEGORY_MAX} characters long.")
    return Filters(start=start, end=end, tz=tz, arm=arm, channel=channel, category=category)
