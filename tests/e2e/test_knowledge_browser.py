"""A manager writes an article in the browser, publishes it, and the bot's search finds it.

The article is embedded by a real Celery worker (not in the test process), so this
exercises the whole path: form → service → commit → Redis → worker → pgvector → search.
"""

from __future__ import annotations

import re
import time

import pytest

from supportops.knowledge.models import Article
from tests.conftest import PASSWORD, wait_for
from tests.e2e.conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: the browser tests need Debian's chromium package",
    ),
]

SCREENSHOT = "/tmp/kb-e2e.png"
PHONE_SCREENSHOT = "/tmp/kb-e2e-phone.png"


def log_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/w/acme/inbox/$"))  # where admins and managers start
    page.goto(f"{live_server.url}/w/acme/knowledge/")


def ask(page, question: str, timeout_s: float = 20.0) -> list[str]:
    """Ask "Try a question" until the first hit is stable or the time is up; return titles."""
    deadline = time.monotonic() + timeout_s
    titles: list[str] = []
    while time.monotonic() < deadline:
        page.fill("#try_question", question)
        # The first answer also runs the bot's decision, whose models may still be loading.
        with page.expect_response(lambda r: "/knowledge/try/" in r.url, timeout=600_000):
            page.click("#try-form button[type=submit]")
        page.locator("#try-results .bot-reply").wait_for()
        titles = page.locator("#try-results .hit-title").all_inner_texts()
        if titles and titles[0] == "Can I change where my order is delivered?":
            return titles
        time.sleep(1)
    return titles


@pytest.mark.django_db(transaction=True)
def test_write_publish_and_find_an_article(
    live_server, page, owner, workspace, make_article, celery_worker_process
):
    make_article("How do I reset my password?", category="Account")
    make_article(
        "What payment methods do you accept?",
        category="Billing",
        body="We accept cards, PayPal and bank transfer.",
    )
    log_in(page, live_server, owner)

    nav = page.locator("nav.mainnav")
    assert nav.locator("a", has_text="Knowledge").get_attribute("aria-current") == "page"
    assert nav.locator("[aria-disabled=true]").count() == 0  # every section is built

    page.click("a.button:has-text('New article')")
    page.fill("input[name=title]", "Can I change where my order is delivered?")
    page.fill("input[name=category]", "Shipping")
    page.locator("textarea[name=body]").press_sequentially(
        "## Before dispatch\n\nOpen **Orders**, choose the order and press *Change address*."
        "\n\n<script>window.pwned = 1</script>",
        delay=5,
    )
    # The live preview renders sanitised Markdown while typing.
    preview = page.locator("#markdown-preview")
    preview.locator("h2", has_text="Before dispatch").wait_for()
    assert preview.locator("strong", has_text="Orders").count() == 1
    assert preview.locator("script").count() == 0

    page.click("button:has-text('Save and publish')")
    page.wait_for_url(re.compile(r"/w/acme/knowledge/\d+/$"))
    assert page.locator(".messages").inner_text().strip() == "Article published."
    assert page.evaluate("window.pwned") is None

    page.click("nav.subnav a:has-text('Articles')")
    # Filtering swaps the list in place (htmx) and keeps the filter in the address bar.
    page.fill("#article-filters input[name=q]", "PayPal")
    page.wait_for_url(re.compile(r"\?q=PayPal"))
    rows = page.locator("#article-list td[data-label=Title]")
    rows.filter(has_text="How do I reset my password?").wait_for(state="detached")
    assert rows.all_inner_texts() == ["What payment methods do you accept?"]
    page.fill("#article-filters input[name=q]", "")
    rows.filter(has_text="How do I reset my password?").wait_for()

    titles = ask(page, "I need my parcel shipped to a different address")
    assert "/try/" not in page.url  # the results were swapped in, not a page load
    page.screenshot(path=SCREENSHOT, full_page=True)
    assert titles[:1] == ["Can I change where my order is delivered?"]
    scores = page.locator("#try-results .hit").first.locator(".scores dd").all_inner_texts()
    assert len(scores) == 3 and all(re.fullmatch(r"-?\d\.\d{3}", s) for s in scores)

    # At phone width nothing overflows sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("", "new/", "import/"):
        page.goto(f"{live_server.url}/w/acme/knowledge/{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path or 'list'} overflows by {overflow}px at phone width"
    page.goto(f"{live_server.url}/w/acme/knowledge/")
    page.screenshot(path=PHONE_SCREENSHOT, full_page=True)

    # The worker, not this process, computed the embeddings.
    article = Article.objects.get(title="Can I change where my order is delivered?")
    wait_for(lambda: Article.objects.get(pk=article.pk).index_state == Article.IndexState.READY)
