"""The outcome ledger's rows: one Outcome per conversation, and each workspace's ledger
settings. The rules that fill them are in `ledger.py`."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from supportops.accounts.models import Workspace
from supportops.conversations.models import Conversation, Customer
from supportops.inbox.models import Queue

DEFAULT_REPEAT_WINDOW_HOURS = 48
DEFAULT_IDLE_GAP_MINUTES = 10
EXTRACTIVE = "extractive"


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
    idle_gap_minutes = models.PositiveIntegerField(
        default=DEFAULT_IDLE_GAP_MINUTES,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text="a pause longer than this between two events of a handled conversation is "
        "idle time and not counted as handling time",
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
            # The rollups' watermark: outcomes recomputed since the last build.
            models.Index(fields=["workspace", "computed_at"], name="outcome_ws_computed_idx"),
            models.Index(
                fields=["final", "last_event_at"],
                condition=models.Q(final=False),
                name="outcome_provisional_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} ({'final' if self.final else 'provisional'})"


class ModelPrice(models.Model):
    """What one provider and model costs, from a date on. A price is never edited in place:
    a new row from a later date changes it, so conversations before that date keep the
    price they were costed at (a row with the same date replaces that one, audited)."""

    class Provider(models.TextChoices):
        EXTRACTIVE = EXTRACTIVE, "Extractive (built in, costs its compute)"
        OPENAI = "openai", "OpenAI-compatible model"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    model = models.CharField(max_length=120, blank=True, help_text="empty for extractive")
    input_per_mtok = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    output_per_mtok = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    per_thousand_turns = models.DecimalField(
        max_digits=12, decimal_places=6, default=0, help_text="compute per 1,000 bot turns"
    )
    effective_from = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["provider", "model", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "provider", "model", "effective_from"],
                name="modelprice_unique_from",
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} from {self.effective_from}"

    @property
    def key(self) -> str:
        """The name a bot turn records for this provider (`BotTurn.provider`)."""
        return EXTRACTIVE if self.provider == EXTRACTIVE else f"{self.provider}:{self.model}"


class HandlingRate(models.Model):
    """What an hour of a person's handling costs, from a date on: for one agent, for a team
    (an inbox queue), or the workspace's default (neither). The most specific rate in effect
    applies; like prices, rates change by a new row from a date."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    queue = models.ForeignKey(
        Queue, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    hourly_cost = models.DecimalField(max_digits=10, decimal_places=2)
    effective_from = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(agent__isnull=True) | models.Q(queue__isnull=True),
                name="handlingrate_agent_or_team",
            ),
            models.UniqueConstraint(
                fields=["workspace", "agent", "queue", "effective_from"],
                name="handlingrate_unique_from",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hourly_cost}/h for {self.applies_to} from {self.effective_from}"

    @property
    def applies_to(self) -> str:
        if self.agent_id:
            return f"agent {self.agent}"
        if self.queue_id:
            return f"team {self.queue}"
        return "everyone (default)"


