from __future__ import annotations

from django.apps import AppConfig


class WidgetConfig(AppConfig):
    name = "supportops.widget"
    label = "widget"
