"""CSV exports, streamed from the database.

Each export is opened by a service that writes its audit row (who, which export, which
filters) and returns the CSV as an iterator of text chunks. The rows come from a server-side
cursor (`.iterator(chunk_size=...)`), so memory stays flat however many conversations there
are. The `csv` module writes the rows; any text cell a spreadsheet would execute (starting
with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with an apostrophe. Times
are ISO 8601 in the workspace's time zone, which the header row names; the per-conversation
export has PostgreSQL write them (`IsoInZone`) and the durations (`Seconds`), which is a
third of the Python work per row at a million rows. No message text is ever exported.
"""

from __future__ import annotations

import csv
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import (
    CharField,
    Count,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.http import Http404
from django.utils import timezone

from supportops.accounts.models import Role, Workspace
from supportops.accounts.services import Actor, audit_log_write, real_user
from supportops.analytics.filters import Filters, filters_parse
from supportops.analytics.kpis import CONFIRMED, Seconds, drilldown_outcomes
from supportops.analytics.models import Outcome
from supportops.analytics.selectors import ResolutionCost, cost_per_resolution
from supportops.conversations.models import Message

from .models import ExportJob

EXPORT_ROLES = (Role.ADMIN, Role.MANAGER, Role.FINANCE)
CHUNK_ROWS = 2000  # rows fetched from the server-side cursor at a time
LINES_PER_WRITE = 500  # CSV lines sent to the client at a time
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportError(ValueError):
    """An export that may not run; the message says why."""


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, made inert with a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Line:
    """A file-like object whose write returns the line, so csv.writer yields text."""

    def write(self, value: str) -> str:
        return value


def csv_stream(header: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The header, then every row, as CSV text chunks (a few hundred rows each)."""
    writer = csv.writer(_Line())
    yield writer.writerow(header)
    buffer: list[str] = []
    for row in rows:
        buffer.append(writer.writerow([neutralise(cell) for cell in row]))
        if len(buffer) >= LINES_PER_WRITE:
            yield "".join(buffer)
            buffer = []
    if buffer:
        yield "".join(buffer)


def _check(workspace: Workspace, actor: Actor) -> None:
    person = real_user(actor)
    if (
        person is None
        or not workspace.memberships.filter(user=person, role__in=EXPORT_ROLES).exists()
    ):
        raise ExportError("Only admins, managers and finance may export.")


class IsoInZone(Func):
    """A timestamp as `datetime.isoformat(timespec="seconds")` writes it in a time zone
    ("2026-03-02T11:00:00+01:00"), formatted by PostgreSQL; '' when there is none. The
    offset is the zone's at that moment (summer time included)."""

    output_field = CharField()

    def __init__(self, expression: Any, zone: str) -> None:
        super().__init__(expression)
        self.zone = zone

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, tuple[Any, ...]]:
        moment, params = compiler.compile(self.source_expressions[0])
        local = f"({moment} AT TIME ZONE %s)"
        minutes = f"(EXTRACT(EPOCH FROM {local} - ({moment} AT TIME ZONE 'UTC')) / 60)::int"
        sql = (
            f"COALESCE(to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
            f"|| CASE WHEN {minutes} < 0 THEN '-' ELSE '+' END "
            f"|| lpad((abs({minutes}) / 60)::text, 2, '0') || ':' "
            f"|| lpad(mod(abs({minutes}), 60)::text, 2, '0'), '')"
        )
        local_params = [*params, self.zone]
        minutes_params = [*local_params, *params]
        return sql, (*local_params, *minutes_params, *minutes_params, *minutes_params)


def _seconds(seconds: float | None) -> str:
    """A duration read as seconds (`kpis.Seconds`), to the whole second; '' when none."""
    return "" if seconds is None else f"{seconds:.0f}"


def _usd(amount: Decimal | None) -> str:
    """An amount as it is stored (8 places, trailing zeros dropped to at least 2)."""
    if amount is None:
        return ""
    text = f"{amount:.8f}".rstrip("0")
    whole, _, places = text.partition(".")
    return f"{whole}.{places.ljust(2, '0')}"


def _minutes(seconds: int | None) -> str:
    return "" if seconds is None else f"{Decimal(seconds) / 60:.2f}"


@dataclass(frozen=True)
class Column:
    """One column of the per-conversation CSV: its header name, the `values_list` field it
    reads (a column or an annotation of `conversation_export_rows`), and how that becomes
    the cell (as it is when `cell` is None)."""

    name: str
    field: str
    cell: Callable[[Any], Any] | None = None


def _final(final: bool) -> str:
    return "final" if final else "provisional"


def _blank(value: Any) -> Any:
    return "" if value is None else value


def _yes_no(unpriced: bool | None) -> str:
    return "" if unpriced is None else ("yes" if unpriced else "no")


# The one mapping from CSV column to the fields it is computed from. Empty cost cells: the
# conversation's cost lines are not computed yet.
CONVERSATION_EXPORT = [
    Column("conversation_id", "conversation_id"),
    Column("customer_id", "customer_id"),
    Column("started_at", "started_at_local"),
    Column("first_response_at", "first_response_at_local"),
    Column("resolved_at", "resolved_at_local"),
    Column("last_event_at", "last_event_at_local"),
    Column("channel", "channel"),
    Column("arm", "arm"),
    Column("category", "category"),
    Column("outcome", "outcome"),
    Column("final", "final", _final),
    Column("why", "why__rule", lambda rule: rule or ""),
    Column("first_handoff_trigger", "first_handoff_trigger"),
    Column("first_response_by", "first_response_by"),
    Column("first_response_s", "first_response_seconds", _seconds),
    Column("resolution_s", "resolution_seconds", _seconds),
    Column("resolution", "resolution"),
    Column("repeat_conversation_id", "repeat_conversation_id", lambda pk: pk or ""),
    Column("csat_score", "csat_score", _blank),
    Column("prompt_tokens", "prompt"),
    Column("completion_tokens", "completion"),
    Column("handling_minutes", "conversation__cost__handling_seconds", _minutes),
    Column("model_cost", "conversation__cost__model_usd", _usd),
    Column("agent_cost", "conversation__cost__agent_usd", _usd),
    Column("cost", "conversation__cost__total_usd", _usd),
    Column("cost_unpriced", "conversation__cost__unpriced", _yes_no),
]
CONVERSATION_COLUMNS = [column.name for column in CONVERSATION_EXPORT]
LOCAL_TIMES = ("started_at", "first_response_at", "resolved_at", "last_event_at")
DATE_COLUMNS = set(LOCAL_TIMES)  # written in the workspace's zone, named in the header
MONEY_COLUMNS = {
    "model_cost",
    "agent_cost",
    "cost",
    "cost_per_resolution",
    "cost_per_conversation",
}


def _header(columns: list[str], filters: Filters) -> list[str]:
    out = []
    for name in columns:
        if name in DATE_COLUMNS or name == "month":
            name = f"{name} ({filters.tz})"
        elif name in MONEY_COLUMNS:
            name = f"{name} (USD)"
        out.append(name)
    return out


def _tokens(field: str) -> Coalesce:
    per_conversation = (
        Message.objects.filter(conversation_id=OuterRef("conversation_id"))
        .order_by()
        .values("conversation_id")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Coalesce(Subquery(per_conversation, output_field=IntegerField()), 0)


def _fields(columns: list[Column]) -> list[str]:
    """Every field the columns read, once each, in column order."""
    return list(dict.fromkeys(column.field for column in columns))


def _cell_readers(
    columns: list[Column], fields: list[str]
) -> list[Callable[[tuple[Any, ...]], Any]]:
    """For each column, a function from a `values_list` row to its cell (built once per
    export, so the per-row work is one call per cell)."""
    at = {name: i for i, name in enumerate(fields)}
    return [
        itemgetter(at[column.field])
        if column.cell is None
        else _reader(column.cell, at[column.field])
        for column in columns
    ]


def _reader(cell: Callable[[Any], Any], i: int) -> Callable[[tuple[Any, ...]], Any]:
    def read(row: tuple[Any, ...]) -> Any:
        return cell(row[i])

    return read


def conversation_export_rows(
    *, workspace: Workspace, filters: Filters, figure: str = "conversations", segment: str = ""
) -> QuerySet[Outcome]:
    """The outcome rows one per-conversation export reads (a figure's, when given), newest
    first; a bad figure or segment is a FilterError."""
    zone = str(filters.tz)  # the IANA name, as the header row names it
    return drilldown_outcomes(
        workspace=workspace, filters=filters, figure=figure, segment=segment
    ).annotate(
        prompt=_tokens("prompt_tokens"),
        completion=_tokens("completion_tokens"),
        **{f"{name}_local": IsoInZone(F(name), zone) for name in LOCAL_TIMES},
        first_response_seconds=Seconds(F("first_response_at"), F("started_at")),
        resolution_seconds=Seconds(F("resolved_at"), F("started_at")),
    )


def conversation_export_lines(rows: QuerySet[Outcome], filters: Filters) -> Iterator[list[Any]]:
    """Each row as its CSV cells, read from a server-side cursor `CHUNK_ROWS` at a time:
    nothing of earlier rows is kept."""
    fields = _fields(CONVERSATION_EXPORT)
    readers = _cell_readers(CONVERSATION_EXPORT, fields)
    for row in rows.values_list(*fields).iterator(chunk_size=CHUNK_ROWS):
        yield [read(row) for read in readers]


def _export_details(filters: Filters, figure: str, segment: str) -> dict[str, Any]:
    return {**filters.as_json(), "figure": figure, "segment": segment}


@transaction.atomic
def export_conversations_open(
    *,
    workspace: Workspace,
    actor: Actor,
    filters: Filters,
    figure: str = "conversations",
    segment: str = "",
) -> Iterator[str]:
    """One row per conversation the filters (and a dashboard figure, when given) select.
    Audited now; the rows are read as the iterator is consumed."""
    _check(workspace, actor)
    rows = conversation_export_rows(
        workspace=workspace, filters=filters, figure=figure, segment=segment
    )
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action="export.conversations",
        details=_export_details(filters, figure, segment),
    )
    header = _header(CONVERSATION_COLUMNS, filters)
    return csv_stream(header, conversation_export_lines(rows, filters))


FINANCE_KINDS = [
    Outcome.Kind.RESOLVED_BY_BOT_CONFIRMED,
    Outcome.Kind.RESOLVED_BY_BOT_UNCONFIRMED,
    Outcome.Kind.RESOLVED_AFTER_HANDOFF,
    Outcome.Kind.RESOLVED_BY_HUMAN,
    Outcome.Kind.REPEAT_CONTACT,
    Outcome.Kind.NOT_RESOLVED,
    Outcome.Kind.ABANDONED,
]
FINANCE_COLUMNS = [
    "month",
    "arm",
    "category",
    "conversations",
    *[str(kind) for kind in FINANCE_KINDS],
    "confirmed_resolutions",
    "resolutions",
    "model_cost",
    "agent_cost",
    "cost_per_resolution",
    "cost_per_conversation",
]


@transaction.atomic
def export_finance_summary_open(
    *, workspace: Workspace, actor: Actor, filters: Filters
) -> Iterator[str]:
    """Per month (in the workspace's time zone), arm and category: conversations, outcomes
    by kind, confirmed resolutions, and the cost columns from the cost lines through
    `cost_per_resolution` (resolutions = confirmed plus unconfirmed, its divisor; a group
    without resolutions has "no resolutions" as its cost per resolution, not 0)."""
    _check(workspace, actor)
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action="export.finance_summary",
        details=filters.as_json(),
    )
    grouped = (
        Outcome.objects.filter(workspace=workspace)
        .filter(filters.q())
        .annotate(month=TruncMonth("started_at", tzinfo=filters.tz))
        .values("month", "arm", "category")
        .annotate(
            conversations=Count("pk"),
            confirmed=Count("pk", filter=Q(outcome__in=CONFIRMED)),
            **{str(kind): Count("pk", filter=Q(outcome=kind)) for kind in FINANCE_KINDS},
        )
        .order_by("month", "arm", "category")
    )

    # One row per month, arm and category: few enough to hold while the rows stream.
    costs: dict[tuple[str, ...], ResolutionCost] = {
        row.key: row
        for row in cost_per_resolution(
            workspace=workspace,
            since=filters.since,
            until=filters.until,
            group_by=("month", "arm", "category"),
            arm=filters.arm,
            channel=filters.channel,
            category=filters.category,
            tz=filters.tz,
        )
    }

    def lines() -> Iterator[list[Any]]:
        for grouped_row in grouped.iterator(chunk_size=CHUNK_ROWS):
            row: dict[str, Any] = dict(grouped_row)
            month = row["month"].astimezone(filters.tz).strftime("%Y-%m")
            cost = costs.get((month, row["arm"], row["category"]))
            yield [
                month,
                row["arm"],
                row["category"],
                row["conversations"],
                *[row[str(kind)] for kind in FINANCE_KINDS],
                row["confirmed"],
                *_finance_costs(cost),
            ]

    header = _header(FINANCE_COLUMNS, filters)
    return csv_stream(header, lines())


