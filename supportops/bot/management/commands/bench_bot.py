"""N customers chatting at once through the widget's HTTP API, answered by real Celery workers.

Each simulated customer starts a conversation, sends a question, polls until the bot's reply
arrives (as the widget does), pauses as a person would, and asks the next one. Times come
from the database: customer message stored -> bot reply stored, and each BotTurn's compute.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.request
import uuid
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from supportops.accounts.services import workspace_create, workspace_delete_scratch
from supportops.bot.models import BotTurn
from supportops.conversations.models import Message
from supportops.knowledge.importing import items_write, parse_path
from supportops.lib.commands import (
    celery_worker,
    database_ready,
    logs_to_stderr,
    percentile,
    print_json,
    wsgi_server,
)

DEMO_CONTENT = settings.BASE_DIR / "supportops" / "knowledge" / "demo_content" / "articles"
QUESTIONS = [
    "How long does delivery take to Germany?",
    "Can I return boots I have worn once?",
    "How do I reset my password?",
    "Do you accept PayPal?",
    "My parcel arrived damaged, what now?",
    "How warm is the -5 sleeping bag really?",
    "Can I change the size of my order before it ships?",
    "When will I get my refund?",
    "How do I turn on two-step sign-in?",
    "Can I pay in instalments?",
    "Do you ship to Norway and who pays customs?",
    "How do I wash and re-proof my tent?",
]


class Command(BaseCommand):
    help = "Concurrent conversations through the widget API with running workers; prints latency."

    def add_arguments(self, parser):
        parser.add_argument("--conversations", type=int, default=20)
        parser.add_argument("--messages", type=int, default=4, help="questions per conversation")
        parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
        parser.add_argument("--think-s", type=float, default=1.0, help="mean pause between turns")
        parser.add_argument(
            "--poll-s", type=float, default=1.0, help="polling interval (the widget's is 1 s)"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **opts):
        if opts["conversations"] < 1 or opts["messages"] < 1 or opts["workers"] < 1:
            raise CommandError("--conversations, --messages and --workers must be at least 1")
        database_ready(self, opts)
        # Latency comes from database timestamps, not from polling. The per-visitor request
        # limit is lifted so that a fast --poll-s cannot trip it, and the per-address limits
        # because every simulated customer calls from 127.0.0.1; they are not what is measured.
        unlimited = override_settings(
            WIDGET_RATE_PER_VISITOR_PER_MIN=10**6,
            WIDGET_RATE_STARTS_PER_IP="1000000/minute",
            WIDGET_RATE_WRITES_PER_IP="1000000/minute",
        )
        with logs_to_stderr(), unlimited:
            workspace = workspace_create(name=f"bench_bot {uuid.uuid4().hex[:8]}", is_scratch=True)
            try:
                items_write(workspace=workspace, items=parse_path(DEMO_CONTENT), embed="now")
                with wsgi_server() as url, celery_worker(opts["workers"]):
                    base = f"{url}/api/widget/v1/workspaces/{workspace.public_key}"
                    # Every worker process answers once before the clock starts.
                    _run_all(
                        [
                            _Customer(base, f"warm-up-{i}", 0.0, 1, 0.2)
                            for i in range(2 * opts["workers"])
                        ]
                    )
                    started = time.perf_counter()
                    _run_all(
                        [
                            _Customer(
                                base, f"c{i}", opts["think_s"], opts["messages"], opts["poll_s"]
                            )
                            for i in range(opts["conversations"])
                        ]
                    )
                    wall_s = time.perf_counter() - started
                result = _figures(workspace, opts["conversations"], wall_s)
            finally:
                workspace_delete_scratch(workspace=workspace)
        if opts["json"]:
            print_json(result, self.stdout)
        else:
            self.stdout.write(json.dumps(result, indent=2))


def _run_all(customers: list[_Customer]) -> None:
    threads = [threading.Thread(target=c.run) for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


class _Customer:
    """One simulated customer using the widget API the way the embed script does."""

    def __init__(self, base: str, name: str, think_s: float, messages: int, poll_s: float) -> None:
        self.base, self.name, self.think_s, self.messages = base, name, think_s, messages
        self.poll_s = poll_s
        self.rng = random.Random(name)
        self.token = ""

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(  # noqa: S310 - our own local server
            self.base + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json", "X-Conversation-Token": self.token},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())

    def run(self) -> None:
        # People open their chats at different moments, not in one synchronised burst.
        time.sleep(self.rng.uniform(0, 2 * self.think_s))
        started = self._call(
            "POST", "/conversations", {"visitor_id": f"bench-{self.name}-{uuid.uuid4().hex}"}
        )
        conversation, cursor = None, 0
        for n in range(self.messages):
            # Each customer words it their own way: no two messages of the run are the same
            # text, so nothing is answered from a cache that real traffic would not hit.
            text = f"Hi, shopper {self.name} here. {self.rng.choice(QUESTIONS)}"
            body = {"text": text, "client_key": f"{self.name}-{n}"}
            if conversation is None:  # the first message begins the conversation
                posted = self._call(
                    "POST", "/pending/messages", {**body, "pending_token": started["pending_token"]}
                )
                self.token, conversation = (
                    posted["conversation"]["token"],
                    posted["conversation"]["id"],
                )
            else:
                posted = self._call("POST", f"/conversations/{conversation}/messages", body)
            # From the customer's own message: a reply may already be in the answer above.
            cursor = max(cursor, posted["id"])
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                page = self._call("GET", f"/conversations/{conversation}/messages?after={cursor}")
                cursor = page["cursor"]
                if any(m["author"] != "customer" for m in page["messages"]):
                    break
                time.sleep(self.poll_s)
            if page["status"] != "bot":
                return  # handed off: a person takes it from here
            time.sleep(self.rng.uniform(0.5, 1.5) * self.think_s)


def _figures(workspace, conversations: int, wall_s: float) -> dict[str, Any]:
    turns = list(
        BotTurn.objects.filter(workspace=workspace, reply__isnull=False)
        .exclude(message__conversation__customer__visitor_id__startswith="bench-warm-up")
        .select_related("message", "reply")
    )
    latency = [
        (t.reply.created_at - t.message.created_at).total_seconds() * 1000
        for t in turns
        if t.reply is not None
    ]
    compute = [t.compute_ms for t in turns]
    unanswered = (
        Message.objects.filter(
            workspace=workspace, author=Message.Author.CUSTOMER, bot_turn__isnull=True
        )
        .exclude(conversation__customer__visitor_id__startswith="bench-warm-up")
        .count()
    )
    return {
        "conversations": conversations,
        "messages": len(turns),
        "unanswered": unanswered,
        "wall_s": round(wall_s, 2),
        "message_to_reply_ms": {"p50": percentile(latency, 50), "p95": percentile(latency, 95)},
        "turn_compute_ms": {"p50": percentile(compute, 50), "p95": percentile(compute, 95)},
    }
