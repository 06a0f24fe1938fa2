"""Origins, signatures, widget settings and the Redis rate limiter."""

from __future__ import annotations

import pytest

from supportops.accounts.models import AuditLog
from supportops.conversations.services import ConversationError
from supportops.widget.security import (
    RateLimited,
    origin_normalize,
    rate_limit_take,
)
from supportops.widget.services import widget_settings_update


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://Shop.Example", "https://shop.example"),
        ("https://shop.example/", "https://shop.example"),
        ("https://shop.example:443", "https://shop.example"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("https://shop.example/path", None),
        ("https://shop.example?x=1", None),
        ("https://user@shop.example", None),
        ("ftp://shop.example", None),
        ("shop.example", None),
        ("null", None),
        ("http://shop.example:99999", None),
    ],
)
def test_origins_are_compared_in_canonical_form(value, expected):
    assert origin_normalize(value) == expected


def test_widget_settings_keep_clean_origins_and_are_audited(workspace, owner):
    widget = widget_settings_update(
        workspace=workspace,
        actor=owner,
        allowed_origins=[
            "https://Shop.example/",
            "https://shop.example",
            "",
            "http://localhost:3000",
        ],
        title="Help",
    )
    assert widget.allowed_origins == ["https://shop.example", "http://localhost:3000"]
    log = AuditLog.objects.get(workspace=workspace, action="widget.settings_update")
    assert log.actor == owner
    assert log.details["title"] == {"from": "Support", "to": "Help"}


@pytest.mark.parametrize(
    "changes",
    [
        {"allowed_origins": ["https://shop.example/checkout"]},
        {"allowed_origins": ["*"]},
        {"title": ""},
        {"accent_color": "red"},
    ],
)
def test_widget_settings_refuse_bad_values(workspace, owner, changes):
    with pytest.raises(ConversationError):
        widget_settings_update(workspace=workspace, actor=owner, **changes)


def test_the_rate_limiter_counts_per_bucket_and_says_when_to_retry(db):
    import secrets

    bucket = "test:" + secrets.token_hex(8)
    for _ in range(3):
        rate_limit_take(bucket=bucket, limit=3, what="things")
    with pytest.raises(RateLimited) as excinfo:
        rate_limit_take(bucket=bucket, limit=3, what="things")
    assert 1 <= excinfo.value.retry_after <= 60
    rate_limit_take(bucket=bucket + ":other", limit=3, what="things")