def _finance_costs(cost: ResolutionCost | None) -> list[Any]:
    """resolutions, model, agent, per resolution and per conversation of a group."""
    if cost is None:  # the ledger has the group but no conversation started in it (edge of a day)
        return ["", "", "", "", ""]
    per_resolution = cost.per_resolution_usd
    return [
        cost.resolutions,
        _usd(cost.model_usd),
        _usd(cost.agent_usd),
        "no resolutions" if per_resolution is None else _usd(per_resolution),
        _usd(cost.per_conversation_usd),
    ]


# --- Exports prepared in the background ------------------------------------------------------
# A per-conversation export above settings.EXPORT_STREAM_MAX_ROWS is not streamed while the
# person waits: `export_job_start` audits it and queues `export_job_run`, which writes the same
# CSV into MEDIA_ROOT/exports/ with its progress on the job row; the file is offered until
# EXPORT_KEEP_DAYS have passed, when `exports_expire` deletes it.

EXPORTS_FOLDER = "exports"
PROGRESS_EVERY_S = 1.0  # the job row's rows_done is saved at most this often
STALE_RUN = timedelta(hours=2)  # a running job not finished by then lost its worker


def export_conversations_count(
    *, workspace: Workspace, filters: Filters, figure: str = "conversations", segment: str = ""
) -> int:
    return drilldown_outcomes(
        workspace=workspace, filters=filters, figure=figure, segment=segment
    ).count()


