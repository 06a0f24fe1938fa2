from __future__ import annotations

from django.contrib import admin

from supportops.accounts.admin import AuditedModelAdmin
from supportops.accounts.selectors import secret_masked

from .models import (
    Conversation,
    ConversationEvent,
    CsatRequest,
    CsatResponse,
    Customer,
    EmailChannel,
    Message,
    Order,
    SweepDay,
)


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


@admin.register(EmailChannel)
class EmailChannelAdmin(AuditedModelAdmin):
    list_display = ["workspace", "address", "updated_at"]
    search_fields = ["address"]
    # The inbound secret authenticates the webhook: shown masked, like the widget secrets.
    exclude = ["inbound_secret"]
    readonly_fields = ["inbound_secret_masked"]

    @admin.display(description="inbound secret")
    def inbound_secret_masked(self, obj: EmailChannel) -> str:
        return secret_masked(obj.inbound_secret) if obj.pk else "(made when saved)"


@admin.register(CsatRequest)
class CsatRequestAdmin(AuditedModelAdmin):
    list_display = ["conversation", "channel", "asked_at", "answered_at", "score"]
    list_filter = ["channel"]
    raw_id_fields = ["conversation"]


@admin.register(ConversationEvent)
class ConversationEventAdmin(AuditedModelAdmin):
    """Read-only: the event log is append-only."""

    list_display = ["conversation", "kind", "at"]
    list_filter = ["kind"]
    raw_id_fields = ["conversation"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(SweepDay)
class SweepDayAdmin(AuditedModelAdmin):
    """What the sweeper queued again, per day (operators' view; written only by the sweeper)."""

    list_display = ["day", "bot_turns", "packets", "emails", "runs", "last_run_at"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
