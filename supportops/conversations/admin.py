from __future__ import annotations

from django.contrib import admin

from supportops.accounts.admin import AuditedModelAdmin

from .models import Conversation, CsatResponse, Customer, Message, Order


@admin.register(Customer)
class CustomerAdmin(AuditedModelAdmin):
    list_display = ["__str__", "workspace", "external_id", "email", "plan", "is_vip"]
    list_filter = ["is_vip"]
    search_fields = ["name", "email", "external_id"]


@admin.register(Order)
class OrderAdmin(AuditedModelAdmin):
    list_display = ["number", "workspace", "customer", "status", "placed_at", "total"]
    list_filter = ["status"]
    search_fields = ["number"]
    raw_id_fields = ["customer"]


@admin.register(Conversation)
class ConversationAdmin(AuditedModelAdmin):
    list_display = ["pk", "workspace", "customer", "status", "arm", "category", "created_at"]
    list_filter = ["status", "arm", "channel"]
    raw_id_fields = ["customer"]
    exclude = ["token_hash"]


@admin.register(Message)
class MessageAdmin(AuditedModelAdmin):
    list_display = ["pk", "conversation", "author", "kind", "created_at"]
    list_filter = ["author", "kind"]
    raw_id_fields = ["conversation", "agent"]


@admin.register(CsatResponse)
class CsatResponseAdmin(AuditedModelAdmin):
    list_display = ["conversation", "score", "created_at"]
    raw_id_fields = ["conversation"]
