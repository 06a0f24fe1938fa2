"""`manage.py bench_inbox --json`: the inbox list and the conversation page under volume.

A scratch workspace is seeded with `--conversations` open handed-off conversations (default
10,000) and `--messages` messages spread over them (default 200,000), with customers, orders,
handoffs with packets and routing. Then an admin's requests are timed in-process through
Django's test client (server time: URL routing, views, queries, templates; no network), with
the number of SQL queries per page. The workspace is deleted at the end.
"""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from supportops.accounts.services import workspace_create, workspace_delete_scratch
from supportops.conversations.models import Conversation, Customer, Message, Order
from supportops.inbox.models import Handoff, Priority, Routing
from supportops.lib.commands import database_ready, percentile, print_json

BATCH = 5000
CATEGORIES = ["orders", "returns", "billing", "account", "products", "privacy"]
TRIGGERS = ["explicit_request", "frustration", "high_stakes", "turn_limit", "low_confidence"]
WORDS = [
    "order",
    "parcel",
    "refund",
    "return",
    "jacket",
    "tent",
    "boots",
    "size",
    "delivery",
    "tracking",
    "card",
    "charge",
    "account",
    "password",
    "login",
    "email",
    "warehouse",
    "store",
    "exchange",
    "voucher",
    "discount",
    "stove",
    "sleeping",
    "bag",
]


def _summary(values: list[float]) -> dict[str, float]:
    return {"p50": percentile(values, 50), "p95": percentile(values, 95)}


