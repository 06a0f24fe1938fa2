"""Reads of the outcome ledger, scoped by workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from supportops.accounts.models import Role, Workspace
from supportops.conversations.models import Conversation

from .ledger import RULES
from .models import ConversationAnalysis, ConversationCost, HandlingRate, ModelPrice, Outcome

# How each rule reads on a conversation's page.
WORDS = {
    "resolved_by_person": "A person resolved it as solved.",
    "closed_not_solved": "A person closed it without solving it ({resolution}).",
    "confirmed": "The customer confirmed the assistant's answer solved it ({via}).",
    "confirmed_with_person": "The customer confirmed it was solved after a person took part.",
    "rejected": "The customer said the answer did not help ({via}), and nothing resolved it "
    "afterwards.",
    "person_replied_unresolved": "A person replied, but nobody resolved it.",
    "answer_stood": "The assistant's answer stood: the customer neither confirmed nor rejected "
    "it and asked for no person (silence is never counted as a confirmation).",
    "handed_off_unserved": "After the assistant's answer the customer asked for a person, and "
    "nobody replied.",
    "no_answer": "The customer got no answer: they left or went quiet before the assistant "
    "answered or a person replied.",
}


def outcome_for_conversation(*, conversation: Conversation) -> Outcome | None:
    """The conversation's outcome row (the caller has already checked access to it)."""
    return (
        Outcome.objects.filter(conversation=conversation, workspace_id=conversation.workspace_id)
        .select_related("repeat_conversation")
        .first()
    )


def analysis_for_conversation(*, conversation: Conversation) -> ConversationAnalysis | None:
    """The conversation's post-interaction analysis (the caller has checked access)."""
    return ConversationAnalysis.objects.filter(
        conversation=conversation, workspace_id=conversation.workspace_id
    ).first()


def outcome_explained(outcome: Outcome) -> dict[str, Any]:
    """The outcome in words for a person: the rule that decided it and, for a repeat
    contact, what it replaced and the conversation it links to."""
    why = outcome.why or {}
    rule = str(why.get("replaced_rule") or why.get("rule") or "")
    events = why.get("events") or []
    via = next((e.get("via") for e in events if e.get("kind") == "feedback"), "")
    resolution = next((e.get("resolution") for e in events if e.get("kind") == "resolved"), "")
    sentence = WORDS.get(rule, RULES.get(rule, rule)).format(
        via={"typed": "typed", "button": "with the button"}.get(str(via), "given"),
        resolution=str(resolution or "").replace("_", " "),
    )
    replaced = why.get("replaced")
    return {
        "outcome": outcome,
        "label": outcome.get_outcome_display(),
        "sentence": sentence,
        "replaced_label": Outcome.Kind(replaced).label if replaced in Outcome.Kind.values else "",
        "linked_id": why.get("linked_conversation_id"),
        "similarity": why.get("similarity"),
        "same_need_rule": (why.get("same_need") or {}).get("rule", ""),
        "window_hours": why.get("window_hours"),
    }


# --- Costs --------------------------------------------------------------------------------------

COST_READERS = (Role.ADMIN, Role.MANAGER, Role.FINANCE)
# Shown next to every cost-per-resolution figure: what it divides by what.
COST_PER_RESOLUTION_BASIS = (
    "Cost per resolution = the model and agent cost of all conversations in the group "
    "(started in the period, whatever their outcome) divided by the group's confirmed plus "
    "unconfirmed resolutions in the outcome ledger. Confirmed: the customer confirmed the "
    "assistant's answer, or a person resolved it as solved; unconfirmed: the assistant's "
    "answer stood without a confirmation. Repeat contacts, not resolved and abandoned "
    "conversations count in the cost but not as resolutions; provisional outcomes count as "
    "they stand now."
)
CONFIRMED = (
    Outcome.Kind.RESOLVED_BY_BOT_CONFIRMED,
    Outcome.Kind.RESOLVED_AFTER_HANDOFF,
    Outcome.Kind.RESOLVED_BY_HUMAN,
)
UNCONFIRMED = (Outcome.Kind.RESOLVED_BY_BOT_UNCONFIRMED,)
GROUPS = {
    "": None,
    "arm": "arm",
    "channel": "channel",
    "category": "category",
    "month": "month",
}


@dataclass(frozen=True)
class ResolutionCost:
    group: str  # the group's value ("" when not grouped); several joined with " / "
    conversations: int
    model_usd: Decimal
    agent_usd: Decimal
    total_usd: Decimal
    confirmed: int
    unconfirmed: int
    provisional: int
    unpriced: int  # conversations with a turn or handling time no price or rate covered
    key: tuple[str, ...] = ()  # the value of each grouping, in the order asked for
    uncosted: int = 0  # conversations whose cost lines are not computed yet (count as 0)

    @property
    def resolutions(self) -> int:
        return self.confirmed + self.unconfirmed

    @property
    def per_resolution_usd(self) -> Decimal | None:
        """None when the group has no resolution (the figure is undefined, not zero)."""
        if not self.resolutions:
            return None
        return (self.total_usd / self.resolutions).quantize(Decimal("0.0001"))

    @property
    def per_conversation_usd(self) -> Decimal | None:
        if not self.conversations:
            return None
        return (self.total_usd / self.conversations).quantize(Decimal("0.0001"))


