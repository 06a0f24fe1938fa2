"""The widget through a database outage, in Chromium: "Reconnecting…", then the message the
customer sent during the outage is stored exactly once, even across a page reload.

The widget talks to the app through a proxy (tests/standins/outage_proxy.py) that answers the
way the app answers while PostgreSQL is away (503, Retry-After); tests/lib/test_outage.py
stops a real PostgreSQL under the real app for the server side of the same story.
"""

from __future__ import annotations

import pytest

from supportops.conversations.models import Message
from supportops.lib.commands import http_server, quiet_files
from supportops.widget.models import WidgetSettings
from tests.conftest import wait_for
from tests.e2e.conftest import CHROMIUM
from tests.standins.outage_proxy import outage_proxy

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: the browser tests need Debian's chromium package",
    ),
]

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>Harbour Kayaks</h1>
<script src="{src}" data-workspace="{key}" async></script></body></html>"""
TEXT = "Is the red kayak back in stock?"


@pytest.mark.django_db(transaction=True)
def test_the_widget_reconnects_and_sends_a_message_from_the_outage_once(
    live_server, page, workspace, tmp_path
):
    from playwright.sync_api import expect

    with outage_proxy(live_server.url) as proxy, http_server(quiet_files(str(tmp_path))) as host:
        WidgetSettings.objects.create(workspace=workspace, allowed_origins=[host])
        (tmp_path / "shop.html").write_text(
            PAGE.format(src=f"{proxy.origin}/widget.js", key=workspace.public_key)
        )
        page.goto(f"{host}/shop.html")
        page.get_by_role("button", name="Open the support chat").click()
        expect(page.locator("supportops-widget li.msg").first).to_be_visible()  # the greeting

        proxy.down = True
        page.get_by_label("Your message").fill(TEXT)
        page.get_by_label("Your message").press("Enter")
        expect(page.locator("supportops-widget .notice")).to_have_text("Reconnecting\u2026")
        pending = page.locator("supportops-widget li.msg-customer.pending")
        expect(pending).to_contain_text(TEXT)
        expect(pending).to_contain_text("Not sent yet \u2013 reconnecting\u2026")
        wait_for(lambda: len(proxy.requests("POST", "/messages")) >= 2, timeout=30)

        page.reload()  # still down: the unsent message is kept in the browser
        wait_for(lambda: len(proxy.requests("GET", "/config")) >= 2, timeout=30)
        proxy.down = False

        page.get_by_role("button", name="Open the support chat").click()
        sent = page.locator("supportops-widget li.msg-customer:not(.pending)")
        expect(sent).to_contain_text(TEXT, timeout=30_000)
        expect(page.locator("supportops-widget .notice")).to_be_hidden()

    posts = proxy.requests("POST", "/messages")
    keys = {seen.headers.get("Idempotency-Key") for seen in posts}
    assert len(keys) == 1 and None not in keys  # every attempt, before and after the reload
    assert [seen.status for seen in posts][-1] == 201
    failed = [seen for seen in posts if seen.status == 503]
    assert len(failed) >= 2
    # Retry-After (1 s) is the shortest wait between attempts; backoff makes them longer.
    gaps = [b.at - a.at for a, b in zip(failed, failed[1:], strict=False)]
    assert all(gap >= 0.9 for gap in gaps), gaps
    stored = Message.objects.filter(text=TEXT)
    assert stored.count() == 1
    assert stored.get().client_key == keys.pop()
