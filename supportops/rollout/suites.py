"""Test cases for a phase: what a scripted conversation should lead to, read from CSV or
JSONL (every line checked before anything is saved), added from a real conversation, and
judged against what the bot did.

File formats (UTF-8):
- JSONL, one object a line: `{"messages": ["...", "..."], "expect": "answer", "article":
  "tw-ret-01"}`; `"message": "..."` for a single message; `expect` is `answer` (with
  `article`: the article's id from the import, or its number here), `handoff` (with
  `trigger`, or none for any hand-off) or `stay_out` (with `category`); `note` optional.
- CSV with a header: `messages,expect,article,trigger,category,note` (only `messages` and
  `expect` required; `message` is accepted for `messages`); several customer messages go
  in one quoted cell, one per line.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from supportops.accounts.models import Workspace
from supportops.accounts.services import Actor, audit_log_write
from supportops.conversations.models import Conversation, Message
from supportops.knowledge.models import Article
from supportops.lib.csvrows import csv_records
from supportops.text import triggers

from .models import SuiteCase
from .services import RolloutError, _require_editor

MAX_BYTES = 5 * 1024 * 1024
MAX_CASES = 2000
MAX_MESSAGES = 10
MAX_MESSAGE_CHARS = 4000
NOTE_MAX = 300
HANDOFF_TRIGGERS = triggers.TRIGGER_ORDER  # category_not_enabled included
EXPECTS = {e.value for e in SuiteCase.Expect}


class SuiteFileError(RolloutError):
    """A suite file was refused as a whole; `line` is where (None: the whole file)."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        self.reason, self.line = reason, line
        super().__init__(f"Line {line}: {reason}" if line else reason, "file")


@dataclass
class CaseDraft:
    """A case read from a file or a form, checked but not saved."""

    messages: list[str]
    expect: str
    article: str = ""
    trigger: str = ""
    category: str = ""
    note: str = ""
    line: int | None = None
    article_pk: int | None = field(default=None, repr=False)


def _article_lookup(workspace: Workspace) -> dict[str, tuple[int, str]]:
    """Every way a case may name an article (external id, number) -> (pk, stored id)."""
    lookup: dict[str, tuple[int, str]] = {}
    for pk, external_id in Article.objects.filter(workspace=workspace).values_list(
        "pk", "external_id"
    ):
        stored = external_id or str(pk)
        lookup[str(pk)] = (pk, stored)
        if external_id:
            lookup[external_id.casefold()] = (pk, stored)
    return lookup


def case_check(
    draft: CaseDraft,
    *,
    articles: dict[str, tuple[int, str]],
    known_categories: Collection[str],
) -> CaseDraft:
    """Normalise one case or raise SuiteFileError naming its line."""
    line = draft.line

    def fail(reason: str) -> SuiteFileError:
        return SuiteFileError(reason, line)

    messages = [" ".join(str(m).replace("\x00", "").split()) for m in draft.messages]
    messages = [m for m in messages if m]
    if not messages:
        raise fail("The case has no customer message.")
    if len(messages) > MAX_MESSAGES:
        raise fail(f"{len(messages)} messages; a case has at most {MAX_MESSAGES}.")
    for text in messages:
        if len(text) > MAX_MESSAGE_CHARS:
            raise fail(f"A message is over {MAX_MESSAGE_CHARS} characters.")
    expect = (draft.expect or "").strip().lower().replace("-", "_").replace(" ", "_")
    if expect not in EXPECTS:
        raise fail(f"Unknown expectation “{draft.expect}”: use answer, handoff or stay_out.")
    out = CaseDraft(messages=messages, expect=expect, note=draft.note.strip()[:NOTE_MAX], line=line)
    if expect == SuiteCase.Expect.ANSWER:
        ref = (draft.article or "").strip()
        if not ref:
            raise fail("An `answer` case names the article the answer must cite (`article`).")
        found = articles.get(ref.casefold()) or articles.get(ref)
        if found is None:
            raise fail(f"No article “{ref}” in this workspace (use its id or its number).")
        out.article_pk, out.article = found
    elif expect == SuiteCase.Expect.HANDOFF:
        trigger = (draft.trigger or "").strip().lower()
        if trigger and trigger not in HANDOFF_TRIGGERS:
            raise fail(f"Unknown trigger “{trigger}”: use one of {', '.join(HANDOFF_TRIGGERS)}.")
        out.trigger = trigger
    else:
        name = " ".join((draft.category or "").split())
        if not name:
            raise fail("A `stay_out` case names the category the bot must stay out of.")
        match = {k.casefold(): k for k in known_categories}.get(name.casefold())
        if match is None:
            raise fail(f"Unknown category “{name}”.")
        out.category = match
    return out


