from __future__ import annotations

import secrets
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import slugify

from supportops.lib.client import client_ip

from .models import AuditLog, Membership, Role, Workspace

# Who did something: a logged-in user, or nobody (a command, the system, the bot).
Actor = AbstractBaseUser | AnonymousUser | None


def real_user(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) and actor.is_authenticated else None


class MemberError(ValueError):
    """A member change that is refused; the message says why."""


def audit_log_write(
    *,
    workspace: Workspace | None,
    actor: Actor,
    action: str,
    target: Any = None,
    details: dict[str, Any] | None = None,
    actor_label: str = "",
) -> AuditLog:
    user = real_user(actor)
    return AuditLog.objects.create(
        workspace=workspace,
        actor=user,
        actor_label=actor_label or (str(user) if user else "system"),
        action=action,
        target_type=type(target).__name__.lower() if target is not None else "",
        target_id=str(getattr(target, "pk", "") or "") if target is not None else "",
        details=details or {},
    )


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "workspace"
    slug, n = base, 2
    while Workspace.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def workspace_create(
    *, name: str, owner: User | None = None, slug: str = "", is_scratch: bool = False
) -> Workspace:
    workspace = Workspace.objects.create(
        name=name, slug=slug or _unique_slug(name), is_scratch=is_scratch
    )
    if owner is not None:
        Membership.objects.create(user=owner, workspace=workspace, role=Role.ADMIN)
    audit_log_write(workspace=workspace, actor=owner, action="workspace.create", target=workspace)
    return workspace


def request_details(request: HttpRequest | None) -> dict[str, str]:
    """Where a security event came from: the client's address and browser."""
    if request is None:
        return {}
    return {
        "ip": client_ip(request),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200],
    }


def security_event_write(
    *,
    action: str,
    user: Any = None,
    actor: Actor = None,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
    actor_label: str = "",
) -> list[AuditLog]:
    """A security event about one account (sign-in, failed sign-in, password or two-factor
    change): one row in each workspace the account belongs to, so every workspace's admins
    see it; an account in no workspace gets one row without a workspace (for operators)."""
    known = user if isinstance(user, User) and user.pk else None
    workspaces: list[Workspace | None] = []
    if known is not None:
        workspaces = list(
            Workspace.objects.filter(memberships__user=known, is_scratch=False).order_by("pk")
        )
    rows = []
    for workspace in workspaces or [None]:
        rows.append(
            audit_log_write(
                workspace=workspace,
                actor=actor,
                action=action,
                target=known,
                details={**request_details(request), **(details or {})},
                actor_label=actor_label,
            )
        )
    return rows


def _user_for_email(email: str) -> User:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise MemberError("Enter a valid email address, like name@example.com.") from None
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(username=email[:150], email=email)
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _role_check(role: str) -> None:
    if role not in Role.values:
        labels = ", ".join(label.lower() for label in Role.labels)
        raise MemberError(f"Unknown role {role!r}; choose one of {labels}.")


def _keeps_an_admin(membership: Membership, new_role: str | None) -> None:
    """Refuse the change that would leave the workspace without an admin."""
    if membership.role != Role.ADMIN or new_role == Role.ADMIN:
        return
    admins = Membership.objects.select_for_update().filter(
        workspace_id=membership.workspace_id, role=Role.ADMIN
    )
    if not admins.exclude(pk=membership.pk).exists():
        raise MemberError("A workspace needs at least one admin: make someone else admin first.")


@transaction.atomic
def membership_set(
    *, workspace: Workspace, email: str, role: str, actor: Actor = None
) -> Membership:
    """Add a user (created without a usable password if new) to a workspace, or change the role."""
    _role_check(role)
    user = _user_for_email(email)
    existing = Membership.objects.filter(user=user, workspace=workspace).first()
    if existing is not None:
        _keeps_an_admin(existing, role)
    membership, _ = Membership.objects.update_or_create(
        user=user, workspace=workspace, defaults={"role": role}
    )
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action="membership.set",
        target=membership,
        details={"email": user.email, "role": role},
    )
    return membership


