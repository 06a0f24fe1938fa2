"""Content-Security-Policy and Permissions-Policy on every page (security review, finding 8)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize(
    "path",
    ["/accounts/login/", "/widget/demo/", "/healthz", "/api/widget/v1/docs", "/admin/login/"],
)
def test_every_page_has_a_strict_content_security_policy(client, db, path):
    response = client.get(path)
    csp = directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]  # no inline script, no eval
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["style-src"]
    assert csp["img-src"] == ["'self'", "data:"]


def test_a_signed_in_page_has_it_too(client, owner, workspace):
    client.force_login(owner)
    response = client.get("/w/acme/knowledge/")
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_inline_styles_carry_the_pages_nonce(client, db):
    from supportops.accounts.services import workspace_create

    workspace_create(name="Tidewell Outdoor", slug="tidewell")
    response = client.get("/widget/demo/")
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert f'<style nonce="{nonce}">' in response.content.decode()


def test_powerful_browser_features_are_switched_off(client, db):
    policy = client.get("/accounts/login/")["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


def test_no_template_has_inline_script_or_event_handlers():
    # The policy forbids them; one left behind would silently stop working.
    pattern = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*application/json)|\son[a-z]+=\"|hx-on|javascript:"
    )
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)!r}"
        for path in (ROOT / "templates").rglob("*.html")
        for match in pattern.finditer(path.read_text())
    ]
    assert offenders == []
