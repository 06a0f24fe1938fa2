"""The conversations page: every conversation of the workspace a member may see, any status,
channel and arm, found by full-text search over its messages and by filters kept in the URL.

- Who sees what: managers and admins every conversation; agents those the inbox lets them
  open (`inbox.selectors.conversations_for_member`, the same rule as the conversation page);
  finance the list without message text: no search, no snippets, no link to a transcript.
- Search runs on `Message.search_vector`, a stored tsvector of the *redacted* text with a GIN
  index: a search never matches what redaction took out, and a snippet shows only redacted
  text of a conversation the viewer may open anyway.
- A dashboard figure (`figure`, `segment`) narrows the list to exactly the conversations the
  figure counts (`kpis.drilldown_outcomes`, whose period is the ledger's `started_at`);
  without one, the period is the conversation's `created_at` (the same moment for a
  conversation with an outcome) and conversations without an outcome are listed too.
- Bad values are a `FilterError` with a message for the person, never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.contrib.postgres.search import SearchHeadline, SearchQuery
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from supportops.accounts.models import Membership, Role, Workspace
from supportops.conversations.models import Conversation, Message
from supportops.inbox.models import Handoff
from supportops.inbox.selectors import conversations_for_member
from supportops.text.labels import TRIGGER_LABELS

from .filters import FilterError, Filters, filters_parse
from .kpis import FIGURES, drilldown_outcomes
from .models import Outcome

SEARCH_MAX = 200
TRIGGERS = {**TRIGGER_LABELS, "reopened": "Reopened by the customer"}
CSAT_CHOICES = {
    "1": "1",
    "2": "2",
    "3": "3",
    "4": "4",
    "5": "5",
    "low": "1–2 (dissatisfied)",
    "rated": "Any rating",
    "unrated": "Not rated",
}
TEXT_ROLES = (Role.ADMIN, Role.MANAGER, Role.AGENT)
SEARCH_CONFIG = "english"  # the config of Message.search_vector


@dataclass(frozen=True)
class ListFilters:
    """The dashboards' filters (period, arm, channel, category) and the list's own."""

    base: Filters
    q: str = ""
    outcome: str = ""
    trigger: str = ""
    csat: str = ""
    status: str = ""
    agent: int | None = None
    bot_only: bool = False
    figure: str = ""
    segment: str = ""

    @property
    def narrowed(self) -> bool:
        """A filter of the list's own is set (beyond the dashboard's and the figure)."""
        return bool(
            self.q
            or self.outcome
            or self.trigger
            or self.csat
            or self.status
            or self.agent
            or self.bot_only
        )

    def params(self, **extra: str) -> dict[str, str]:
        own = {
            "q": self.q,
            "outcome": self.outcome,
            "trigger": self.trigger,
            "csat": self.csat,
            "status": self.status,
            "agent": str(self.agent) if self.agent else "",
            "bot_only": "1" if self.bot_only else "",
            "figure": self.figure,
            "segment": self.segment,
        }
        return self.base.params(**{k: v for k, v in own.items() if v}, **extra)


def _choice(params: Mapping[str, str], name: str, allowed: Mapping[str, Any] | list[str]) -> str:
    raw = (params.get(name) or "").strip()
    if raw and raw not in allowed:
        raise FilterError(f"'{name}' must be one of {', '.join(allowed)}, not {raw!r}.")
    return raw


def list_filters_parse(params: Mapping[str, str], *, workspace: Workspace) -> ListFilters:
    """The list's filters from query parameters; a bad value is a FilterError."""
    base = filters_parse(params, workspace=workspace)
    q = " ".join((params.get("q") or "").split())
    if len(q) > SEARCH_MAX:
        raise FilterError(f"A search may be at most {SEARCH_MAX} characters long.")
    raw_agent = (params.get("agent") or "").strip()
    agent = None
    if raw_agent:
        if not raw_agent.isdigit():
            raise FilterError(f"'agent' must be a member of this workspace, not {raw_agent!r}.")
        agent = int(raw_agent)
        if not Membership.objects.filter(workspace=workspace, user_id=agent).exists():
            raise FilterError(f"'agent' must be a member of this workspace, not {raw_agent!r}.")
    raw_bot_only = (params.get("bot_only") or "").strip().lower()
    if raw_bot_only not in ("", "0", "1", "on", "true", "false"):
        raise FilterError(f"'bot_only' must be 1 or empty, not {raw_bot_only!r}.")
    figure = (params.get("figure") or "").strip()
    if figure and figure not in FIGURES:
        raise FilterError(f"There is no figure called {figure!r}.")
    return ListFilters(
        base=base,
        q=q,
        outcome=_choice(params, "outcome", Outcome.Kind.values),
        trigger=_choice(params, "trigger", TRIGGERS),
        csat=_choice(params, "csat", CSAT_CHOICES),
        status=_choice(params, "status", Conversation.Status.values),
        agent=agent,
        bot_only=raw_bot_only in ("1", "on", "true"),
        figure=figure,
        segment=(params.get("segment") or "").strip(),
    )


