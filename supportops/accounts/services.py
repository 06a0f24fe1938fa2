from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.utils.text import slugify

from .models import AuditLog, Membership, Role, Workspace

# Who did something: a logged-in user, or nobody (a command, the system, the bot).
Actor = AbstractBaseUser | AnonymousUser | None


def real_user(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) and actor.is_authenticated else None


def audit_log_write(
    *,
    workspace: Workspace,
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


@transaction.atomic
def membership_set(
    *, workspace: Workspace, email: str, role: str, actor: Actor = None
) -> Membership:
    """Add a user (created without a usable password if new) to a workspace, or change the role."""
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(Role.values)}")
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(username=email.lower()[:150], email=email.lower())
        user.set_unusable_password()
        user.save(update_fields=["password"])
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


def workspace_delete_scratch(*, workspace: Workspace) -> None:
    if not workspace.is_scratch:
        raise ValueError("only scratch workspaces are deleted by evaluation commands")
    workspace.delete()
