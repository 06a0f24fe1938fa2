from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "supportops.accounts"
    label = "accounts"

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the security-event audit receivers)
