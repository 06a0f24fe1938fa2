"""The widget settings page in headless Chromium, as an admin uses it: copy the embed code,
allow another website, rotate the signing secret (with the password check) - under the
page's Content-Security-Policy, with no violation reported."""

from __future__ import annotations

import pytest

from supportops.accounts.models import AuditLog, Workspace
from supportops.widget.models import WidgetSettings
from tests.conftest import PASSWORD
from tests.e2e.conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: the browser tests need Debian's chromium package",
    ),
]
SCREENSHOT = "/tmp/widget-settings-e2e.png"


@pytest.mark.django_db(transaction=True)
def test_an_admin_copies_the_embed_code_allows_a_site_and_rotates_the_secret(
    browser, live_server, owner, workspace
):
    WidgetSettings.objects.create(workspace=workspace, allowed_origins=["https://shop.example"])
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("dialog", lambda dialog: dialog.accept())  # the "Rotate?" confirmation
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=login]", owner.email)
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.goto(f"{live_server.url}/w/acme/knowledge/")
        page.get_by_role("link", name="Settings").click()
        page.get_by_role("link", name="Widget").click()
        page.get_by_role("heading", name="Chat widget").wait_for()

        # Copy the embed code.
        page.get_by_role("button", name="Copy embed code").click()
        page.get_by_text("Copied.").wait_for()
        copied = page.evaluate("navigator.clipboard.readText()")
        workspace = Workspace.objects.get(pk=workspace.pk)
        assert copied == (
            f'<script src="{live_server.url}/widget.js" '
            f'data-workspace="{workspace.public_key}" async></script>'
        )
        assert workspace.secret not in page.content()

        # Allow another website.
        page.get_by_label("Add a website").fill("https://Blog.Example/")
        page.get_by_role("button", name="Add website").click()
        page.get_by_text("https://blog.example may now embed the chat widget.").wait_for()
        assert page.locator("#allowed-origins code", has_text="https://blog.example").is_visible()
        origins = WidgetSettings.objects.get(workspace=workspace).allowed_origins
        assert origins == ["https://shop.example", "https://blog.example"]

        # Rotate the signing secret: confirm, enter the password again, copy the new one.
        old = workspace.secret
        page.get_by_role("button", name="Rotate the secret").click()
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
        page.get_by_text("New signing secret made").wait_for()
        workspace.refresh_from_db()
        assert workspace.secret != old and workspace.secret_previous == old
        assert page.locator("#revealed-secret").input_value() == workspace.secret
        assert page.locator("#previous-secret").get_by_text("still accepted until").is_visible()
        page.get_by_role("button", name="Copy secret").click()
        assert page.evaluate("navigator.clipboard.readText()") == workspace.secret
        page.screenshot(path=SCREENSHOT, full_page=True)

        actions = set(AuditLog.objects.filter(workspace=workspace).values_list("action", flat=True))
        assert {"login", "widget.settings_update", "widget.secret_rotate"} <= actions
        assert problems == []
    finally:
        context.close()
