"""Customers, their records, and the conversations they have with the bot and with people."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from supportops.accounts.models import Workspace


class Customer(models.Model):
    """A person who contacts support.

    Verified customers are identified by the host site (external id, signed with the
    workspace secret); anonymous visitors have only a random visitor id from their browser
    and never get anything account-specific.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="customers")
    external_id = models.CharField(max_length=120, blank=True, default="")
    visitor_id = models.CharField(max_length=64, blank=True, default="")
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    plan = models.CharField(max_length=60, blank=True, help_text="plan or tier")
    is_vip = models.BooleanField(default=False)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=~Q(external_id=""),
                name="customer_unique_external_id",
            ),
            models.UniqueConstraint(
                fields=["workspace", "visitor_id"],
                condition=Q(external_id="") & ~Q(visitor_id=""),
                name="customer_unique_visitor",
            ),
            # A customer known only by the address they emailed from (no id from the host
            # site, no widget visitor): one per address.
            models.UniqueConstraint(
                Lower("email"),
                "workspace",
                condition=Q(external_id="", visitor_id="") & ~Q(email=""),
                name="customer_unique_email_only",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.external_id or f"visitor {self.visitor_id[:8]}"

    @property
    def is_verified(self) -> bool:
        return bool(self.external_id)

    @property
    def is_email_only(self) -> bool:
        return not self.external_id and not self.visitor_id and bool(self.email)


class Order(models.Model):
    """An order of a verified customer, as synced from the shop."""

    class Status(models.TextChoices):
        PROCESSING = "processing", "Processing"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"
        RETURNED = "returned", "Returned"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="orders")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    number = models.CharField(max_length=40)
    status = models.CharField(max_length=16, choices=Status.choices)
    placed_at = models.DateTimeField()
    total = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    items = models.JSONField(default=list, blank=True, help_text='[{"name", "quantity"}]')
    carrier = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=60, blank=True)
    tracking_url = models.URLField(blank=True)
    estimated_delivery = models.DateField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Who and where it goes to, and what the customer wrote with the order ("leave it with
    # the neighbour"): shown to the team, never sent to a model as they are (bot.answers).
    ship_to = models.TextField(blank=True, help_text="recipient name and postal address")
    contact_phone = models.CharField(max_length=40, blank=True)
    note = models.TextField(blank=True, help_text="the customer's note on the order")

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "number"], name="order_unique_number")
        ]

    def __str__(self) -> str:
        return self.number


class Conversation(models.Model):
    class Status(models.TextChoices):
        BOT = "bot", "With the assistant"
        HANDED_OFF = "handed_off", "Waiting for a person"
        WITH_AGENT = "with_agent", "With a person"
        RESOLVED = "resolved", "Resolved"

    class Channel(models.TextChoices):
        WIDGET = "widget", "Chat widget"
        EMAIL = "email", "Email"

    class Arm(models.TextChoices):
        AI_FIRST = "ai_first", "AI first"
        HUMAN_ONLY = "human_only", "Human only (control)"

    class Resolution(models.TextChoices):
        SOLVED = "solved", "Solved"
        NOT_SOLVABLE = "not_solvable", "Not solvable"
        DUPLICATE = "duplicate", "Duplicate"
        SPAM = "spam", "Spam"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="conversations")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="conversations")
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WIDGET)
    arm = models.CharField(max_length=16, choices=Arm.choices, default=Arm.AI_FIRST)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.BOT)
    category = models.CharField(max_length=80, blank=True)
    # sha256 of the secret token held by the customer's browser; the id alone opens nothing.
    token_hash = models.CharField(max_length=64, unique=True)
    solved = models.BooleanField(
        null=True, blank=True, help_text="the customer's answer to 'Did that solve it?'"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    handed_off_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # How a person closed it; blank when the customer or the bot ended it.
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True)
    # Where to send the answer when the customer is no longer in the widget (they gave it
    # while waiting for a person), and the page they wrote from, for a link back.
    followup_email = models.EmailField(blank=True)
    followup_page_url = models.URLField(max_length=500, blank=True)
    # The widget's last poll, saved at most every PRESENCE_SAVE_EVERY (widget API).
    customer_seen_at = models.DateTimeField(null=True, blank=True)
    # The email channel: the subject of the customer's first email (replies keep it).
    subject = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["workspace", "status", "-created_at"]),
            models.Index(fields=["customer", "-created_at"]),
            # The conversations page: any status, newest first.
            models.Index(fields=["workspace", "-created_at"], name="conversation_ws_created_idx"),
        ]

    def __str__(self) -> str:
        return f"conversation {self.pk} ({self.status})"


