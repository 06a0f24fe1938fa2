"""The outcome ledger's rows: one Outcome per conversation, and each workspace's ledger
settings. The rules that fill them are in `ledger.py`."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from supportops.accounts.models import Workspace
from supportops.conversations.models import Conversation, Customer

DEFAULT_REPEAT_WINDOW_HOURS = 48


class AnalyticsSettings(models.Model):
    """Per-workspace settings of the measurement: how long after a conversation's last event
    a contact from the same customer about the same need counts as a repeat contact (and
    so how long an outcome stays provisional)."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="analytics_settings"
    )
    repeat_window_hours = models.PositiveIntegerField(
        default=DEFAULT_REPEAT_WINDOW_HOURS,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 30)],
        help_text="hours after a conversation's last event in which a contact about the same "
        "need is a repeat contact",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "analytics settings"

    def __str__(self) -> str:
        return f"analytics settings of {self.workspace}"


class Outcome(models.Model):
    """What really happened to one conversation (DESIGN.md, "Core model"). Recomputed from
    the conversation's events; provisional until the repeat-contact window has passed."""

    class Kind(models.TextChoices):
        RESOLVED_BY_BOT_CONFIRMED = "resolved_by_bot_confirmed", "Resolved by the bot, confirmed"
        RESOLVED_BY_BOT_UNCONFIRMED = (
            "resolved_by_bot_unconfirmed",
            "Resolved by the bot, unconfirmed",
        )
        RESOLVED_AFTER_HANDOFF = "resolved_after_handoff", "Resolved after handoff"
        RESOLVED_BY_HUMAN = "resolved_by_human", "Resolved by a person"
        NOT_RESOLVED = "not_resolved", "Not resolved"
        ABANDONED = "abandoned", "Abandoned"
        REPEAT_CONTACT = "repeat_contact", "Repeat contact"

    class Responder(models.TextChoices):
        BOT = "bot", "Bot"
        PERSON = "person", "Person"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="outcome"
    )
    outcome = models.CharField(max_length=32, choices=Kind.choices)
    final = models.BooleanField(default=False)
    final_at = models.DateTimeField(
        null=True, blank=True, help_text="when the window passed (last event + window)"
    )
    why = models.JSONField(default=dict, blank=True)

    # Denormalised for the readout and the dashboards (group and filter without joins).
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16)
    arm = models.CharField(max_length=16)
    category = models.CharField(max_length=80, blank=True)
    resolution = models.CharField(max_length=16, blank=True, help_text="a person's resolution")
    first_handoff_trigger = models.CharField(max_length=32, blank=True)
    contained = models.BooleanField(help_text="no person took part")
    bot_answered = models.BooleanField()
    started_at = models.DateTimeField()
    last_event_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_by = models.CharField(max_length=8, choices=Responder.choices, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    repeat_conversation = models.ForeignKey(
        Conversation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the later conversation about the same need (repeat contacts)",
    )
    repeat_similarity = models.FloatField(null=True, blank=True)
    # The need this conversation was about (first question, articles, category), kept so a
    # later conversation is compared against the same reading, whatever the help centre
    # looks like by then.
    need = models.JSONField(default=dict, blank=True)

    as_of = models.DateTimeField(help_text="the time the ledger was read at")
    computed_at = models.DateTimeField()
    # The newest event and message the computation saw: the sweep recomputes when newer exist.
    seen_event_id = models.BigIntegerField(default=0)
    seen_message_id = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "started_at"], name="outcome_ws_started_idx"),
            models.Index(
                fields=["workspace", "arm", "started_at"], name="outcome_ws_arm_started_idx"
            ),
            models.Index(fields=["workspace", "outcome"], name="outcome_ws_outcome_idx"),
            models.Index(
                fields=["final", "last_event_at"],
                condition=models.Q(final=False),
                name="outcome_provisional_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} ({'final' if self.final else 'provisional'})"
