from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from supportops.accounts.admin import AuditedModelAdmin
from supportops.conversations.services import ConversationError

from .models import WidgetSettings
from .services import widget_origins_clean


class WidgetSettingsForm(forms.ModelForm):
    allowed_origins = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="One origin per line, e.g. https://shop.example (scheme and host only).",
    )

    class Meta:
        model = WidgetSettings
        fields = ["workspace", "title", "accent_color", "allowed_origins"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["allowed_origins"] = "\n".join(self.instance.allowed_origins)

    def clean_allowed_origins(self) -> list[str]:
        try:
            return widget_origins_clean(self.cleaned_data["allowed_origins"].split())
        except ConversationError as exc:
            raise forms.ValidationError(str(exc)) from exc


@admin.register(WidgetSettings)
class WidgetSettingsAdmin(AuditedModelAdmin):
    form = WidgetSettingsForm
    list_display = ["workspace", "title", "origins", "updated_at"]
    search_fields = ["workspace__name", "workspace__slug"]

    @admin.display(description="allowed origins")
    def origins(self, obj: WidgetSettings) -> str:
        return ", ".join(obj.allowed_origins) or "(only the app itself)"
