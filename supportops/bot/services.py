"""Bot settings, categories, and the bot turn."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from supportops.accounts.models import Workspace
from supportops.accounts.services import Actor, audit_log_write

from .models import BotSettings


def bot_settings_get(*, workspace: Workspace) -> BotSettings:
    settings, _ = BotSettings.objects.get_or_create(workspace=workspace)
    return settings


def bot_greeting(*, workspace: Workspace, settings: BotSettings | None = None) -> str:
    settings = settings or bot_settings_get(workspace=workspace)
    return settings.greeting.replace("{persona}", settings.persona_name).replace(
        "{company}", workspace.name
    )


# --- Editing the settings (the bot settings page) ---------------------------------------------

# Words that tell a customer they are not talking to a person, in a few languages.
_AI_DISCLOSURE = re.compile(r"\bA\.?I\b|\bKI\b|\bIA\b")  # upper case only: not "ai" in words
_AI_DISCLOSURE_WORDS = re.compile(
    r"\b(?:assistant|assistent|assistente|asistente|bot|chat\s*bot|robot|virtual\s+agent|"
    r"automated|artificial\s+intelligence)\b",
    re.I,
)
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
GREETING_PLACEHOLDERS = ("persona", "company")

# Editable settings and the range each number must fall in.
BOT_SETTINGS_FIELDS = (
    "enabled",
    "persona_name",
    "greeting",
    "handoff_message",
    "explicit_request_enabled",
    "frustration_enabled",
    "frustration_threshold",
    "high_stakes_enabled",
    "turn_limit_enabled",
    "max_customer_turns",
    "repeat_similarity",
    "low_confidence_enabled",
    "min_retrieval_score",
    "clarify_below",
    "vip_enabled",
)
BOT_SETTINGS_RANGES: dict[str, tuple[float, float]] = {
    "frustration_threshold": (0.5, 0.99),
    "max_customer_turns": (1, 50),
    "repeat_similarity": (0.5, 1.0),
    "min_retrieval_score": (0.0, 1.0),
    "clarify_below": (0.0, 1.0),
}


class BotSettingsError(ValueError):
    """A setting was refused; `field` names it, the message says what to change."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def greeting_discloses_ai(text: str) -> bool:
    """Does the greeting say it is an AI ("AI", "assistant", "bot", ...)?"""
    return bool(_AI_DISCLOSURE.search(text) or _AI_DISCLOSURE_WORDS.search(text))


def greeting_problem(text: str) -> str | None:
    """Why the greeting cannot be used, or None."""
    if not text.strip():
        return "The greeting is empty."
    if not greeting_discloses_ai(text):
        return (
            "The greeting must tell customers they are talking to an AI, before anything "
            "else: include “AI”, “assistant” or “bot” (for example “Hi, I'm {persona}, an AI "
            "assistant for {company}”)."
        )
    unknown = sorted({p for p in _PLACEHOLDER.findall(text) if p not in GREETING_PLACEHOLDERS})
    if unknown:
        return (
            f"Unknown placeholder {{{unknown[0]}}}: only {{persona}} and {{company}} are filled in."
        )
    return None


def _settings_check(values: dict[str, Any]) -> None:
    for name, (low, high) in BOT_SETTINGS_RANGES.items():
        if name in values and not low <= values[name] <= high:
            raise BotSettingsError(name, f"Choose a value from {low:g} to {high:g}.")
    if "persona_name" in values and not str(values["persona_name"]).strip():
        raise BotSettingsError("persona_name", "The assistant needs a name.")
    if "greeting" in values:
        problem = greeting_problem(values["greeting"])
        if problem:
            raise BotSettingsError("greeting", problem)
    if "handoff_message" in values and not str(values["handoff_message"]).strip():
        raise BotSettingsError(
            "handoff_message", "Tell the customer what happens when a person takes over."
        )


@transaction.atomic
def bot_settings_update(*, workspace: Workspace, actor: Actor, **values: Any) -> BotSettings:
    """Change some settings; audits each changed field with its value before and after."""
    unknown = set(values) - set(BOT_SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"not editable here: {', '.join(sorted(unknown))}")
    for key in ("persona_name", "greeting", "handoff_message"):
        if key in values:
            values[key] = str(values[key]).strip()
    _settings_check(values)
    bot_settings_get(workspace=workspace)  # make sure the row exists before locking it
    settings = BotSettings.objects.select_for_update().get(workspace=workspace)
    changes = {
        key: {"before": getattr(settings, key), "after": value}
        for key, value in values.items()
        if getattr(settings, key) != value
    }
    if not changes:
        return settings
    for key, change in changes.items():
        setattr(settings, key, change["after"])
    if settings.clarify_below < settings.min_retrieval_score:
        raise BotSettingsError(
            "clarify_below",
            "“Ask before answering below” must be at least the minimum retrieval score.",
        )
    settings.save(update_fields=[*changes, "updated_at"])
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action="bot_settings.update",
        target=settings,
        details={"changes": changes},
    )
    return settings
