from __future__ import annotations

from django.contrib import admin

from .models import AnalyticsSettings, ConversationAnalysis, ConversationCost, Outcome


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


@admin.register(ConversationCost)
class ConversationCostAdmin(admin.ModelAdmin):
    """Read-only: `costs.py` computes these rows; prices change on the price table page."""

    list_display = ["conversation", "total_usd", "model_usd", "agent_usd", "unpriced"]
    raw_id_fields = ["conversation"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(ConversationAnalysis)
class ConversationAnalysisAdmin(admin.ModelAdmin):
    """Read-only: `analysis.py` computes these rows."""

    list_display = ["conversation", "overall", "trend", "category", "answers_rejected"]
    list_filter = ["overall", "trend"]
    raw_id_fields = ["conversation"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
