from __future__ import annotations

from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "supportops.inbox"
    label = "inbox"
