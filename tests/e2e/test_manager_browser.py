"""Managers and finance in a real browser: draft revisions with diffs, "Try a question",
role landings and the styled 403 page."""

from __future__ import annotations

import re

import pytest

from supportops.knowledge import search
from supportops.knowledge.models import Article
from tests.conftest import PASSWORD
from tests.e2e.conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: the browser tests need Debian's chromium package",
    ),
]

RETURNS = (
    "You can return unworn boots within **30 days** of delivery.\n\n"
    "## How to send them back\n\nStart the return from Orders and print the free label."
)


def sign_in(page, live_server, user, lands_on: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(lands_on))


def keyword_titles(workspace, query: str) -> list[str]:
    hits = search.search(workspace=workspace, query=query, mode="keyword").hits
    return [h.article.title for h in hits if h.article is not None]


@pytest.mark.django_db(transaction=True)
def test_edit_a_published_article_as_a_draft_publish_compare_and_restore(
    live_server, page, manager, workspace, make_article
):
    article = make_article("How do I return boots?", body=RETURNS, category="Returns")
    sign_in(page, live_server, manager, r"/w/acme/inbox/$")
    page.goto(f"{live_server.url}/w/acme/knowledge/{article.pk}/")

    page.click("a.button:has-text('Edit')")
    body = page.locator("textarea[name=body]")
    body.fill(RETURNS.replace("30 days", "60 days") + "\n\nFjordpost collects them for free.")
    page.click("button:has-text('Save as draft')")
    page.wait_for_url(re.compile(rf"/knowledge/{article.pk}/$"))
    # The live article is unchanged, and so is what search holds.
    assert "30 days" in page.locator(".prose").first.inner_text()
    banner = page.locator(".draft-pending")
    assert "A draft of changes is waiting" in banner.inner_text()
    assert keyword_titles(workspace, "Fjordpost") == []

    page.click("button:has-text('Publish the draft')")
    page.locator(".messages", has_text="Published the draft").wait_for()
    assert "60 days" in page.locator(".prose").first.inner_text()
    assert page.locator(".draft-pending").count() == 0
    assert keyword_titles(workspace, "Fjordpost") == ["How do I return boots?"]

    # History: compare the first and the live version, side by side.
    page.click("a.button:has-text('History')")
    page.locator("input[name=old][value='1']").check()
    page.locator("input[name=new][value='3']").check()
    page.click("button:has-text('Compare selected versions')")
    page.wait_for_url(re.compile(r"/history/compare/\?"))
    assert "Version 1 compared with version 3" in page.locator("h1").inner_text()
    diff = page.locator("table.diff")
    assert diff.locator("del", has_text="30").count() >= 1
    assert diff.locator("ins", has_text="60").count() >= 1
    page.screenshot(path="/tmp/kbux-e2e-compare.png", full_page=True)

    # Restoring version 1 shows what would change before asking.
    page.click("a.button:has-text('Restore version 1')")
    page.wait_for_url(re.compile(r"/history/1/restore/$"))
    assert page.locator("h1").inner_text() == "Restore version 1?"
    confirm = page.locator("table.diff")
    assert confirm.locator("del", has_text="60").count() >= 1
    assert confirm.locator("ins", has_text="30").count() >= 1
    page.screenshot(path="/tmp/kbux-e2e-restore.png", full_page=True)
    page.click("button:has-text('Restore as a draft')")
    page.locator(".messages", has_text="Restored version 1 as draft version 4").wait_for()
    assert "60 days" in page.locator(".prose").first.inner_text()  # still live until published
    article.refresh_from_db()
    assert article.draft_version is not None and "30 days" in article.draft_version.body


