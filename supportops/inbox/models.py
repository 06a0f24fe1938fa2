"""Queues, routing, agent availability, SLA targets and internal notes for the human inbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from supportops.accounts.models import Workspace
from supportops.conversations.models import Conversation, Message


class Handoff(models.Model):
    """The bot stepped aside: which rule fired, with its scores, and the context for a person."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        ASSIGNED = "assigned", "Assigned"
        RESOLVED = "resolved", "Resolved"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="handoffs"
    )
    trigger = models.CharField(max_length=32)
    reason = models.CharField(max_length=300)
    scores = models.JSONField(default=dict, blank=True)
    packet = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    first_human_reply_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["workspace", "status", "created_at"], name="handoff_workspace_status_idx"
            )
        ]

    def __str__(self) -> str:
        return f"handoff {self.pk} ({self.trigger})"


class Priority(models.TextChoices):
    URGENT = "urgent", "Urgent"
    HIGH = "high", "High"
    NORMAL = "normal", "Normal"
    LOW = "low", "Low"


# Most urgent first; the index is the sort key in the inbox.
PRIORITY_ORDER = [Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW]


class AgentStatus(models.Model):
    """Whether a member takes new conversations now, what they know, and how many they hold."""

    class Status(models.TextChoices):
        ONLINE = "online", "Online"
        AWAY = "away", "Away"
        OFFLINE = "offline", "Offline"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_statuses"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OFFLINE)
    skills = models.JSONField(default=list, blank=True, help_text="category names")
    max_open = models.PositiveSmallIntegerField(default=5)
    # The member's alerts: browser notifications on, sound off until they choose it, and a
    # warning this many minutes before one of their conversations misses an SLA target.
    notify_browser = models.BooleanField(default=True)
    notify_sound = models.BooleanField(default=False)
    sla_warning_minutes = models.PositiveSmallIntegerField(default=10)
    updated_at = models.DateTimeField(auto_now=True)

    # Set by `agent_status_set`: how many waiting conversations going online assigned.
    picked_up: int = 0

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="agentstatus_unique_user")
        ]
        indexes = [models.Index(fields=["workspace", "status"])]

    def __str__(self) -> str:
        return f"{self.user} {self.status}"


class Queue(models.Model):
    """Where handoffs of some categories wait; the default queue takes everything else."""

    DEFAULT_NAME = "General"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=80)
    categories = models.JSONField(default=list, blank=True, help_text="category names")
    required_skill = models.CharField(
        max_length=80, blank=True, help_text="only agents with this skill take its conversations"
    )
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="queue_unique_name"),
            models.UniqueConstraint(
                fields=["workspace"], condition=Q(is_default=True), name="queue_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SlaPolicy(models.Model):
    """Targets per priority, in minutes from the handoff."""

    DEFAULTS = {
        Priority.URGENT: (15, 4 * 60),
        Priority.HIGH: (60, 8 * 60),
        Priority.NORMAL: (4 * 60, 24 * 60),
        Priority.LOW: (8 * 60, 72 * 60),
    }

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    priority = models.CharField(max_length=16, choices=Priority.choices)
    first_reply_minutes = models.PositiveIntegerField()
    resolution_minutes = models.PositiveIntegerField()

    class Meta:
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(fields=["workspace", "priority"], name="slapolicy_unique")
        ]

    def __str__(self) -> str:
        return f"{self.priority}: {self.first_reply_minutes}/{self.resolution_minutes} min"


class Routing(models.Model):
    """Where a handoff went and why: queue, priority, SLA due times."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    handoff = models.OneToOneField(Handoff, on_delete=models.CASCADE, related_name="routing")
    queue = models.ForeignKey(Queue, null=True, blank=True, on_delete=models.SET_NULL)
    category = models.CharField(max_length=80, blank=True)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    priority_reason = models.CharField(max_length=200, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    first_reply_due = models.DateTimeField()
    resolution_due = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "queue"])]

    def __str__(self) -> str:
        return f"routing of handoff {self.handoff_id} ({self.priority})"


class InternalNote(models.Model):
    """A note for colleagues; a separate table from Message so the widget can never show it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="internal_notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["conversation", "created_at"])]

    def __str__(self) -> str:
        return f"note {self.pk} on conversation {self.conversation_id}"


