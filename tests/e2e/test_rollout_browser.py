"""A manager rolls the bot out in headless Chromium: creates a plan and a phase with the
whole control group, runs the test suite (progress bar, on a real Celery worker), promotes
the phase, and a control customer's message lands in the human queue with no bot reply."""

from __future__ import annotations

import pytest

from supportops.bot.demo import demo_categories_seed
from supportops.conversations.models import Conversation, Message
from supportops.inbox.models import Handoff
from supportops.rollout import suites
from supportops.rollout.models import Phase
from supportops.widget.models import WidgetSettings
from tests.conftest import PASSWORD, wait_for
from tests.e2e.conftest import CHROMIUM
from tests.e2e.test_widget_browser import HOST_PAGE, embed_tag, host_site, launcher, messages
from tests.rollout.conftest import RETURN_QUESTION, RETURNS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: the browser tests need Debian's chromium package",
    ),
]

host_site = host_site


@pytest.mark.django_db(transaction=True)
def test_plan_suite_promote_and_a_control_customer_goes_to_people(
    live_server, browser, workspace, owner, host_site, celery_worker_process, make_article
):
    demo_categories_seed(workspace=workspace)
    make_article(
        title="How do I return an item?",
        body="How do I return an item?\n\nOpen Account > Orders, choose Return items and print "
        "the free label. Send the parcel back within 30 days.",
        category=RETURNS,
        external_id="ret-1",
    )
    suites.suite_cases_import(
        workspace=workspace,
        actor=owner,
        filename="cases.jsonl",
        data=(
            f'{{"message": "{RETURN_QUESTION}", "expect": "answer", "article": "ret-1"}}\n'
            '{"message": "I want to speak to a real person", "expect": "handoff", '
            '"trigger": "explicit_request"}\n'
        ).encode(),
        known_categories=[RETURNS],
    )
    WidgetSettings.objects.create(
        workspace=workspace, allowed_origins=[host_site.origin], title="Acme help"
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    manager = context.new_page()
    try:
        manager.goto(f"{live_server.url}/accounts/login/")
        manager.fill("input[name=login]", owner.email)
        manager.fill("input[name=password]", PASSWORD)
        manager.get_by_role("button", name="Sign In").click()

        # A plan and its first phase: returns only, every customer in the control group.
        manager.goto(f"{live_server.url}/w/acme/rollout/")
        manager.get_by_label("New plan").fill("Spring launch")
        manager.get_by_role("button", name="Create plan").click()
        manager.get_by_label("Name", exact=True).fill("Returns first")
        manager.locator(f'#new-phase input[name=categories][value="{RETURNS}"]').check()
        manager.get_by_label("Control group (% of customers on human-only support)").fill("100")
        manager.get_by_role("button", name="Add phase").click()
        manager.get_by_role("button", name="Start testing").click()

        # The suite runs in Celery; the page shows its progress until it passes.
        manager.get_by_role("button", name="Run the test suite").click()
        manager.locator(".suite-run progress").wait_for()
        manager.locator(".suite-run .pass").wait_for(timeout=120_000)
        assert "2 of 2 cases passed" in manager.locator(".suite-run").inner_text()

        manager.get_by_role("button", name="Promote to live").click()
        manager.locator("[data-status=live]").wait_for()
        phase = Phase.objects.get(name="Returns first")
        assert phase.status == Phase.Status.LIVE and phase.control_share == 1.0
        history = manager.locator("#audit").inner_text()
        assert "phase_live" in history and "phase_create" in history

        # A customer writes in the widget: told a person will reply, never greeted as an AI.
        shop = host_site(
            "shop.html",
            HOST_PAGE.format(script=embed_tag(live_server, workspace, customer_id="C-7")),
        )
        customer = context.new_page()
        customer.goto(shop)
        launcher(customer).click()
        panel = customer.get_by_role("dialog", name="Acme help")
        messages(customer).first.wait_for()
        first = messages(customer).first.inner_text()
        assert "person" in first and "AI" not in first
        box = panel.get_by_label("Your message")
        box.fill(RETURN_QUESTION)
        box.press("Enter")
        conversation = wait_for(lambda: Conversation.objects.filter(workspace=workspace).first())
        assert conversation.arm == "human_only"
        handoff = wait_for(
            lambda: Handoff.objects.filter(conversation=conversation).first(), timeout=60
        )
        assert handoff.trigger == "control"

        # In the human queue, labelled with its category, with no bot reply.
        manager.goto(f"{live_server.url}/w/acme/inbox/?view=unassigned")
        manager.get_by_role("link", name="Dana Reyes").first.click()
        manager.locator("#conversation-arm").wait_for()
        transcript = manager.locator("#transcript").inner_text()
        assert RETURN_QUESTION in transcript
        assert not Message.objects.filter(
            conversation=conversation, author=Message.Author.BOT
        ).exists()
        conversation.refresh_from_db()
        assert conversation.category == RETURNS
        assert manager.locator("#copilot-control").is_visible()
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
def test_the_readout_draws_its_charts_under_the_content_security_policy(
    live_server, browser, workspace, owner
):
    from tests.analytics.test_readout import K, add
    from tests.rollout.conftest import SHIPPING, make_phase

    phase = make_phase(workspace, owner, [RETURNS, SHIPPING])
    for day in range(3):
        add(workspace, phase, "ai_first", K.RESOLVED_BY_BOT_CONFIRMED, n=6, day=day)
        add(workspace, phase, "ai_first", K.NOT_RESOLVED, n=4, day=day)
        add(workspace, phase, "human_only", K.RESOLVED_BY_HUMAN, n=5, day=day)
        add(workspace, phase, "human_only", K.REPEAT_CONTACT, n=5, day=day)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=login]", owner.email)
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.goto(f"{live_server.url}/w/acme/analytics/rollout/{phase.pk}/")
        for chart in ("#chart-fcr", "#chart-repeat"):
            page.locator(f"{chart} svg.main-svg").first.wait_for(timeout=30_000)
        # Three days of 10 conversations per arm: no interval on day one (fewer than
        # MIN_PER_ARM so far), so a line of two points.
        assert page.locator("#chart-fcr .scatterlayer .point").count() == 2
        assert "Repeat contact within 48 h" in page.locator("#chart-repeat").inner_text()
        # plotly's styles come from the page's stylesheet (analytics/_plotly_head.html), so
        # the policy blocks nothing: any console error or page error is a failure.
        assert not problems, problems
    finally:
        context.close()