@transaction.atomic
def member_invite(
    *, workspace: Workspace, email: str, role: str, actor: Actor, site_url: str = ""
) -> Membership:
    """Add someone by email. A new account gets an email with a link to choose a password;
    an existing one a note that it was added. Nobody is added twice."""
    _role_check(role)
    user = _user_for_email(email)
    if Membership.objects.filter(user=user, workspace=workspace).exists():
        raise MemberError(f"{user.email} is already a member of {workspace.name}.")
    membership = Membership.objects.create(user=user, workspace=workspace, role=role)
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action="member.invite",
        target=membership,
        details={"email": user.email, "role": role},
    )
    transaction.on_commit(
        partial(
            _invitation_send,
            membership_id=membership.pk,
            inviter=str(real_user(actor) or "An admin"),
            site_url=site_url or settings.SITE_URL,
        )
    )
    return membership


def _invitation_send(*, membership_id: int, inviter: str, site_url: str) -> None:
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str
    from django.core.mail import send_mail
    from django.urls import reverse

    membership = Membership.objects.select_related("user", "workspace").get(pk=membership_id)
    user = membership.user
    if user.has_usable_password():
        link = site_url + reverse("account_login")
        how = "Log in with your usual password"
    else:
        key = default_token_generator.make_token(user)
        link = site_url + reverse(
            "account_reset_password_from_key",
            kwargs={"uidb36": user_pk_to_url_str(user), "key": key},
        )
        how = "Choose your password"
    send_mail(
        subject=f"You have been added to {membership.workspace.name} on SupportOps",
        message=(
            f"{inviter} added you to {membership.workspace.name} on SupportOps as "
            f"{membership.get_role_display().lower()}.\n\n{how}: {link}\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


@transaction.atomic
def member_role_change(*, membership: Membership, role: str, actor: Actor) -> Membership:
    _role_check(role)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == role:
        return membership
    _keeps_an_admin(membership, role)
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_log_write(
        workspace=membership.workspace,
        actor=actor,
        action="member.role_change",
        target=membership,
        details={"email": membership.user.email, "role": {"from": before, "to": role}},
    )
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, actor: Actor) -> None:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    _keeps_an_admin(membership, None)
    audit_log_write(
        workspace=membership.workspace,
        actor=actor,
        action="member.remove",
        target=membership,
        details={"email": membership.user.email, "role": membership.role},
    )
    membership.delete()


# --- The widget signing secret -------------------------------------------------------------


@transaction.atomic
def workspace_secret_rotate(*, workspace: Workspace, actor: Actor) -> Workspace:
    """A new signing secret; the current one keeps verifying signatures for
    WIDGET_SECRET_OVERLAP_HOURS so host sites can switch without breaking (a secret already
    in its overlap window is dropped: only two are ever valid)."""
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    until = timezone.now() + timedelta(hours=settings.WIDGET_SECRET_OVERLAP_HOURS)
    dropped = bool(workspace.secret_previous)
    workspace.secret_previous = workspace.secret
    workspace.secret_previous_until = until
    workspace.secret = secrets.token_urlsafe(32)
    workspace.save(update_fields=["secret", "secret_previous", "secret_previous_until"])
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action="widget.secret_rotate",
        target=workspace,
        details={
            "previous_valid_until": until.isoformat(),
            "older_secret_retired": dropped,
        },
    )
    return workspace


@transaction.atomic
def workspace_secret_previous_retire(*, workspace: Workspace, actor: Actor) -> Workspace:
    """Stop accepting the previous secret now (every host site uses the new one)."""
    workspace = Workspace.objects.select_for_update().get(pk=workspace.pk)
    if not workspace.secret_previous:
        return workspace
    workspace.secret_previous = ""
    workspace.secret_previous_until = None
    workspace.save(update_fields=["secret_previous", "secret_previous_until"])
    audit_log_write(
        workspace=workspace, actor=actor, action="widget.secret_retire_previous", target=workspace
    )
    return workspace


def workspace_delete_scratch(*, workspace: Workspace) -> None:
    if not workspace.is_scratch:
        raise ValueError("only scratch workspaces are deleted by evaluation commands")
    workspace.delete()
