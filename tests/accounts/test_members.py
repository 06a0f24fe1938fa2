"""Members and roles page (issue 17, for finding 6): invite by email, change role, remove;
the last admin stays; every change audited; admins only."""

from __future__ import annotations

import re

from django.urls import reverse

from supportops.accounts.models import AuditLog, Membership, Role

URL = "/w/acme/settings/members/"


def test_an_admin_invites_by_email_and_the_invitee_sets_a_password(
    client, owner, workspace, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL + "add/", {"email": "New.Agent@Acme.example", "role": "agent"})
    assert response.status_code == 302
    membership = Membership.objects.get(user__email="new.agent@acme.example")
    assert membership.role == Role.AGENT and membership.workspace == workspace
    assert not membership.user.has_usable_password()
    row = AuditLog.objects.get(workspace=workspace, action="member.invite")
    assert row.actor == owner and row.details == {
        "email": "new.agent@acme.example",
        "role": "agent",
    }
    assert mailoutbox[0].to == ["new.agent@acme.example"]
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", mailoutbox[0].body)
    assert link, mailoutbox[0].body
    # The link lets the invitee choose a password.
    client.logout()
    path = link.group(0).split("testserver", 1)[1]
    form = client.get(path)
    client.post(
        form["Location"],
        {"password1": "a long new passphrase 9", "password2": "a long new passphrase 9"},
    )
    membership.user.refresh_from_db()
    assert membership.user.has_usable_password()


def test_inviting_someone_twice_or_a_bad_address_is_refused_with_a_reason(client, owner, teammate):
    client.force_login(owner)
    response = client.post(URL + "add/", {"email": teammate.email, "role": "manager"})
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    response = client.post(URL + "add/", {"email": "not an address", "role": "agent"})
    assert response.status_code == 400
    assert Membership.objects.get(user=teammate).role == Role.AGENT


def test_an_admin_changes_a_role_and_it_is_audited(client, owner, workspace, teammate):
    client.force_login(owner)
    membership = Membership.objects.get(user=teammate)
    client.post(f"{URL}{membership.pk}/role/", {f"m{membership.pk}-role": "manager"})
    membership.refresh_from_db()
    assert membership.role == Role.MANAGER
    row = AuditLog.objects.get(workspace=workspace, action="member.role_change")
    assert row.details["role"] == {"from": "agent", "to": "manager"}


def test_the_last_admin_can_be_neither_demoted_nor_removed(client, owner, workspace):
    client.force_login(owner)
    own = Membership.objects.get(user=owner, workspace=workspace)
    response = client.post(f"{URL}{own.pk}/role/", {f"m{own.pk}-role": "agent"}, follow=True)
    assert "at least one admin" in response.content.decode()
    response = client.post(f"{URL}{own.pk}/remove/", follow=True)
    assert "at least one admin" in response.content.decode()
    own.refresh_from_db()
    assert own.role == Role.ADMIN
    assert not AuditLog.objects.filter(action__in=["member.role_change", "member.remove"]).exists()


def test_an_admin_removes_a_member_and_it_is_audited(client, owner, workspace, teammate):
    client.force_login(owner)
    membership = Membership.objects.get(user=teammate)
    client.post(f"{URL}{membership.pk}/remove/")
    assert not Membership.objects.filter(user=teammate, workspace=workspace).exists()
    assert AuditLog.objects.get(action="member.remove").details["email"] == teammate.email
    client.force_login(teammate)
    assert client.get("/w/acme/knowledge/").status_code == 404


def test_managers_read_the_member_list_but_change_nothing(client, manager, teammate):
    client.force_login(manager)
    page = client.get(URL)
    assert page.status_code == 200 and teammate.email in page.content.decode()
    membership = Membership.objects.get(user=teammate)
    assert (
        client.post(URL + "add/", {"email": "x@acme.example", "role": "admin"}).status_code == 403
    )
    assert (
        client.post(f"{URL}{membership.pk}/role/", {f"m{membership.pk}-role": "admin"}).status_code
        == 403
    )
    assert client.post(f"{URL}{membership.pk}/remove/").status_code == 403
    assert Membership.objects.get(user=teammate).role == Role.AGENT


def test_other_workspaces_members_are_out_of_reach(client, owner, outsider):
    client.force_login(outsider)
    assert client.get(URL).status_code == 404
    client.force_login(owner)
    theirs = Membership.objects.get(user=outsider)
    assert client.post(f"{URL}{theirs.pk}/remove/").status_code == 404
    assert Membership.objects.filter(pk=theirs.pk).exists()
    assert reverse("settings:members", args=["acme"]) == URL
