from __future__ import annotations

from django.contrib import admin

from .models import Assignment, Phase, Plan, RolloutSettings, SuiteCase, SuiteRun


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("name", "workspace", "created_at")


@admin.register(Phase)
class PhaseAdmin(admin.ModelAdmin):
    list_display = ("name", "plan", "status", "control_share", "went_live_at")
    list_filter = ("status",)
    # Status changes go through the services (suite gating, audit): read-only here.
    readonly_fields = ("status", "went_live_at", "paused_at", "completed_at")


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ("conversation", "arm", "phase", "start", "bucket")
    list_filter = ("arm", "start")


@admin.register(RolloutSettings)
class RolloutSettingsAdmin(admin.ModelAdmin):
    list_display = ("workspace", "bot_paused", "suite_pass_threshold")
    exclude = ("assignment_key",)
    readonly_fields = ("bot_paused", "paused_at", "paused_by", "paused_reason")


admin.site.register(SuiteCase)
admin.site.register(SuiteRun)
