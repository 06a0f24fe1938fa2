"""The co-pilot in a real browser: on a conversation that moved from the order's status to a
double charge, "Draft a reply" answers the double charge, with its sources, without sending
the chat customer to the chat; a rewrite keeps the facts and the tone stays selected."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import CHROMIUM
from tests.inbox.test_copilot import moved_on_conversation

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: the browser tests need Debian's chromium package",
    ),
]


@pytest.mark.django_db(transaction=True)
def test_draft_a_reply_answers_the_latest_need_with_sources(
    live_server, browser, workspace, teammate, make_article
):
    conversation = moved_on_conversation(workspace, teammate, make_article)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=login]", teammate.email)
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.goto(f"{live_server.url}/w/acme/inbox/{conversation.pk}/")

        page.get_by_role("button", name="Draft a reply").click()
        page.locator("#copilot-note").wait_for()

        reply = page.get_by_label("Reply to the customer").input_value()
        assert "pre-authorisation" in reply
        assert "tracking number" not in reply
        assert "chat with us" not in reply and "live chat" not in reply
        note = page.locator("#copilot-note").inner_text()
        assert "charged twice for that order" in note
        assert "Charged twice for one order" in note  # the source, linked
        assert page.locator("#copilot-note a", has_text="Charged twice for one order").count()

        page.get_by_label("Tone").select_option("concise")
        page.get_by_role("button", name="Rewrite").click()
        page.locator("#copilot-note", has_text="Rewritten").wait_for()

        assert page.get_by_label("Tone").input_value() == "concise"
        rewritten = page.get_by_label("Reply to the customer").input_value()
        assert "3 working days" in rewritten
        assert rewritten[0].isupper()
    finally:
        context.close()
