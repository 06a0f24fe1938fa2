"""The conversations page in headless Chromium: a manager searches for a word a bot-only
conversation contained, the list swaps in place with the search in the URL, and the result
opens the conversation with its transcript, outcome, rating and cost cards."""

from __future__ import annotations

import re

import pytest

from supportops.conversations.models import CsatResponse
from tests.analytics.test_conversation_list import bot_only
from tests.conftest import PASSWORD
from tests.e2e.conftest import CHROMIUM
from tests.inbox.test_routing import hand_off

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: the browser tests need Debian's chromium package",
    ),
]


@pytest.mark.django_db(transaction=True)
def test_a_manager_finds_a_bot_only_conversation_by_a_word_and_opens_it(
    live_server, page, manager, workspace
):
    found = bot_only(
        workspace,
        "The blender lid cracked on the second day",
        "A cracked lid is replaced for free: reply with your order number.",
    )
    CsatResponse.objects.create(
        workspace=workspace, conversation=found, score=5, comment="Fast answer"
    )
    hand_off(workspace, text="Where is my invoice?")
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", manager.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/w/acme/inbox/$"))
    page.click("nav.mainnav a:has-text('Conversations')")
    page.wait_for_url(re.compile(r"/w/acme/conversations/$"))
    assert page.locator("tr[data-conversation]").count() == 2

    page.fill("#f-q", "blender")
    page.click("button:has-text('Search')")
    page.wait_for_url(re.compile(r"q=blender"))
    page.wait_for_function("document.querySelectorAll('tr[data-conversation]').length === 1")
    row = page.locator(f'tr[data-conversation="{found.pk}"]')
    assert row.locator("mark").inner_text().lower() == "blender"

    row.locator("a", has_text=f"#{found.pk}").click()
    page.wait_for_url(re.compile(rf"/w/acme/inbox/{found.pk}/$"))
    assert "The blender lid cracked" in page.locator("#transcript").inner_text()
    assert page.locator("#outcome").is_visible()
    assert page.locator("#csat-score").inner_text() == "5 / 5"
    assert "Fast answer" in page.locator("#csat").inner_text()
    assert page.locator("#cost").is_visible()
    assert not problems, problems
