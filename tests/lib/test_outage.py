"""PostgreSQL goes down under a running stack and comes back: nothing is lost.

The stack is a throw-away embedded one (tests/lib/stack.py: its own bundled PostgreSQL and
Redis, gunicorn and a Celery worker), since stopping the session's database would end the
session. While the database is down the widget API answers 503 with Retry-After and a JSON
error, pages answer a plain 503 page (DEBUG is on, so this is not Django's production 500
page), and a bot turn that meets the outage retries; afterwards the customer's message, sent
again with the same idempotency key, is stored once and every message gets its one answer.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator

import pytest

from supportops.lib.outage import DATABASE_UNAVAILABLE, RETRY_AFTER_S
from tests.conftest import wait_for

from .stack import EmbeddedStack, http, stack_folder

SHOP = "https://shop.example"

SETUP = f"""
import json
from supportops.accounts.services import workspace_create
from supportops.widget.models import WidgetSettings
workspace = workspace_create(name="Harbour Kayaks", slug="harbour")
WidgetSettings.objects.create(workspace=workspace, allowed_origins=["{SHOP}"])
print(json.dumps(workspace.public_key))
"""

ANSWERS = """
import json
from supportops.bot.models import BotTurn
from supportops.conversations.models import Message
rows = Message.objects.filter(conversation_id=CONVERSATION, author="customer").order_by("pk")
print(json.dumps([
    {"text": m.text, "key": m.client_key,
     "turns": BotTurn.objects.filter(message=m, status=BotTurn.Status.DONE).count()}
    for m in rows
]))
"""


@pytest.fixture(scope="module")
def stack() -> Iterator[EmbeddedStack]:
    with stack_folder("outage") as var_dir:
        running = EmbeddedStack(var_dir)
        try:
            running.manage("migrate", "--noinput", "-v0")
            yield running
        finally:
            running.close()


def test_a_database_outage_answers_503_and_loses_no_message(stack):
    key = stack.python(SETUP)
    web = stack.web()
    stack.worker()
    stack.consuming(False)  # the first message's bot turn waits in Redis until the outage
    api = f"{web}/api/widget/v1/workspaces/{key}"
    origin = {"Origin": SHOP}
    status, _, body = http("POST", f"{api}/conversations", {"visitor_id": "v" * 32}, origin)
    assert status == 200, body
    pending_token = json.loads(body)["pending_token"]
    # Stored before the outage (the first message begins the conversation); its bot turn is
    # queued.
    status, _, body = http(
        "POST",
        f"{api}/pending/messages",
        {"text": "How long does delivery take?", "pending_token": pending_token},
        {**origin, "Idempotency-Key": "before-1"},
    )
    assert status == 201, body
    started = json.loads(body)["conversation"]
    conversation = f"{api}/conversations/{started['id']}"
    chat = {**origin, "X-Conversation-Token": started["token"]}

    stack.postgres_stop()
    try:
        status, headers, body = http("GET", f"{api}/config", headers=origin)
        assert status == 503
        assert headers["Retry-After"] == str(RETRY_AFTER_S)
        assert headers["Content-Type"] == "application/json"
        assert headers["Access-Control-Allow-Origin"] == SHOP  # so the widget can read it
        assert "unavailable" in json.loads(body)["detail"]

        later = {"text": "Can I change the address?"}
        status, headers, body = http(
            "POST", f"{conversation}/messages", later, {**chat, "Idempotency-Key": "during-2"}
        )
        assert status == 503
        assert headers["Retry-After"] == str(RETRY_AFTER_S)
        assert json.loads(body)["detail"].startswith("The service is briefly unavailable")
        status, headers, _ = http(
            "OPTIONS",
            f"{conversation}/messages",
            headers={**origin, "Access-Control-Request-Method": "POST"},
        )
        assert status == 204  # the preflight passes, so the browser sends the request

        status, headers, body = http("GET", f"{web}/help/{key}/1/")
        page = body.decode()
        assert status == 503
        assert headers["Content-Type"].startswith("text/html")
        assert headers["Retry-After"] == str(RETRY_AFTER_S)
        assert "SupportOps is briefly unavailable" in page
        assert "Traceback" not in page and "OperationalError" not in page
        stylesheet = re.search(r'href="([^"]+app\.css)"', page)
        assert stylesheet and http("GET", web + stylesheet.group(1))[0] == 200

        # The worker takes the waiting bot turn while the database is away: it fails and is
        # retried, not dropped.
        stack.consuming(True)
        retried = re.compile(r"bot_turn\[[^\]]+\] retry: Retry in \d+s: OperationalError")
        try:
            wait_for(lambda: retried.search(stack.log("worker")), timeout=120, interval=0.5)
        except AssertionError:
            raise AssertionError(
                "no retry in the worker's log:\n" + stack.log("worker")[-4000:]
            ) from None
    finally:
        stack.postgres_start()

    # The widget sends the message again with the same key: stored once.
    again = {**chat, "Idempotency-Key": "during-2"}
    status, _, body = http("POST", f"{conversation}/messages", later, again)
    assert status == 201, body
    first_id = json.loads(body)["id"]
    status, _, body = http("POST", f"{conversation}/messages", later, again)
    assert status == 200 and json.loads(body)["id"] == first_id
    assert http("GET", f"{web}/help/{key}/1/")[0] == 404  # pages are back

    def answered() -> list[dict] | None:
        rows = stack.python(ANSWERS.replace("CONVERSATION", str(started["id"])))
        return rows if all(row["turns"] for row in rows) else None

    try:
        rows = wait_for(answered, timeout=180, interval=2)
    except AssertionError:
        raise AssertionError(
            "unanswered; the worker's log:\n" + stack.log("worker")[-6000:]
        ) from None
    assert [(r["key"], r["turns"]) for r in rows] == [("before-1", 1), ("during-2", 1)]


@pytest.mark.parametrize(
    "path",
    [
        "supportops.analytics.tasks.analysis_refresh_task",
        "supportops.analytics.tasks.cost_lines_refresh_task",
        "supportops.analytics.tasks.cost_lines_reprice_task",
        "supportops.analytics.tasks.outcome_refresh_task",
        "supportops.analytics.tasks.rollups_build_task",
        "supportops.exports.tasks.export_job_run",
        "supportops.flows.bot_turn",
        "supportops.inbox.tasks.followup_email_send",
        "supportops.inbox.tasks.handoff_packet_enrich",
        "supportops.knowledge.tasks.article_embed",
        "supportops.knowledge.tasks.import_job_run",
        "supportops.knowledge.tasks.lexicon_refresh",
    ],
)
def test_every_task_that_takes_work_retries_a_database_outage_with_backoff(path):
    module, name = path.rsplit(".", 1)
    task = getattr(importlib.import_module(module), name)
    assert set(DATABASE_UNAVAILABLE) <= set(task.autoretry_for)
    assert task.retry_backoff and task.acks_late
    assert getattr(task, "retry_jitter", True)  # Celery's default for autoretry: full jitter
    assert task.max_retries >= 8