@transaction.atomic
def export_job_start(
    *,
    workspace: Workspace,
    actor: Actor,
    filters: Filters,
    figure: str = "conversations",
    segment: str = "",
) -> ExportJob:
    """Audit the export (like a streamed one, marked as prepared in the background) and queue
    the task that writes its file."""
    from .tasks import export_job_run

    _check(workspace, actor)
    total = export_conversations_count(
        workspace=workspace, filters=filters, figure=figure, segment=segment
    )
    job = ExportJob.objects.create(
        workspace=workspace,
        created_by=real_user(actor),
        kind=ExportJob.Kind.CONVERSATIONS,
        filters=filters.params(figure=figure, segment=segment),
        rows_total=total,
    )
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action="export.conversations",
        target=job,
        details={**_export_details(filters, figure, segment), "job": job.pk, "rows": total},
    )
    transaction.on_commit(lambda: export_job_run.delay(job.pk))
    return job


def _claim(job_id: int) -> ExportJob | None:
    """The job, now marked running, if this run may do it (queued, or a run that died)."""
    now = timezone.now()
    claimable = Q(status=ExportJob.Status.QUEUED) | Q(
        status=ExportJob.Status.RUNNING, started_at__lt=now - STALE_RUN
    )
    claimed = ExportJob.objects.filter(claimable, pk=job_id).update(
        status=ExportJob.Status.RUNNING, started_at=now, rows_done=0
    )
    return ExportJob.objects.select_related("workspace").get(pk=job_id) if claimed else None


