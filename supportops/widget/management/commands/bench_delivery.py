"""`manage.py bench_delivery --replies N --json`: agent reply stored -> visible in the widget.

End to end, as a customer sees it: the app runs on a real HTTP port, a shop page on another
origin embeds the widget, and headless Chromium (Debian's /usr/bin/chromium) opens the chat.
The conversation is handed to a person; then an agent reply is stored through the same
service the inbox uses, N times at random moments, and the clock runs from the reply's
commit until its text is in the widget's DOM. The widget polls once a second while open, so
the figure is mostly that interval plus one request.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from supportops import flows
from supportops.accounts.services import workspace_create, workspace_delete_scratch
from supportops.conversations.models import Conversation
from supportops.lib.browser import CHROMIUM, CHROMIUM_ARGS
from supportops.lib.commands import (
    database_ready,
    http_server,
    logs_to_stderr,
    percentile,
    print_json,
    quiet_files,
    wsgi_server,
)
from supportops.widget.models import WidgetSettings

HOST_PAGE = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>'
    '<body><h1>Shop</h1><script src="{app}/widget.js" data-workspace="{key}" async></script>'
    "</body></html>"
)


@contextmanager
def _host_page(html: str) -> Iterator[str]:
    """A shop page served from its own origin; yields its URL."""
    with TemporaryDirectory() as folder, http_server(quiet_files(folder)) as origin:
        (Path(folder) / "shop.html").write_text(html)
        yield f"{origin}/shop.html"


@contextmanager
def _sync_orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API runs an asyncio loop in this thread and Django then refuses ORM
    calls from it; this command's ORM calls are plain synchronous ones, so allow them."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Command(BaseCommand):
    help = "Time agent replies from stored to visible in the widget, in headless Chromium."

    def add_arguments(self, parser):
        parser.add_argument("--replies", type=int, default=30)
        parser.add_argument("--seed", type=int, default=3)
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **opts):
        if opts["replies"] < 1:
            raise CommandError("--replies must be at least 1")
        if not CHROMIUM.exists():
            raise CommandError(f"{CHROMIUM} is missing: install Debian's chromium package")
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            raise CommandError("playwright is missing: run `make install`") from None
        database_ready(self, opts)
        rng = random.Random(opts["seed"])
        tag = uuid.uuid4().hex[:8]
        agent = get_user_model().objects.create_user(
            username=f"bench-delivery-{tag}", email=f"bench-delivery-{tag}@example.invalid"
        )
        workspace = workspace_create(name=f"bench delivery {tag}", owner=agent, is_scratch=True)
        # The widget polls a few times a second at most; the per-visitor limit is not measured.
        limits = override_settings(WIDGET_RATE_PER_VISITOR_PER_MIN=10**6)
        try:
            with (
                logs_to_stderr(),
                limits,
                _sync_orm_beside_playwright(),
                wsgi_server() as app,
                sync_playwright() as playwright,
            ):
                key = workspace.public_key
                with _host_page(HOST_PAGE.format(app=app, key=key)) as shop:
                    origin = shop.rsplit("/", 1)[0]
                    WidgetSettings.objects.create(workspace=workspace, allowed_origins=[origin])
                    browser = playwright.chromium.launch(
                        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                    )
                    try:
                        delays = self._measure(browser, shop, workspace, agent, rng, opts)
                    finally:
                        browser.close()
        finally:
            workspace_delete_scratch(workspace=workspace)
            agent.delete()
        result = {
            "replies": len(delays),
            "delivery_ms": {
                "p50": percentile(delays, 50),
                "p95": percentile(delays, 95),
                "max": max(delays),
            },
        }
        if opts["json"]:
            print_json(result, self.stdout)
        else:
            for name, value in result.items():
                self.stdout.write(f"{name}: {value}")

    def _measure(self, browser, shop: str, workspace, agent, rng, opts) -> list[float]:
        page = browser.new_page()
        page.set_default_timeout(20_000)
        page.goto(shop)
        page.get_by_role("button", name="Open the support chat").click()
        page.locator("supportops-widget li.msg").first.wait_for()
        # Starting stores nothing: "Talk to a person" begins the conversation and hands it off.
        page.get_by_role("dialog").get_by_role("button", name="Talk to a person").click()
        conversation = self._wait_for_conversation(workspace)
        delays = []
        for number in range(opts["replies"]):
            time.sleep(rng.uniform(0.2, 1.2))  # replies land at random points of the poll cycle
            text = f"Reply {number}: your replacement ships today."
            flows.do_agent_reply(conversation=conversation, agent=agent, text=text)
            stored = time.perf_counter()
            page.locator("supportops-widget li.msg", has_text=text).wait_for(timeout=15_000)
            delays.append((time.perf_counter() - stored) * 1000)
        return delays

    @staticmethod
    def _wait_for_conversation(workspace) -> Conversation:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            conversation = Conversation.objects.filter(workspace=workspace).first()
            if conversation is not None:
                return conversation
            time.sleep(0.1)
        raise CommandError("the widget did not start a conversation within 20 s")
