"""The rollout end to end: a scratch workspace with the demo help centre and its issue
categories, a live phase with 50% control and one category enabled, and N customers
talking to it through the real widget HTTP API (served by gunicorn in its own process) with
a real Celery worker. Each asks one question, half of them in the enabled category. The
counts come from the database afterwards; the workspace is deleted at the end.

Questions are written for this check (not the categories' training examples). A reply is
a message from the bot other than the greeting and the hand-off notice. "Disabled
category" means the category the question was written for; the counts by the category
the classifier gave are reported too. (A widget command: it drives the whole stack, the
bot included, so it sits at the top of the import layers.)
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import Count
from django.utils import timezone

from supportops.accounts.services import workspace_create, workspace_delete_scratch
from supportops.bot.demo import demo_categories_seed
from supportops.bot.models import BotTurn
from supportops.conversations.models import Conversation, Message
from supportops.knowledge.importing import items_write, parse_path
from supportops.lib.commands import (
    celery_worker,
    database_ready,
    fail,
    logs_to_stderr,
    print_json,
    server_process,
)
from supportops.rollout.models import Phase
from supportops.rollout.services import phase_create, plan_create

DEMO_CONTENT = settings.BASE_DIR / "supportops" / "knowledge" / "demo_content" / "articles"
ENABLED = "Returns and refunds"
# The demo's issue categories (supportops.bot.demo); questions written for this check.
QUESTIONS = {
    "Returns and refunds": [
        "I'd like to send my boots back, how does that work?",
        "Is the return label free or do I pay for it?",
        "How long until my money comes back after a return?",
        "Can I swap my jacket for a medium instead of a large?",
        "What's your return window for unused gear?",
        "Can I return the sleeping bag if I already used it?",
        "Could I get store credit instead of a refund?",
        "The trousers don't fit, can I send them back for a smaller pair?",
    ],
    "Orders and delivery": [
        "When will my parcel get here?",
        "Do you deliver to Switzerland and what are the customs costs?",
        "I need to change the address on the order I placed today",
        "Can I pick my order up in your Oslo store?",
    ],
    "Billing and payments": [
        "Can I split the payment into monthly instalments?",
        "My card keeps getting declined at checkout",
        "The discount code says it expired",
    ],
    "Account and privacy": [
        "I'm locked out of my account after entering the wrong password",
        "How do I stop getting your marketing emails?",
    ],
    "Product questions": [
        "Which boot size should I get if I'm usually a 43?",
        "How do I re-waterproof my tent fly?",
    ],
    "Repairs and warranty": [
        "My tent pole snapped after two trips, can you fix it?",
        "The zip on my pack broke, is that covered?",
    ],
    "Stock and stores": [
        "When will the green rain jacket be back in stock?",
        "Is there a Tidewell shop in Trondheim?",
    ],
}


class Command(BaseCommand):
    help = "Customers through the widget API under a live phase; counts the bot's replies."

    def add_arguments(self, parser):
        parser.add_argument("--conversations", type=int, default=200)
        parser.add_argument("--concurrency", type=int, default=8)
        parser.add_argument("--seed", type=int, default=14)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        if opts["conversations"] < 1 or opts["concurrency"] < 1:
            fail(self, opts, "--conversations and --concurrency must be at least 1")
        database_ready(self, opts)
        with logs_to_stderr():
            workspace = workspace_create(
                name=f"rollout_check {uuid.uuid4().hex[:8]}", is_scratch=True
            )
            try:
                result = self._run(workspace, opts)
            finally:
                workspace_delete_scratch(workspace=workspace)
        if opts["json"]:
            print_json(result, self.stdout)
        else:
            self.stdout.write(json.dumps(result, indent=2))

    def _run(self, workspace: Any, opts: dict[str, Any]) -> dict[str, Any]:
        items_write(workspace=workspace, items=parse_path(DEMO_CONTENT), embed="now")
        demo_categories_seed(workspace=workspace)
        plan = plan_create(workspace=workspace, actor=None, name="rollout_check")
        phase = phase_create(
            plan=plan,
            actor=None,
            known_categories=list(QUESTIONS),
            name="Returns first",
            categories=[ENABLED],
            control_share="50",
        )
        # A scratch phase goes live directly; promotion through the suite is tested apart.
        Phase.objects.filter(pk=phase.pk).update(
            status=Phase.Status.LIVE, went_live_at=timezone.now()
        )
        rng = random.Random(opts["seed"])
        others = [c for c in QUESTIONS if c != ENABLED]
        asks = []
        for n in range(opts["conversations"]):
            category = ENABLED if n % 2 == 0 else rng.choice(others)
            asks.append(
                (
                    f"check-{n:05d}-{uuid.uuid4().hex[:12]}",
                    category,
                    rng.choice(QUESTIONS[category]),
                )
            )
        # Every simulated customer calls from 127.0.0.1: the per-address limits (and the
        # others) are lifted, they are not what is checked here.
        limits = {
            "WIDGET_RATE_PER_WORKSPACE_PER_MIN": "1000000",
            "WIDGET_RATE_PER_VISITOR_PER_MIN": "1000000",
            "WIDGET_RATE_MESSAGES_PER_VISITOR_PER_MIN": "1000000",
            "WIDGET_RATE_STARTS_PER_IP": "1000000/minute",
            "WIDGET_RATE_WRITES_PER_IP": "1000000/minute",
        }
        started = time.perf_counter()
        with celery_worker(processes=1), server_process(limits) as url:
            base = f"{url}/api/widget/v1/workspaces/{workspace.public_key}"
            intended: dict[int, str] = {}
            lock = threading.Lock()

            def customer(ask: tuple[str, str, str]) -> None:
                visitor, category, question = ask
                conversation_id = _chat(base, visitor, question)
                with lock:
                    intended[conversation_id] = category

            with ThreadPoolExecutor(max_workers=opts["concurrency"]) as pool:
                list(pool.map(customer, asks))
            _wait_until_decided(workspace)
        return _counts(workspace, intended, time.perf_counter() - started)


def _call(url: str, method: str, body: dict[str, Any] | None = None, token: str = "") -> Any:
    request = urllib.request.Request(  # noqa: S310 - our own local server
        url,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json", "X-Conversation-Token": token},
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return json.loads(response.read())


def _chat(base: str, visitor: str, question: str) -> int:
    """Start, ask, and poll as the widget does until someone answers or it is with people."""
    started = _call(f"{base}/conversations", "POST", {"visitor_id": visitor})
    # The first message begins the conversation (starting stores nothing).
    posted = _call(
        f"{base}/pending/messages",
        "POST",
        {"text": question, "client_key": f"{visitor}-1", "pending_token": started["pending_token"]},
    )
    token, conversation = posted["conversation"]["token"], posted["conversation"]["id"]
    cursor = posted["id"]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        page = _call(
            f"{base}/conversations/{conversation}/messages?after={cursor}", "GET", token=token
        )
        cursor = page["cursor"]
        if page["status"] != "bot" or any(m["author"] == "bot" for m in page["messages"]):
            break
        time.sleep(0.5)
    return int(conversation)


def _wait_until_decided(workspace: Any, timeout: float = 180.0) -> None:
    """Every customer message has its decided turn (control ones a silent one) before
    counting, so nothing still queued is missed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = (
            Message.objects.filter(workspace=workspace, author=Message.Author.CUSTOMER)
            .exclude(bot_turn__status=BotTurn.Status.DONE)
            .count()
        )
        if not pending:
            return
        time.sleep(1)


