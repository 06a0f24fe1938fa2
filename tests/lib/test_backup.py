"""`make backup` / `make restore`: conversations come back in a fresh database, and a restore
never replaces data by accident nor reads a file that is not a backup."""

from __future__ import annotations

import io
import json
import os
import secrets
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from supportops import flows
from supportops.conversations.models import Customer, Message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app_files(settings, tmp_path) -> Path:
    """Uploaded files and the demo login, in folders of this test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path / "var"
    (settings.MEDIA_ROOT / "imports").mkdir(parents=True)
    (settings.MEDIA_ROOT / "imports" / "faq.csv").write_text("question,answer\nHi?,Hello.\n")
    settings.VAR_DIR.mkdir()
    (settings.VAR_DIR / "demo-login.txt").write_text("s3cret-demo\n")
    return tmp_path


@pytest.fixture
def conversations(workspace) -> list[tuple[int, str, str]]:
    rows = []
    for n, text in enumerate(["Where is my parcel?", "Can I return boots? Größe 44 ✓"]):
        customer = Customer.objects.create(workspace=workspace, external_id=f"C-{n}")
        started = flows.do_conversation_start(workspace=workspace, customer=customer)
        flows.do_customer_message(
            conversation=started.conversation, text=text, client_key=f"k{n}", queue_bot=False
        )
    for message in Message.objects.order_by("pk"):
        rows.append((message.conversation_id, message.author, message.text))
    return rows


@pytest.fixture
def fresh_database() -> Iterator[dict[str, str]]:
    """A new, empty database on the same server, and the environment that points at it."""
    name = f"restore_{secrets.token_hex(4)}"
    db = connection.settings_dict
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_NAME",)}
    env.update(
        DATABASE_URL=f"postgresql://{db['USER']}:{db['PASSWORD']}@/{name}?host={db['HOST']}",
        REDIS_URL=django_settings.REDIS_URL,
        HF_HUB_OFFLINE="1",
    )
    env["_NAME"] = name
    try:
        yield env
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def manage(env: dict[str, str], *args: str) -> tuple[int, dict]:
    result = subprocess.run(
        [sys.executable, "manage.py", *args, "--json"],
        env=env,
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,  # nobody to answer a question
        check=False,
    )
    return result.returncode, json.loads(result.stdout.strip().splitlines()[-1])


def rows_in(env: dict[str, str]) -> list[tuple[int, str, str]]:
    db = connection.settings_dict
    with psycopg.connect(dbname=env["_NAME"], host=db["HOST"], user=db["USER"]) as other:
        return [
            tuple(row)
            for row in other.execute(
                "SELECT conversation_id, author, text FROM conversations_message ORDER BY id"
            )
        ]


def backup(tmp_path: Path) -> Path:
    out = io.StringIO()
    call_command("backup", output_dir=str(tmp_path / "backups"), json=True, stdout=out)
    return Path(json.loads(out.getvalue())["path"])


def test_a_backup_restores_into_a_fresh_database_with_the_same_conversations(
    app_files, conversations, fresh_database, tmp_path
):
    archive = backup(tmp_path)
    assert archive.parent == tmp_path / "backups"
    assert archive.name.startswith("supportops-") and archive.suffix == ".tar"
    assert archive.stat().st_mode & 0o777 == 0o600  # customers' personal data
    with tarfile.open(archive) as opened:
        names = opened.getnames()
    assert names[0] == "manifest.json"
    assert {"database.dump", "media/imports/faq.csv", "var/demo-login.txt"} <= set(names)

    target = tmp_path / "elsewhere"
    env = {**fresh_database, "VAR_DIR": str(target / "var"), "MEDIA_ROOT": str(target / "media")}
    code, report = manage(env, "restore", str(archive))
    assert code == 0, report
    assert report["replaced_data"] is False and report["media_files"] == 1
    assert report["pending_migrations"] == []
    assert rows_in(fresh_database) == conversations
    assert (target / "media/imports/faq.csv").read_text().startswith("question,answer")
    assert (target / "var/demo-login.txt").read_text() == "s3cret-demo\n"

    # Now the database holds data: without FORCE nothing is replaced, and nobody is asked.
    with psycopg.connect(
        dbname=fresh_database["_NAME"],
        host=connection.settings_dict["HOST"],
        user=connection.settings_dict["USER"],
    ) as other:
        other.execute("DELETE FROM conversations_message WHERE author = 'customer'")
    edited = rows_in(fresh_database)
    code, report = manage(env, "restore", str(archive))
    assert code == 1 and "holds data" in report["error"] and "--force" in report["error"]
    assert rows_in(fresh_database) == edited
    code, report = manage(env, "restore", str(archive), "--force")
    assert code == 0 and report["replaced_data"] is True, report
    assert rows_in(fresh_database) == conversations


def test_restore_refuses_what_is_not_a_backup_and_changes_nothing(
    app_files, conversations, tmp_path
):
    before = list(Message.objects.values_list("pk", "text"))
    not_a_tar = tmp_path / "notes.txt"
    not_a_tar.write_text("hello")
    with pytest.raises(CommandError, match="not a SupportOps backup"):
        call_command("restore", str(not_a_tar), force=True)

    stranger = tmp_path / "other.tar"
    with tarfile.open(stranger, "w") as archive:
        archive.add(str(not_a_tar), arcname="notes.txt")
    with pytest.raises(CommandError, match=r"not a SupportOps backup \(no manifest.json\)"):
        call_command("restore", str(stranger), force=True)

    # A real backup whose dump was changed afterwards fails its checksum.
    good = backup(tmp_path)
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(good) as source, tarfile.open(damaged, "w") as copy:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "database.dump":
                data = data[:-1] + bytes([data[-1] ^ 1])
            copy.addfile(member, io.BytesIO(data))
    with pytest.raises(CommandError, match="damaged: database.dump"):
        call_command("restore", str(damaged), force=True)
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", str(tmp_path / "missing.tar"), force=True)
    assert list(Message.objects.values_list("pk", "text")) == before


def test_make_restore_without_a_file_says_how_to_call_it():
    result = subprocess.run(
        ["make", "--no-print-directory", "restore"],
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "usage: make restore FILE=" in result.stderr
