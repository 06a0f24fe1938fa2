"""The Django admin (security review, finding 1): allauth's sign-in with two-factor and rate
limits, operators only, no secrets shown, audit rows read-only, every change audited."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from supportops.accounts.admin import AuditedModelAdmin, AuditLogAdmin
from supportops.accounts.models import AuditLog, AuditLogReadOnly, Membership, Role, Workspace
from supportops.accounts.services import audit_log_write
from tests.conftest import PASSWORD

from .conftest import totp_code, unique_email


@pytest.fixture
def operator(db):
    email = unique_email("ops")
    return get_user_model().objects.create_superuser(username=email, email=email, password=PASSWORD)


def test_the_admin_login_page_hands_over_to_allauth(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_admin_login_form_no_longer_signs_anyone_in(client, operator, client_address):
    # Before the fix this POST logged an operator in with the password alone.
    response = client.post(
        "/admin/login/",
        {"username": operator.username, "password": PASSWORD, "next": "/admin/"},
        REMOTE_ADDR=client_address,
    )
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_totp_enrolled_operator_needs_the_code_to_reach_the_admin(
    client, operator, client_address
):
    secret = generate_totp_secret()
    TOTP.activate(operator, secret)
    response = client.post(
        reverse("account_login") + "?next=/admin/",
        {"login": operator.email, "password": PASSWORD},
        REMOTE_ADDR=client_address,
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_authenticate"))
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still signed out
    response = client.post(
        reverse("mfa_authenticate"), {"code": totp_code(secret)}, REMOTE_ADDR=client_address
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_workspace_admin_who_is_not_staff_gets_no_admin(client, owner, workspace):
    client.force_login(owner)
    assert client.get("/admin/login/").status_code == 403
    assert client.get("/admin/").status_code == 302  # to the (refused) admin login


def test_repeated_wrong_passwords_are_throttled_even_for_the_admin(
    client, operator, client_address
):
    login = reverse("account_login")
    for _ in range(5):
        response = client.post(
            login, {"login": operator.email, "password": "wrong"}, REMOTE_ADDR=client_address
        )
        assert response.status_code == 200
    # The sixth attempt is refused before the password is even checked, right or wrong.
    response = client.post(
        login, {"login": operator.email, "password": PASSWORD}, REMOTE_ADDR=client_address
    )
    assert response.status_code == 200
    assert b"Too many failed login attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_the_demo_seed_makes_no_superuser(workspace):
    from supportops.accounts.demo import DEMO_USERS
    from supportops.widget.management.commands.demo_seed import demo_users_seed

    User = get_user_model()
    # Older demo data made admin@ a superuser; seeding again takes that away.
    User.objects.create_superuser(
        username="admin@tidewell.example", email="admin@tidewell.example", password="x"
    )
    demo_users_seed(workspace=workspace, password="demo password 1")
    for email, _ in DEMO_USERS:
        user = User.objects.get(email=email)
        assert not user.is_superuser and not user.is_staff, email


def test_the_workspace_admin_page_masks_the_secret_and_rotates_it(client, operator, workspace):
    client.force_login(operator)
    url = reverse("admin:accounts_workspace_change", args=[workspace.pk])
    page = client.get(url).content.decode()
    assert workspace.secret not in page
    assert workspace.secret[-4:] in page  # the masked form
    assert 'name="secret"' not in page  # no field to type one in
    old = workspace.secret
    response = client.post(
        reverse("admin:accounts_workspace_changelist"),
        {"action": "rotate_signing_secret", "_selected_action": [workspace.pk]},
    )
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert workspace.secret != old and workspace.secret_previous == old
    page = client.get(url).content.decode()
    assert old not in page and workspace.secret not in page
    assert AuditLog.objects.filter(workspace=workspace, action="widget.secret_rotate").exists()


def test_audit_rows_cannot_be_added_changed_or_deleted_in_the_admin(client, operator, workspace):
    row = audit_log_write(workspace=workspace, actor=None, action="test.row")
    client.force_login(operator)
    assert client.get(reverse("admin:accounts_auditlog_add")).status_code == 403
    response = client.post(
        reverse("admin:accounts_auditlog_change", args=[row.pk]), {"action": "forged"}
    )
    assert response.status_code == 403
    assert client.post(reverse("admin:accounts_auditlog_delete", args=[row.pk])).status_code == 403
    row.refresh_from_db()
    assert row.action == "test.row"
    # Viewing stays possible.
    assert client.get(reverse("admin:accounts_auditlog_change", args=[row.pk])).status_code == 200


def test_audit_rows_are_read_only_in_code_and_in_the_database(workspace, owner):
    row = audit_log_write(workspace=workspace, actor=owner, action="test.row")
    row.action = "forged"
    with pytest.raises(AuditLogReadOnly):
        row.save()
    with pytest.raises(AuditLogReadOnly):
        AuditLog.objects.filter(pk=row.pk).update(action="forged")
    with pytest.raises(AuditLogReadOnly):
        AuditLog.objects.filter(pk=row.pk).delete()
    with pytest.raises(AuditLogReadOnly):
        row.delete()
    sql = "UPDATE accounts_auditlog SET action = 'forged' WHERE id = %s"
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [row.pk])
    assert AuditLog.objects.get(pk=row.pk).action == "test.row"


def test_deleting_a_user_or_a_workspace_still_works(workspace, owner, outsider):
    row = audit_log_write(workspace=workspace, actor=outsider, action="test.row")
    outsider.delete()  # the one UPDATE allowed: the actor becomes NULL, the label stays
    row = AuditLog.objects.get(pk=row.pk)
    assert row.actor is None and row.actor_label == "charlie@other.example"
    Workspace.objects.get(slug="acme").delete()
    assert not AuditLog.objects.filter(pk=row.pk).exists()


def test_a_change_in_the_admin_is_an_audit_row(client, operator, workspace, teammate):
    client.force_login(operator)
    membership = Membership.objects.get(user=teammate, workspace=workspace)
    response = client.post(
        reverse("admin:accounts_membership_change", args=[membership.pk]),
        {"user": teammate.pk, "workspace": workspace.pk, "role": Role.MANAGER},
    )
    assert response.status_code == 302, response.content
    row = AuditLog.objects.get(workspace=workspace, action="admin.change")
    assert row.actor == operator
    assert row.details["model"] == "accounts.membership"
    assert "role" in str(row.details["change"]).lower()
    client.post(reverse("admin:accounts_membership_delete", args=[membership.pk]), {"post": "yes"})
    assert AuditLog.objects.filter(workspace=workspace, action="admin.delete").count() == 1


def test_every_admin_page_is_audited_or_read_only():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label.split(".")[0] not in {
            "accounts",
            "bot",
            "conversations",
            "inbox",
            "knowledge",
            "widget",
        }:
            continue
        assert isinstance(model_admin, AuditedModelAdmin | AuditLogAdmin), model
