"""`manage.py outcome_eval --articles A.jsonl --cases C.jsonl --json` (issue 13).

Each case's timeline is played through the real services with the clock set to each event's
time (time-machine: `timezone.now()` returns the event's time everywhere): chat messages
through `flows.do_customer_message` and the bot's turn (`flows.do_bot_turn`), email through
the inbound email flow (`flows.do_email_inbound`), a person's claim and replies, resolves,
the widget's feedback and end-chat paths. The ledger is then read as of `as_of_h` after the
beat task has run at that time. The expectations are read only when scoring, after the run.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from supportops import flows
from supportops.accounts.models import Membership, Role, Workspace
from supportops.accounts.services import workspace_create, workspace_delete_scratch
from supportops.analytics.ledger import outcomes_sweep_run
from supportops.analytics.models import Outcome
from supportops.celery import app
from supportops.conversations.models import Conversation, ConversationEvent, EmailChannel, Message
from supportops.conversations.selectors import email_thread_ids
from supportops.conversations.services import InboundEmail, customer_get_or_create_verified
from supportops.inbox.services import handoff_claim, handoff_open_get
from supportops.knowledge.importing import ImportFileError, rows_index_now
from supportops.lib.commands import database_ready, logs_to_stderr, print_json, read_jsonl

EVENTS = ("customer", "feedback", "agent", "resolve", "leave")
CHANNELS = {"chat": Conversation.Channel.WIDGET, "email": Conversation.Channel.EMAIL}
# Any fixed start: every case starts here, each with a customer of its own.
START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def _check_case(path: str, number: int, case: dict[str, Any]) -> None:
    where = f"{path}, case {number}"
    timeline = case.get("timeline")
    if not isinstance(timeline, list) or not timeline:
        raise CommandError(f"{where}: timeline must be a non-empty list")
    if not isinstance(case.get("as_of_h"), int | float):
        raise CommandError(f"{where}: as_of_h must be a number of hours")
    if case.get("arm", "ai_first") not in Conversation.Arm.values:
        raise CommandError(f"{where}: arm must be one of {', '.join(Conversation.Arm.values)}")
    opened: set[str] = set()
    for step, event in enumerate(timeline, start=1):
        at = f"{where}, event {step}"
        if not isinstance(event, dict) or event.get("event") not in EVENTS:
            raise CommandError(f"{at}: event must be one of {', '.join(EVENTS)}")
        if not isinstance(event.get("at_h"), int | float) or event["at_h"] < 0:
            raise CommandError(f"{at}: at_h must be a number of hours from the start")
        label = event.get("conversation")
        if not isinstance(label, str) or not label:
            raise CommandError(f"{at}: conversation must name the conversation")
        kind = event["event"]
        if kind in ("customer", "agent") and not str(event.get("text") or "").strip():
            raise CommandError(f"{at}: a {kind} event needs text")
        if kind == "customer" and label not in opened:
            if event.get("channel", "chat") not in CHANNELS:
                raise CommandError(f"{at}: channel must be chat or email")
            opened.add(label)
        elif label not in opened:
            raise CommandError(f"{at}: conversation {label} has not been opened by the customer")
        if kind == "feedback" and not isinstance(event.get("solved"), bool):
            raise CommandError(f"{at}: feedback needs solved true or false")
        if kind == "resolve" and event.get("resolution", "solved") not in (
            Conversation.Resolution.values
        ):
            raise CommandError(f"{at}: unknown resolution {event.get('resolution')!r}")


class Command(BaseCommand):
    help = (
        "Play each case's timeline through the real services with the clock at each event's "
        "time, in a scratch workspace holding the given articles, and read the outcome ledger."
    )

    def add_arguments(self, parser):
        parser.add_argument("--articles", required=True, help="JSONL {id, title, body}")
        parser.add_argument(
            "--cases", required=True, help="JSONL {id, arm, timeline, as_of_h, expect?}"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--keep", action="store_true", help="keep the scratch workspace")

    def handle(self, *args, **opts):
        articles = read_jsonl(opts["articles"], ("title", "body"))
        cases = read_jsonl(opts["cases"], ("timeline", "as_of_h"))
        for number, case in enumerate(cases, start=1):
            _check_case(opts["cases"], number, case)
        database_ready(self, opts)
        eager = app.conf.task_always_eager
        # The flows' on-commit tasks (the ledger's refresh, reply emails) run in this process
        # at the replayed time; email goes to memory, never to stdout or a server.
        app.conf.task_always_eager = True
        try:
            with (
                logs_to_stderr(),
                override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
            ):
                results = self._run(articles, cases, opts)
        finally:
            app.conf.task_always_eager = eager
        summary = totals(cases, results)
        output = {"cases": [r["out"] for r in results], "totals": summary}
        if opts["json"]:
            print_json(output, self.stdout)
        else:
            for key, value in summary.items():
                self.stdout.write(f"{key}: {value}")

    def _run(self, articles, cases, opts) -> list[dict[str, Any]]:
        suffix = uuid.uuid4().hex[:8]
        workspace = workspace_create(name=f"outcome_eval {suffix}", is_scratch=True)
        agent = get_user_model().objects.create_user(
            username=f"outcome-eval-{suffix}@agents.invalid",
            email=f"outcome-eval-{suffix}@agents.invalid",
        )
        try:
            Membership.objects.create(user=agent, workspace=workspace, role=Role.AGENT)
            EmailChannel.objects.create(workspace=workspace, address="help@support.invalid")
            try:
                rows_index_now(workspace=workspace, rows=articles, source_file=opts["articles"])
            except ImportFileError as exc:
                raise CommandError(str(exc)) from None
            return [self._play(workspace, agent, n, case) for n, case in enumerate(cases)]
        finally:
            if not opts["keep"]:
                workspace_delete_scratch(workspace=workspace)
                agent.delete()

    def _play(self, workspace: Workspace, agent, number: int, case: dict[str, Any]):
        arm = case.get("arm") or Conversation.Arm.AI_FIRST
        customer = customer_get_or_create_verified(
            workspace=workspace,
            external_id=f"case-{number:05d}",
            name=f"Customer {number}",
            email=f"customer-{number:05d}@customers.invalid",
        )
        conversations: dict[str, Conversation] = {}
        for step, event in enumerate(case["timeline"]):
            with time_machine.travel(START + timedelta(hours=event["at_h"]), tick=False):
                self._step(workspace, agent, customer, arm, conversations, step, event)
        as_of = START + timedelta(hours=case["as_of_h"])
        with time_machine.travel(as_of, tick=False):
            outcomes_sweep_run(now=as_of, workspace=workspace)
        rows = {
            o.conversation_id: o
            for o in Outcome.objects.filter(conversation__in=conversations.values())
        }
        out: dict[str, Any] = {}
        silent: dict[str, bool] = {}
        for label, conversation in conversations.items():
            row = rows.get(conversation.pk)
            out[label] = {
                "outcome": row.outcome if row else None,
                "final": row.final if row else None,
                "why": row.why if row else {"rule": "missing"},
            }
            silent[label] = _silent(conversation)
        return {"out": {"id": case.get("id", number), "conversations": out}, "silent": silent}

    def _step(self, workspace, agent, customer, arm, conversations, step, event) -> None:
        label, kind = event["conversation"], event["event"]
        conversation = conversations.get(label)
        if conversation is not None:
            conversation.refresh_from_db()
        if kind == "customer":
            channel = CHANNELS[event.get("channel") or "chat"]
            if conversation is not None:
                channel = conversation.channel
            if channel == Conversation.Channel.EMAIL:
                conversations[label] = self._email(
                    workspace, customer, arm, conversation, step, event["text"]
                )
                return
            if conversation is None:
                conversation = flows.do_conversation_start(
                    workspace=workspace, customer=customer, arm=arm
                ).conversation
                conversations[label] = conversation
            posted = flows.do_customer_message(
                conversation=conversation, text=event["text"], queue_bot=False
            )
            flows.do_bot_turn(message_id=posted.message.pk)
        elif kind == "feedback":
            flows.do_feedback(conversation=conversation, solved=event["solved"])
        elif kind == "agent":
            handoff = handoff_open_get(conversation=conversation)
            if handoff is not None and handoff.assignee_id is None:
                handoff_claim(handoff=handoff, agent=agent)
            flows.do_agent_reply(conversation=conversation, agent=agent, text=event["text"])
        elif kind == "resolve":
            if conversation.status != Conversation.Status.RESOLVED:
                flows.do_resolve(
                    conversation=conversation,
                    actor=agent,
                    resolution=event.get("resolution") or Conversation.Resolution.SOLVED,
                )
        elif kind == "leave":
            flows.do_customer_end(conversation=conversation)

    def _email(self, workspace, customer, arm, conversation, step, text) -> Conversation:
        thread: list[str] = []
        if conversation is not None:
            thread = email_thread_ids(conversation=conversation, newest_first=True)
            subject = f"Re: {conversation.subject}"
        else:
            subject = " ".join(text.split()[:8])[:120]
        result = flows.do_email_inbound(
            workspace=workspace,
            email=InboundEmail(
                sender=customer.email,
                subject=subject,
                text=text,
                message_id=f"<{customer.external_id}.{step}.{uuid.uuid4().hex[:8]}@mail.invalid>",
                thread_ids=thread,
            ),
            arm=arm,
        )
        return result.conversation


def _silent(conversation: Conversation) -> bool:
    """The customer said nothing after the bot's first answer and pressed no button."""
    first_answer = (
        Message.objects.filter(
            conversation=conversation, author=Message.Author.BOT, kind=Message.Kind.ANSWER
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if first_answer is None:
        return False
    wrote = Message.objects.filter(
        conversation=conversation, author=Message.Author.CUSTOMER, pk__gt=first_answer
    ).exists()
    pressed = ConversationEvent.objects.filter(
        conversation=conversation, kind=ConversationEvent.Kind.FEEDBACK
    ).exists()
    return not wrote and not pressed


def totals(cases: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    """Scores against the cases' expectations (read here, after the run)."""
    n = correct = 0
    per: dict[str, Counter[str]] = defaultdict(Counter)
    repeats_expected = repeats_found = repeats_false = 0
    silent_confirmed = silent_n = 0
    predicted: Counter[str] = Counter()
    for case, result in zip(cases, results, strict=True):
        got = result["out"]["conversations"]
        for label, row in got.items():
            predicted[row["outcome"]] += 1
            why = row["why"] or {}
            if result["silent"].get(label):
                silent_n += 1
                confirmed = Outcome.Kind.RESOLVED_BY_BOT_CONFIRMED
                if row["outcome"] == confirmed or why.get("replaced") == confirmed:
                    silent_confirmed += 1
        for label, expected in (case.get("expect") or {}).items():
            row = got.get(label, {})
            n += 1
            ok = row.get("outcome") == expected.get("outcome") and row.get("final") == expected.get(
                "final"
            )
            correct += ok
            per[expected.get("outcome")]["n"] += 1
            per[expected.get("outcome")]["correct"] += ok
            if expected.get("outcome") == Outcome.Kind.REPEAT_CONTACT:
                repeats_expected += 1
                repeats_found += row.get("outcome") == Outcome.Kind.REPEAT_CONTACT
            elif row.get("outcome") == Outcome.Kind.REPEAT_CONTACT:
                repeats_false += 1
    out: dict[str, Any] = {
        "n": n,
        "accuracy": correct / n if n else None,
        "per_outcome": {
            k: {"n": v["n"], "accuracy": v["correct"] / v["n"]} for k, v in sorted(per.items())
        },
        "predicted": dict(predicted),
        "repeat_contacts_expected": repeats_expected,
        "repeat_contacts_found": repeats_found / repeats_expected if repeats_expected else None,
        "repeat_contacts_false": repeats_false,
        "silent_conversations": silent_n,
        "silent_counted_confirmed": silent_confirmed,
    }
    return out
