from __future__ import annotations

from django.contrib import admin

from .models import AnalyticsSettings, Outcome


@admin.register(AnalyticsSettings)
class AnalyticsSettingsAdmin(admin.ModelAdmin):
    list_display = ["workspace", "repeat_window_hours", "updated_at"]


@admin.register(Outcome)
class OutcomeAdmin(admin.ModelAdmin):
    """Read-only: the ledger computes these rows."""

    list_display = ["conversation", "outcome", "final", "channel", "arm", "started_at"]
    list_filter = ["outcome", "final", "channel", "arm"]
    raw_id_fields = ["conversation", "customer", "repeat_conversation"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
