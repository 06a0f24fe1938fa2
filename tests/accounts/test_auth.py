from __future__ import annotations

from django.core import mail
from django.urls import reverse

from supportops.accounts.models import AuditLog, Membership, Role
from supportops.accounts.services import membership_set
from tests.conftest import PASSWORD


def test_login_with_email_and_password(client, owner, workspace):
    response = client.post(reverse("account_login"), {"login": owner.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code in (200, 302)
    assert "_auth_user_id" in client.session


def test_a_wrong_password_is_refused(client, owner):
    response = client.post(reverse("account_login"), {"login": owner.email, "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_an_email(client, owner):
    response = client.post(reverse("account_reset_password"), {"email": owner.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert owner.email in mail.outbox[0].to
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_signup_is_closed_by_default(client, db):
    response = client.get(reverse("account_signup"))
    assert response.status_code == 200
    assert b"closed" in response.content.lower()


def test_two_factor_setup_is_offered(client, owner):
    client.post(reverse("account_login"), {"login": owner.email, "password": PASSWORD})
    # Activating TOTP asks for the password again (allauth re-authentication).
    assert client.get(reverse("mfa_activate_totp")).status_code == 302
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    assert b"otpauth://" in response.content or b"secret" in response.content.lower()


def test_membership_set_adds_a_member_and_audits(workspace, owner):
    membership = membership_set(
        workspace=workspace, email="New@Acme.example", role=Role.AGENT, actor=owner
    )
    assert membership.user.email == "new@acme.example"
    assert not membership.user.has_usable_password()
    membership_set(workspace=workspace, email="new@acme.example", role=Role.MANAGER, actor=owner)
    assert Membership.objects.get(user=membership.user).role == Role.MANAGER
    assert AuditLog.objects.filter(action="membership.set").count() == 2