class Message(models.Model):
    class Author(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        BOT = "bot", "Assistant"
        AGENT = "agent", "Agent"
        SYSTEM = "system", "System"

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        GREETING = "greeting", "Greeting"
        ANSWER = "answer", "Answer"  # a complete bot answer: the widget asks "Did that solve it?"
        HANDOFF = "handoff", "Handoff notice"
        CSAT_REQUEST = "csat_request", "CSAT question"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.CharField(max_length=16, choices=Author.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEXT)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    text = models.TextField(help_text="as shown to the customer")
    redacted_text = models.TextField(blank=True, help_text="as sent to models and analysis")
    sources = models.JSONField(
        default=list, blank=True, help_text='[{"article_id", "title", "url"}]'
    )
    # The client's idempotency key: a retried POST returns the stored message.
    client_key = models.CharField(max_length=64, blank=True, default="")
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=10, decimal_places=6, default=0)
    # An agent reply also sent to the conversation's follow-up email; set when claimed for
    # sending, so a retried task never sends it twice.
    emailed_at = models.DateTimeField(null=True, blank=True)
    # The email channel: the Message-ID of the customer's email, or of ours that carried an
    # agent reply (threads continue by In-Reply-To / References to either). Unique per
    # workspace, so a webhook delivered twice stores the message once.
    email_message_id = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Full-text search over the redacted text (the conversations page): kept by PostgreSQL
    # itself, so no write path can forget it. Redacted, so a search never matches what
    # redaction took out (an email address, a card number).
    search_vector = models.GeneratedField(
        expression=SearchVector("redacted_text", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "client_key"],
                condition=~Q(client_key=""),
                name="message_unique_client_key",
            ),
            models.UniqueConstraint(
                fields=["workspace", "email_message_id"],
                condition=~Q(email_message_id=""),
                name="message_unique_email_id",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "id"]),
            GinIndex(fields=["search_vector"], name="message_search_gin"),
        ]

    def __str__(self) -> str:
        return f"{self.author}: {self.text[:40]}"


class CsatResponse(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="csat")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="csat_score_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"CSAT {self.score} for conversation {self.conversation_id}"


class CsatRequest(models.Model):
    """One request for a rating: where and when it was asked and whether it was answered, so
    response rates can be compared between channels and arms (the score itself is the
    conversation's CsatResponse; a later answer replaces it)."""

    class Channel(models.TextChoices):
        WIDGET = "widget", "Chat widget"
        EMAIL = "email", "Email"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="csat_requests"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    asked_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    # Set once the rating email went out (claimed before sending, like Message.emailed_at).
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "id"]
        indexes = [models.Index(fields=["workspace", "asked_at"])]

    def __str__(self) -> str:
        return f"CSAT request {self.pk} ({self.channel})"


class ConversationEvent(models.Model):
    """Append-only log of a conversation's state changes that are not plain messages
    (messages are events too: they carry `created_at`). Written by the services that make the
    change, with `at` from `timezone.now()`, so a replayed clock replays history. The outcome
    ledger (`supportops.analytics.ledger`) is computed from these rows and the messages.

    `data` by kind:
      started      {"channel", "arm"}
      handed_off   {"trigger", "reason", "by": "bot" | "customer" | "system"}
      claimed      {"user_id", "via": "route" | "online" | "claim" | "transfer" | "reply"}
      feedback     {"solved": bool, "via": "button" | "typed", "message_id"?}
      resolved     {"resolution", "by": "person" | "customer", "user_id"?}
      reopened     {"message_id"}
      csat_asked   {"request_id", "channel"}
      csat_answered {"request_id", "channel", "score"}
    """

    class Kind(models.TextChoices):
        STARTED = "started", "Started"
        HANDED_OFF = "handed_off", "Handed off"
        CLAIMED = "claimed", "Claimed"
        FEEDBACK = "feedback", "Feedback"
        RESOLVED = "resolved", "Resolved"
        REOPENED = "reopened", "Reopened"
        CSAT_ASKED = "csat_asked", "Rating asked"
        CSAT_ANSWERED = "csat_answered", "Rating given"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["conversation", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} of conversation {self.conversation_id}"


def _inbound_secret() -> str:
    import secrets

    return secrets.token_urlsafe(32)


class EmailChannel(models.Model):
    """A workspace's email channel: the support address customers write to (replies go out
    from it) and the secret the inbound webhook is authenticated with."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.CASCADE, related_name="email_channel"
    )
    address = models.EmailField(help_text="the support address customers write to")
    inbound_secret = models.CharField(max_length=64, default=_inbound_secret)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"email channel of {self.workspace}"


class SweepDay(models.Model):
    """How much lost work the sweeper queued again, per day (`supportops.flows.sweep`): a
    customer message whose bot turn never ran or whose worker died, a handoff packet the chat
    model never enriched, an agent reply never emailed. Non-zero means tasks were lost (a
    worker killed, the broker restarted); the sweeper made sure nobody was left waiting."""

    day = models.DateField(unique=True)
    runs = models.PositiveIntegerField(default=0)
    bot_turns = models.PositiveIntegerField(default=0)
    packets = models.PositiveIntegerField(default=0)
    emails = models.PositiveIntegerField(default=0)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day}: {self.bot_turns + self.packets + self.emails} re-queued"