def parse_suite_file(
    *,
    filename: str,
    data: bytes,
    workspace: Workspace,
    known_categories: Collection[str],
) -> list[CaseDraft]:
    """Read and check a whole CSV or JSONL file; the first bad line stops it."""
    if len(data) > MAX_BYTES:
        raise SuiteFileError(f"The file is larger than {MAX_BYTES // 2**20} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SuiteFileError("This is not UTF-8 text; save the file as UTF-8.", line) from None
    if not text.strip():
        raise SuiteFileError("The file is empty.")
    name = filename.lower()
    if name.endswith((".jsonl", ".ndjson", ".json")):
        drafts = _parse_jsonl(text)
    elif name.endswith(".csv"):
        drafts = _parse_csv(text)
    else:
        raise SuiteFileError("Upload a .csv or .jsonl file.")
    if not drafts:
        raise SuiteFileError("The file has no test cases.")
    if len(drafts) > MAX_CASES:
        raise SuiteFileError(f"More than {MAX_CASES} cases; split the file.")
    articles = _article_lookup(workspace)
    return [case_check(d, articles=articles, known_categories=known_categories) for d in drafts]


def _parse_jsonl(text: str) -> list[CaseDraft]:
    drafts = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SuiteFileError(f"Not valid JSON ({exc.msg}).", number) from None
        if not isinstance(row, dict):
            raise SuiteFileError("Each line must be a JSON object.", number)
        messages = row.get("messages", row.get("message"))
        if isinstance(messages, str):
            messages = [messages]
        if not isinstance(messages, list) or not all(isinstance(m, str) for m in messages):
            raise SuiteFileError(
                "`messages` must be a list of texts (or `message` one text).", number
            )
        values: dict[str, str] = {}
        for key in ("expect", "article", "trigger", "category", "note"):
            value = row.get(key, "")
            if value is None:
                value = ""
            if not isinstance(value, str | int):
                raise SuiteFileError(f"`{key}` must be text.", number)
            values[key] = str(value)
        drafts.append(
            CaseDraft(
                messages=messages,
                expect=values["expect"],
                article=values["article"],
                trigger=values["trigger"],
                category=values["category"],
                note=values["note"],
                line=number,
            )
        )
    return drafts


def _parse_csv(text: str) -> list[CaseDraft]:
    header: list[str] | None = None
    drafts = []
    for line, record in csv_records(text, error=SuiteFileError):
        if header is None:
            header = [cell.strip().lower() for cell in record]
            if "message" in header and "messages" not in header:
                header[header.index("message")] = "messages"
            if "messages" not in header or "expect" not in header:
                raise SuiteFileError(
                    "The first line must be a header with at least `messages,expect` "
                    "(and `article`, `trigger`, `category`, `note` as needed).",
                    line,
                )
            continue
        if len(record) < len(header):
            record = record + [""] * (len(header) - len(record))
        if len(record) > len(header):
            raise SuiteFileError(
                f"{len(record)} columns where the header has {len(header)}; quote texts "
                "that contain commas.",
                line,
            )
        row = dict(zip(header, record, strict=True))
        drafts.append(
            CaseDraft(
                messages=row["messages"].splitlines(),
                expect=row["expect"],
                article=row.get("article", ""),
                trigger=row.get("trigger", ""),
                category=row.get("category", ""),
                note=row.get("note", ""),
                line=line,
            )
        )
    if header is None:
        raise SuiteFileError("The file is empty.")
    return drafts


def _create(
    workspace: Workspace, drafts: list[CaseDraft], person: Any, **extra: Any
) -> list[SuiteCase]:
    return SuiteCase.objects.bulk_create(
        SuiteCase(
            workspace=workspace,
            messages=d.messages,
            expect=d.expect,
            article=d.article,
            trigger=d.trigger,
            category=d.category,
            note=d.note,
            created_by=person,
            **extra,
        )
        for d in drafts
    )


@transaction.atomic
def suite_cases_import(
    *,
    workspace: Workspace,
    actor: Actor,
    filename: str,
    data: bytes,
    known_categories: Collection[str],
) -> list[SuiteCase]:
    """All cases of the file, or (on any bad line) none."""
    person = _require_editor(workspace, actor)
    drafts = parse_suite_file(
        filename=filename, data=data, workspace=workspace, known_categories=known_categories
    )
    cases = _create(workspace, drafts, person)
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action="rollout.cases_import",
        details={"filename": filename[:200], "cases": len(cases)},
    )
    return cases


