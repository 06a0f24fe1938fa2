"""The Django admin is for operators (superusers and staff): workspace admins use the in-app
settings pages. Secrets are never shown or edited here (masked, with a rotate action), audit
rows are read-only, and every change made here is an audit row too."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from .models import AuditLog, Membership, Workspace
from .selectors import secret_masked
from .services import audit_log_write, workspace_secret_rotate


def _workspace_of(obj: Model) -> Workspace | None:
    if isinstance(obj, Workspace):
        return obj
    workspace = getattr(obj, "workspace", None)
    return workspace if isinstance(workspace, Workspace) else None


def _admin_audit(request: HttpRequest, obj: Model, action: str, change: Any = None) -> None:
    workspace = _workspace_of(obj)
    if action == "admin.delete" and isinstance(obj, Workspace):
        workspace = None  # its own rows go with it; keep this one for operators
    audit_log_write(
        workspace=workspace,
        actor=request.user,
        action=action,
        target=obj,
        details={
            "model": obj._meta.label_lower,
            "object": str(obj)[:200],
            "change": change if isinstance(change, list | str) else "",
            "via": "django admin",
        },
    )


class AuditedModelAdmin(admin.ModelAdmin):
    """Every add, change and delete made in the Django admin also writes an audit row in the
    object's workspace (Django's own admin log stays as well)."""

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        entry = super().log_addition(request, obj, message)
        _admin_audit(request, obj, "admin.add", message)
        return entry

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        entry = super().log_change(request, obj, message)
        _admin_audit(request, obj, "admin.change", message)
        return entry

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            _admin_audit(request, obj, "admin.delete")
        return super().log_deletions(request, queryset)


@admin.register(Workspace)
class WorkspaceAdmin(AuditedModelAdmin):
    list_display = ["name", "slug", "is_scratch", "created_at"]
    search_fields = ["name", "slug"]
    fields = ["name", "slug", "public_key", "is_scratch", "signing_secret", "previous_secret"]
    readonly_fields = ["public_key", "signing_secret", "previous_secret"]
    actions = ["rotate_signing_secret"]

    @admin.display(description="widget signing secret")
    def signing_secret(self, obj: Workspace) -> str:
        return secret_masked(obj.secret) if obj.pk else "(made when saved)"

    @admin.display(description="previous secret")
    def previous_secret(self, obj: Workspace) -> str:
        if not obj.secret_previous or obj.secret_previous_until is None:
            return "(none)"
        until = obj.secret_previous_until.strftime("%Y-%m-%d %H:%M UTC")
        return f"{secret_masked(obj.secret_previous)}, accepted until {until}"

    @admin.action(description="Rotate the widget signing secret")
    def rotate_signing_secret(self, request: HttpRequest, queryset: QuerySet[Workspace]) -> None:
        for workspace in queryset:
            workspace_secret_rotate(workspace=workspace, actor=request.user)
        self.message_user(
            request,
            f"Rotated {queryset.count()} signing secret(s); the previous ones stay valid for the "
            "overlap window. Workspace admins copy the new secret from Settings \u2192 Widget.",
            messages.SUCCESS,
        )


@admin.register(Membership)
class MembershipAdmin(AuditedModelAdmin):
    list_display = ["user", "workspace", "role"]
    list_filter = ["role"]


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Read-only: audit rows are never added, changed or deleted by hand."""

    list_display = ["created_at", "workspace", "actor_label", "action", "target_type", "target_id"]
    list_filter = ["action"]
    search_fields = ["action", "actor_label", "target_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
