"""In a real browser: waiting for a person when nobody is online, leaving an email with the
keyboard, writing on meanwhile, and the agent's reply arriving in the chat."""

from __future__ import annotations

import pytest

from supportops.conversations.models import Conversation
from supportops.flows import do_agent_reply
from supportops.widget.models import WidgetSettings
from tests.conftest import wait_for
from tests.e2e.test_widget_browser import (
    HOST_PAGE,
    embed_tag,
    host_site,  # noqa: F401  (fixture)
    launcher,
    messages,
)
from tests.e2e.test_widget_browser import pytestmark as browser_marks

pytestmark = browser_marks


@pytest.mark.django_db(transaction=True)
def test_offline_team_takes_an_email_and_the_customer_keeps_writing(
    live_server,
    page,
    workspace,
    teammate,
    host_site,  # noqa: F811
):
    WidgetSettings.objects.create(workspace=workspace, allowed_origins=[host_site.origin])
    page.goto(host_site("wait.html", HOST_PAGE.format(script=embed_tag(live_server, workspace))))
    launcher(page).click()
    panel = page.get_by_role("dialog")
    messages(page).first.wait_for()

    panel.get_by_role("button", name="Talk to a person").click()
    wait_text = page.locator("supportops-widget .wait-text")
    wait_text.filter(has_text="Our team is offline right now").wait_for()
    assert "Leave your email" in wait_text.inner_text()

    email = panel.get_by_label("Your email")
    email.fill("not an email")
    email.press("Enter")
    page.locator("supportops-widget .wait-error", has_text="Enter an email address").wait_for()
    email.fill("dana@example.com")
    email.press("Enter")
    wait_text.filter(has_text="We'll email you at d***@example.com").wait_for()
    assert not email.is_visible()
    page.locator("supportops-widget li.msg-system", has_text="d***@example.com").wait_for()
    conversation = Conversation.objects.get(workspace=workspace)
    assert conversation.followup_email == "dana@example.com"
    assert conversation.followup_page_url.startswith(host_site.origin)

    # Writing on while waiting: nothing is lost.
    box = panel.get_by_label("Your message")
    box.fill("My order number is TW-7.")
    box.press("Enter")
    page.locator("supportops-widget li.msg-customer:not(.pending)", has_text="TW-7").wait_for()

    do_agent_reply(conversation=conversation, agent=teammate, text="Found it, refund sent.")
    page.locator("supportops-widget li.msg-agent", has_text="refund sent").wait_for()
    wait_for(lambda: page.locator("supportops-widget .wait").is_hidden())
