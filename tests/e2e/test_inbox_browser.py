"""A customer escalates in the widget and an agent takes over in the inbox: two browser
contexts, one for each person, against the live server with a real Celery worker."""

from __future__ import annotations

import time

import pytest

from supportops.conversations.models import Conversation, Message
from supportops.inbox.models import Handoff
from supportops.widget.models import WidgetSettings
from tests.conftest import PASSWORD, wait_for
from tests.e2e.conftest import CHROMIUM
from tests.e2e.test_widget_browser import HOST_PAGE, embed_tag, host_site, launcher, messages

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: the browser tests need Debian's chromium package",
    ),
]

host_site = host_site  # the shop's own origin, shared with the widget tests
SCREENSHOT = "/tmp/inbox-e2e.png"


def new_page(browser, **options):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    context.set_default_timeout(20_000)
    return context, context.new_page()


@pytest.mark.django_db(transaction=True)
def test_the_agent_takes_over_with_the_packet_and_the_customer_sees_every_step(
    live_server, browser, workspace, teammate, host_site, celery_worker_process, make_article
):
    make_article(
        title="Returning a stove",
        body="## Faulty stoves\n\nA stove that arrives damaged is replaced free of charge: "
        "start a return from your order page and choose 'arrived damaged'.",
    )
    WidgetSettings.objects.create(
        workspace=workspace, allowed_origins=[host_site.origin], title="Acme help"
    )
    shop = host_site(
        "shop.html",
        HOST_PAGE.format(script=embed_tag(live_server, workspace, customer_id="C-2002")),
    )
    customer_context, customer = new_page(browser)
    agent_context, agent = new_page(browser)
    try:
        # The customer writes, then asks for a person.
        customer.goto(shop)
        launcher(customer).click()
        panel = customer.get_by_role("dialog", name="Acme help")
        messages(customer).first.wait_for()
        box = panel.get_by_label("Your message")
        box.fill("My new stove arrived with a cracked valve")
        box.press("Enter")
        conversation = wait_for(lambda: Conversation.objects.filter(workspace=workspace).first())
        wait_for(lambda: conversation.bot_turns.exists(), timeout=60)
        panel.get_by_role("button", name="Talk to a person").click()
        customer.locator("supportops-widget li.msg[data-kind=handoff]").first.wait_for()
        handoff = wait_for(lambda: Handoff.objects.filter(conversation=conversation).first())
        assert handoff.packet["trigger"]["name"] == "explicit_request"

        # The agent signs in, finds it unassigned in the inbox and opens it: the packet is
        # beside the conversation, so nothing has to be asked again.
        agent.goto(f"{live_server.url}/accounts/login/")
        agent.fill("input[name=login]", teammate.email)
        agent.fill("input[name=password]", PASSWORD)
        agent.get_by_role("button", name="Sign In").click()
        agent.goto(f"{live_server.url}/w/acme/inbox/?view=unassigned")
        agent.get_by_role("link", name="Dana Reyes").first.click()
        agent.locator("#packet-heading").wait_for()
        packet = agent.locator("#packet-heading").locator("xpath=..").inner_text()
        assert "cracked valve" in packet
        assert "Returning a stove" in packet  # what the bot offered, and the reply's source

        agent.get_by_role("button", name="Claim").click()
        wait_for(lambda: Handoff.objects.filter(pk=handoff.pk, assignee=teammate).exists())

        # The co-pilot drafts from the knowledge base; the agent edits and sends.
        agent.get_by_role("button", name="Draft a reply").click()
        reply = agent.locator("#reply-text")
        agent.wait_for_function(
            "() => document.querySelector('#reply-text').value.includes('replaced free of charge')"
        )
        reply.fill(reply.input_value() + " I have started the replacement for you.")
        agent.get_by_role("button", name="Send reply").click()
        sent_at = time.monotonic()
        seen = customer.locator(
            "supportops-widget li.msg", has_text="I have started the replacement for you."
        )
        seen.wait_for(timeout=10_000)
        delivery_s = time.monotonic() - sent_at
        print(f"agent reply visible in the widget after {delivery_s:.2f} s")
        assert Message.objects.filter(conversation=conversation, author="agent").count() == 1
        assert conversation.copilot_drafts.get().outcome == "sent_edited"

        # The agent resolves; the customer is asked to rate the help.
        agent.get_by_role("button", name="Resolve").click()
        customer.locator("supportops-widget form.csat").wait_for(timeout=10_000)
        conversation.refresh_from_db()
        assert conversation.status == Conversation.Status.RESOLVED
        agent.screenshot(path=SCREENSHOT, full_page=True)
    except Exception:
        agent.screenshot(path="/tmp/inbox-e2e-failure.png", full_page=True)
        raise
    finally:
        customer_context.close()
        agent_context.close()
