"""Rollout plans: ordered phases that widen what the bot handles, a held-back control group
of customers on human-only support, test suites that must pass before a phase goes live,
and the workspace's kill switch.

Arms are assigned per conversation at its start (`services.assignment_decide`) from a keyed
hash of the workspace and the customer, so a customer keeps their arm across conversations
and channels; each conversation stores its arm (`Conversation.arm`) and how it was assigned
(`Assignment`).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from supportops.accounts.models import Workspace
from supportops.conversations.models import Conversation
from supportops.text import triggers

# Why a conversation or a message went to people without the bot answering (stored as the
# handoff's trigger and, for a message the bot saw, as its turn's trigger).
CATEGORY_NOT_ENABLED = triggers.CATEGORY_NOT_ENABLED
CONTROL_GROUP = triggers.CONTROL
BOT_PAUSED = "bot_paused"  # the workspace's kill switch
PHASE_PAUSED = "phase_paused"  # the live phase was paused (by a person or a guardrail)
BOT_OFF = "bot_off"  # the assistant is switched off in the bot settings
CHANNEL = triggers.CHANNEL  # a channel the assistant does not answer (email)
ROLLOUT_TRIGGERS = (CATEGORY_NOT_ENABLED, CONTROL_GROUP, BOT_PAUSED, PHASE_PAUSED, BOT_OFF)

DEFAULT_PASS_THRESHOLD = 0.95


def _assignment_key() -> str:
    return secrets.token_hex(32)


class RolloutSettings(models.Model):
    """Per workspace: the kill switch, the suite pass threshold and the assignment key."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="rollout_settings"
    )
    # The HMAC key of arm assignment. Never shown or rotated: a new key would move about
    # half of all customers to the other arm.
    assignment_key = models.CharField(max_length=64, default=_assignment_key)
    bot_paused = models.BooleanField(default=False)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    paused_reason = models.CharField(max_length=300, blank=True)
    suite_pass_threshold = models.FloatField(default=DEFAULT_PASS_THRESHOLD)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "rollout settings"

    def __str__(self) -> str:
        return f"rollout settings of {self.workspace}"


class Plan(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="rollout_plan_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Phase(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        TESTING = "testing", "Testing"
        LIVE = "live", "Live"
        PAUSED = "paused", "Paused"
        COMPLETE = "complete", "Complete"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="phases")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=120)
    categories = models.JSONField(default=list, help_text="issue categories the bot may handle")
    control_share = models.FloatField(default=0.1, help_text="share of customers held back, 0-1")
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    # Guardrails: AI-first against control, each off when null.
    max_repeat_increase_pts = models.FloatField(
        null=True, blank=True, default=3.0, help_text="repeat-contact rate, points above control"
    )
    max_csat_drop = models.FloatField(
        null=True, blank=True, default=0.3, help_text="mean CSAT (1-5), below control"
    )
    max_fcr_drop_pts = models.FloatField(
        null=True, blank=True, help_text="first-contact resolution, points below control"
    )
    # The power calculation the readout plans with.
    min_effect_pts = models.FloatField(default=3.0)
    went_live_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.CharField(max_length=500, blank=True)
    paused_by_guardrail = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["plan", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace"],
                condition=Q(status="live"),
                name="rollout_one_live_phase",
            ),
            models.CheckConstraint(
                condition=Q(control_share__gte=0) & Q(control_share__lte=1),
                name="rollout_phase_share_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan.name}: {self.name}"

    @property
    def control_percent(self) -> float:
        return round(self.control_share * 100, 2)


class Assignment(models.Model):
    """How one conversation was assigned when it started: its arm, the customer's bucket
    (the keyed hash as a number in [0, 1)), the live phase if any, and what the customer
    was given at the start."""

    class Start(models.TextChoices):
        ASSISTANT = "assistant", "The assistant"
        CONTROL = CONTROL_GROUP, "People (control group)"
        BOT_PAUSED = BOT_PAUSED, "People (bot paused)"
        PHASE_PAUSED = PHASE_PAUSED, "People (phase paused)"
        BOT_OFF = BOT_OFF, "People (assistant switched off)"
        CHANNEL = CHANNEL, "People (a channel the assistant does not answer)"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="assignment"
    )
    customer_id = models.BigIntegerField(db_index=True)
    # Only conversations started while the phase was live and the bot running count in its
    # readout; the rest have no phase.
    phase = models.ForeignKey(
        Phase, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments"
    )
    arm = models.CharField(max_length=16, choices=Conversation.Arm.choices)
    bucket = models.FloatField()
    start = models.CharField(max_length=16, choices=Start.choices, default=Start.ASSISTANT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["phase", "arm"]),
            models.Index(fields=["workspace", "bucket"]),
        ]

    def __str__(self) -> str:
        return f"conversation {self.conversation_id}: {self.arm}"


class SuiteCase(models.Model):
    """One scripted conversation and what should happen to it."""

    class Expect(models.TextChoices):
        ANSWER = "answer", "Answer citing an article"
        HANDOFF = "handoff", "Hand off with a trigger"
        STAY_OUT = "stay_out", "Stay out of a category"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    messages = models.JSONField(help_text="the customer's messages, in order")
    expect = models.CharField(max_length=12, choices=Expect.choices)
    # ANSWER: the article's id (its external id when it has one, else its pk as text).
    article = models.CharField(max_length=200, blank=True)
    trigger = models.CharField(max_length=40, blank=True)
    category = models.CharField(max_length=80, blank=True)
    note = models.CharField(max_length=300, blank=True)
    source_conversation_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"case {self.pk}: {self.expect}"


class SuiteRun(models.Model):
    """One run of the workspace's test cases against a phase's settings."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="suite_runs")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    # The phase's settings when the run started: a later change makes the run stale.
    phase_fingerprint = models.CharField(max_length=64)
    threshold = models.FloatField()
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    passed = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"suite run {self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def passes(self) -> bool:
        return (
            self.status == self.Status.DONE
            and self.total > 0
            and (self.pass_rate >= self.threshold)
        )


class CaseResult(models.Model):
    run = models.ForeignKey(SuiteRun, on_delete=models.CASCADE, related_name="results")
    case = models.ForeignKey(SuiteCase, null=True, on_delete=models.SET_NULL, related_name="+")
    # A copy of the case as it was run (a case may be edited or deleted later).
    messages = models.JSONField(default=list)
    expected = models.JSONField(default=dict)
    passed = models.BooleanField()
    # What the bot did: action, trigger, cited articles, category, scores (per message).
    actual = models.JSONField(default=dict)
    why = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"result {self.pk} ({'pass' if self.passed else 'fail'})"
