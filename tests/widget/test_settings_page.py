"""The widget settings page (issue 17 for findings 6 and 7): embed code, allowed websites,
appearance, and the signing secret (admins only, after a fresh password check)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from supportops.accounts.models import AuditLog, Workspace
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/w/acme/settings/widget/"


def signed_in(client, user):
    """A real sign-in through the form, so the session holds a fresh authentication."""
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_the_page_shows_the_embed_code_and_never_the_secret(client, owner, workspace, widget):
    signed_in(client, owner)
    page = client.get(URL).content.decode()
    assert (
        f"&lt;script src=&quot;http://testserver/widget.js&quot; "
        f"data-workspace=&quot;{workspace.public_key}&quot; async&gt;&lt;/script&gt;"
    ) in page
    assert workspace.secret not in page
    assert workspace.secret[-4:] in page


def test_allowed_websites_are_added_and_removed_and_audited(client, manager, workspace, widget):
    signed_in(client, manager)
    response = client.post(URL + "origins/add/", {"origin": "https://Blog.Example/"})
    assert response.status_code == 302
    widget.refresh_from_db()
    assert "https://blog.example" in widget.allowed_origins
    response = client.post(URL + "origins/add/", {"origin": "https://blog.example/path"})
    assert response.status_code == 400
    assert "scheme and host only" in response.content.decode()
    client.post(URL + "origins/remove/", {"origin": "https://shop.example"})
    widget.refresh_from_db()
    assert "https://shop.example" not in widget.allowed_origins
    changes = AuditLog.objects.filter(workspace=workspace, action="widget.settings_update")
    assert changes.count() == 2 and {r.actor for r in changes} == {manager}


def test_appearance_is_saved(client, manager, workspace, widget):
    signed_in(client, manager)
    client.post(URL + "appearance/", {"title": "Ask Acme", "accent_color": "#AA3300"})
    widget.refresh_from_db()
    assert (widget.title, widget.accent_color) == ("Ask Acme", "#aa3300")
    response = client.post(URL + "appearance/", {"title": "", "accent_color": "red"})
    assert response.status_code == 400


def test_an_admin_reveals_and_rotates_the_secret_after_a_fresh_password_check(
    client, owner, workspace, widget
):
    signed_in(client, owner)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})  # a fresh check
    response = client.post(URL + "secret/reveal/")
    assert response.status_code == 200
    assert workspace.secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    old = workspace.secret
    response = client.post(URL + "secret/rotate/")
    workspace.refresh_from_db()
    assert workspace.secret != old and workspace.secret_previous == old
    page = response.content.decode()
    assert workspace.secret in page  # shown once, to copy
    assert "still accepted until" in page
    client.post(URL + "secret/retire/")
    workspace.refresh_from_db()
    assert workspace.secret_previous == ""
    assert list(
        AuditLog.objects.filter(workspace=workspace, action__startswith="widget.secret")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["widget.secret_reveal", "widget.secret_rotate", "widget.secret_retire_previous"]


def test_a_stale_session_must_enter_the_password_again(client, owner, workspace, widget):
    client.force_login(owner)  # no recent password check on record
    old = workspace.secret
    response = client.post(URL + "secret/rotate/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert Workspace.objects.get(pk=workspace.pk).secret == old
    response = client.post(response["Location"], {"password": PASSWORD}, follow=True)
    assert Workspace.objects.get(pk=workspace.pk).secret != old


def test_managers_cannot_see_or_change_the_secret(client, manager, workspace, widget):
    signed_in(client, manager)
    page = client.get(URL).content.decode()
    assert "Admins of the workspace manage the signing secret" in page
    for action in ("reveal", "rotate", "retire"):
        assert client.post(URL + f"secret/{action}/").status_code == 403
    assert Workspace.objects.get(pk=workspace.pk).secret == workspace.secret


def test_agents_finance_and_outsiders_get_no_widget_settings(
    client, teammate, finance, outsider, workspace, widget
):
    for user, status in ((teammate, 403), (finance, 403), (outsider, 404)):
        client.force_login(user)
        assert client.get(URL).status_code == status
        assert (
            client.post(URL + "origins/add/", {"origin": "https://x.example"}).status_code == status
        )
    widget.refresh_from_db()
    assert "https://x.example" not in widget.allowed_origins