@transaction.atomic
def suite_case_create(
    *,
    workspace: Workspace,
    actor: Actor,
    draft: CaseDraft,
    known_categories: Collection[str],
    source_conversation: Conversation | None = None,
) -> SuiteCase:
    person = _require_editor(workspace, actor)
    draft.line = None
    checked = case_check(
        draft, articles=_article_lookup(workspace), known_categories=known_categories
    )
    extra = {"source_conversation_id": source_conversation.pk} if source_conversation else {}
    case = _create(workspace, [checked], person, **extra)[0]
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action="rollout.case_add",
        target=case,
        details={
            "expect": case.expect,
            "article": case.article,
            "trigger": case.trigger,
            "category": case.category,
            "messages": case.messages[:3],
            "conversation_id": source_conversation.pk if source_conversation else None,
        },
    )
    return case


@transaction.atomic
def suite_case_delete(*, case: SuiteCase, actor: Actor) -> None:
    _require_editor(case.workspace, actor)
    audit_log_write(
        workspace=case.workspace,
        actor=actor,
        action="rollout.case_delete",
        details={"case_id": case.pk, "expect": case.expect, "messages": case.messages[:3]},
    )
    case.delete()


def case_from_conversation(*, conversation: Conversation) -> CaseDraft:
    """The customer's messages up to the first time a person took part, and what a person
    would most likely judge right, for the manager to confirm: an answer citing the article
    the customer confirmed, else the hand-off's trigger, else a hand-off."""
    messages = []
    for author, text in conversation.messages.order_by("pk").values_list("author", "text"):
        if author == Message.Author.AGENT:
            break
        if author == Message.Author.CUSTOMER:
            messages.append(text)
    messages = messages[:MAX_MESSAGES]
    confirmed = (
        conversation.solved
        and conversation.messages.filter(author=Message.Author.BOT, kind=Message.Kind.ANSWER)
        .order_by("-pk")
        .values_list("sources", flat=True)
        .first()
    )
    if confirmed:
        first = confirmed[0] if isinstance(confirmed, list) and confirmed else {}
        article = _stored_article_id(conversation.workspace_id, first.get("article_id"))
        if article:
            return CaseDraft(messages=messages, expect=SuiteCase.Expect.ANSWER, article=article)
    trigger = (
        conversation.handoffs.order_by("created_at").values_list("trigger", flat=True).first()  # type: ignore[attr-defined]
        or ""
    )
    if trigger not in HANDOFF_TRIGGERS:
        trigger = ""
    return CaseDraft(messages=messages, expect=SuiteCase.Expect.HANDOFF, trigger=trigger)


def _stored_article_id(workspace_id: int, article_id: Any) -> str:
    if article_id in (None, ""):
        return ""
    row = (
        Article.objects.filter(workspace_id=workspace_id, pk=article_id)
        .values_list("pk", "external_id")
        .first()
        if str(article_id).isdigit()
        else Article.objects.filter(workspace_id=workspace_id, external_id=str(article_id))
        .values_list("pk", "external_id")
        .first()
    )
    return (row[1] or str(row[0])) if row else ""


# --- Judging ----------------------------------------------------------------------------------


def case_judge(case: SuiteCase, turns: list[dict[str, Any]]) -> tuple[bool, str]:
    """Did the bot do what the case expects? `turns`: one row per customer message, with
    `action`, `trigger`, `cited` (stored article ids) and `category`. A hand-off ends the
    case (the bot says nothing after it)."""
    handoff = next((t for t in turns if t.get("action") == "escalate"), None)
    spoke = [t for t in turns if t.get("action") in ("answer", "clarify")]
    last = turns[-1] if turns else {}
    if case.expect == SuiteCase.Expect.ANSWER:
        if handoff is not None:
            return False, f"handed off ({handoff.get('trigger')}) instead of answering"
        if last.get("action") != "answer":
            return False, f"the last turn was {last.get('action') or 'nothing'}, not an answer"
        cited = [str(a).casefold() for a in last.get("cited", [])]
        if case.article.casefold() not in cited:
            shown = ", ".join(last.get("cited", [])) or "no article"
            return False, f"answered citing {shown}, not {case.article}"
        return True, f"answered citing {case.article}"
    if case.expect == SuiteCase.Expect.HANDOFF:
        if handoff is None:
            return False, "the bot kept the conversation; no hand-off"
        if case.trigger and handoff.get("trigger") != case.trigger:
            return False, f"handed off for {handoff.get('trigger')}, not {case.trigger}"
        return True, f"handed off ({handoff.get('trigger')})"
    if spoke:
        return False, f"the bot replied ({spoke[0].get('action')}) in {case.category}"
    return True, "the bot stayed out"
