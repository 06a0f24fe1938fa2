"""A customer uses the chat widget embedded on a shop's own website.

The shop page is served from a different origin (a small http.server on another port) than
the app (`live_server`), so every API call is a real cross-origin request that must pass the
workspace's allowed origins. Customer messages queue the bot turn, which a real Celery worker
subprocess runs, as in production.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from supportops.conversations.models import Conversation, Message, Order
from supportops.conversations.services import customer_get_or_create_verified
from supportops.inbox.models import Handoff
from supportops.lib.commands import http_server, quiet_files
from supportops.widget.models import WidgetSettings
from supportops.widget.security import customer_identity_signed
from tests.conftest import wait_for
from tests.e2e.conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: the browser tests need Debian's chromium package",
    ),
]

SCREENSHOT = "/tmp/widget-e2e.png"
PHONE_SCREENSHOT = "/tmp/widget-e2e-phone.png"

# Loud host-page styles: the widget must neither change them nor be changed by them.
HOST_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shop</title>
<style>
  * {{ font-family: Georgia, serif !important; }}
  body {{ margin: 0; padding: 12px; background: rgb(250, 246, 239); color: rgb(43, 33, 24);
          font-size: 19px; line-height: 1.9; }}
  h1 {{ color: rgb(200, 0, 0); text-transform: uppercase; letter-spacing: 3px; }}
  button {{ background: rgb(194, 65, 12); color: white; padding: 14px; border-radius: 0; }}
  ol, li, p {{ margin: 30px; }}
  div {{ border: 3px dotted blue; }}
</style></head>
<body>
  <h1>Tidewell shop</h1>
  <p id="intro">Rain jackets, stoves and backpacks.</p>
  <button id="buy" type="button">Add to basket</button>
  {script}
</body></html>
"""
HOST_ELEMENTS = ("body", "h1", "#intro", "#buy")
HOST_PROPERTIES = (
    "font-family",
    "font-size",
    "color",
    "background-color",
    "margin-top",
    "padding-top",
    "line-height",
    "text-transform",
    "letter-spacing",
)


@pytest.fixture
def host_site(tmp_path: Path) -> Iterator[Callable[[str, str], str]]:
    """Serve pages from another origin: `publish(name, html)` returns the page's URL."""
    with http_server(quiet_files(str(tmp_path))) as origin:

        def publish(name: str, html: str) -> str:
            (tmp_path / name).write_text(html)
            return f"{origin}/{name}"

        publish.origin = origin  # type: ignore[attr-defined]
        yield publish


def embed_tag(live_server, workspace, *, customer_id: str = "") -> str:
    attrs = f'src="{live_server.url}/widget.js" data-workspace="{workspace.public_key}"'
    if customer_id:
        identity = customer_identity_signed(
            workspace=workspace,
            external_id=customer_id,
            name="Dana Reyes",
            email="dana@example.com",
        )
        attrs += (
            f' data-customer-id="{customer_id}" data-customer-name="Dana Reyes"'
            f' data-customer-email="dana@example.com"'
            f' data-signature-expires="{identity["signature_expires"]}"'
            f' data-signature="{identity["signature"]}"'
        )
    return f"<script {attrs} async></script>"


def host_styles(page) -> dict[str, dict[str, str]]:
    return page.evaluate(
        """([selectors, properties]) => Object.fromEntries(selectors.map((s) => {
            const style = getComputedStyle(document.querySelector(s));
            return [s, Object.fromEntries(properties.map((p) => [p, style.getPropertyValue(p)]))];
        }))""",
        [list(HOST_ELEMENTS), list(HOST_PROPERTIES)],
    )


@pytest.fixture
def shop_pages(live_server, workspace, host_site):
    """The same shop page without and with the widget; the shop's origin is allowed."""
    WidgetSettings.objects.create(
        workspace=workspace,
        allowed_origins=[host_site.origin],
        title="Acme help",
        accent_color="#0f766e",
    )
    plain = host_site("plain.html", HOST_PAGE.format(script=""))
    embedded = host_site(
        "shop.html",
        HOST_PAGE.format(script=embed_tag(live_server, workspace, customer_id="C-1001")),
    )
    return plain, embedded


def launcher(page):
    return page.get_by_role("button", name="Open the support chat")


def messages(page):
    return page.locator("supportops-widget li.msg")


