from __future__ import annotations

import io
import json
import zipfile

import pytest

from supportops.knowledge.importing import (
    ImportFileError,
    import_job_create,
    import_job_run,
    items_write,
    parse_path,
    parse_upload,
)
from supportops.knowledge.models import Article, Chunk, ImportJob


def jsonl(*rows) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows).encode()


def test_jsonl_keeps_ids_categories_and_urls():
    items = parse_upload(
        "kb.jsonl",
        jsonl(
            {
                "id": "a-1",
                "title": "Tracking",
                "body": "Use the link.",
                "category": "orders",
                "url": "https://help.example/tracking",
            },
            {"title": "Returns", "body": "Within 30 days."},
        ),
    )
    assert [(i.external_id, i.title, i.category, i.url) for i in items] == [
        ("a-1", "Tracking", "orders", "https://help.example/tracking"),
        ("", "Returns", "", ""),
    ]


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (jsonl({"title": "ok", "body": "b"}, "{not json"), 2, "malformed JSON"),
        (jsonl({"title": "ok", "body": "b"}, {"body": "no title"}), 2, "missing title"),
        (jsonl({"title": "no body"}), 1, "missing body"),
        (
            jsonl({"id": "x", "title": "a", "body": "b"}, {"id": "x", "title": "c", "body": "d"}),
            2,
            "repeats line 1",
        ),
        (jsonl(["a", "list"]), 1, "JSON object"),
        (jsonl({"title": "t", "body": "b", "url": "javascript:alert(1)"}), 1, "url must start"),
    ],
)
def test_bad_jsonl_is_refused_with_line_and_reason(data, line, reason):
    with pytest.raises(ImportFileError) as excinfo:
        parse_upload("kb.jsonl", data)
    assert excinfo.value.line == line
    assert reason in excinfo.value.reason
    assert str(excinfo.value).startswith(f"kb.jsonl, line {line}:")


def test_wrong_encoding_is_refused_with_its_line():
    data = b"title,ok\n" + "question,answer\nCafé,ok\n".encode("latin-1")
    with pytest.raises(ImportFileError) as excinfo:
        parse_upload("faq.csv", data)
    assert excinfo.value.line == 3
    assert "UTF-8" in excinfo.value.reason


def test_csv_question_answer():
    items = parse_upload(
        "faq.csv", b'question,answer\n"How long is delivery?","3-5 days"\n\nCan I pay later?,Yes\n'
    )
    assert [(i.title, i.body) for i in items] == [
        ("How long is delivery?", "3-5 days"),
        ("Can I pay later?", "Yes"),
    ]


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b"title,body\nx,y\n", 1, "question,answer"),
        (b"question,answer\nq,a,extra\n", 2, "expected 2 columns"),
        (b"question,answer\nq,\n", 2, "missing answer"),
        (b"question,answer\n,an answer\n", 2, "missing title"),
    ],
)
def test_bad_csv_is_refused(data, line, reason):
    with pytest.raises(ImportFileError) as excinfo:
        parse_upload("faq.csv", data)
    assert (excinfo.value.line, reason in excinfo.value.reason) == (line, True)


def test_unsupported_and_binary_files_are_refused():
    with pytest.raises(ImportFileError, match="unsupported file type"):
        parse_upload("kb.pdf", b"%PDF-1.4")
    with pytest.raises(ImportFileError, match="binary"):
        parse_upload("kb.md", b"abc\x00def")


def test_markdown_folder_with_front_matter_and_folder_categories(tmp_path):
    (tmp_path / "billing").mkdir()
    (tmp_path / "billing" / "invoices.md").write_text("# Getting an invoice\n\nOpen Orders.\n")
    (tmp_path / "faq.md").write_text("---\nid: faq-1\ncategory: General\n---\n# FAQ\n\nBody.\n")
    (tmp_path / "notes.txt").write_text("ignored")
    items = sorted(parse_path(tmp_path), key=lambda i: i.title)
    assert [(i.title, i.category, i.external_id, i.body) for i in items] == [
        ("FAQ", "General", "faq-1", "Body."),
        ("Getting an invoice", "billing", "", "Open Orders."),
    ]


def test_zip_of_markdown(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("help/shipping/where.md", "# Where is my parcel?\n\nTrack it.")
        archive.writestr("help/readme.txt", "skip me")
    items = parse_upload("help.zip", buffer.getvalue())
    assert [(i.title, i.category) for i in items] == [("Where is my parcel?", "shipping")]


def test_import_is_all_or_nothing(workspace, owner, monkeypatch):
    items = parse_upload(
        "kb.jsonl",
        jsonl({"id": "1", "title": "One", "body": "b"}, {"id": "2", "title": "Two", "body": "b"}),
    )
    items[1].title = "x" * 400  # passes nothing: the service refuses it mid-import
    with pytest.raises(ValueError):
        items_write(workspace=workspace, items=items, actor=owner, embed="now")
    assert not Article.objects.filter(workspace=workspace).exists()


def test_reimport_updates_by_external_id(workspace, owner):
    first = parse_upload("kb.jsonl", jsonl({"id": "s-1", "title": "Shipping", "body": "old"}))
    items_write(workspace=workspace, items=first, actor=owner, embed="now")
    second = parse_upload(
        "kb.jsonl",
        jsonl(
            {"id": "s-1", "title": "Shipping", "body": "new"},
            {"id": "s-2", "title": "Customs", "body": "duties"},
        ),
    )
    report = items_write(workspace=workspace, items=second, actor=owner, embed="now")
    assert (report.created, report.updated) == (["s-2"], ["s-1"])
    article = Article.objects.get(workspace=workspace, external_id="s-1")
    assert (article.body, article.version_number) == ("new", 2)


def test_import_job_writes_and_reports_progress(workspace, owner):
    items = parse_upload(
        "kb.jsonl",
        jsonl(*[{"id": f"j{n}", "title": f"Topic {n}", "body": f"Text {n}."} for n in range(5)]),
    )
    job = import_job_create(
        workspace=workspace, actor=owner, filename="kb.jsonl", items=items, publish=True
    )
    import_job_run(job_id=job.pk)
    import_job_run(job_id=job.pk)  # a redelivered task does nothing
    job.refresh_from_db()
    assert (job.status, job.created_count, job.percent) == (ImportJob.Status.DONE, 5, 100)
    assert job.embedded_chunks == job.total_chunks == 10
    assert Chunk.objects.filter(workspace=workspace, embedding__isnull=True).count() == 0
    assert Article.objects.filter(workspace=workspace).count() == 5
