"""Knowledge-base import: JSONL, CSV `question,answer`, or a folder (or zip) of Markdown files.

A file is parsed and validated completely before anything is written; a bad file is
refused with the file, line and reason, and nothing of it is imported. Writing happens
in one transaction, so an import is all or nothing.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import zipfile
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from supportops.accounts.models import Workspace
from supportops.accounts.services import Actor, audit_log_write, real_user

from .models import Article, ImportJob
from .services import (
    TITLE_MAX,
    article_create,
    article_publish,
    article_update,
    articles_embed,
)

logger = logging.getLogger(__name__)
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
MARKDOWN_SUFFIXES = {".md", ".markdown"}


class ImportFileError(ValueError):
    """A file was refused. Carries where and why, for the page and the command."""

    def __init__(self, filename: str, line: int | None, reason: str) -> None:
        self.filename, self.line, self.reason = filename, line, reason
        where = f"{filename}, line {line}" if line else filename
        super().__init__(f"{where}: {reason}")


@dataclass
class ImportItem:
    title: str
    body: str
    category: str = ""
    external_id: str = ""
    url: str = ""
    source_file: str = ""


def _decode(data: bytes, filename: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            filename,
            line,
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
        ) from None
    if "\x00" in text:
        raise ImportFileError(filename, None, "looks like a binary file, not text")
    return text


def _check_item(item: ImportItem, filename: str, line: int | None) -> ImportItem:
    item.title = " ".join(item.title.split())
    if not item.title:
        raise ImportFileError(filename, line, "missing title")
    if len(item.title) > TITLE_MAX:
        raise ImportFileError(filename, line, f"title longer than {TITLE_MAX} characters")
    if item.url and not re.match(r"^https?://", item.url):
        raise ImportFileError(
            filename, line, f"url must start with http:// or https://: {item.url!r}"
        )
    if len(item.external_id) > 200:
        raise ImportFileError(filename, line, "id longer than 200 characters")
    return item


def parse_jsonl(text: str, filename: str) -> list[ImportItem]:
    items: list[ImportItem] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ImportFileError(filename, number, f"malformed JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise ImportFileError(filename, number, "each line must be a JSON object")
        for key in ("title", "body", "category", "url", "id"):
            if key in row and row[key] is not None and not isinstance(row[key], str | int):
                raise ImportFileError(filename, number, f"{key!r} must be a string")
        if "body" not in row or row.get("body") is None:
            raise ImportFileError(filename, number, "missing body")
        external_id = str(row.get("id") or "").strip()
        if external_id:
            if external_id in seen:
                raise ImportFileError(
                    filename, number, f"id {external_id!r} repeats line {seen[external_id]}"
                )
            seen[external_id] = number
        items.append(
            _check_item(
                ImportItem(
                    title=str(row.get("title") or ""),
                    body=str(row["body"]),
                    category=str(row.get("category") or ""),
                    external_id=external_id,
                    url=str(row.get("url") or ""),
                    source_file=filename,
                ),
                filename,
                number,
            )
        )
    return items


def parse_csv(text: str, filename: str) -> list[ImportItem]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportFileError(filename, None, "the file is empty") from None
    except csv.Error as exc:
        raise ImportFileError(filename, 1, f"malformed CSV ({exc})") from None
    if "question" not in header or "answer" not in header:
        raise ImportFileError(filename, 1, "the header must name the columns question,answer")
    q, a = header.index("question"), header.index("answer")
    c = header.index("category") if "category" in header else None
    items: list[ImportItem] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise ImportFileError(
                    filename, line, f"expected {len(header)} columns, found {len(row)}"
                )
            items.append(
                _check_item(
                    ImportItem(
                        title=row[q],
                        body=row[a].strip(),
                        category=row[c] if c is not None else "",
                        source_file=filename,
                    ),
                    filename,
                    line,
                )
            )
            if not items[-1].body:
                raise ImportFileError(filename, line, "missing answer")
    except csv.Error as exc:
        raise ImportFileError(filename, reader.line_num, f"malformed CSV ({exc})") from None
    return items


def parse_markdown(text: str, filename: str, folder_category: str = "") -> ImportItem:
    """Optional front matter (id, title, category, url), else the first `# ` heading is title."""
    meta: dict[str, str] = {}
    body = text
    match = FRONT_MATTER.match(text)
    if match:
        for number, line in enumerate(match.group(1).splitlines(), start=2):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if ":" not in line:
                raise ImportFileError(
                    filename, number, "front matter lines must look like 'key: value'"
                )
            key, value = line.split(":", 1)
            meta[key.strip().lower()] = value.strip().strip("'\"")
        body = text[match.end() :]
    title = meta.get("title", "")
    if not title:
        lines = body.lstrip("\n").splitlines()
        if lines and lines[0].startswith("# "):
            title = lines[0][2:].strip()
            body = "\n".join(lines[1:])
    if not title:
        title = (
            PurePosixPath(filename).stem.replace("-", " ").replace("_", " ").strip().capitalize()
        )
    return _check_item(
        ImportItem(
            title=title,
            body=body.strip(),
            category=meta.get("category", folder_category),
            external_id=meta.get("id", ""),
            url=meta.get("url", ""),
            source_file=filename,
        ),
        filename,
        None,
    )


def _markdown_files(files: list[tuple[str, bytes]]) -> list[ImportItem]:
    items = []
    seen: dict[str, str] = {}
    for name, data in sorted(files):
        path = PurePosixPath(name)
        folder = path.parent.name if len(path.parts) > 1 else ""
        item = parse_markdown(_decode(data, name), name, folder)
        if item.external_id:
            if item.external_id in seen:
                raise ImportFileError(
                    name, None, f"id {item.external_id!r} repeats {seen[item.external_id]}"
                )
            seen[item.external_id] = name
        items.append(item)
    if not items:
        raise ImportFileError("(folder)", None, "no Markdown (.md) files found")
    return items


# Whatever a zip entry claims about itself, it is read in pieces and never past these limits.
ZIP_READ_CHUNK = 64 * 1024
# What reading a damaged or deceptive archive can raise (bad CRC, truncated or inflated data,
# unsupported compression, encryption).
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError)


def _zip_entry_read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """The entry's bytes, or None if it unpacks to more than `limit` (its declared size is
    not trusted: the stream is cut at the limit)."""
    parts: list[bytes] = []
    size = 0
    with archive.open(info) as stream:
        while True:
            chunk = stream.read(min(ZIP_READ_CHUNK, limit + 1 - size))
            if not chunk:
                return b"".join(parts)
            size += len(chunk)
            if size > limit:
                return None
            parts.append(chunk)


def _zip_markdown_files(filename: str, data: bytes) -> list[tuple[str, bytes]]:
    """The Markdown files of a zip, within KB_IMPORT_ZIP_MAX_ENTRIES entries and
    KB_IMPORT_ZIP_MAX_UNPACKED_BYTES unpacked in all; a zip bomb, an archive that lies about
    its sizes or a damaged one is refused with a reason."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (*ZIP_ERRORS, ValueError):
        raise ImportFileError(filename, None, "not a valid zip archive") from None
    max_entries = settings.KB_IMPORT_ZIP_MAX_ENTRIES
    if len(infos) > max_entries:
        raise ImportFileError(
            filename, None, f"the archive holds {len(infos)} entries; at most {max_entries}"
        )
    total = settings.KB_IMPORT_ZIP_MAX_UNPACKED_BYTES
    budget = total
    files = []
    mismatch = (
        "the archive is damaged or its sizes do not match its contents; "
        "create the zip again and retry"
    )
    for info in infos:
        if info.is_dir() or PurePosixPath(info.filename).suffix.lower() not in MARKDOWN_SUFFIXES:
            continue
        if info.flag_bits & 0x1:
            raise ImportFileError(info.filename, None, "encrypted zip entries are not supported")
        limit = min(settings.KB_IMPORT_MAX_BYTES, budget)
        try:
            body = _zip_entry_read(archive, info, limit)
        except ZIP_ERRORS:
            raise ImportFileError(info.filename, None, mismatch) from None
        if body is None:
            if limit < settings.KB_IMPORT_MAX_BYTES:
                raise ImportFileError(
                    filename,
                    None,
                    f"the archive unpacks to more than {total // (1024 * 1024)} MiB in all; "
                    "split it into smaller zips",
                )
            raise ImportFileError(
                info.filename, None, f"unpacks to more than {settings.KB_IMPORT_MAX_BYTES} bytes"
            )
        if len(body) != info.file_size:
            raise ImportFileError(info.filename, None, mismatch)
        budget -= len(body)
        files.append((info.filename, body))
    return files