@pytest.mark.django_db(transaction=True)
def test_a_signed_in_customer_chats_and_asks_for_a_person(
    live_server, page, workspace, shop_pages, celery_worker_process, make_article
):
    article = make_article(
        title="Where is my order?",
        body="## Tracking\n\nEvery order gets a tracking number by email when it ships. "
        "Parcels arrive in three to five working days.",
    )
    plain, embedded = shop_pages
    page.goto(plain)
    styles_without_widget = host_styles(page)

    page.goto(embedded)
    launcher(page).wait_for()
    # The shop looks exactly as it did, and the shop's rules did not restyle the widget.
    assert host_styles(page) == styles_without_widget
    widget_look = page.evaluate(
        """() => {
            const root = document.querySelector('supportops-widget').shadowRoot;
            const style = getComputedStyle(root.querySelector('.launcher'));
            return [style.backgroundColor, style.fontFamily, style.borderRadius];
        }"""
    )
    assert widget_look[0] == "rgb(15, 118, 110)"  # the workspace accent, not the shop's orange
    assert "Georgia" not in widget_look[1]
    assert widget_look[2] == "50%"

    # Open: the header, the person button, and the assistant's disclosure up front.
    launcher(page).click()
    panel = page.get_by_role("dialog", name="Acme help")
    panel.wait_for()
    assert panel.get_by_role("button", name="Talk to a person").is_visible()
    greeting = messages(page).first
    greeting.wait_for()
    assert greeting.locator(".who").inner_text() == "AI assistant"
    assert "AI assistant" in greeting.locator(".bubble").inner_text()
    # Focus is in the message box, ready to type.
    assert (
        page.evaluate(
            "() => document.querySelector('supportops-widget').shadowRoot.activeElement.id"
        )
        == "so-input"
    )

    # Opening the chat stored nothing: the conversation begins with the first message.
    assert not Conversation.objects.filter(workspace=workspace).exists()

    # The customer asks about their order (the shop synced them and their order earlier): the
    # bot answers from their own records (real Celery worker, real search) and links the
    # help-centre article it used.
    dana = customer_get_or_create_verified(
        workspace=workspace, external_id="C-1001", name="Dana Reyes"
    )
    Order.objects.create(
        workspace=workspace,
        customer=dana,
        number="TW-1000042",
        status=Order.Status.SHIPPED,
        placed_at=timezone.now() - timedelta(days=2),
        total=Decimal("139.00"),
        carrier="DHL",
        tracking_number="DH123456789",
    )
    box = panel.get_by_label("Your message")
    box.fill("Where is my order?")
    box.press("Enter")
    conversation = wait_for(lambda: Conversation.objects.filter(workspace=workspace).first())
    assert conversation.customer == dana
    assert conversation.customer.email == "dana@example.com"  # as the host site signed it
    kinds = list(conversation.messages.order_by("pk").values_list("kind", flat=True)[:2])
    assert kinds == ["greeting", "text"]  # the greeting the customer saw, then their message
    answer = page.locator("supportops-widget li.msg[data-kind=answer]").last
    answer.wait_for(timeout=60_000)
    assert "TW-1000042" in answer.locator(".bubble").inner_text()
    assert "DH123456789" in answer.locator(".bubble").inner_text()
    source = answer.get_by_role("link", name="Where is my order?")
    assert source.get_attribute("href") == (
        f"{live_server.url}/help/{workspace.public_key}/{article.pk}/"
    )

    # Send with Enter; HTML is shown as text, never interpreted.
    box.fill("Hello <b>there</b> <img src=x onerror=window.pwned=1>")
    box.press("Enter")
    mine = page.locator("supportops-widget li.msg-customer:not(.pending)", has_text="onerror")
    mine.first.wait_for()
    assert mine.first.locator(".bubble").inner_text() == (
        "Hello <b>there</b> <img src=x onerror=window.pwned=1>"
    )
    assert page.locator("supportops-widget li.msg b, supportops-widget li.msg img").count() == 0
    assert page.evaluate("window.pwned") is None

    # A password typed into the chat: the widget says not to, and shows only the mask.
    assert page.locator("supportops-widget .privacy").is_visible()
    box.fill("my password is Heathrow-Kestrel-7")
    box.press("Enter")
    masked = page.locator("supportops-widget li.msg-customer:not(.pending)", has_text="password")
    masked.first.wait_for()
    assert masked.first.locator(".bubble").inner_text() == "my password is " + "\u2022" * 6
    assert "Heathrow-Kestrel-7" not in page.locator("supportops-widget .messages").inner_text()
    stored = wait_for(
        lambda: Message.objects.filter(conversation=conversation, author="customer").first()
    )
    assert stored.client_key  # sent with an idempotency key

    panel.get_by_role("button", name="Talk to a person").click()
    notice = page.locator("supportops-widget li.msg[data-kind=handoff]")
    notice.first.wait_for()
    assert "person" in notice.first.inner_text()
    assert Handoff.objects.filter(conversation=conversation).exists()
    page.locator("supportops-widget .subtitle", has_text="Waiting for a person").wait_for()
    page.screenshot(path=SCREENSHOT)

    # Escape closes the panel and gives focus back to the launcher.
    page.keyboard.press("Escape")
    panel.wait_for(state="hidden")
    assert (
        page.evaluate(
            "() => document.querySelector('supportops-widget').shadowRoot.activeElement.className"
        )
        == "launcher"
    )

    # A reload resumes the same conversation with its history.
    count = messages(page).count()
    page.reload()
    launcher(page).click()
    page.locator("supportops-widget li.msg[data-kind=handoff]").first.wait_for()
    assert messages(page).count() >= count
    assert Conversation.objects.filter(workspace=workspace).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_widget_is_usable_on_a_phone(
    live_server, browser, workspace, shop_pages, celery_worker_process
):
    _, embedded = shop_pages
    context = browser.new_context(viewport={"width": 360, "height": 740}, has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(embedded)
        launcher(page).click()
        panel = page.get_by_role("dialog", name="Acme help")
        panel.wait_for()
        messages(page).first.wait_for()
        box = panel.bounding_box()
        assert box == {"x": 0, "y": 0, "width": 360, "height": 740}  # full screen
        assert not launcher(page).is_visible()  # nothing floats over the panel
        for name in ("Talk to a person", "Close the chat", "Send"):
            button = panel.get_by_role("button", name=name)
            rect = button.bounding_box()
            assert rect is not None and rect["x"] >= 0 and rect["x"] + rect["width"] <= 360, name
            assert rect["height"] >= 24, name
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0

        panel.get_by_label("Your message").fill("Do you ship to Norway?")
        panel.get_by_role("button", name="Send").tap()
        page.locator("supportops-widget li.msg-customer:not(.pending)").first.wait_for()
        page.screenshot(path=PHONE_SCREENSHOT)

        panel.get_by_role("button", name="Close the chat").tap()
        launcher(page).wait_for()
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
def test_an_anonymous_visitor_sees_sources_answers_did_that_solve_it_and_rates(
    live_server, page, workspace, host_site, make_article, celery_worker_process
):
    from supportops.conversations.models import CsatResponse, Customer
    from supportops.conversations.services import message_post_bot

    # The help centre covers the question (an uncovered one would go to a person at once).
    make_article(
        title="Can I send a jacket back?",
        body="Can I send a jacket back?\n\nYes: unworn jackets go back within 60 days with "
        "the prepaid label that came in the parcel.",
    )
    WidgetSettings.objects.create(workspace=workspace, allowed_origins=[host_site.origin])
    page.goto(host_site("anon.html", HOST_PAGE.format(script=embed_tag(live_server, workspace))))
    launcher(page).click()
    messages(page).first.wait_for()
    box = page.get_by_role("dialog").get_by_label("Your message")
    box.fill("Can I send a jacket back?")
    box.press("Enter")
    conversation = wait_for(lambda: Conversation.objects.filter(workspace=workspace).first())
    visitor = Customer.objects.get(pk=conversation.customer_id)
    assert not visitor.is_verified
    assert visitor.visitor_id == page.evaluate(
        f"JSON.parse(localStorage.getItem('supportops:{workspace.public_key}:visitor-id'))"
    )

    # The assistant answers from the article first ("Did that solve it?" sits under the
    # latest answer, so the answer below must come after it).
    from supportops.bot.models import BotTurn

    turn = wait_for(
        lambda: BotTurn.objects.filter(
            conversation=conversation, status=BotTurn.Status.DONE
        ).first()
    )
    assert turn.action == BotTurn.Action.ANSWER, (turn.action, turn.trigger)
    page.locator("supportops-widget li.msg[data-kind=answer]").first.wait_for()
    # A bot answer arrives while the panel is open (polling, no reload).
    message_post_bot(
        conversation=conversation,
        text="Returns are free within 30 days. <script>window.pwned = 1</script>",
        kind=Message.Kind.ANSWER,
        sources=[
            {"article_id": "returns", "title": "How to return an item", "url": "/help/x/1/"},
            {"article_id": "evil", "title": "Sneaky link", "url": "javascript:window.pwned=1"},
        ],
    )
    answer = page.locator(
        "supportops-widget li.msg[data-kind=answer]", has_text="Returns are free within 30 days"
    )
    answer.wait_for()
    assert "<script>" in answer.locator(".bubble").inner_text()
    link = answer.get_by_role("link", name="How to return an item")
    assert link.get_attribute("href") == f"{live_server.url}/help/x/1/"
    assert link.get_attribute("rel") == "noopener noreferrer"
    assert answer.get_by_role("link", name="Sneaky link").count() == 0
    assert answer.locator(".sources", has_text="Sneaky link").count() == 1

    # "Did that solve it?" -> Yes: the chat ends and asks for a rating.
    answer.get_by_role("group", name="Did that solve it?").get_by_role("button", name="Yes").click()
    rating = page.locator("supportops-widget form.csat")
    rating.wait_for()
    assert answer.get_by_role("button", name="Yes").count() == 0
    page.locator("supportops-widget .subtitle", has_text="This chat has ended").wait_for()
    rating.locator("label[for=so-score-4]").click()
    rating.get_by_label("Comment (optional)").fill("Quick & kind")
    rating.get_by_role("button", name="Send rating").click()
    page.locator("supportops-widget .thanks", has_text="Thank you").wait_for()
    csat = wait_for(lambda: CsatResponse.objects.filter(conversation=conversation).first())
    assert (csat.score, csat.comment) == (4, "Quick & kind")
    assert page.evaluate("window.pwned") is None
