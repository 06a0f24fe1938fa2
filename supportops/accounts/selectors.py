from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from .models import AuditLog, Membership, Workspace


def membership_get(*, user: User | AnonymousUser, workspace_slug: str) -> Membership:
    """The user's membership in the workspace; 404 (not 403) so outsiders learn nothing."""
    if not user.is_authenticated:
        raise Http404("workspace not found")
    membership = (
        Membership.objects.select_related("workspace")
        .filter(user=user, workspace__slug=workspace_slug)
        .first()
    )
    if membership is None:
        raise Http404("workspace not found")
    return membership


def memberships_for_user(*, user: User | AnonymousUser) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return (
        Membership.objects.select_related("workspace")
        .filter(user=user, workspace__is_scratch=False)
        .order_by("workspace__name")
    )


def workspace_get_by_slug(*, slug: str) -> Workspace | None:
    return Workspace.objects.filter(slug=slug).first()


def workspace_secrets_valid(*, workspace: Workspace, now: datetime | None = None) -> list[str]:
    """The secrets a customer signature may be made with right now: the current one, and the
    previous one during its overlap window."""
    now = now or timezone.now()
    valid = [workspace.secret]
    until = workspace.secret_previous_until
    if workspace.secret_previous and until is not None and until > now:
        valid.append(workspace.secret_previous)
    return valid


def secret_masked(secret: str) -> str:
    """Enough to tell two secrets apart, never enough to use one."""
    return "\u2022" * 8 + secret[-4:] if len(secret) > 12 else "\u2022" * 8


def members_list(*, workspace: Workspace) -> list[Membership]:
    return list(
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .order_by("user__email")
    )


def membership_get_in_workspace(*, workspace: Workspace, membership_id: int) -> Membership:
    membership = (
        Membership.objects.select_related("user", "workspace")
        .filter(workspace=workspace, pk=membership_id)
        .first()
    )
    if membership is None:
        raise Http404("member not found")
    return membership


# Groups of audit actions for the audit page's filter: label -> action prefixes.
AUDIT_GROUPS: dict[str, tuple[str, ...]] = {
    "Sign-ins and security": ("login", "logout", "password.", "mfa."),
    "Members and roles": ("member.", "membership.", "workspace."),
    "Widget and keys": ("widget.",),
    "Knowledge base": ("article.",),
    "Bot settings and categories": ("bot_settings.", "category."),
    "Inbox, queues and hours": ("inbox.", "agent."),
    "Conversations": ("conversation.", "handoff.", "copilot."),
    "Django admin (operators)": ("admin.",),
}


def audit_log_list(
    *,
    workspace: Workspace,
    group: str = "",
    action: str = "",
    actor: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditLog]:
    """The workspace's audit rows, newest first, filtered (read-only; admins only)."""
    rows = AuditLog.objects.filter(workspace=workspace).select_related("actor")
    prefixes = AUDIT_GROUPS.get(group)
    if prefixes:
        match = Q()
        for prefix in prefixes:
            match |= Q(action__startswith=prefix)
        rows = rows.filter(match)
    if action:
        rows = rows.filter(action=action)
    if actor:
        rows = rows.filter(actor_label__icontains=actor)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    return rows.order_by("-created_at", "-pk")