def parse_upload(filename: str, data: bytes) -> list[ImportItem]:
    """Parse one uploaded file by its extension: .jsonl, .csv, .md, or .zip of Markdown files."""
    if len(data) > settings.KB_IMPORT_MAX_BYTES:
        raise ImportFileError(filename, None, f"larger than {settings.KB_IMPORT_MAX_BYTES} bytes")
    suffix = PurePosixPath(filename.lower()).suffix
    if suffix in (".jsonl", ".ndjson", ".json"):
        items = parse_jsonl(_decode(data, filename), filename)
    elif suffix == ".csv":
        items = parse_csv(_decode(data, filename), filename)
    elif suffix in MARKDOWN_SUFFIXES:
        items = [parse_markdown(_decode(data, filename), filename)]
    elif suffix == ".zip":
        items = _markdown_files(_zip_markdown_files(filename, data))
    else:
        raise ImportFileError(
            filename,
            None,
            "unsupported file type; use .jsonl, .csv (question,answer), .md or a .zip of .md files",
        )
    if not items:
        raise ImportFileError(filename, None, "the file holds no articles")
    return items


def items_default_category(items: list[ImportItem], category: str) -> list[ImportItem]:
    """Give `category` to the items whose file named none (a CSV row without a category
    column or cell, a Markdown file outside any folder and without front matter)."""
    category = " ".join((category or "").split())[:80]
    if category:
        for item in items:
            if not item.category.strip():
                item.category = category
    return items