def _counted(lines: Iterator[list[Any]], job: ExportJob) -> Iterator[list[Any]]:
    """The lines, saving how many have passed on the job row about once a second."""
    done, saved_at = 0, time.monotonic()
    for line in lines:
        yield line
        done += 1
        if time.monotonic() - saved_at >= PROGRESS_EVERY_S:
            ExportJob.objects.filter(pk=job.pk).update(rows_done=done)
            saved_at = time.monotonic()
    job.rows_done = done


def export_job_run(*, job_id: int) -> ExportJob | None:
    """Claim the job, write its CSV to a temporary file, rename it into place and mark the job
    done (or failed, with the reason). Safe to run twice: a finished job is left alone."""
    job = _claim(job_id)
    if job is None:
        return None
    workspace = job.workspace
    folder = Path(settings.MEDIA_ROOT) / EXPORTS_FOLDER / str(workspace.pk)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{job.pk}-{secrets.token_hex(8)}.csv"
    partial_path = folder / f"{name}.part"
    try:
        params = dict(job.filters)
        figure = params.pop("figure", "conversations")
        segment = params.pop("segment", "")
        filters = filters_parse(params, workspace=workspace)
        rows = conversation_export_rows(
            workspace=workspace, filters=filters, figure=figure, segment=segment
        )
        lines = _counted(conversation_export_lines(rows, filters), job)
        with partial_path.open("w", encoding="utf-8", newline="") as handle:
            for chunk in csv_stream(_header(CONVERSATION_COLUMNS, filters), lines):
                handle.write(chunk)
        partial_path.rename(folder / name)
    except Exception as exc:
        partial_path.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    now = timezone.now()
    stamp = now.astimezone(filters.tz).strftime("%Y%m%d-%H%M")
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE,
        rows_done=job.rows_done,
        # The count may have moved while the file was written; the file is what counts.
        rows_total=job.rows_done,
        file_path=str(Path(EXPORTS_FOLDER) / str(workspace.pk) / name),
        file_name=f"{workspace.slug}-conversations-{filters.start}-{filters.end}-{stamp}.csv",
        finished_at=now,
        expires_at=now + timedelta(days=settings.EXPORT_KEEP_DAYS),
    )
    job.refresh_from_db()
    return job


