from __future__ import annotations

from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "supportops.conversations"
    label = "conversations"

    def ready(self) -> None:
        # Registers the one redaction function with the provider clients below the text
        # package (integrations.modeltext), so every process has it before any provider
        # call; without it the embeddings client refuses to send anything.
        from supportops.text import clearing  # noqa: F401
