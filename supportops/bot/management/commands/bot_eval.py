from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from supportops import flows
from supportops.accounts.services import workspace_create, workspace_delete_scratch
from supportops.bot.models import BotTurn
from supportops.conversations.services import customer_get_or_create_visitor
from supportops.knowledge.importing import ImportFileError, rows_index_now
from supportops.lib.commands import (
    database_ready,
    logs_to_stderr,
    percentile,
    print_json,
    read_jsonl,
)


class Command(BaseCommand):
    help = (
        "Run each case's messages as one conversation through the bot turn (default settings, "
        "extractive provider) in a scratch workspace holding the given articles."
    )

    def add_arguments(self, parser):
        parser.add_argument("--articles", required=True, help="JSONL {id, title, body, category?}")
        parser.add_argument(
            "--cases", required=True, help="JSONL {messages: [...], expect?, trigger?, article_id?}"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--keep", action="store_true", help="keep the scratch workspace")

    def handle(self, *args, **opts):
        articles = read_jsonl(opts["articles"], ("title", "body"))
        cases = read_jsonl(opts["cases"], ("messages",))
        for number, case in enumerate(cases, start=1):
            messages = case["messages"]
            if (
                not isinstance(messages, list)
                or not messages
                or not all(isinstance(m, str) and m.strip() for m in messages)
            ):
                raise CommandError(
                    f"{opts['cases']}, case {number}: messages must be a list of non-empty texts"
                )
        database_ready(self, opts)
        with logs_to_stderr():
            workspace = workspace_create(name=f"bot_eval {uuid.uuid4().hex[:8]}", is_scratch=True)
            try:
                self._index(workspace, articles, opts["articles"])
                results = [self._run_case(workspace, n, case) for n, case in enumerate(cases)]
            finally:
                if not opts["keep"]:
                    workspace_delete_scratch(workspace=workspace)
        summary = totals(cases, results)
        output = {"cases": results, "totals": summary}
        if opts["json"]:
            print_json(output, self.stdout)
        else:
            for key, value in summary.items():
                self.stdout.write(f"{key}: {value}")

    def _index(self, workspace, articles, path):
        try:
            rows_index_now(workspace=workspace, rows=articles, source_file=path)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None

    def _run_case(self, workspace, number: int, case: dict[str, Any]) -> dict[str, Any]:
        customer = customer_get_or_create_visitor(
            workspace=workspace, visitor_id=f"bot-eval-{number:06d}-{uuid.uuid4().hex[:12]}"
        )
        conversation = flows.do_conversation_start(
            workspace=workspace, customer=customer
        ).conversation
        turn: BotTurn | None = None
        compute = []
        for text in case["messages"]:
            posted = flows.do_customer_message(
                conversation=conversation, text=text, queue_bot=False
            ).message
            started = time.perf_counter()
            turn = flows.do_bot_turn(message_id=posted.pk)
            compute.append((time.perf_counter() - started) * 1000)
            conversation.refresh_from_db(fields=["status"])
            if turn is not None and turn.action == BotTurn.Action.ESCALATE:
                break
        assert turn is not None
        reply = turn.reply
        sources = reply.sources if reply is not None else []
        return {
            "action": "answer" if turn.action == BotTurn.Action.ANSWER else turn.action,
            "trigger": turn.trigger or None,
            "article_id": sources[0]["article_id"] if sources else None,
            "reply": reply.text if reply is not None else "",
            "scores": {
                **turn.scores,
                "triggers": turn.triggers,
                "turns": len(compute),
                "turn_ms": [round(ms, 1) for ms in compute],
            },
        }


def totals(cases: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts by action and trigger; with expectations in the cases, the escalation figures."""
    out: dict[str, Any] = {
        "n": len(results),
        "actions": dict(Counter(r["action"] for r in results)),
        "triggers": dict(Counter(r["trigger"] for r in results if r["trigger"])),
    }
    turn_ms = [ms for r in results for ms in r["scores"]["turn_ms"]]
    out["turn_ms"] = {"p50": percentile(turn_ms, 50), "p95": percentile(turn_ms, 95)}
    must = [(c, r) for c, r in zip(cases, results, strict=True) if c.get("expect") == "escalate"]
    answerable = [
        (c, r) for c, r in zip(cases, results, strict=True) if c.get("expect") == "answer"
    ]
    if must:
        explicit = [(c, r) for c, r in must if c.get("trigger") == "explicit_request"]
        out["must_escalate"] = len(must)
        out["escalated"] = _share(r["action"] == "escalate" for _, r in must)
        out["escalated_right_trigger"] = _share(
            r["action"] == "escalate" and r["trigger"] == c.get("trigger") for c, r in must
        )
        out["explicit_escalated"] = _share(r["action"] == "escalate" for _, r in explicit)
    if answerable:
        answered = [(c, r) for c, r in answerable if r["action"] == "answer"]
        out["answerable"] = len(answerable)
        out["answerable_escalated"] = _share(r["action"] == "escalate" for _, r in answerable)
        out["answerable_answered"] = _share(r["action"] == "answer" for _, r in answerable)
        out["answered_right_article"] = _share(
            str(r["article_id"]) == str(c.get("article_id")) for c, r in answered
        )
    return out


def _share(values) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None
