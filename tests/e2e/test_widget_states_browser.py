"""In a real browser: the way to a person follows the chat's state, a signed-in customer is
not asked for the address the shop already knows, links in answers are safe and clickable,
and the keyboard reaches "Talk to a person" after the message box."""

from __future__ import annotations

import pytest

from supportops.conversations.models import Conversation, Message
from supportops.conversations.services import message_post_bot
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

ACTIVE = """() => {
    const el = document.querySelector('supportops-widget').shadowRoot.activeElement;
    return el ? (el.id || el.textContent.trim() || el.className) : null;
}"""
FONT_SIZES = """() => {
    const root = document.querySelector('supportops-widget').shadowRoot;
    return [...root.querySelectorAll('textarea, input:not([type=radio])')].map(
        (el) => [el.id, parseFloat(getComputedStyle(el).fontSize)]);
}"""


def handoff_button(page):
    return page.get_by_role("dialog").get_by_role("button", name="Talk to a person")


def subtitle(page, text: str):
    return page.locator("supportops-widget .subtitle", has_text=text)


@pytest.fixture
def shop_page(live_server, workspace, host_site):  # noqa: F811
    WidgetSettings.objects.create(workspace=workspace, allowed_origins=[host_site.origin])

    def publish(name: str, customer_id: str = "") -> str:
        script = embed_tag(live_server, workspace, customer_id=customer_id)
        return host_site(name, HOST_PAGE.format(script=script))

    return publish


@pytest.mark.django_db(transaction=True)
def test_the_person_button_follows_the_chat_from_bot_to_waiting_to_maren_to_ended(
    page, workspace, teammate, shop_page
):
    teammate.first_name = "Maren"
    teammate.save(update_fields=["first_name"])
    page.goto(shop_page("states.html", customer_id="C-1001"))
    launcher(page).click()
    messages(page).first.wait_for()
    assert not Conversation.objects.filter(workspace=workspace).exists()  # nothing written yet

    # Text fields are 16 px or more (phones zoom into smaller ones), also at phone width.
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 740})
        sizes = page.evaluate(FONT_SIZES)
        assert {name for name, _ in sizes} >= {"so-input", "so-email"}
        assert all(size >= 16 for _, size in sizes), sizes
    page.set_viewport_size({"width": 1280, "height": 900})

    # Keyboard only: from the message box, Tab reaches Send and then "Talk to a person".
    box = page.get_by_role("dialog").get_by_label("Your message")
    box.focus()
    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE) == "Send"
    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE) == "Talk to a person"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(ACTIVE) == "so-input"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    # Waiting: the button is gone, the header says so, and the focus is back in the box.
    # Asking for a person before writing anything began the conversation, with the greeting.
    subtitle(page, "Waiting for a person from our team").wait_for()
    conversation = wait_for(lambda: Conversation.objects.filter(workspace=workspace).first())
    page.locator("supportops-widget li.msg[data-kind=handoff]").wait_for()
    assert [m.get_attribute("data-kind") for m in messages(page).all()] == ["greeting", "handoff"]
    wait_for(lambda: handoff_button(page).count() == 0 or handoff_button(page).is_hidden())
    assert page.evaluate(ACTIVE) == "so-input"
    handoff = wait_for(lambda: Handoff.objects.filter(conversation=conversation).first())
    assert handoff.trigger == "explicit_request"

    # Maren takes it and answers with a tracking link; the header names her.
    handoff_claim(handoff=handoff, agent=teammate)
    do_agent_reply(
        conversation=conversation,
        agent=teammate,
        text="Hi Dana! Your parcel: https://track.example/p/DH123?lang=en. "
        "Not a link: javascript:alert(1) <b>bold</b>",
    )
    reply = page.locator("supportops-widget li.msg-agent").last
    reply.wait_for()
    subtitle(page, "Chatting with Maren").wait_for()
    assert handoff_button(page).count() == 0 or handoff_button(page).is_hidden()

    link = reply.get_by_role("link")
    assert link.count() == 1
    assert link.inner_text() == "https://track.example/p/DH123?lang=en"  # not the full stop
    assert link.get_attribute("href") == "https://track.example/p/DH123?lang=en"
    assert link.get_attribute("rel") == "noopener noreferrer"
    assert link.get_attribute("target") == "_blank"
    bubble = reply.locator(".bubble")
    assert bubble.inner_text().endswith("Not a link: javascript:alert(1) <b>bold</b>")
    assert bubble.locator("b").count() == 0
    # The link is drawn inside the widget's shadow root, not on the shop's page.
    assert page.evaluate("document.querySelectorAll('a[href*=\"track.example\"]').length") == 0

    # The chat ends: no way to a person any more, until the customer writes again.
    page.get_by_role("dialog").get_by_role("button", name="End chat").click()
    subtitle(page, "This chat has ended").wait_for()
    assert handoff_button(page).count() == 0 or handoff_button(page).is_hidden()
    page.locator("supportops-widget form.csat").wait_for()
    assert dict(page.evaluate(FONT_SIZES))["so-comment"] >= 16