def export_jobs_recent(*, workspace: Workspace, limit: int = 20) -> list[ExportJob]:
    return list(
        ExportJob.objects.filter(workspace=workspace)
        .select_related("created_by")
        .order_by("-created_at", "-pk")[:limit]
    )


def export_job_get(*, workspace: Workspace, job_id: int) -> ExportJob:
    """One export job of the workspace, or 404 (another workspace's is not there)."""
    job = ExportJob.objects.filter(workspace=workspace, pk=job_id).first()
    if job is None:
        raise Http404("no such export")
    return job


def export_job_file(*, workspace: Workspace, actor: Actor, job: ExportJob) -> Path:
    """The finished file to send, after the role check; the download is audited too."""
    _check(workspace, actor)
    if job.status != ExportJob.Status.DONE or not job.file_path:
        raise ExportError("This export has no file to download (not ready, failed or expired).")
    path = Path(settings.MEDIA_ROOT) / job.file_path
    if not path.is_file():
        raise ExportError("This export's file is gone; start the export again.")
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action="export.download",
        target=job,
        details={"job": job.pk, "rows": job.rows_done},
    )
    return path


def exports_expire(*, now: datetime | None = None) -> int:
    """Delete the files of exports older than EXPORT_KEEP_DAYS and mark them expired (also
    failed or stuck ones, and stray partial files of runs that died); the count expired."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.EXPORT_KEEP_DAYS)
    old = ExportJob.objects.filter(created_at__lt=cutoff).exclude(status=ExportJob.Status.EXPIRED)
    expired = 0
    for job in old.only("pk", "file_path"):
        if job.file_path:
            (Path(settings.MEDIA_ROOT) / job.file_path).unlink(missing_ok=True)
        expired += ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.EXPIRED, file_path=""
        )
    root = Path(settings.MEDIA_ROOT) / EXPORTS_FOLDER
    if root.is_dir():
        for stray in root.glob("*/*.part"):
            if stray.stat().st_mtime < cutoff.timestamp():
                stray.unlink(missing_ok=True)
    return expired
