from __future__ import annotations

from django.contrib import admin

from .models import BotSettings, BotTurn, CategoryExample, IssueCategory


@admin.register(BotSettings)
class BotSettingsAdmin(admin.ModelAdmin):
    list_display = ["workspace", "persona_name", "enabled", "updated_at"]


@admin.register(IssueCategory)
class IssueCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "workspace", "is_high_stakes", "created_at"]
    list_filter = ["is_high_stakes"]
    search_fields = ["name"]


@admin.register(CategoryExample)
class CategoryExampleAdmin(admin.ModelAdmin):
    list_display = ["text", "category", "source", "created_at"]
    list_filter = ["source"]
    list_select_related = ["category"]
    search_fields = ["text"]
    raw_id_fields = ["category"]


@admin.register(BotTurn)
class BotTurnAdmin(admin.ModelAdmin):
    list_display = ["pk", "workspace", "action", "trigger", "category", "created_at"]
    list_filter = ["action", "trigger"]
    raw_id_fields = ["conversation", "message", "reply"]