class ConversationCost(models.Model):
    """A conversation's cost in total, with what the computation saw (the sweep recomputes
    when the ledger saw newer events or messages). Its parts are the CostLines."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="cost")
    model_usd = models.DecimalField(max_digits=14, decimal_places=8, default=0)
    agent_usd = models.DecimalField(max_digits=14, decimal_places=8, default=0)
    total_usd = models.DecimalField(max_digits=14, decimal_places=8, default=0)
    handling_seconds = models.PositiveIntegerField(default=0)
    unpriced = models.BooleanField(
        default=False, help_text="some turn or handling time had no price or rate in effect"
    )
    seen_event_id = models.BigIntegerField(default=0)
    seen_message_id = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [
            # The rollups' watermark: costs recomputed since the last build.
            models.Index(fields=["workspace", "computed_at"], name="convcost_ws_computed_idx"),
        ]

    def __str__(self) -> str:
        return f"cost of conversation {self.conversation_id}: {self.total_usd}"


class CostLine(models.Model):
    """One part of a conversation's cost (see `costs.py` for the contract dashboards read):
    bot turns of one provider at one price, or one agent's handling time at one rate."""

    class Kind(models.TextChoices):
        MODEL = "model", "Model"
        AGENT = "agent", "Agent handling"
        COPILOT = "copilot", "Co-pilot"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="cost_lines"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    key = models.CharField(max_length=160, help_text="provider key, or 'agent:<user id>'")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    turns = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    seconds = models.PositiveIntegerField(default=0)
    price = models.ForeignKey(
        ModelPrice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rate = models.ForeignKey(
        HandlingRate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount_usd = models.DecimalField(max_digits=14, decimal_places=8)
    # Denormalised from the conversation so dashboards group without joins.
    started_at = models.DateTimeField()
    channel = models.CharField(max_length=16)
    arm = models.CharField(max_length=16)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["conversation_id", "kind", "key", "id"]
        indexes = [
            models.Index(fields=["workspace", "started_at"], name="costline_ws_started_idx"),
            models.Index(fields=["conversation", "kind"], name="costline_conv_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}: {self.amount_usd}"


class ConversationAnalysis(models.Model):
    """What a finished or quiet conversation was like (`analysis.py`): sentiment per
    customer message and overall, its trend, the issue category, whether answers were
    rejected, the knowledge gap when the bot could not answer with confidence, and a
    one-line extractive summary. Holds no customer text but the redacted question."""

    class Trend(models.TextChoices):
        IMPROVING = "improving", "Improving"
        WORSENING = "worsening", "Worsening"
        STEADY = "steady", "Steady"
        SINGLE = "single", "One message"
        NONE = "none", "No customer message"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="analysis"
    )
    # [{"message_id", "label", "negative", "positive"}] in message order
    sentiments = models.JSONField(default=list, blank=True)
    overall = models.CharField(max_length=16, blank=True)
    overall_score = models.FloatField(default=0.0, help_text="mean of positive - negative")
    trend = models.CharField(max_length=16, choices=Trend.choices, default=Trend.NONE)
    category = models.CharField(max_length=80, blank=True)
    answers_rejected = models.PositiveSmallIntegerField(default=0)
    knowledge_gap = models.CharField(max_length=200, blank=True)
    gap_question = models.TextField(blank=True, help_text="redacted")
    summary = models.CharField(max_length=300)
    seen_event_id = models.BigIntegerField(default=0)
    seen_message_id = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "conversation analyses"

    def __str__(self) -> str:
        return f"analysis of conversation {self.conversation_id}"


class ThemeReport(models.Model):
    """The themes of one period's first customer messages, found in Celery
    (`theme_reports.py`) with its progress, never in a request."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    since = models.DateField()
    until = models.DateField(help_text="exclusive")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="percent")
    step = models.CharField(max_length=120, blank=True)
    # {"n", "method", "themes": [{"label", "size", "examples", "conversation_ids",
    #   "not_resolved", "repeat_contact", "share_not_resolved", "share_repeat_contact",
    #   "previous", "change", "unanswered", "unanswered_examples"}]}
    result = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"themes {self.since}..{self.until} ({self.status})"


# --- Daily rollups (see rollups.py for what each column counts and how they are built) ----------

HISTOGRAM_BUCKETS = 98  # rollups.py: bucket 0 is < 1 s, bucket k covers [2^((k-1)/4), 2^(k/4)) s


def _empty_histogram() -> list[int]:
    return [0] * HISTOGRAM_BUCKETS


class RollupState(models.Model):
    """Where a workspace's rollups stand: the time zone its days were cut in and the
    watermark (every change to the ledger before it, less a safety margin, is rolled up)."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="rollup_state"
    )
    timezone = models.CharField(max_length=64, blank=True)
    watermark = models.DateTimeField(null=True, blank=True)
    built_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"rollups of {self.workspace} up to {self.watermark}"


class RollupDay(models.Model):
    """One day (in the workspace's time zone) whose rollups are built; a past day without
    this row is computed live by the dashboards."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    built_at = models.DateTimeField()
    outcomes = models.PositiveIntegerField(default=0, help_text="outcome rows started that day")
    conversations = models.PositiveIntegerField(
        default=0, help_text="conversations created that day (the cost rollup's basis)"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "day"], name="rollupday_unique_day")
        ]

    def __str__(self) -> str:
        return f"rollup day {self.day}"


class RollupCounts(models.Model):
    """The additive counts of a group of outcome rows (rollups.py says what each counts)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    arm = models.CharField(max_length=16)
    channel = models.CharField(max_length=16)
    category = models.CharField(max_length=80, blank=True)
    contained = models.BooleanField()

    conversations = models.PositiveIntegerField(default=0)
    final = models.PositiveIntegerField(default=0)
    fcr = models.PositiveIntegerField(default=0)
    confirmed = models.PositiveIntegerField(default=0)
    bot_confirmed = models.PositiveIntegerField(default=0)
    repeat = models.PositiveIntegerField(default=0)
    abandoned = models.PositiveIntegerField(default=0)
    escalated = models.PositiveIntegerField(default=0)
    triggers = models.JSONField(default=dict, blank=True, help_text="{first trigger: count}")
    csat_asked = models.PositiveIntegerField(default=0)
    csat_answered = models.PositiveIntegerField(default=0)
    csat_scored = models.PositiveIntegerField(default=0)
    csat_score_sum = models.PositiveIntegerField(default=0)
    csat_satisfied = models.PositiveIntegerField(default=0)
    first_response_bot = ArrayField(models.IntegerField(), default=_empty_histogram)
    first_response_person = ArrayField(models.IntegerField(), default=_empty_histogram)
    resolution = ArrayField(models.IntegerField(), default=_empty_histogram)

    class Meta:
        abstract = True


class DailyRollup(RollupCounts):
    """The ledger's additive counts for one workspace x day x arm x channel x category x
    contained (outcome rows by the day they started)."""

    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "day", "arm", "channel", "category", "contained"],
                name="dailyrollup_unique_cell",
            )
        ]

    def __str__(self) -> str:
        return f"rollup {self.day} {self.arm}/{self.channel}/{self.category or '-'}"


