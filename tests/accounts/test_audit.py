"""Security events in the audit log (security review, finding 6 and "Also"), login brute-force
protection, client addresses behind trusted proxies, and the admins' audit page."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse

from supportops.accounts.models import AuditLog, Membership, Role
from supportops.accounts.services import audit_log_write, workspace_create
from supportops.lib.client import client_ip
from tests.conftest import PASSWORD

from .conftest import totp_code, unique_email


def make_member(workspace, role=Role.AGENT, name="member"):
    email = unique_email(name)
    user = get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)
    Membership.objects.create(user=user, workspace=workspace, role=role)
    return user


def log_in(client, user, address, password=PASSWORD):
    return client.post(
        reverse("account_login"),
        {"login": user.email, "password": password},
        REMOTE_ADDR=address,
        HTTP_USER_AGENT="pytest-browser/1.0",
    )


def actions(**filters) -> list[str]:
    rows = AuditLog.objects.filter(**filters).exclude(action="workspace.create").order_by("pk")
    return list(rows.values_list("action", flat=True))


def test_a_login_is_audited_in_every_workspace_of_the_account(
    client, workspace, outsider, client_address
):
    user = make_member(workspace)
    other = workspace_create(name="Second", slug="second")
    Membership.objects.create(user=user, workspace=other, role=Role.MANAGER)
    assert log_in(client, user, client_address).status_code == 302
    for ws in (workspace, other):
        row = AuditLog.objects.get(workspace=ws, action="login")
        assert row.actor == user and row.target_id == str(user.pk)
        assert row.details["ip"] == client_address
        assert row.details["user_agent"] == "pytest-browser/1.0"
    # Charlie's workspace hears nothing of it.
    assert not AuditLog.objects.filter(workspace__slug="other", action="login").exists()


def test_a_failed_login_is_audited_with_the_address_and_never_the_password(
    client, workspace, client_address
):
    user = make_member(workspace)
    log_in(client, user, client_address, password="hunter2-wrong")
    row = AuditLog.objects.get(workspace=workspace, action="login.failed")
    assert row.actor is None and row.actor_label == "sign-in attempt"
    assert row.details["email"] == user.email and row.details["ip"] == client_address
    assert "hunter2" not in str(row.details)


def test_a_failed_login_for_an_unknown_address_is_kept_for_operators(client, db, client_address):
    client.post(
        reverse("account_login"),
        {"login": "nobody@nowhere.example", "password": "x"},
        REMOTE_ADDR=client_address,
    )
    row = AuditLog.objects.get(action="login.failed", details__ip=client_address)
    assert row.workspace is None and row.details["email"] == "nobody@nowhere.example"


def test_logins_are_throttled_per_account_and_the_refusal_is_audited(
    client, workspace, client_address
):
    user = make_member(workspace)
    for _ in range(5):
        assert log_in(client, user, client_address, password="wrong").status_code == 200
    response = log_in(client, user, client_address)  # the right password, too late
    assert b"Too many failed login attempts" in response.content
    assert "_auth_user_id" not in client.session
    assert actions(workspace=workspace) == ["login.failed"] * 5 + ["login.rate_limited"]
    # Another account is not held up by this one's limit.
    other = make_member(workspace, name="other")
    assert log_in(client, other, client_address).status_code == 302


def test_logins_are_throttled_per_address_across_accounts(client, workspace, client_address):
    users = [make_member(workspace, name=f"u{i}") for i in range(11)]
    for user in users[:10]:
        assert log_in(client, user, client_address, password="wrong").status_code == 200
    response = log_in(client, users[10], client_address)
    assert b"Too many failed login attempts" in response.content


def test_behind_a_trusted_proxy_each_client_has_its_own_login_bucket(
    client, workspace, settings, client_address
):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "127.0.0.1"
    users = [make_member(workspace, name=f"p{i}") for i in range(11)]
    for user in users[:10]:
        client.post(
            reverse("account_login"),
            {"login": user.email, "password": "wrong"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=f"203.0.113.9, {client_address}",
        )
    # A different customer behind the same proxy still gets in.
    response = client.post(
        reverse("account_login"),
        {"login": users[10].email, "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="192.0.2.77",
    )
    assert response.status_code == 302
    row = AuditLog.objects.filter(action="login.failed", workspace=workspace).first()
    assert row.details["ip"] == client_address


@pytest.mark.parametrize(
    ("count", "forwarded", "remote", "expected"),
    [
        (0, "1.1.1.1", "10.0.0.2", "10.0.0.2"),
        (1, "1.1.1.1, 2.2.2.2", "10.0.0.2", "2.2.2.2"),
        (2, "1.1.1.1, 2.2.2.2", "10.0.0.2", "1.1.1.1"),
        (2, "2.2.2.2", "10.0.0.2", "10.0.0.2"),  # skipped the proxies: not trusted
        (1, "not-an-ip", "10.0.0.2", "10.0.0.2"),
        (1, "", "10.0.0.2", "10.0.0.2"),
    ],
)
def test_the_client_address_comes_from_the_trusted_proxies(
    settings, count, forwarded, remote, expected
):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_logout_and_password_change_are_audited(
    client, workspace, client_address, django_capture_on_commit_callbacks
):
    user = make_member(workspace)
    log_in(client, user, client_address)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_change_password"),
            {
                "oldpassword": PASSWORD,
                "password1": "a new long passphrase 7",
                "password2": "a new long passphrase 7",
            },
            REMOTE_ADDR=client_address,
        )
    assert response.status_code == 302
    client.post(reverse("account_logout"), REMOTE_ADDR=client_address)
    assert actions(workspace=workspace) == ["login", "password.change", "logout"]


def test_a_password_reset_is_audited(client, workspace, client_address, mailoutbox):
    import re

    user = make_member(workspace)
    client.post(
        reverse("account_reset_password"), {"email": user.email}, REMOTE_ADDR=client_address
    )
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", mailoutbox[0].body)
    page = client.get(link.group(1), REMOTE_ADDR=client_address)
    client.post(
        page["Location"],
        {"password1": "another long passphrase 8", "password2": "another long passphrase 8"},
        REMOTE_ADDR=client_address,
    )
    assert "password.reset" in actions(workspace=workspace)


def test_two_factor_enrolment_and_removal_are_audited(
    client, workspace, client_address, django_capture_on_commit_callbacks
):
    user = make_member(workspace)
    log_in(client, user, client_address)
    # Enrolling asks for the password again (allauth re-authentication).
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    secret = client.session["mfa.totp.secret"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302, response.content
    assert Authenticator.objects.filter(user=user, type="totp").exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("mfa_deactivate_totp"))
    assert not Authenticator.objects.filter(user=user, type="totp").exists()
    found = actions(workspace=workspace)
    assert "mfa.add" in found and "mfa.remove" in found
    added = AuditLog.objects.filter(workspace=workspace, action="mfa.add")
    # TOTP, and the recovery codes allauth makes with it.
    assert sorted(r.details["type"] for r in added) == ["recovery_codes", "totp"]
    assert {r.actor for r in added} == {user}


# --- The audit page ------------------------------------------------------------------------------


def test_admins_read_the_audit_log_filtered(client, owner, workspace, outsider):
    audit_log_write(
        workspace=workspace,
        actor=owner,
        action="member.invite",
        details={"email": "x@acme.example"},
    )
    audit_log_write(
        workspace=workspace, actor=None, action="login.failed", actor_label="sign-in attempt"
    )
    audit_log_write(
        workspace=outsider.memberships.get().workspace, actor=outsider, action="member.invite"
    )
    client.force_login(owner)
    url = reverse("settings:audit", args=["acme"])
    page = client.get(url).content.decode()
    assert "member.invite" in page and "login.failed" in page
    assert "charlie@other.example" not in page
    page = client.get(url, {"group": "Sign-ins and security"}).content.decode()
    assert "login.failed" in page and "member.invite" not in page
    fragment = client.get(url, {"actor": "alice"}, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<section id="audit-list"')
    assert "member.invite" in fragment and "login.failed" not in fragment
    # Read-only: the page offers no way to change anything.
    assert client.post(url).status_code == 405


def test_only_admins_see_the_audit_log(client, workspace, manager, teammate, outsider):
    url = reverse("settings:audit", args=["acme"])
    for user, status in ((manager, 403), (teammate, 403), (outsider, 404)):
        client.force_login(user)
        assert client.get(url).status_code == status, user
