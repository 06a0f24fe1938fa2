"""A small known ledger written as Outcome rows (with the conversations, rating requests and
reopen events they stand for), for the KPI, dashboard and export tests. The expected figures
in those tests are worked out by hand from the table in `known_ledger`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from supportops.analytics.models import Outcome
from supportops.conversations.models import (
    Conversation,
    ConversationEvent,
    CsatRequest,
    CsatResponse,
    Customer,
)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}
AI, CONTROL = Conversation.Arm.AI_FIRST, Conversation.Arm.HUMAN_ONLY
K = Outcome.Kind


@dataclass
class Row:
    arm: str
    channel: str
    category: str
    outcome: str
    contained: bool
    final: bool = True
    trigger: str = ""
    first_by: str = ""  # "bot" | "person" | ""
    first_s: float | None = None  # seconds to the first response
    resolved_s: float | None = None  # seconds to resolution
    csat: str = ""  # "" not asked, "asked", or a score "1".."5"
    reopened: bool = False
    hours: float = 0  # started at T0 + hours


def ledger_row(workspace, row: Row, n: int) -> Outcome:
    customer = Customer.objects.create(workspace=workspace, external_id=f"K-{n}", name=f"K {n}")
    started = T0 + timedelta(hours=row.hours or n)
    conversation = Conversation.objects.create(
        workspace=workspace,
        customer=customer,
        channel=row.channel,
        arm=row.arm,
        category=row.category,
        token_hash=secrets.token_hex(32),
        status=Conversation.Status.RESOLVED,
    )
    Conversation.objects.filter(pk=conversation.pk).update(created_at=started)
    if row.reopened:
        ConversationEvent.objects.create(
            workspace=workspace,
            conversation=conversation,
            kind=ConversationEvent.Kind.REOPENED,
            at=started + timedelta(minutes=5),
        )
    if row.csat:
        answered = row.csat != "asked"
        CsatRequest.objects.create(
            workspace=workspace,
            conversation=conversation,
            channel=row.channel,
            asked_at=started + timedelta(hours=1),
            answered_at=started + timedelta(hours=2) if answered else None,
            score=int(row.csat) if answered else None,
        )
        if answered:
            CsatResponse.objects.create(
                workspace=workspace, conversation=conversation, score=int(row.csat)
            )
    last = started + timedelta(hours=1)
    return Outcome.objects.create(
        workspace=workspace,
        conversation=conversation,
        customer=customer,
        outcome=row.outcome,
        final=row.final,
        final_at=last + timedelta(hours=48) if row.final else None,
        why={"rule": "known"},
        channel=row.channel,
        arm=row.arm,
        category=row.category,
        first_handoff_trigger=row.trigger,
        contained=row.contained,
        bot_answered=row.first_by == "bot",
        started_at=started,
        last_event_at=last,
        first_response_at=started + timedelta(seconds=row.first_s)
        if row.first_s is not None
        else None,
        first_response_by=row.first_by,
        resolved_at=started + timedelta(seconds=row.resolved_s)
        if row.resolved_s is not None
        else None,
        as_of=last,
        computed_at=last,
    )


# The known ledger: rows 1-9 start in March 2026, row 10 in February (outside the period).
KNOWN = [
    Row(
        AI,
        "widget",
        "billing",
        K.RESOLVED_BY_BOT_CONFIRMED,
        True,
        first_by="bot",
        first_s=10,
        resolved_s=60,
        csat="5",
    ),
    Row(
        AI,
        "widget",
        "billing",
        K.RESOLVED_BY_BOT_UNCONFIRMED,
        True,
        first_by="bot",
        first_s=20,
        csat="asked",
    ),
    Row(
        AI,
        "email",
        "shipping",
        K.RESOLVED_AFTER_HANDOFF,
        False,
        trigger="explicit_request",
        first_by="bot",
        first_s=30,
        resolved_s=600,
        csat="4",
    ),
    Row(AI, "widget", "shipping", K.ABANDONED, True, trigger="low_confidence"),
    Row(
        AI, "widget", "billing", K.REPEAT_CONTACT, True, first_by="bot", first_s=40, resolved_s=100
    ),
    Row(
        AI,
        "widget",
        "billing",
        K.RESOLVED_BY_BOT_CONFIRMED,
        True,
        first_by="bot",
        first_s=50,
        resolved_s=200,
        reopened=True,
    ),
    Row(
        CONTROL,
        "widget",
        "billing",
        K.RESOLVED_BY_HUMAN,
        False,
        trigger="control",
        first_by="person",
        first_s=120,
        resolved_s=1200,
        csat="2",
    ),
    Row(
        CONTROL,
        "email",
        "",
        K.NOT_RESOLVED,
        False,
        final=False,
        trigger="control",
        first_by="person",
        first_s=300,
    ),
    Row(
        AI,
        "widget",
        "shipping",
        K.RESOLVED_BY_BOT_CONFIRMED,
        True,
        final=False,
        first_by="bot",
        first_s=60,
        resolved_s=300,
    ),
    Row(
        AI,
        "widget",
        "billing",
        K.RESOLVED_BY_BOT_CONFIRMED,
        True,
        first_by="bot",
        first_s=5,
        resolved_s=5,
        hours=-24 * 10,
    ),
]


def known_ledger(workspace) -> list[Outcome]:
    return [ledger_row(workspace, row, n) for n, row in enumerate(KNOWN, start=1)]