def parse_path(path: Path) -> list[ImportItem]:
    """Parse a file or a folder of Markdown files from disk (for `manage.py kb_import`)."""
    if path.is_dir():
        files = [
            (str(p.relative_to(path)), p.read_bytes())
            for p in sorted(path.rglob("*"))
            if p.is_file() and p.suffix.lower() in MARKDOWN_SUFFIXES
        ]
        return _markdown_files(files)
    if not path.exists():
        raise ImportFileError(str(path), None, "no such file or folder")
    return parse_upload(path.name, path.read_bytes())


@dataclass
class ImportReport:
    created: list[str]
    updated: list[str]
    article_ids: list[int]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@transaction.atomic
def items_write(
    *,
    workspace: Workspace,
    items: list[ImportItem],
    actor: Actor = None,
    publish: bool = True,
    embed: str = "queue",
) -> ImportReport:
    """Create or update (matched by external id) every item, in one transaction."""
    external_ids = [i.external_id for i in items if i.external_id]
    existing = {
        a.external_id: a
        for a in Article.objects.filter(workspace=workspace, external_id__in=external_ids)
    }
    report = ImportReport(created=[], updated=[], article_ids=[])
    # "now" embeds once at the end, in full batches across articles, not article by article.
    per_article = "later" if embed == "now" else embed
    for item in items:
        source = Article.Source.URL if item.url else Article.Source.IMPORTED
        article = existing.get(item.external_id) if item.external_id else None
        if article is not None:
            article_update(
                article=article,
                title=item.title,
                body=item.body,
                category=item.category,
                actor=actor,
                note=f"imported from {item.source_file}",
                embed=per_article,
                publish=publish,
            )
            if publish and not article.is_published:
                article_publish(article=article, actor=actor, embed=per_article)
            report.updated.append(item.external_id)
        else:
            article = article_create(
                workspace=workspace,
                title=item.title,
                body=item.body,
                category=item.category,
                owner=actor,
                publish=publish,
                source=source,
                source_url=item.url,
                source_file=item.source_file,
                external_id=item.external_id,
                embed=per_article,
            )
            report.created.append(item.external_id or str(article.pk))
        report.article_ids.append(article.pk)
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action="article.import",
        details={
            "created": len(report.created),
            "updated": len(report.updated),
            "files": sorted({i.source_file for i in items})[:20],
        },
    )
    if embed == "now":
        articles_embed(article_ids=report.article_ids)
    return report