@pytest.mark.django_db(transaction=True)
def test_assistant_answers_link_only_http_addresses(page, workspace, shop_page):
    page.goto(shop_page("links.html"))
    launcher(page).click()
    messages(page).first.wait_for()
    box = page.get_by_role("dialog").get_by_label("Your message")
    box.fill("Where can I track my parcel?")
    box.press("Enter")
    conversation = wait_for(lambda: Conversation.objects.filter(workspace=workspace).first())
    message_post_bot(
        conversation=conversation,
        kind=Message.Kind.ANSWER,
        text="Order TW-1 has shipped. Track it here: https://carrier.example/t/DH1\n"
        "Help: (see https://help.example/a_(b)) and http://plain.example/x, "
        'not <a href="https://evil.example">this</a> nor data:text/html,hi '
        "nor ftp://files.example/x",
    )
    answer = page.locator("supportops-widget li.msg[data-kind=answer]")
    answer.wait_for()
    hrefs = [a.get_attribute("href") for a in answer.locator(".bubble").get_by_role("link").all()]
    # Quoted markup stays text; only the address inside it becomes a (safe) link.
    assert hrefs == [
        "https://carrier.example/t/DH1",
        "https://help.example/a_(b)",
        "http://plain.example/x",
        "https://evil.example/",
    ]
    assert answer.locator(".bubble a[href^='https://evil']").inner_text() == "https://evil.example"
    assert '<a href="https://evil.example">this</a>' in answer.locator(".bubble").inner_text()
    assert all(
        a.get_attribute("rel") == "noopener noreferrer" for a in answer.locator(".bubble a").all()
    )


@pytest.mark.django_db(transaction=True)
def test_a_signed_in_customer_is_offered_their_own_address_not_asked_for_it(
    page, workspace, shop_page
):
    page.goto(shop_page("known.html", customer_id="C-1001"))
    launcher(page).click()
    messages(page).first.wait_for()
    handoff_button(page).click()
    wait_text = page.locator("supportops-widget .wait-text")
    wait_text.filter(has_text="We can email the answer to d***@example.com").wait_for()
    panel = page.get_by_role("dialog")
    assert not panel.get_by_label("Your email").is_visible()  # not asked

    panel.get_by_role("button", name="Email me there").click()
    wait_text.filter(has_text="We'll email you at d***@example.com").wait_for()
    assert panel.get_by_role("button", name="Email me there").is_hidden()
    conversation = Conversation.objects.get(workspace=workspace)
    assert conversation.followup_email == "dana@example.com"
    assert "dana@example.com" not in page.locator("supportops-widget .root").inner_text()


@pytest.mark.django_db(transaction=True)
def test_a_signed_in_customer_may_give_another_address(page, workspace, shop_page):
    page.goto(shop_page("other.html", customer_id="C-1001"))
    launcher(page).click()
    messages(page).first.wait_for()
    handoff_button(page).click()
    panel = page.get_by_role("dialog")
    panel.get_by_role("button", name="Use another address").click()
    email = panel.get_by_label("Your email")
    email.wait_for()
    assert page.evaluate(ACTIVE) == "so-email"
    assert email.input_value() == ""
    wait_text = page.locator("supportops-widget .wait-text")
    assert "Leave your email" in wait_text.inner_text()
    email.fill("dana.work@example.org")
    email.press("Enter")
    wait_text.filter(has_text="We'll email you at d***@example.org").wait_for()
    conversation = Conversation.objects.get(workspace=workspace)
    assert conversation.followup_email == "dana.work@example.org"


