"""Saved replies in a real browser: a manager adds a shared reply on the settings page, an
agent types "/" and its shortcut in the reply box, picks it, sees the text filled in for
the conversation, sends it, and the use is counted. The CSP must block nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from supportops.conversations import typing
from supportops.conversations.models import Message, Order
from supportops.conversations.services import customer_get_or_create_verified
from supportops.flows import do_conversation_start, do_customer_message, do_hand_off
from supportops.inbox.models import SavedReply
from tests.conftest import PASSWORD, wait_for
from tests.e2e.conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: the browser tests need Debian's chromium package",
    ),
]


def sign_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.mark.django_db(transaction=True)
def test_an_agent_inserts_a_saved_reply_by_its_shortcut(
    live_server, browser, workspace, teammate, manager
):
    teammate.first_name = "Maren"
    teammate.save()
    customer = customer_get_or_create_verified(
        workspace=workspace, external_id="C-77", name="Dana Reyes"
    )
    Order.objects.create(
        workspace=workspace,
        customer=customer,
        number="TW-4821",
        status=Order.Status.SHIPPED,
        placed_at=timezone.now() - timedelta(days=3),
        total=Decimal("49.00"),
    )
    conversation = do_conversation_start(workspace=workspace, customer=customer).conversation
    do_customer_message(conversation=conversation, text="Where is my refund?", queue_bot=False)
    do_hand_off(conversation=conversation, trigger="explicit_request", reason="asked")

    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        # The manager keeps the shared set on its own page in the product's layout.
        sign_in(page, live_server, manager)
        page.goto(f"{live_server.url}/w/acme/inbox/")
        page.get_by_role("link", name="Saved replies").click()
        page.get_by_role("link", name="Add a shared reply").click()
        page.get_by_label("Title").fill("Refund on its way")
        page.get_by_label("Shortcut (optional)").fill("/refund")
        page.get_by_label("Text").fill(
            "Hi {customer_first_name}, the refund for order {order_number} is on its way. "
            "{agent_name}"
        )
        page.get_by_role("button", name="Save").click()
        page.locator("#shared-replies", has_text="/refund").wait_for()
        reply = SavedReply.objects.get(title="Refund on its way")
        assert reply.owner_id is None
        page.get_by_role("button", name="Log out").click()

        # The agent types "/" and the start of the shortcut after a greeting.
        sign_in(page, live_server, teammate)
        page.goto(f"{live_server.url}/w/acme/inbox/{conversation.pk}/")
        box = page.locator("#reply-text")
        box.click()
        box.press_sequentially("Thanks for waiting! /ref", delay=30)
        # Typing in the reply box tells the customer's widget that Maren is typing.
        wait_for(
            lambda: typing.typing_now(conversation_id=conversation.pk, who=typing.AGENT) == "Maren",
            timeout=5,
        )
        option = page.get_by_role("option", name="Refund on its way")
        option.wait_for()
        page.screenshot(path="/tmp/saved-replies-e2e.png")
        option.click()
        page.wait_for_function(
            "() => document.querySelector('#reply-text').value.includes('TW-4821')"
        )
        assert box.input_value() == (
            "Thanks for waiting! Hi Dana, the refund for order TW-4821 is on its way. Maren"
        )
        assert "{" not in box.input_value()
        assert page.locator("#macro-status").inner_text().startswith("Inserted")

        # The search box finds it too; Escape closes the list without inserting.
        search = page.get_by_role("combobox", name="Saved replies")
        search.fill("refund")
        option.wait_for()
        search.press("Escape")
        assert page.locator("#macro-results").is_hidden()

        reply.refresh_from_db()
        assert reply.usage_count == 0  # counted when sent, not when inserted
        page.get_by_role("button", name="Send reply").click()
        wait_for(
            lambda: Message.objects.filter(
                conversation=conversation, author="agent", text__contains="TW-4821"
            ).exists()
        )
        wait_for(lambda: SavedReply.objects.get(pk=reply.pk).usage_count == 1)
        assert problems == []
    except Exception:
        page.screenshot(path="/tmp/saved-replies-e2e-failure.png", full_page=True)
        raise
    finally:
        context.close()