def cost_per_resolution(
    *,
    workspace: Workspace,
    since: datetime | None = None,
    until: datetime | None = None,
    group_by: str | tuple[str, ...] = "",
    arm: str = "",
    channel: str = "",
    category: str = "",
    tz: tzinfo | None = None,
) -> list[ResolutionCost]:
    """Cost per resolution of the conversations started in [since, until), optionally of
    one arm, channel and category, per group ("", "arm", "channel", "category" or "month",
    or a tuple of them); months are cut in `tz` (the workspace's time zone; the current
    one when not given). See COST_PER_RESOLUTION_BASIS, which every page showing the
    figure shows with it."""
    names = (group_by,) if isinstance(group_by, str) else tuple(group_by)
    if not names or any(name not in GROUPS for name in names):
        raise ValueError(f"group_by must be one of {sorted(GROUPS)} or a tuple of them")
    names = tuple(name for name in names if name) or ("",)
    conversations = Conversation.objects.filter(workspace=workspace)
    if since is not None:
        conversations = conversations.filter(created_at__gte=since)
    if until is not None:
        conversations = conversations.filter(created_at__lt=until)
    if arm:
        conversations = conversations.filter(arm=arm)
    if channel:
        conversations = conversations.filter(channel=channel)
    if category:
        conversations = conversations.filter(category=category)
    month_tz = tz or timezone.get_current_timezone()
    expressions: dict[str, Any] = {
        "": Value(""),
        "arm": F("arm"),
        "channel": F("channel"),
        "category": F("category"),
        "month": TruncMonth("created_at", tzinfo=month_tz),
    }
    fields = {f"g_{name or 'all'}": expressions[name] for name in names}
    rows = (
        conversations.annotate(**fields)
        .values(*fields)
        .annotate(
            n=Count("pk"),
            model=Coalesce(Sum("cost__model_usd"), Value(Decimal(0))),
            agent=Coalesce(Sum("cost__agent_usd"), Value(Decimal(0))),
            confirmed=Count("pk", filter=Q(outcome__outcome__in=CONFIRMED)),
            unconfirmed=Count("pk", filter=Q(outcome__outcome__in=UNCONFIRMED)),
            provisional=Count("pk", filter=Q(outcome__final=False)),
            unpriced=Count("pk", filter=Q(cost__unpriced=True)),
            uncosted=Count("pk", filter=Q(cost__isnull=True)),
        )
        .order_by(*fields)
    )
    out = []
    for row in rows:
        if not row["n"]:  # ungrouped, PostgreSQL answers one row even when none matched
            continue
        key = []
        for field_name in fields:
            value = row[field_name]
            if isinstance(value, datetime):
                value = value.astimezone(month_tz).strftime("%Y-%m")
            key.append(str(value or ""))
        out.append(
            ResolutionCost(
                group=" / ".join(key),
                key=tuple(key),
                conversations=row["n"],
                model_usd=row["model"],
                agent_usd=row["agent"],
                total_usd=row["model"] + row["agent"],
                confirmed=row["confirmed"],
                unconfirmed=row["unconfirmed"],
                provisional=row["provisional"],
                unpriced=row["unpriced"],
                uncosted=row["uncosted"],
            )
        )
    return out


def conversation_costs_list(
    *, workspace: Workspace, since: datetime | None = None, until: datetime | None = None
) -> QuerySet[ConversationCost]:
    """Per-conversation costs with their outcome, newest first: ids, dates, channel, arm,
    category and amounts only (finance reads this; no message text is selected)."""
    rows = ConversationCost.objects.filter(workspace=workspace)
    if since is not None:
        rows = rows.filter(conversation__created_at__gte=since)
    if until is not None:
        rows = rows.filter(conversation__created_at__lt=until)
    return (
        rows.select_related("conversation__outcome")
        .only(
            "conversation__id",
            "conversation__created_at",
            "conversation__channel",
            "conversation__arm",
            "conversation__category",
            "conversation__outcome__outcome",
            "conversation__outcome__final",
            "model_usd",
            "agent_usd",
            "total_usd",
            "handling_seconds",
            "unpriced",
        )
        .order_by("-conversation__created_at")
    )


def price_table(*, workspace: Workspace) -> dict[str, Any]:
    """Every price and rate row (newest first per key), with the one in effect today marked."""
    today = timezone.localdate()
    prices = list(ModelPrice.objects.filter(workspace=workspace).select_related("created_by"))
    rates = list(
        HandlingRate.objects.filter(workspace=workspace).select_related(
            "agent", "queue", "created_by"
        )
    )
    current_prices: dict[str, int] = {}
    for price in sorted(prices, key=lambda p: p.effective_from, reverse=True):
        if price.effective_from <= today:
            current_prices.setdefault(price.key, price.pk)
    current_rates: dict[tuple[int | None, int | None], int] = {}
    for rate in sorted(rates, key=lambda r: r.effective_from, reverse=True):
        if rate.effective_from <= today:
            current_rates.setdefault((rate.agent_id, rate.queue_id), rate.pk)
    return {
        "prices": [(p, p.pk in current_prices.values(), p.effective_from > today) for p in prices],
        "rates": [(r, r.pk in current_rates.values(), r.effective_from > today) for r in rates],
    }