class Command(BaseCommand):
    help = "Seed an inbox at volume in a scratch workspace and time its pages."

    def add_arguments(self, parser):
        parser.add_argument("--conversations", type=int, default=10_000)
        parser.add_argument("--messages", type=int, default=200_000)
        parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **opts):
        n_conversations, n_messages = opts["conversations"], opts["messages"]
        if n_conversations < 1 or n_messages < n_conversations:
            raise CommandError("need at least one conversation and one message for each")
        if opts["requests"] < 1:
            raise CommandError("--requests must be at least 1")
        database_ready(self, opts)
        rng = random.Random(opts["seed"])
        tag = uuid.uuid4().hex[:8]
        user = get_user_model().objects.create_user(
            username=f"bench-inbox-{tag}", email=f"bench-inbox-{tag}@example.invalid"
        )
        workspace = workspace_create(name=f"bench inbox {tag}", owner=user, is_scratch=True)
        try:
            started = time.perf_counter()
            ids = self._seed(workspace, user, rng, n_conversations, n_messages)
            seed_s = time.perf_counter() - started
            result = self._measure(workspace, user, ids, rng, opts["requests"])
        finally:
            workspace_delete_scratch(workspace=workspace)
            user.delete()
        result = {
            "open_conversations": n_conversations,
            "messages": n_messages,
            **result,
            "seed_s": round(seed_s, 1),
        }
        if opts["json"]:
            print_json(result, self.stdout)
        else:
            for key, value in result.items():
                self.stdout.write(f"{key}: {value}")

    # Seeding ----------------------------------------------------------------------------------

    @transaction.atomic
    def _seed(self, workspace, user, rng: random.Random, n_conv: int, n_msg: int) -> list[int]:
        now = timezone.now()
        n_customers = max(1, n_conv // 4)
        customers = Customer.objects.bulk_create(
            [
                Customer(
                    workspace=workspace,
                    external_id=f"bench-{i}",
                    name=f"Customer {i}",
                    plan=rng.choice(["", "plus", "pro"]),
                    is_vip=rng.random() < 0.05,
                )
                for i in range(n_customers)
            ],
            batch_size=BATCH,
        )
        Order.objects.bulk_create(
            [
                Order(
                    workspace=workspace,
                    customer=customer,
                    number=f"B-{i:07d}",
                    status="shipped",
                    placed_at=now - timedelta(days=rng.randint(1, 40)),
                    total=Decimal("49.90"),
                )
                for i, customer in enumerate(customers)
            ],
            batch_size=BATCH,
        )
        conversations = Conversation.objects.bulk_create(
            [
                self._conversation(workspace, customers[i % n_customers], rng, now, i)
                for i in range(n_conv)
            ],
            batch_size=BATCH,
        )
        self._messages(workspace, conversations, user, rng, n_msg, now)
        handoffs = Handoff.objects.bulk_create(
            [
                Handoff(
                    workspace=workspace,
                    conversation=c,
                    trigger=rng.choice(TRIGGERS),
                    reason="seeded by bench_inbox",
                    scores={"negative": round(rng.random(), 3)},
                    packet={"version": 1, "summary": "The customer asked about their order."},
                    status=Handoff.Status.ASSIGNED if c.status == "with_agent" else "queued",
                    assignee=user if c.status == "with_agent" else None,
                )
                for c in conversations
            ],
            batch_size=BATCH,
        )
        Routing.objects.bulk_create(
            [
                Routing(
                    workspace=workspace,
                    handoff=h,
                    category=rng.choice(CATEGORIES),
                    priority=rng.choice(Priority.values),
                    priority_reason="seeded",
                    first_reply_due=now + timedelta(minutes=rng.randint(-60, 120)),
                    resolution_due=now + timedelta(hours=rng.randint(-4, 48)),
                )
                for h in handoffs
            ],
            batch_size=BATCH,
        )
        return [c.pk for c in conversations]

    @staticmethod
    def _conversation(workspace, customer, rng: random.Random, now, i: int) -> Conversation:
        at = now - timedelta(minutes=rng.randint(1, 60 * 24 * 7))
        return Conversation(
            workspace=workspace,
            customer=customer,
            status=rng.choice([Conversation.Status.HANDED_OFF, Conversation.Status.WITH_AGENT]),
            category=rng.choice(CATEGORIES),
            token_hash=hashlib.sha256(f"{workspace.pk}-{i}-{uuid.uuid4()}".encode()).hexdigest(),
            last_message_at=at,
            handed_off_at=at,
        )

    @staticmethod
    def _messages(workspace, conversations, user, rng: random.Random, n_msg: int, now) -> None:
        authors = [Message.Author.CUSTOMER, Message.Author.BOT, Message.Author.AGENT]
        per = n_msg // len(conversations)
        extra = n_msg - per * len(conversations)
        batch: list[Message] = []
        for index, conversation in enumerate(conversations):
            for j in range(per + (1 if index < extra else 0)):
                author = authors[j % 3]
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30)))
                batch.append(
                    Message(
                        workspace=workspace,
                        conversation=conversation,
                        author=author,
                        agent=user if author == Message.Author.AGENT else None,
                        text=text,
                        redacted_text=text,
                    )
                )
            if len(batch) >= BATCH:
                Message.objects.bulk_create(batch, batch_size=BATCH)
                batch = []
        Message.objects.bulk_create(batch, batch_size=BATCH)

    # Measuring --------------------------------------------------------------------------------

    def _measure(self, workspace, user, ids: list[int], rng, requests: int) -> dict[str, Any]:
        host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"), "localhost")
        client = Client(HTTP_HOST=host)
        client.force_login(user)
        list_url = reverse("inbox:index", args=[workspace.slug])
        pages = [
            (f"{list_url}?view=all", "list"),
            *[
                (
                    reverse(
                        "inbox:conversation",
                        args=[workspace.slug, rng.choice(ids)],
                    ),
                    "conversation",
                )
                for _ in range(requests)
            ],
        ]
        # The alerts poll every open inbox page makes every few seconds (counts, title, news).
        since = (timezone.now() - timedelta(minutes=1)).isoformat()
        alerts_url = (
            reverse("inbox:alerts", args=[workspace.slug]) + "?" + urlencode({"since": since})
        )
        pages += [(alerts_url, "alerts")] * requests
        timings: dict[str, list[float]] = {"list": [], "conversation": [], "alerts": []}
        queries: dict[str, set[int]] = {"list": set(), "conversation": set(), "alerts": set()}
        self._get(client, pages[0][0])  # warm templates and caches once
        self._get(client, pages[1][0])
        for _ in range(requests):
            self._timed(client, pages[0][0], timings["list"], queries["list"])
        for url, kind in pages[1:]:
            self._timed(client, url, timings[kind], queries[kind])
        return {
            "list_ms": _summary(timings["list"]),
            "list_queries": max(queries["list"]),
            "conversation_ms": _summary(timings["conversation"]),
            "conversation_queries": max(queries["conversation"]),
            "alerts_ms": _summary(timings["alerts"]),
            "alerts_queries": max(queries["alerts"]),
            "query_counts_constant": len(queries["list"]) == 1
            and len(queries["conversation"]) == 1,
        }

    @staticmethod
    def _get(client: Client, url: str):
        response = client.get(url)
        if response.status_code != 200:
            raise CommandError(f"GET {url} answered {response.status_code}")
        return response

    def _timed(self, client: Client, url: str, times: list[float], counts: set[int]) -> None:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            self._get(client, url)
            times.append((time.perf_counter() - started) * 1000)
        counts.add(len(captured.captured_queries))
