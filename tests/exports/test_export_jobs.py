"""Per-conversation exports too large to stream: prepared by the Celery task into a file with
its progress on the job row, offered for download (finance yes, agents no, other workspaces
never), audited, and deleted after the keeping period. One column list serves the header and
the fields read."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from supportops.accounts.models import AuditLog
from supportops.celery import app
from supportops.exports import services
from supportops.exports.models import ExportJob
from tests.analytics.ledger_rows import PERIOD, Row, known_ledger, ledger_row
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_and_eager_tasks(settings, tmp_path):
    """Files into a temporary MEDIA_ROOT; tasks queued on commit run in this process (with
    django_capture_on_commit_callbacks(execute=True)), as in the email channel's tests."""
    settings.MEDIA_ROOT = tmp_path
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def url(name: str, *args, slug: str = "acme") -> str:
    return reverse(f"exports:{name}", args=[slug, *args])


def read_file(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def ledger(workspace):
    return known_ledger(workspace)


def start(client, user, capture, params=None) -> ExportJob:
    login(client, user)
    with capture(execute=True):
        response = client.post(url("job-start"), params or PERIOD)
    job = ExportJob.objects.latest("pk")
    assert response.status_code == 302
    assert response["Location"] == url("job", job.pk)
    return job


def test_one_column_list_gives_the_header_and_the_fields_read():
    names = [column.name for column in services.CONVERSATION_EXPORT]
    assert names == services.CONVERSATION_COLUMNS
    fields = services._fields(services.CONVERSATION_EXPORT)
    assert len(fields) == len(set(fields))
    assert {"why__rule", "conversation__cost__total_usd", "started_at_local"} <= set(fields)


def test_finance_starts_an_export_the_task_writes_it_and_finance_downloads_it(
    client, finance, ledger, django_capture_on_commit_callbacks
):
    job = start(client, finance, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE, job.error
    assert (job.rows_done, job.rows_total, job.percent) == (9, 9, 100)
    assert job.created_by == finance and job.filters == {**PERIOD, "figure": "conversations"}
    assert job.expires_at - job.finished_at == timedelta(days=7)
    path = Path(job.file_path)
    assert path.parts[0] == "exports" and not path.is_absolute()

    page = client.get(url("job", job.pk)).content.decode()
    assert 'data-status="done"' in page and url("job-download", job.pk) in page
    assert "hx-trigger" not in page  # finished: no more polling

    response = client.get(url("job-download", job.pk))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="acme-conversations-')
    rows = read_file(response)
    assert rows[0][:3] == ["conversation_id", "customer_id", "started_at (UTC)"]
    assert sorted(int(r[0]) for r in rows[1:]) == sorted(o.conversation_id for o in ledger[:9])
    # Exactly what the streamed export of the same filters gives.
    streamed = b"".join(client.get(url("conversations"), PERIOD).streaming_content).decode()
    assert sorted(map(tuple, rows)) == sorted(map(tuple, csv.reader(io.StringIO(streamed))))


def test_the_task_neutralises_formula_cells(
    client, manager, workspace, django_capture_on_commit_callbacks
):
    formulas = ['=HYPERLINK("http://x.example")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
    for n, category in enumerate(formulas, start=1):
        ledger_row(workspace, Row("ai_first", "widget", category, "abandoned", True), n)
    job = start(client, manager, django_capture_on_commit_callbacks)
    rows = read_file(client.get(url("job-download", job.pk)))
    assert sorted(r[8] for r in rows[1:]) == sorted("'" + f for f in formulas)


def test_every_async_export_and_download_is_an_audit_row(
    client, finance, ledger, django_capture_on_commit_callbacks
):
    job = start(client, finance, django_capture_on_commit_callbacks, {**PERIOD, "arm": "ai_first"})
    read_file(client.get(url("job-download", job.pk)))
    rows = AuditLog.objects.filter(workspace__slug="acme", action__startswith="export.")
    rows = rows.order_by("pk")
    assert [(r.action, r.actor_id, r.details.get("arm"), r.details.get("job")) for r in rows] == [
        ("export.conversations", finance.pk, "ai_first", job.pk),
        ("export.download", finance.pk, None, job.pk),
    ]
    assert rows[0].details["rows"] == 7


def test_progress_is_saved_while_the_file_is_written(workspace, finance, ledger, monkeypatch):
    """With a progress save after every row, the job row counts up while the task runs."""
    monkeypatch.setattr(services, "PROGRESS_EVERY_S", 0.0)
    filters = services.filters_parse(PERIOD, workspace=workspace)
    job = services.export_job_start(workspace=workspace, actor=finance, filters=filters)
    assert (job.status, job.rows_total, job.percent) == ("queued", 9, 0)
    seen: list[int] = []
    real = services.conversation_export_lines

    def watched(rows, filters):
        for line in real(rows, filters):
            seen.append(ExportJob.objects.get(pk=job.pk).rows_done)
            yield line

    monkeypatch.setattr(services, "conversation_export_lines", watched)
    services.export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "done" and job.rows_done == 9
    # Read before each row was written: the saved count went up row by row.
    assert seen == list(range(9))
    # A second delivery of the task finds the job done and leaves it alone.
    assert services.export_job_run(job_id=job.pk) is None


def test_a_running_job_page_polls_and_shows_its_progress(client, finance, workspace):
    job = ExportJob.objects.create(
        workspace=workspace, created_by=finance, status="running", rows_total=200, rows_done=50
    )
    login(client, finance)
    page = client.get(url("job", job.pk)).content.decode()
    assert 'hx-trigger="every 1s"' in page and 'value="25"' in page and "50 of 200 rows" in page
    fragment = client.get(url("job", job.pk), headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<section id="export-job"')
    # Not ready yet: no file to download.
    assert client.get(url("job-download", job.pk)).status_code == 410


def test_agents_may_not_start_or_download_and_other_workspaces_get_404(
    client, finance, teammate, outsider, ledger, django_capture_on_commit_callbacks
):
    job = start(client, finance, django_capture_on_commit_callbacks)
    login(client, teammate)
    assert client.post(url("job-start"), PERIOD).status_code == 403
    assert client.get(url("job", job.pk)).status_code == 403
    assert client.get(url("job-download", job.pk)).status_code == 403
    login(client, outsider)
    assert client.get(url("job-download", job.pk)).status_code == 404
    assert client.get(url("job", job.pk)).status_code == 404
    # Through their own workspace's address, Acme's job does not exist.
    assert client.get(url("job-download", job.pk, slug="other")).status_code == 404
    assert client.post(url("job-start"), PERIOD).status_code == 404
    assert ExportJob.objects.count() == 1


def test_a_large_export_is_offered_in_the_background_not_streamed(
    client, manager, ledger, settings
):
    settings.EXPORT_STREAM_MAX_ROWS = 5
    response = login(client, manager).get(url("conversations"), PERIOD)
    page = response.content.decode()
    assert response.status_code == 200 and not response.streaming
    assert "9 conversations: prepared in the background" in page
    assert f'action="{url("job-start")}"' in page
    assert not AuditLog.objects.filter(action__startswith="export.").exists()
    # Five rows or fewer still stream at once.
    response = client.get(url("conversations"), {**PERIOD, "figure": "gap"})
    assert response.streaming


def test_bad_filters_start_nothing(client, finance, django_capture_on_commit_callbacks):
    login(client, finance)
    response = client.post(url("job-start"), {"from": "soon"})
    assert response.status_code == 400
    assert not ExportJob.objects.exists()


def test_files_older_than_seven_days_are_deleted(
    client, finance, ledger, django_capture_on_commit_callbacks, settings
):
    old = start(client, finance, django_capture_on_commit_callbacks)
    fresh = start(client, finance, django_capture_on_commit_callbacks)
    old.refresh_from_db()
    fresh.refresh_from_db()
    old_file = Path(settings.MEDIA_ROOT) / old.file_path
    fresh_file = Path(settings.MEDIA_ROOT) / fresh.file_path
    assert old_file.is_file() and fresh_file.is_file()
    ExportJob.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))

    from supportops.exports.tasks import exports_expire

    assert exports_expire.delay().get() == 1
    old.refresh_from_db()
    assert old.status == "expired" and not old.file_path and not old_file.exists()
    assert fresh_file.is_file()
    assert client.get(url("job-download", old.pk)).status_code == 410
    assert "Expired" in client.get(url("job", old.pk)).content.decode()