class MonthlyRollup(RollupCounts):
    """The sum of one month's DailyRollup rows (a long period reads 12 of these per cell
    instead of 365 daily rows); valid while its RollupMonth is newer than its days."""

    month = models.DateField(help_text="the month's first day")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "month", "arm", "channel", "category", "contained"],
                name="monthlyrollup_unique_cell",
            )
        ]

    def __str__(self) -> str:
        return f"rollup {self.month:%Y-%m} {self.arm}/{self.channel}/{self.category or '-'}"


class RollupMonth(models.Model):
    """When a month's MonthlyRollup rows were summed from its days."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    built_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "month"], name="rollupmonth_unique")
        ]

    def __str__(self) -> str:
        return f"rollup month {self.month:%Y-%m}"


class DailyCostRollup(models.Model):
    """Cost sums for one workspace x day x arm x channel x category, of conversations by the
    day they were created (the basis of `selectors.cost_per_resolution`)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    arm = models.CharField(max_length=16)
    channel = models.CharField(max_length=16)
    category = models.CharField(max_length=80, blank=True)

    conversations = models.PositiveIntegerField(default=0)
    model_usd = models.DecimalField(max_digits=18, decimal_places=8, default=0)
    agent_usd = models.DecimalField(max_digits=18, decimal_places=8, default=0)
    handling_seconds = models.PositiveBigIntegerField(default=0)
    confirmed = models.PositiveIntegerField(default=0)
    unconfirmed = models.PositiveIntegerField(default=0)
    provisional = models.PositiveIntegerField(default=0)
    unpriced = models.PositiveIntegerField(default=0)
    uncosted = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "day", "arm", "channel", "category"],
                name="dailycostrollup_unique_cell",
            )
        ]

    def __str__(self) -> str:
        return f"cost rollup {self.day} {self.arm}/{self.channel}/{self.category or '-'}"
