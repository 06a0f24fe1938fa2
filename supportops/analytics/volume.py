"""A realistic synthetic year of outcomes in one scratch workspace, for the dashboards'
volume benchmark (`manage.py seed_volume`, `manage.py bench_dashboards`).

Bulk-loaded with PostgreSQL COPY in batches (`lib.bulkcopy`), never row by row: customers (a
third of the conversations, so customers come back), conversations spread over the last 365
days with both arms (10% control), both channels, seven categories, outcomes drawn per arm as
the ledger would decide them, handoff triggers, response and resolution times, rating
requests with channel-dependent response rates, and a bot answer with token counts per
AI-first conversation, each dated when it happened in the synthetic year. Only outcome rows
stand for what happened; no timeline is replayed."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from supportops.accounts.models import Membership, Role, Workspace
from supportops.accounts.services import workspace_create
from supportops.conversations.models import (
    Conversation,
    CsatRequest,
    CsatResponse,
    Customer,
    Message,
)
from supportops.lib.bulkcopy import copy_models, reserve_ids

from .models import Outcome

SLUG = "volume-scratch"
BATCH = 5000
CATEGORIES = [
    ("orders", 30),
    ("returns", 20),
    ("billing", 15),
    ("account", 12),
    ("products", 12),
    ("privacy", 3),
    ("", 8),
]
K = Outcome.Kind
# (outcome, weight, contained, bot answered, first responder, handoff)
AI_OUTCOMES = [
    (K.RESOLVED_BY_BOT_CONFIRMED, 28, True, True, "bot", False),
    (K.RESOLVED_BY_BOT_UNCONFIRMED, 22, True, True, "bot", False),
    (K.RESOLVED_AFTER_HANDOFF, 20, False, True, "bot", True),
    (K.NOT_RESOLVED, 12, False, True, "bot", True),
    (K.REPEAT_CONTACT, 8, True, True, "bot", False),
    (K.ABANDONED, 10, True, False, "", True),
]
CONTROL_OUTCOMES = [
    (K.RESOLVED_BY_HUMAN, 70, False, False, "person", True),
    (K.NOT_RESOLVED, 15, False, False, "person", True),
    (K.REPEAT_CONTACT, 5, False, False, "person", True),
    (K.ABANDONED, 10, True, False, "", True),
]
TRIGGERS = [
    ("explicit_request", 40),
    ("low_confidence", 25),
    ("frustration", 12),
    ("high_stakes", 10),
    ("turn_limit", 8),
    ("vip", 5),
]
RESOLVED = {
    K.RESOLVED_BY_BOT_CONFIRMED,
    K.RESOLVED_BY_BOT_UNCONFIRMED,
    K.RESOLVED_AFTER_HANDOFF,
    K.RESOLVED_BY_HUMAN,
    K.REPEAT_CONTACT,
}


def volume_workspace() -> tuple[Workspace, User]:
    """The scratch workspace (created once, kept between runs) and its manager."""
    email = f"manager@{SLUG}.invalid"
    user = get_user_model().objects.filter(username=email).first()
    if user is None:
        user = get_user_model().objects.create_user(username=email, email=email)
    workspace = Workspace.objects.filter(slug=SLUG).first()
    if workspace is None:
        workspace = workspace_create(name="Volume scratch", slug=SLUG, is_scratch=True)
    Membership.objects.get_or_create(
        user=user, workspace=workspace, defaults={"role": Role.MANAGER}
    )
    return workspace, user


def volume_count(*, workspace: Workspace) -> int:
    return Outcome.objects.filter(workspace=workspace).count()


def _pick(rng: random.Random, table: list, weights: list[int] | None = None):  # type: ignore[type-arg]
    return rng.choices(table, weights=weights or [row[1] for row in table])[0]


@transaction.atomic
def volume_seed(*, workspace: Workspace, conversations: int, seed: int = 7) -> int:
    """Add `conversations` conversations with their outcomes; returns how many were added."""
    rng = random.Random(seed + volume_count(workspace=workspace))
    now = timezone.now()
    start = now - timedelta(days=365)
    offset = Customer.objects.filter(workspace=workspace).count()
    n_customers = max(1, conversations // 3)
    customers = [
        Customer(
            pk=pk, workspace=workspace, external_id=f"vol-{offset + i}", name=f"C {offset + i}"
        )
        for i, pk in enumerate(reserve_ids(Customer, n_customers))
    ]
    copy_models(Customer, customers)
    added = 0
    for first in range(0, conversations, BATCH):
        size = min(BATCH, conversations - first)
        plan = []
        for i in range(size):
            arm = Conversation.Arm.HUMAN_ONLY if rng.random() < 0.1 else Conversation.Arm.AI_FIRST
            channel = Conversation.Channel.EMAIL if rng.random() < 0.2 else "widget"
            started = start + timedelta(seconds=rng.uniform(0, 365 * 86400 - 3600))
            plan.append((arm, channel, started, rng.choice(customers), first + i))
        rows = [
            Conversation(
                pk=pk,
                workspace=workspace,
                customer=customer,
                channel=channel,
                arm=arm,
                category=_pick(rng, CATEGORIES)[0],
                status=Conversation.Status.RESOLVED,
                token_hash=hashlib.sha256(
                    f"{workspace.pk}-{offset}-{n}-{seed}".encode()
                ).hexdigest(),
            )
            for pk, (arm, channel, started, customer, n) in zip(
                reserve_ids(Conversation, size), plan, strict=True
            )
        ]
        outcomes, requests, responses, messages = [], [], [], []
        for conversation, (arm, channel, started, customer, _) in zip(rows, plan, strict=True):
            table = AI_OUTCOMES if arm == Conversation.Arm.AI_FIRST else CONTROL_OUTCOMES
            kind, _, contained, answered, first_by, handoff = _pick(rng, table)
            trigger = ""
            if handoff:
                trigger = (
                    "control" if arm == Conversation.Arm.HUMAN_ONLY else _pick(rng, TRIGGERS)[0]
                )
            if first_by == "bot":
                first_at: datetime | None = started + timedelta(
                    seconds=rng.lognormvariate(1.5, 0.5)
                )
            elif first_by == "person":
                first_at = started + timedelta(seconds=rng.lognormvariate(6.5, 1.0))
            else:
                first_at = None
            resolved_at = None
            if kind in RESOLVED and kind != K.RESOLVED_BY_BOT_UNCONFIRMED:
                mean = 5.0 if contained else 8.0
                resolved_at = started + timedelta(seconds=rng.lognormvariate(mean, 0.8))
            last = (resolved_at or first_at or started) + timedelta(minutes=5)
            final = last + timedelta(hours=48) <= now
            conversation.created_at, conversation.updated_at = started, last
            conversation.last_message_at = last
            outcomes.append(
                Outcome(
                    workspace=workspace,
                    conversation=conversation,
                    customer=customer,
                    outcome=kind,
                    final=final,
                    final_at=last + timedelta(hours=48) if final else None,
                    why={"rule": "synthetic"},
                    channel=channel,
                    arm=arm,
                    category=conversation.category,
                    resolution="solved"
                    if kind in (K.RESOLVED_AFTER_HANDOFF, K.RESOLVED_BY_HUMAN)
                    else "",
                    first_handoff_trigger=trigger,
                    contained=contained,
                    bot_answered=answered,
                    started_at=started,
                    last_event_at=last,
                    first_response_at=first_at,
                    first_response_by=first_by,
                    resolved_at=resolved_at,
                    as_of=now,
                    computed_at=now,
                )
            )
            if kind != K.ABANDONED and rng.random() < 0.6:
                rate = 0.25 if channel == "widget" else 0.1
                score = None
                if rng.random() < rate:
                    good = kind in RESOLVED and kind != K.REPEAT_CONTACT
                    score = rng.choices(
                        [1, 2, 3, 4, 5], weights=[1, 1, 2, 4, 6] if good else [5, 3, 2, 1, 1]
                    )[0]
                    responses.append(
                        CsatResponse(
                            workspace=workspace,
                            conversation=conversation,
                            score=score,
                            created_at=last + timedelta(hours=2),
                        )
                    )
                requests.append(
                    CsatRequest(
                        workspace=workspace,
                        conversation=conversation,
                        channel=channel,
                        asked_at=last,
                        answered_at=last + timedelta(hours=2) if score else None,
                        score=score,
                    )
                )
            if answered:
                messages.append(
                    Message(
                        workspace=workspace,
                        conversation=conversation,
                        author=Message.Author.BOT,
                        kind=Message.Kind.ANSWER,
                        text="(synthetic answer)",
                        prompt_tokens=rng.randint(400, 2400),
                        completion_tokens=rng.randint(60, 400),
                        created_at=first_at or started,
                    )
                )
        copy_models(Conversation, rows, as_given={"created_at", "updated_at"})
        copy_models(Outcome, outcomes)
        copy_models(CsatRequest, requests)
        copy_models(CsatResponse, responses, as_given={"created_at"})
        copy_models(Message, messages, as_given={"created_at"})
        added += size
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE analytics_outcome")
        cursor.execute("ANALYZE conversations_conversation")
    return added
