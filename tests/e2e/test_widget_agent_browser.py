"""In a real browser: the customer sees who answers ("Maren from Acme Support") on each of
her messages and in the header, sees her typing, and the team sees the customer typing."""

from __future__ import annotations

import pytest

from supportops.conversations import typing
from supportops.conversations.models import Conversation
from supportops.flows import do_agent_reply
from supportops.inbox.models import Handoff
from supportops.inbox.services import handoff_claim
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
def test_the_customer_sees_maren_from_the_company_and_both_sides_see_typing(
    page,
    live_server,
    workspace,
    teammate,
    host_site,  # noqa: F811
):
    teammate.first_name = "Maren"
    teammate.save(update_fields=["first_name"])
    WidgetSettings.objects.create(workspace=workspace, allowed_origins=[host_site.origin])
    script = embed_tag(live_server, workspace, customer_id="C-3003")
    page.goto(host_site("agent.html", HOST_PAGE.format(script=script)))
    launcher(page).click()
    messages(page).first.wait_for()
    # Starting stores nothing: "Talk to a person" begins the conversation and hands it off.
    page.get_by_role("dialog").get_by_role("button", name="Talk to a person").click()
    conversation = wait_for(lambda: Conversation.objects.filter(workspace=workspace).first())
    handoff = wait_for(lambda: Handoff.objects.filter(conversation=conversation).first())
    handoff_claim(handoff=handoff, agent=teammate)
    do_agent_reply(conversation=conversation, agent=teammate, text="Hi, I'm on it.")

    reply = page.locator("supportops-widget li.msg-agent").last
    reply.wait_for()
    assert reply.locator(".who").inner_text() == "Maren from Acme Support"
    page.locator(
        "supportops-widget .subtitle", has_text="Chatting with Maren from Acme Support"
    ).wait_for()

    # Maren types in the inbox: the widget says so with its next poll, then stops saying it.
    typing.typing_mark(conversation_id=conversation.pk, who=typing.AGENT, name="Maren")
    note = page.locator("supportops-widget #so-typing")
    note.wait_for(state="visible")
    assert note.inner_text() == "Maren is typing\u2026"
    note.wait_for(state="hidden", timeout=typing.TYPING_TTL_S * 1000 + 5000)

    # The customer types (without sending): the team's page can say so.
    assert typing.typing_now(conversation_id=conversation.pk, who=typing.CUSTOMER) is None
    page.get_by_role("dialog").get_by_label("Your message").press_sequentially(
        "It was the", delay=40
    )
    wait_for(
        lambda: typing.typing_now(conversation_id=conversation.pk, who=typing.CUSTOMER) is not None,
        timeout=5,
    )
