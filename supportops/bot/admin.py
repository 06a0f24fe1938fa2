from __future__ import annotations

from django.contrib import admin

from supportops.accounts.admin import AuditedModelAdmin

from .models import BotSettings, BotTurn, CategoryExample, IssueCategory


@admin.register(BotSettings)
class BotSettingsAdmin(AuditedModelAdmin):
    list_display = ["workspace", "persona_name", "enabled", "updated_at"]


@admin.register(IssueCategory)
class IssueCategoryAdmin(AuditedModelAdmin):
    list_display = ["name", "workspace", "is_high_stakes", "created_at"]
    list_filter = ["is_high_stakes"]
    search_fields = ["name"]


@admin.register(CategoryExample)
class CategoryExampleAdmin(AuditedModelAdmin):
    list_display = ["text", "category", "source", "created_at"]
    list_filter = ["source"]
    list_select_related = ["category"]
    search_fields = ["text"]
    raw_id_fields = ["category"]


@admin.register(BotTurn)
class BotTurnAdmin(AuditedModelAdmin):
    list_display = ["pk", "workspace", "action", "trigger", "category", "created_at"]
    list_filter = ["action", "trigger"]
    raw_id_fields = ["conversation", "message", "reply"]