def _counts(workspace: Any, intended: dict[int, str], wall_s: float) -> dict[str, Any]:
    conversations = Conversation.objects.filter(workspace=workspace)
    arms = {arm: conversations.filter(arm=arm).count() for arm in Conversation.Arm.values}
    bot = Message.objects.filter(workspace=workspace, author=Message.Author.BOT)
    replies = bot.exclude(kind__in=[Message.Kind.GREETING, Message.Kind.HANDOFF])
    control_ids = set(conversations.filter(arm="human_only").values_list("pk", flat=True))
    ai_ids = set(conversations.filter(arm="ai_first").values_list("pk", flat=True))
    enabled_ids = {c for c, cat in intended.items() if cat == ENABLED and c in ai_ids}
    disabled_ids = {c for c, cat in intended.items() if cat != ENABLED and c in ai_ids}
    labelled = dict(conversations.values_list("pk", "category"))
    labelled_disabled = {c for c in ai_ids if labelled.get(c) != ENABLED}
    reply_rows = list(replies.values_list("conversation_id", "kind"))
    handoffs = dict(
        conversations.filter(handoffs__isnull=False)
        .values_list("handoffs__trigger")
        .annotate(n=Count("pk"))
        .values_list("handoffs__trigger", "n")
    )
    control_labelled = sum(1 for c in control_ids if labelled.get(c))
    return {
        "conversations": len(intended),
        "arms": arms,
        "control_bot_replies": bot.filter(conversation_id__in=control_ids).count(),
        "disabled_category_bot_replies": sum(1 for c, _ in reply_rows if c in disabled_ids),
        "enabled_category_bot_answers": sum(
            1 for c, kind in reply_rows if c in enabled_ids and kind == Message.Kind.ANSWER
        ),
        "by_labelled_category": {
            "disabled_category_bot_replies": sum(
                1 for c, _ in reply_rows if c in labelled_disabled
            ),
            "control_conversations_labelled": control_labelled,
        },
        "enabled_category_conversations": {"ai_first": len(enabled_ids)},
        "handoffs_by_trigger": handoffs,
        "wall_s": round(wall_s, 1),
    }
