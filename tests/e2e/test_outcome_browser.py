"""A conversation the bot answered in the widget, then the same customer back by email about
the same need: the first conversation's inbox page shows it as a repeat contact with a link
to the email conversation. Headless Chromium, the live server and a real Celery worker (the
bot's turn and the ledger's refresh run there)."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.request

import pytest

from supportops.analytics.models import Outcome
from supportops.conversations.models import Conversation, EmailChannel
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

host_site = host_site
QUESTION = "How do I reset my password?"


def post_email(live_server, channel: EmailChannel, payload: dict) -> dict:
    body = json.dumps(payload).encode()
    digest = hmac.new(channel.inbound_secret.encode(), body, hashlib.sha256).hexdigest()
    url = f"{live_server.url}/api/email/v1/inbound/{channel.workspace.public_key}/"
    headers = {"Content-Type": "application/json", "X-SupportOps-Signature": f"sha256={digest}"}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the live server)
        assert response.status == 201
        return json.loads(response.read())


@pytest.mark.django_db(transaction=True)
def test_a_repeat_contact_by_email_shows_on_the_first_conversations_page(
    live_server, page, workspace, manager, host_site, celery_worker_process, make_article
):
    make_article(
        title=QUESTION,
        body=f"{QUESTION}\n\nOpen Settings, choose Security and press Reset password. We email "
        "you a link that works for one hour.",
    )
    WidgetSettings.objects.create(
        workspace=workspace, allowed_origins=[host_site.origin], title="Acme help"
    )
    channel = EmailChannel.objects.create(workspace=workspace, address="help@acme.example")
    shop = host_site(
        "shop.html", HOST_PAGE.format(script=embed_tag(live_server, workspace, customer_id="C-9"))
    )

    # In the widget: the bot answers; the customer reads it and leaves the page.
    page.goto(shop)
    launcher(page).click()
    panel = page.get_by_role("dialog", name="Acme help")
    messages(page).first.wait_for()
    box = panel.get_by_label("Your message")
    box.fill(QUESTION)
    box.press("Enter")
    page.locator("supportops-widget li.msg[data-kind=answer]").first.wait_for(timeout=60_000)
    first = Conversation.objects.get(workspace=workspace, channel="widget")

    # The same customer writes by email about the same need.
    sent = post_email(
        live_server,
        channel,
        {
            "from": "Dana Reyes <dana@example.com>",
            "subject": "Password",
            "text": "I forgot my password, how can I reset it?",
            "message_id": "<back-again@mail.example.com>",
        },
    )
    second = Conversation.objects.get(pk=sent["conversation_id"])
    assert second.customer_id == first.customer_id and second.channel == "email"
    wait_for(
        lambda: Outcome.objects.filter(
            conversation=first, outcome=Outcome.Kind.REPEAT_CONTACT
        ).exists(),
        timeout=60,
    )

    # A manager opens the first conversation (a bot-only chat is in no agent's queue): a
    # repeat contact, with the link.
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", manager.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.goto(f"{live_server.url}/w/acme/inbox/{first.pk}/")
    card = page.locator("#outcome")
    assert card.locator("#outcome-label").inner_text() == "Repeat contact"
    assert card.locator("#outcome-final").inner_text() == "provisional"
    page.screenshot(path="/tmp/outcome-e2e.png", full_page=True)
    card.get_by_role("link", name=f"conversation {second.pk}").click()
    page.wait_for_url(f"**/w/acme/inbox/{second.pk}/")
    assert "Email" in page.locator(".meta").first.inner_text()