@pytest.mark.django_db(transaction=True)
def test_a_visitor_proves_an_order_with_its_number_and_email_before_seeing_it(
    page, workspace, shop_page
):
    from decimal import Decimal

    from django.utils import timezone

    from supportops.conversations.models import Order
    from supportops.conversations.services import customer_get_or_create_verified
    from supportops.flows import do_bot_turn

    dana = customer_get_or_create_verified(
        workspace=workspace, external_id="C-2001", email="dana@example.com"
    )
    Order.objects.create(
        workspace=workspace,
        customer=dana,
        number="TW-20417",
        status=Order.Status.SHIPPED,
        placed_at=timezone.now(),
        total=Decimal("39.00"),
        carrier="DHL",
        tracking_number="JD0146000099",
        tracking_url="https://track.example/JD0146000099",
    )
    page.goto(shop_page("visitor.html"))  # not signed in
    launcher(page).click()
    messages(page).first.wait_for()
    box = page.get_by_role("dialog").get_by_label("Your message")
    bot = page.locator("supportops-widget li.msg-bot")

    def customer_says(text: str) -> None:
        # The bot's turn is decided here rather than by a Celery worker: the same function
        # the worker's task calls (flows.do_bot_turn), for the message the browser posted. When
        # the session's real worker is up it may claim the turn first (do_bot_turn then does
        # nothing) and answer once its models are warm, hence the longer wait.
        count = bot.count()
        mine = Message.objects.filter(
            conversation__workspace=workspace, author=Message.Author.CUSTOMER
        )
        before = mine.count()
        box.fill(text)
        box.press("Enter")
        posted = wait_for(lambda: mine.order_by("-pk").first() if mine.count() > before else None)
        do_bot_turn(message_id=posted.pk)
        wait_for(lambda: bot.count() > count, timeout=180)

    customer_says("Where is my order?")
    assert "order number and the email address" in bot.last.inner_text()
    assert "JD0146000099" not in page.locator("supportops-widget .messages").inner_text()

    customer_says("TW-20417 mallory@example.com")
    assert "couldn't find an order with that order number and email address together" in (
        bot.last.inner_text()
    )
    assert "JD0146000099" not in page.locator("supportops-widget .messages").inner_text()

    customer_says("TW-20417, dana@example.com")
    answer = bot.last
    assert "JD0146000099" in answer.inner_text()
    link = answer.locator(".bubble").get_by_role("link")
    assert link.get_attribute("href") == "https://track.example/JD0146000099"
    assert link.get_attribute("rel") == "noopener noreferrer"


@pytest.mark.django_db(transaction=True)
def test_a_chat_left_open_past_its_pending_lifetime_starts_again_on_the_first_message(
    page, workspace, shop_page
):
    from tests.widget.test_pending_chat import aged

    page.goto(shop_page("stale.html"))
    launcher(page).click()
    messages(page).first.wait_for()
    slot = f"supportops:{workspace.public_key}:visitor"
    saved = page.evaluate(f"JSON.parse(localStorage.getItem('{slot}'))")
    assert saved["pendingToken"] and not Conversation.objects.exists()
    # The tab stayed open for hours: the stored pending token has expired (410).
    saved["pendingToken"] = aged(saved["pendingToken"], 5 * 3600)
    page.evaluate(
        "([slot, saved]) => localStorage.setItem(slot, JSON.stringify(saved))", [slot, saved]
    )
    page.reload()
    launcher(page).click()
    messages(page).first.wait_for()
    box = page.get_by_role("dialog").get_by_label("Your message")
    box.fill("Is the blue jacket waterproof?")
    box.press("Enter")
    page.locator(
        "supportops-widget li.msg-customer:not(.pending)", has_text="blue jacket"
    ).wait_for()
    conversation = wait_for(lambda: Conversation.objects.filter(workspace=workspace).first())
    # (what the assistant then does with the question is not this test's concern)
    assert list(conversation.messages.order_by("pk").values_list("kind", "author"))[:2] == [
        ("greeting", "bot"),
        ("text", "customer"),
    ]
    assert Conversation.objects.count() == 1
    assert page.locator("supportops-widget .notice").is_hidden()
