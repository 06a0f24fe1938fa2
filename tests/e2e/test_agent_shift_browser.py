"""An agent's shift in headless Chromium: sign in and land on the inbox, go online and see
the assigned conversations in Mine at once, then a customer's new message raises the count
in the page title and a browser notification; and on a phone the reply box comes before
the (folded) handoff packet."""

from __future__ import annotations

import re

import pytest

from supportops.flows import do_agent_reply, do_customer_message
from supportops.inbox.models import Handoff
from supportops.inbox.services import handoff_claim
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

# Runs before any page script: every Notification the page creates is recorded.
RECORD_NOTIFICATIONS = """
(() => {
  window.__notifications = [];
  const Real = window.Notification;
  if (!Real) return;
  class Recorded extends Real {
    constructor(title, options) {
      window.__notifications.push({ title, body: (options || {}).body || "" });
      super(title, options);
    }
  }
  window.Notification = Recorded;
})();
"""


def sign_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()


@pytest.mark.django_db(transaction=True)
def test_start_of_shift_online_assigns_visibly_and_a_customer_reply_notifies(
    live_server, browser, workspace, teammate
):
    first = hand_off(workspace, text="My parcel never arrived")
    second = hand_off(workspace, text="I was charged twice")
    context = browser.new_context(
        viewport={"width": 1280, "height": 900},
        permissions=["notifications"],
        base_url=live_server.url,
    )
    context.set_default_timeout(20_000)
    context.add_init_script(RECORD_NOTIFICATIONS)
    page = context.new_page()
    try:
        sign_in(page, live_server, teammate)
        page.wait_for_url(re.compile(r"/w/acme/inbox/$"))  # the inbox, not the knowledge base
        assert page.locator("h1").inner_text() == "Inbox"
        assert page.locator("#inbox-list").inner_text().count("My parcel") == 0  # Mine: empty

        # Going online: the response itself carries Mine with both conversations.
        with page.expect_response(re.compile(r"/inbox/status/$")):
            page.get_by_label("I am").select_option("online")
        notice = page.locator("#inbox-notice")
        notice.get_by_text("2 conversations assigned to you.").wait_for()
        rows = page.locator("#inbox-list")
        assert "My parcel never arrived" in rows.inner_text()
        assert "I was charged twice" in rows.inner_text()
        assert page.locator('[data-tab-count="mine"]').inner_text() == "2"
        assert page.locator('#inbox-tabs a[aria-current="page"]').inner_text().startswith("Mine")
        assert page.url.endswith("?view=mine")
        page.wait_for_function("() => document.title === '(2) Inbox · SupportOps'")
        assert set(Handoff.objects.values_list("assignee", flat=True)) == {teammate.pk}

        # The agent answers one (elsewhere); the title counts only the one still waiting.
        do_agent_reply(conversation=first.conversation, agent=teammate, text="Checking now.")
        page.wait_for_function("() => document.title === '(1) Inbox · SupportOps'", timeout=30_000)
        # The customer writes again: the count goes up and the browser notifies.
        do_customer_message(
            conversation=first.conversation,
            text="It says delivered but it is not here",
            queue_bot=False,
        )
        page.wait_for_function("() => document.title === '(2) Inbox · SupportOps'", timeout=30_000)
        page.wait_for_function("() => window.__notifications.length > 0", timeout=5_000)
        notes = page.evaluate("window.__notifications")
        assert notes == [{"title": "Dana wrote", "body": "It says delivered but it is not here"}]
        # Going online and its assignments were the agent's own doing: no notification.
        assert not any("New conversation" in n["title"] for n in notes)
        assert second.conversation_id  # still in Mine, untouched
        page.screenshot(path="/tmp/agent-shift.png")
    except Exception:
        page.screenshot(path="/tmp/agent-shift-failure.png", full_page=True)
        raise
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
def test_enable_notifications_asks_only_after_a_click(live_server, browser, workspace, teammate):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.add_init_script(ASK_LATER)
    page = context.new_page()
    try:
        sign_in(page, live_server, teammate)
        page.wait_for_url(re.compile(r"/w/acme/inbox/$"))
        button = page.get_by_role("button", name="Enable notifications")
        button.wait_for()
        assert page.evaluate("window.__asked") == 0
        button.click()
        page.get_by_text("Notifications are on in this browser.").wait_for()
        assert page.evaluate("window.__asked") == 1
        assert not button.is_visible()
    finally:
        context.close()


# The permission prompt, counted: still "default" until the page asks.
ASK_LATER = """
window.__asked = 0;
Object.defineProperty(Notification, "permission", {
  get: () => window.__permission || "default",
});
Notification.requestPermission = () => {
  window.__asked += 1;
  window.__permission = "granted";
  return Promise.resolve("granted");
};
"""

LONG_PACKET = {
    "summary": " ".join(
        f"Point {i}: the customer explained another detail of the delivery problem at length."
        for i in range(40)
    ),
    "trigger": {"name": "explicit_request", "label": "Asked for a person", "reason": "asked"},
    "category": "delivery",
    "suggested_reply": {
        "text": "\n".join(f"Line {i} of a long suggested reply." for i in range(25)),
        "sources": [],
    },
}


@pytest.mark.django_db(transaction=True)
def test_on_a_phone_the_reply_box_comes_before_the_folded_packet(
    live_server, browser, workspace, teammate
):
    handoff = hand_off(workspace, text="Where is my order?")
    Handoff.objects.filter(pk=handoff.pk).update(packet=LONG_PACKET)
    handoff_claim(handoff=handoff, agent=teammate)
    for i in range(12):
        do_customer_message(
            conversation=handoff.conversation, text=f"Another message number {i}", queue_bot=False
        )
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, live_server, teammate)
        page.wait_for_url(re.compile(r"/w/acme/inbox/$"))
        page.goto(f"{live_server.url}/w/acme/inbox/{handoff.conversation_id}/")
        reply = page.locator("#reply-text")
        reply.wait_for()
        page.wait_for_function("() => !document.querySelector('#packet-fold').open")
        box = reply.bounding_box()
        packet = page.locator("#packet-fold").bounding_box()
        assert box is not None and packet is not None
        assert box["y"] + box["height"] < 844, box  # reachable without scrolling
        assert box["y"] < packet["y"]
        # The newest message is in view in the transcript's own scroll box.
        assert page.locator("#transcript li", has_text="Another message number 11").is_visible()
        page.screenshot(path="/tmp/agent-phone.png")
        # The packet opens on demand, with the long summary inside.
        page.locator("#packet-fold > summary").click()
        page.get_by_text("Point 39:", exact=False).wait_for()
    except Exception:
        page.screenshot(path="/tmp/agent-phone-failure.png", full_page=True)
        raise
    finally:
        context.close()
