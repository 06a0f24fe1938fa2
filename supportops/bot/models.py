"""The bot's per-workspace settings, issue categories, and one BotTurn per decision."""

from __future__ import annotations

from django.db import models

from supportops.accounts.models import Workspace
from supportops.conversations.models import Conversation, Message

DEFAULT_GREETING = (
    "Hi, I'm {persona}, an AI assistant for {company}. I can answer most questions from our "
    "help centre and look up your orders. You can talk to a person at any time with the "
    "button above."
)
DEFAULT_HANDOFF_MESSAGE = (
    "I'm passing you to a person on our support team now. They will see everything we've "
    "discussed, so you won't need to repeat yourself."
)


class BotSettings(models.Model):
    """Persona, disclosure, and the escalation rules of one workspace (each can be switched off)."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="bot_settings"
    )
    persona_name = models.CharField(max_length=60, default="Tide")
    greeting = models.TextField(
        default=DEFAULT_GREETING,
        help_text="First message; must say it is an AI. {persona} and {company} are filled in.",
    )
    handoff_message = models.TextField(default=DEFAULT_HANDOFF_MESSAGE)
    enabled = models.BooleanField(default=True)

    explicit_request_enabled = models.BooleanField(default=True)
    frustration_enabled = models.BooleanField(default=True)
    frustration_threshold = models.FloatField(
        default=0.9, help_text="negative probability of one message that hands off"
    )
    high_stakes_enabled = models.BooleanField(default=True)
    high_stakes_categories = models.JSONField(
        default=list, blank=True, help_text="extra category names treated as high stakes"
    )
    turn_limit_enabled = models.BooleanField(default=True)
    max_customer_turns = models.PositiveSmallIntegerField(default=5)
    repeat_similarity = models.FloatField(
        default=0.9, help_text="cosine above which a question counts as asked again"
    )
    low_confidence_enabled = models.BooleanField(default=True)
    min_retrieval_score = models.FloatField(
        default=0.3, help_text="best passage score below which a person takes over"
    )
    clarify_below = models.FloatField(
        default=0.45, help_text="best passage score below which the bot asks before answering"
    )
    vip_enabled = models.BooleanField(default=False)

    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "bot settings"

    def __str__(self) -> str:
        return f"bot settings of {self.workspace}"


class IssueCategory(models.Model):
    workspace = models.ForeignKey(
        Workspace, on_delete=models.CASCADE, related_name="issue_categories"
    )
    name = models.CharField(max_length=80)
    description = models.CharField(max_length=300, blank=True)
    is_high_stakes = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "issue categories"
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="issuecategory_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class CategoryExample(models.Model):
    """An example utterance or a labelled past ticket that trains the classifier."""

    class Source(models.TextChoices):
        WRITTEN = "written", "Written here"
        DEFAULT = "default", "Shipped default"
        TICKET = "ticket", "Imported ticket"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(IssueCategory, on_delete=models.CASCADE, related_name="examples")
    text = models.TextField()
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.WRITTEN)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.text[:60]


class BotTurn(models.Model):
    """One bot decision, unique per customer message (the idempotency key of the task).

    The row is claimed first (`pending`), the decision is computed outside any transaction,
    and then applied with the reply in one short transaction (`done`). A claim whose worker
    died goes stale and may be claimed again; whichever worker applies first wins.
    """

    class Action(models.TextChoices):
        ANSWER = "answer", "Answered"
        ESCALATE = "escalate", "Handed off"
        CLARIFY = "clarify", "Asked to clarify"
        SKIP = "skip", "Not for the bot"

    class Status(models.TextChoices):
        PENDING = "pending", "Being decided"
        DONE = "done", "Done"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="bot_turns"
    )
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="bot_turn")
    reply = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DONE)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    action = models.CharField(max_length=16, choices=Action.choices, blank=True)
    trigger = models.CharField(max_length=32, blank=True)
    triggers = models.JSONField(default=list, blank=True, help_text="every rule that fired")
    category = models.CharField(max_length=80, blank=True)
    category_confidence = models.FloatField(null=True, blank=True)
    sentiment = models.CharField(max_length=16, blank=True)
    negative_probability = models.FloatField(null=True, blank=True)
    retrieved = models.JSONField(default=list, blank=True)
    records = models.JSONField(default=list, blank=True, help_text="customer records looked up")
    scores = models.JSONField(default=dict, blank=True)
    provider = models.CharField(max_length=80, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=10, decimal_places=6, default=0)
    compute_ms = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["conversation", "status"],
                condition=models.Q(status="pending"),
                name="botturn_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"turn {self.pk}: {self.action or self.status}"
