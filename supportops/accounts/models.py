from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


def _public_key() -> str:
    return "pk_" + secrets.token_urlsafe(18)


def _secret() -> str:
    return secrets.token_urlsafe(32)


class Workspace(models.Model):
    """One support organisation; every business row belongs to exactly one."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    public_key = models.CharField(max_length=40, unique=True, default=_public_key)
    # The widget signing secret. After a rotation the previous one keeps verifying customer
    # signatures until `secret_previous_until` (or until an admin retires it), so host sites
    # can switch over without breaking. Never shown in full anywhere (see widget settings).
    secret = models.CharField(max_length=64, default=_secret)
    secret_previous = models.CharField(max_length=64, blank=True, default="")
    secret_previous_until = models.DateTimeField(null=True, blank=True)
    is_scratch = models.BooleanField(default=False, help_text="Created by an evaluation command.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    AGENT = "agent", "Agent"
    FINANCE = "finance", "Finance"


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} as {self.role}"


class AuditLogReadOnly(Exception):
    """Audit rows are written once and never changed or deleted one by one."""


class AuditLogQuerySet(models.QuerySet["AuditLog"]):
    # Deleting a workspace still removes its rows: Django's cascade does not go through
    # these methods. A database trigger (migration 0002) refuses any other UPDATE too.
    def update(self, **kwargs: object) -> int:
        raise AuditLogReadOnly("audit rows cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditLogReadOnly("audit rows cannot be deleted")


class AuditLog(models.Model):
    """Who changed what, when: rules, phases, articles, members, secrets, actions taken by the
    bot, and security events (sign-ins, failed sign-ins, two-factor and password changes,
    refused widget signatures, rate-limit hits). Append-only."""

    # Empty only for sign-in events of an address that belongs to no workspace (operators
    # see those in the Django admin); a member's events get one row per workspace.
    workspace = models.ForeignKey(
        Workspace, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_logs"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(max_length=120, blank=True, help_text="e.g. 'bot', 'import'")
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=60, blank=True)
    target_id = models.CharField(max_length=60, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise AuditLogReadOnly("audit rows cannot be changed")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AuditLogReadOnly("audit rows cannot be deleted")
