"""Per-workspace widget settings: which websites may embed it, and how it looks."""

from __future__ import annotations

from django.db import models

from supportops.accounts.models import Workspace


class WidgetSettings(models.Model):
    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="widget_settings"
    )
    # Exact origins ("https://shop.example", "http://localhost:8000"); others are refused.
    allowed_origins = models.JSONField(default=list, blank=True)
    title = models.CharField(max_length=60, default="Support")
    accent_color = models.CharField(max_length=7, default="#0f766e")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "widget settings"

    def __str__(self) -> str:
        return f"widget of {self.workspace}"
