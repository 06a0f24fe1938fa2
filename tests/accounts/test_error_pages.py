"""403 and 404 are pages of the product with a way back, and leave no traceback in the log."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD

HTMX = {"HX-Request": "true"}


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def as_agent(client, teammate):
    return login(client, teammate)


def test_a_role_without_access_gets_a_styled_403_with_a_way_back(as_agent, caplog):
    caplog.set_level(logging.INFO)
    url = reverse("bot:settings-save", args=["acme"])
    response = as_agent.post(url, HTTP_REFERER="http://testserver/w/acme/bot/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "<html" in html and 'class="topbar"' in html  # the product's layout
    assert "You don’t have access to this page" in html
    assert "Your role in Acme Support (Agent)" in html
    assert 'href="http://testserver/w/acme/bot/">Back to the previous page' in html
    assert f'href="{reverse("home")}">Go to your start page' in html
    assert "Traceback" not in caplog.text
    assert all(r.exc_info is None for r in caplog.records)
    assert any(getattr(r, "status_code", None) == 403 for r in caplog.records)


def test_a_missing_article_is_a_styled_404_in_the_workspace(client, owner, workspace, caplog):
    caplog.set_level(logging.INFO)
    login(client, owner)
    response = client.get(reverse("knowledge:article-detail", args=["acme", 999999]))
    html = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in html and "in Acme Support" in html
    assert 'class="mainnav"' in html  # the workspace's navigation is there
    assert "Traceback" not in caplog.text and all(r.exc_info is None for r in caplog.records)


def test_an_unknown_address_is_a_styled_404(client, owner, workspace, settings, caplog):
    settings.DEBUG = False
    login(client, owner)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "Traceback" not in caplog.text


def test_an_outsider_gets_the_404_page_not_a_403(client, outsider, workspace):
    login(client, outsider)
    response = client.get(reverse("inbox:index", args=["acme"]))
    assert response.status_code == 404 and "Page not found" in response.content.decode()


def test_htmx_requests_get_a_small_fragment(as_agent, caplog):
    response = as_agent.post(reverse("bot:settings-save", args=["acme"]), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 403
    assert html.lstrip().startswith('<div class="error-fragment" data-error-fragment')
    assert "<html" not in html and "Your role in Acme Support (Agent)" in html
    missing = as_agent.get(reverse("knowledge:article-detail", args=["acme", 999999]), headers=HTMX)
    assert missing.status_code == 404 and "<html" not in missing.content.decode()
    assert "Traceback" not in caplog.text


def test_a_permission_denied_outside_a_view_has_no_traceback_either(rf, caplog):
    """Django's own 403 log line carries the exception; the filter drops the traceback."""
    from django.core.exceptions import PermissionDenied
    from django.core.handlers.exception import response_for_exception

    request = rf.get("/w/acme/bot/")
    response = response_for_exception(request, PermissionDenied("no"))
    assert response.status_code == 403
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records and all(r.exc_info is None for r in records)
    assert "Traceback" not in caplog.text