@transaction.atomic
def import_job_write_now(
    *,
    workspace: Workspace,
    actor: Actor,
    filename: str,
    items: list[ImportItem],
    publish: bool,
    category: str = "",
) -> ImportJob:
    """A small import, written at once (all or nothing), kept as a finished job so its
    result page can link to what it wrote."""
    report = items_write(workspace=workspace, items=items, actor=actor, publish=publish)
    job = _job_create(
        workspace=workspace,
        actor=actor,
        filename=filename,
        total_articles=len(items),
        publish=publish,
        category=category,
        status=ImportJob.Status.DONE,
        created_count=len(report.created),
        updated_count=len(report.updated),
        finished_at=timezone.now(),
    )
    job.articles.set(report.article_ids)
    return job


def _job_create(
    *,
    workspace: Workspace,
    actor: Actor,
    filename: str,
    total_articles: int,
    publish: bool,
    category: str,
    **fields: object,
) -> ImportJob:
    return ImportJob.objects.create(
        workspace=workspace,
        created_by=real_user(actor),
        filename=filename[:300],
        category=category[:80],
        publish=publish,
        total_articles=total_articles,
        **fields,
    )


def import_job_create(
    *,
    workspace: Workspace,
    actor: Actor,
    filename: str,
    items: list[ImportItem],
    publish: bool,
    category: str = "",
) -> ImportJob:
    """Queue a large, already validated import for Celery; the page polls its progress."""
    with transaction.atomic():
        job = _job_create(
            workspace=workspace,
            actor=actor,
            filename=filename,
            total_articles=len(items),
            publish=publish,
            category=category,
            items=[asdict(i) for i in items],
        )
        from .tasks import import_job_run as task

        transaction.on_commit(lambda: task.delay(job.pk))
    return job


def import_job_run(*, job_id: int) -> None:
    """Write the job's articles (atomically), then embed them in batches, recording progress.

    The claim is a conditional update, so a redelivered task does nothing.
    """
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.IMPORTING
    )
    if not claimed:
        return
    job = ImportJob.objects.select_related("workspace", "created_by").get(pk=job_id)
    items = [ImportItem(**row) for row in job.items]
    try:
        with transaction.atomic():
            report = items_write(
                workspace=job.workspace,
                items=items,
                actor=job.created_by,
                publish=job.publish,
                embed="later",
            )
            job.articles.set(report.article_ids)
    except Exception as exc:  # the transaction rolled back; nothing was imported
        logger.exception("import job %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        return
    from .models import Chunk

    total = Chunk.objects.filter(article_id__in=report.article_ids, embedding__isnull=True).count()
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.INDEXING,
        created_count=len(report.created),
        updated_count=len(report.updated),
        total_chunks=total,
        items=[],
    )

    def progress(done: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(embedded_chunks=done)

    articles_embed(article_ids=report.article_ids, progress=progress)
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.DONE, finished_at=timezone.now(), embedded_chunks=total
    )


def rows_index_now(
    *, workspace: Workspace, rows: list[dict[str, Any]], source_file: str
) -> ImportReport:
    """Index JSONL article rows `{id?, title, body, category?, url?}` with embeddings now
    (the evaluation commands' scratch workspaces); each row's `id` is its external id."""
    items = [
        ImportItem(
            title=row["title"],
            body=row["body"],
            category=row.get("category") or "",
            external_id=str(row.get("id") or n),
            url=row.get("url") or "",
            source_file=source_file,
        )
        for n, row in enumerate(rows, start=1)
    ]
    return items_write(workspace=workspace, items=items, embed="now")
