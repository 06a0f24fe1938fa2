"""Theme reports: the themes of a period's conversations for managers, found in Celery
with a progress bar (a year of history takes a while to embed), never in a request.

A report reads the first customer message of each conversation started in the period
(redacted), embeds them in batches (`themes.theme_vectors`), clusters them with
`themes.themes_find` (labels from distinctive words or a fitting help-centre title) and
stores per theme its label, size, three example messages (redacted), how many of its
conversations ended `not_resolved` or `repeat_contact` in the ledger (with their shares),
its trend against the previous period of the same length (that period's first messages
assigned to the nearest theme) and how many were knowledge gaps the bot could not answer,
with their questions for a "write an article" draft.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from supportops.accounts.models import Role, Workspace
from supportops.accounts.services import Actor, audit_log_write, real_user
from supportops.conversations.models import Conversation, Message
from supportops.knowledge.models import Article
from supportops.text.redaction import redact

from .models import ConversationAnalysis, Outcome, ThemeReport
from .services import AnalyticsError
from .themes import theme_vectors, themes_find

MAX_DAYS = 366
BATCH = 64
ACTIVE = (ThemeReport.Status.QUEUED, ThemeReport.Status.RUNNING)


def _start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@transaction.atomic
def theme_report_request(
    *, workspace: Workspace, actor: Actor, since: date, until: date
) -> ThemeReport:
    """Queue the themes of [since, until) for Celery (managers and admins). A report of the
    same period already queued or running is returned instead of a second one."""
    person = real_user(actor)
    if (
        person is None
        or not workspace.memberships.filter(
            user=person, role__in=(Role.ADMIN, Role.MANAGER)
        ).exists()
    ):
        raise AnalyticsError("Only admins and managers may find themes.")
    if until <= since:
        raise AnalyticsError("The period must end after it starts.")
    if (until - since).days > MAX_DAYS:
        raise AnalyticsError(f"A period is at most {MAX_DAYS} days.")
    running = ThemeReport.objects.filter(
        workspace=workspace, since=since, until=until, status__in=ACTIVE
    ).first()
    if running is not None:
        return running
    report = ThemeReport.objects.create(
        workspace=workspace, requested_by=person, since=since, until=until
    )
    audit_log_write(
        workspace=workspace,
        actor=person,
        action="analytics.themes_requested",
        target=report,
        details={"since": since.isoformat(), "until": until.isoformat()},
    )
    from .tasks import theme_report_task

    transaction.on_commit(partial(theme_report_task.delay, report.pk))
    return report


def _progress(report: ThemeReport, percent: int, step: str) -> None:
    report.progress, report.step = percent, step
    ThemeReport.objects.filter(pk=report.pk).update(progress=percent, step=step)


def _first_messages(
    report: ThemeReport, since: date | None = None, until: date | None = None
) -> list[tuple[int, str, str]]:
    """(conversation id, redacted first customer message, outcome) of the report's period,
    or of [since, until)."""
    first = Message.objects.filter(
        conversation=OuterRef("pk"), author=Message.Author.CUSTOMER
    ).order_by("pk")
    rows = (
        Conversation.objects.filter(
            workspace_id=report.workspace_id,
            created_at__gte=_start(since or report.since),
            created_at__lt=_start(until or report.until),
        )
        .annotate(
            redacted=Subquery(first.values("redacted_text")[:1]),
            raw=Subquery(first.values("text")[:1]),
            result=Subquery(
                Outcome.objects.filter(conversation=OuterRef("pk")).values("outcome")[:1]
            ),
        )
        .exclude(raw__isnull=True)
        .order_by("pk")
        .values_list("pk", "redacted", "raw", "result")
    )
    out = []
    for pk, redacted, raw, result in rows.iterator():
        text = (redacted or redact(raw).text).strip()
        if text:
            out.append((pk, text, result or ""))
    return out


def theme_report_run(*, report_id: int) -> ThemeReport | None:
    """Find the report's themes (what the Celery task runs). Running a finished report
    again changes nothing; a failure is stored with its reason."""
    report = ThemeReport.objects.filter(pk=report_id).first()
    if report is None or report.status in (ThemeReport.Status.DONE, ThemeReport.Status.FAILED):
        return report
    ThemeReport.objects.filter(pk=report.pk).update(status=ThemeReport.Status.RUNNING)
    try:
        result = _run(report)
    except Exception as exc:  # stored for the manager; the worker logs the traceback
        ThemeReport.objects.filter(pk=report.pk).update(
            status=ThemeReport.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:300],
            finished_at=timezone.now(),
        )
        raise
    ThemeReport.objects.filter(pk=report.pk).update(
        status=ThemeReport.Status.DONE,
        progress=100,
        step="done",
        result=result,
        finished_at=timezone.now(),
    )
    report.refresh_from_db()
    return report


def _run(report: ThemeReport) -> dict[str, Any]:
    _progress(report, 5, "reading the period's conversations")
    rows = _first_messages(report)
    texts = [text for _, text, _ in rows]
    if not texts:
        return {"n": 0, "method": "", "themes": []}
    parts = []
    for start in range(0, len(texts), BATCH):
        parts.append(theme_vectors(texts[start : start + BATCH]))
        done = min(start + BATCH, len(texts))
        _progress(report, 5 + int(80 * done / len(texts)), f"read {done} of {len(texts)}")
    vectors = np.vstack(parts)
    _progress(report, 88, "finding themes")
    articles = list(
        Article.objects.filter(
            workspace_id=report.workspace_id, status=Article.Status.PUBLISHED
        ).values_list("title", flat=True)
    )
    found = themes_find(
        texts=texts,
        vectors=vectors,
        article_titles=articles,
        article_vectors=theme_vectors(articles) if articles else None,
    )
    _progress(report, 92, "comparing with the previous period")
    previous = _previous_counts(report, found)
    gaps = set(
        ConversationAnalysis.objects.filter(conversation_id__in=[pk for pk, *_ in rows])
        .exclude(knowledge_gap="")
        .values_list("conversation_id", flat=True)
    )
    themes = []
    for theme in found.themes:
        members = [rows[i] for i in np.flatnonzero(found.assignments == theme.id)]
        not_resolved = sum(1 for *_, o in members if o == Outcome.Kind.NOT_RESOLVED)
        repeat = sum(1 for *_, o in members if o == Outcome.Kind.REPEAT_CONTACT)
        unanswered = [text for pk, text, _ in members if pk in gaps]
        before = int(previous[theme.id]) if previous is not None else None
        themes.append(
            {
                "label": theme.label,
                "size": theme.size,
                "examples": list(theme.example_texts),
                "conversation_ids": [pk for pk, *_ in members][:200],
                "not_resolved": not_resolved,
                "repeat_contact": repeat,
                "share_not_resolved": round(not_resolved / theme.size, 4),
                "share_repeat_contact": round(repeat / theme.size, 4),
                "previous": before,
                "change": _change(theme.size, before),
                "unanswered": len(unanswered),
                "unanswered_examples": unanswered[:3],
            }
        )
    return {"n": len(texts), "method": found.method, "themes": themes}


def _previous_counts(report: ThemeReport, found: Any) -> np.ndarray | None:
    """How many first messages of the previous period of the same length fall in each theme
    (each goes to the theme with the nearest centre); None when that period had none."""
    length = report.until - report.since
    rows = _first_messages(report, since=report.since - length, until=report.since)
    if not rows:
        return None
    texts = [text for _, text, _ in rows]
    vectors = np.vstack([theme_vectors(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)])
    return np.bincount(found.assign(vectors), minlength=len(found.themes))


def _change(size: int, before: int | None) -> str:
    """The trend against the previous period, as a manager reads it: "new", "+40%", "-25%",
    "steady" (within 10%), or "" when the previous period had no conversations at all."""
    if before is None:
        return ""
    if before == 0:
        return "new"
    relative = (size - before) / before
    if abs(relative) < 0.10:
        return "steady"
    return f"{relative:+.0%}"


def theme_article_draft(theme: dict[str, Any]) -> dict[str, str]:
    """The title and body a "write an article" link fills in for a theme of questions the bot
    could not answer: the first such question as the title, the customers' questions
    (redacted) quoted in the body, for the editor to answer."""
    questions = theme.get("unanswered_examples") or []
    if not questions:
        return {}
    quoted = "\n\n".join(f"> {' '.join(q.split())}" for q in questions)
    body = (
        f"Customers asked this (theme “{theme['label']}”, {theme['unanswered']} "
        f"unanswered in the period):\n\n{quoted}\n\nWrite the answer here."
    )
    return {"title": " ".join(questions[0].split())[:150], "body": body}


def theme_reports_list(*, workspace: Workspace, limit: int = 20) -> list[ThemeReport]:
    return list(ThemeReport.objects.filter(workspace=workspace)[:limit])


def default_period() -> tuple[date, date]:
    today = timezone.localdate()
    return today - timedelta(days=30), today + timedelta(days=1)