@pytest.mark.django_db(transaction=True)
def test_try_a_question_shows_the_bots_reply_or_the_trigger(
    live_server, page, manager, workspace, make_article
):
    make_article("How do I return boots?", body=RETURNS, category="Returns")
    make_article(
        "How long does delivery take?",
        body="Standard delivery takes 3 to 5 working days within Norway.",
        category="Orders",
    )
    sign_in(page, live_server, manager, r"/w/acme/inbox/$")
    page.goto(f"{live_server.url}/w/acme/knowledge/")

    def ask(question: str):
        page.fill("#try_question", question)
        with page.expect_response(lambda r: "/knowledge/try/" in r.url, timeout=600_000):
            page.click("#try-form button[type=submit]")
        reply = page.locator("#try-results .bot-reply")
        reply.wait_for()
        return reply

    reply = ask("How do I return my boots?")
    assert "Answers" in reply.locator(".reply-action").inner_text()
    assert "within 30 days" in reply.locator(".reply-text").inner_text()
    assert reply.locator(".reply-sources a", has_text="How do I return boots?").count() == 1
    # The ranked passages come below, with their Markdown rendered.
    assert page.locator("#try-results .hit .passage strong", has_text="30 days").count() == 1
    page.screenshot(path="/tmp/kbux-e2e-try-answer.png", full_page=True)

    reply = ask("I want to speak to a human")
    assert "Hands off to a person" in reply.inner_text()
    assert reply.locator(".trigger-name").inner_text() == "The customer asks for a person"
    assert "The message asks to talk to a person." in reply.locator(".reasons").inner_text()
    page.screenshot(path="/tmp/kbux-e2e-try-handoff.png", full_page=True)
    assert not Article.objects.filter(workspace=workspace, status="draft").exists()


@pytest.mark.django_db(transaction=True)
def test_finance_lands_on_its_page_and_an_agent_gets_the_styled_403(
    live_server, browser, finance, teammate, workspace
):
    finance_page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(finance_page, live_server, finance, r"/w/acme/finance/$")
    assert finance_page.locator("h1").inner_text() == "Finance"
    available = finance_page.locator("section", has_text="Available today")
    assert available.get_by_role("link", name="Secure your account").count() == 1
    assert available.get_by_role("link", name="Cost per resolution").count() == 1
    nav = finance_page.locator("nav.mainnav")
    assert nav.get_by_role("link", name="Knowledge").count() == 0
    finance_page.screenshot(path="/tmp/kbux-e2e-finance.png", full_page=True)
    finance_page.context.close()

    agent = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(agent, live_server, teammate, r"/w/acme/inbox/$")
    response = agent.goto(f"{live_server.url}/w/acme/knowledge/new/")
    assert response is not None and response.status == 403
    assert agent.locator("h1").inner_text() == "You don’t have access to this page"
    assert "Your role in Acme Support (Agent)" in agent.locator(".error-page").inner_text()
    assert agent.locator("nav.mainnav a", has_text="Inbox").count() == 1  # the product's layout
    agent.screenshot(path="/tmp/kbux-e2e-403.png", full_page=True)
    agent.get_by_role("link", name="Go to your start page").click()
    agent.wait_for_url(re.compile(r"/w/acme/inbox/$"))
    agent.context.close()


@pytest.mark.django_db(transaction=True)
def test_number_and_time_fields_look_like_the_other_fields(live_server, page, manager, workspace):
    sign_in(page, live_server, manager, r"/w/acme/inbox/$")
    page.goto(f"{live_server.url}/w/acme/bot/")

    def box(selector: str) -> dict:
        return page.locator(selector).first.evaluate(
            "e => { const s = getComputedStyle(e); const r = e.getBoundingClientRect();"
            " return {radius: s.borderRadius, border: s.borderTopColor, height: r.height,"
            " width: r.width}; }"
        )

    text, number = box("input[name=persona_name]"), box("input[name=frustration_threshold]")
    assert number["radius"] == text["radius"] and number["border"] == text["border"]
    assert abs(number["height"] - text["height"]) <= 1
    assert number["width"] <= 200  # sized for a number, not the whole column
    page.screenshot(path="/tmp/kbux-e2e-bot-settings.png", full_page=True)

    page.goto(f"{live_server.url}/w/acme/inbox/hours/")
    zone = page.locator("select[name=timezone]")
    assert zone.locator("option[value='Europe/Oslo']").count() == 1
    time_box = box("input[type=time]")
    assert time_box["radius"] == text["radius"]
    page.screenshot(path="/tmp/kbux-e2e-hours.png", full_page=True)