class CopilotDraft(models.Model):
    """A reply the co-pilot drafted or rewrote for an agent, and what became of it."""

    class Kind(models.TextChoices):
        DRAFT = "draft", "Drafted reply"
        REWRITE = "rewrite", "Rewrite"

    class Outcome(models.TextChoices):
        OPEN = "open", "Not used yet"
        SENT_UNCHANGED = "sent_unchanged", "Sent unchanged"
        SENT_EDITED = "sent_edited", "Sent after editing"
        DISCARDED = "discarded", "Discarded"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="copilot_drafts"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    tone = models.CharField(max_length=16, blank=True)
    text = models.TextField()
    sources = models.JSONField(default=list, blank=True)
    provider = models.CharField(max_length=80, blank=True)
    need = models.TextField(blank=True, help_text="the customer's open need the draft answers")
    note = models.CharField(
        max_length=300, blank=True, help_text="what the checks changed (same channel, facts)"
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.OPEN)
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["conversation", "outcome"]),
            models.Index(fields=["workspace", "outcome"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.outcome})"


class CopilotCall(models.Model):
    """One computation of the co-pilot for a conversation (a draft, a rewrite by the chat
    model, a summary, the chat model's summary and reply in the handoff packet), with the
    provider and tokens it used: the conversation's cost lines
    of kind "copilot" are priced from these rows (analytics.costs)."""

    class Kind(models.TextChoices):
        DRAFT = "draft", "Draft"
        REWRITE = "rewrite", "Rewrite"
        SUMMARY = "summary", "Summary"
        PACKET = "packet", "Handoff packet by the model"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="copilot_calls"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    provider = models.CharField(max_length=80, help_text="provider key, as bot turns record it")
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["conversation", "created_at"])]

    def __str__(self) -> str:
        return f"co-pilot {self.kind} by {self.provider}"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()


class BusinessHours(models.Model):
    """When people answer, per weekday in the workspace's timezone. Without a row, or when
    not enabled, the team counts as always open (24/7). A day without times is closed; a
    close time of 00:00 means midnight at the end of that day."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="business_hours"
    )
    enabled = models.BooleanField(default=False)
    timezone = models.CharField(max_length=64, default="UTC", help_text="IANA name")
    mon_open = models.TimeField(null=True, blank=True)
    mon_close = models.TimeField(null=True, blank=True)
    tue_open = models.TimeField(null=True, blank=True)
    tue_close = models.TimeField(null=True, blank=True)
    wed_open = models.TimeField(null=True, blank=True)
    wed_close = models.TimeField(null=True, blank=True)
    thu_open = models.TimeField(null=True, blank=True)
    thu_close = models.TimeField(null=True, blank=True)
    fri_open = models.TimeField(null=True, blank=True)
    fri_close = models.TimeField(null=True, blank=True)
    sat_open = models.TimeField(null=True, blank=True)
    sat_close = models.TimeField(null=True, blank=True)
    sun_open = models.TimeField(null=True, blank=True)
    sun_close = models.TimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "business hours"

    def __str__(self) -> str:
        return f"business hours of {self.workspace}"


class SavedReply(models.Model):
    """A saved reply (macro) an agent inserts into the reply box by its shortcut or a search.
    Without an owner it is the team's shared set, kept by managers; with one it is that
    person's own, seen by nobody else."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="saved_replies",
        help_text="empty: shared with the whole team",
    )
    title = models.CharField(max_length=120)
    body = models.TextField()
    shortcut = models.CharField(
        max_length=40, blank=True, help_text="typed after / in the reply box, e.g. refund"
    )
    usage_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "pk"]
        verbose_name_plural = "saved replies"
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "shortcut"],
                condition=Q(owner__isnull=True) & ~Q(shortcut=""),
                name="savedreply_unique_shared_shortcut",
            ),
            models.UniqueConstraint(
                fields=["workspace", "owner", "shortcut"],
                condition=Q(owner__isnull=False) & ~Q(shortcut=""),
                name="savedreply_unique_own_shortcut",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "owner"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_shared(self) -> bool:
        return self.owner_id is None