def may_read_text(membership: Membership) -> bool:
    return membership.role in TEXT_ROLES


def search_query(text: str) -> SearchQuery:
    """What a person types, as web search syntax: words, "a phrase", -not, or."""
    return SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")


def _visible(membership: Membership) -> QuerySet[Conversation]:
    if membership.role == Role.FINANCE:  # the list without text; the inbox gives finance none
        return Conversation.objects.filter(workspace_id=membership.workspace_id)
    return conversations_for_member(membership=membership)


def _csat_q(value: str) -> Q:
    if value == "rated":
        return Q(csat__isnull=False)
    if value == "unrated":
        return Q(csat__isnull=True)
    if value == "low":
        return Q(csat__score__lte=2)
    return Q(csat__score=int(value))


def _took_part(agent: int) -> Q:
    return Q(Exists(Handoff.objects.filter(conversation=OuterRef("pk"), assignee_id=agent))) | Q(
        Exists(Message.objects.filter(conversation=OuterRef("pk"), agent_id=agent))
    )


def bot_only_q() -> Q:
    """Handled by the assistant alone: AI first, never handed off, no person wrote."""
    person_wrote = Message.objects.filter(conversation=OuterRef("pk"), author=Message.Author.AGENT)
    return Q(arm=Conversation.Arm.AI_FIRST, handed_off_at__isnull=True) & ~Q(Exists(person_wrote))


def conversation_list(*, membership: Membership, filters: ListFilters) -> QuerySet[Conversation]:
    """The conversations the member may see that the filters select, newest first, with what
    the list shows: outcome, first trigger and CSAT score. Finance may not search text."""
    if filters.q and not may_read_text(membership):
        raise FilterError("Your role does not read message text, so it cannot search it.")
    rows = _visible(membership)
    base = filters.base
    if filters.figure:
        counted = drilldown_outcomes(
            workspace=membership.workspace,
            filters=base,
            figure=filters.figure,
            segment=filters.segment,
        )
        rows = rows.filter(pk__in=counted.values("conversation_id"))
    else:
        rows = rows.filter(created_at__gte=base.since, created_at__lt=base.until)
        if base.arm:
            rows = rows.filter(arm=base.arm)
        if base.channel:
            rows = rows.filter(channel=base.channel)
        if base.category:
            rows = rows.filter(category=base.category)
    if filters.outcome:
        rows = rows.filter(outcome__outcome=filters.outcome)
    if filters.trigger:
        rows = rows.filter(
            Exists(Handoff.objects.filter(conversation=OuterRef("pk"), trigger=filters.trigger))
        )
    if filters.csat:
        rows = rows.filter(_csat_q(filters.csat))
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.agent:
        rows = rows.filter(_took_part(filters.agent))
    if filters.bot_only:
        rows = rows.filter(bot_only_q())
    if filters.q:
        matches = Message.objects.filter(
            conversation=OuterRef("pk"), search_vector=search_query(filters.q)
        )
        rows = rows.filter(Exists(matches))
    return rows.annotate(
        outcome_kind=F("outcome__outcome"),
        outcome_final=F("outcome__final"),
        first_trigger=F("outcome__first_handoff_trigger"),
        csat_score=F("csat__score"),
    ).order_by("-created_at", "-pk")


def search_snippets(*, conversation_ids: list[int], text: str) -> dict[int, str]:
    """For each listed conversation, its first message matching the search, as a short
    redacted excerpt with the matches between «» (escaped and marked in the template)."""
    if not conversation_ids or not text:
        return {}
    rows = (
        Message.objects.filter(
            conversation_id__in=conversation_ids, search_vector=search_query(text)
        )
        .order_by("conversation_id", "pk")
        .distinct("conversation_id")
        .annotate(
            snippet=SearchHeadline(
                "redacted_text",
                search_query(text),
                config=SEARCH_CONFIG,
                start_sel="«",
                stop_sel="»",
                max_words=24,
                min_words=8,
            )
        )
        .values_list("conversation_id", "snippet")
    )
    return dict(rows)


def agents_for_filter(*, workspace: Workspace) -> list[User]:
    """Members who may take part in conversations, for the agent filter."""
    ids = Membership.objects.filter(workspace=workspace, role__in=TEXT_ROLES).values("user_id")
    return list(User.objects.filter(pk__in=ids).order_by("email"))


def conversation_facts(*, conversation: Conversation) -> dict[str, Any]:
    """What the conversation page shows beside the outcome: the CSAT answer (score and
    comment) and the cost lines with their total (none until they are computed)."""
    from supportops.conversations.models import CsatResponse

    from .models import ConversationCost, CostLine

    return {
        "csat": CsatResponse.objects.filter(conversation=conversation).first(),
        "cost": ConversationCost.objects.filter(conversation=conversation).first(),
        "cost_lines": list(
            CostLine.objects.filter(conversation=conversation).select_related("agent")
        ),
    }
