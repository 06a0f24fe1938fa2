from __future__ import annotations

from django.contrib import admin

from supportops.accounts.admin import AuditedModelAdmin

from .models import Article, ArticleVersion, Category, ImportJob


@admin.register(Article)
class ArticleAdmin(AuditedModelAdmin):
    list_display = ["title", "workspace", "category", "status", "index_state", "updated_at"]
    list_filter = ["status", "index_state"]
    search_fields = ["title", "external_id"]


admin.site.register(Category, AuditedModelAdmin)
admin.site.register(ArticleVersion, AuditedModelAdmin)
admin.site.register(ImportJob, AuditedModelAdmin)
