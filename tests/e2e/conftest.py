"""Browser tests: headless Debian Chromium driven by Playwright against `live_server`.

Embeddings are computed the way production computes them: a real Celery worker
subprocess (the `celery_worker_process` fixture in tests/conftest.py) reading the test
Redis database and writing to the test PostgreSQL database.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from supportops.lib.browser import CHROMIUM, CHROMIUM_ARGS  # shared with bench_delivery

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API runs an asyncio loop in this thread, and Django then
        # refuses ORM calls from it; the tests' own ORM calls are synchronous and safe.
        # Scoped to this module so that no later test or subprocess inherits it.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
