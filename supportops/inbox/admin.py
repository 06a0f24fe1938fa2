from __future__ import annotations

from django.contrib import admin

from supportops.accounts.admin import AuditedModelAdmin

from .models import AgentStatus, BusinessHours, Handoff, InternalNote, Queue, Routing, SlaPolicy


@admin.register(AgentStatus)
class AgentStatusAdmin(AuditedModelAdmin):
    list_display = ["user", "workspace", "status", "max_open", "updated_at"]
    list_filter = ["status"]


@admin.register(Queue)
class QueueAdmin(AuditedModelAdmin):
    list_display = ["name", "workspace", "required_skill", "is_default"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(AuditedModelAdmin):
    list_display = ["workspace", "priority", "first_reply_minutes", "resolution_minutes"]


@admin.register(Routing)
class RoutingAdmin(AuditedModelAdmin):
    list_display = ["handoff", "queue", "priority", "assigned_at", "first_reply_due"]
    list_filter = ["priority"]
    raw_id_fields = ["handoff"]


@admin.register(InternalNote)
class InternalNoteAdmin(AuditedModelAdmin):
    list_display = ["conversation", "author", "created_at"]
    raw_id_fields = ["conversation"]


@admin.register(BusinessHours)
class BusinessHoursAdmin(AuditedModelAdmin):
    list_display = ["workspace", "enabled", "timezone", "updated_at"]


@admin.register(Handoff)
class HandoffAdmin(AuditedModelAdmin):
    list_display = ["pk", "conversation", "trigger", "status", "assignee", "created_at"]
    list_filter = ["trigger", "status"]
    raw_id_fields = ["conversation", "assignee"]
