"""The contract commands check the schema before they work: a new bundled database is
migrated for them, a database of one's own is left alone with a clear message."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
ARTICLES = [
    {"id": "a-1", "title": "How do I reset my password?", "body": "Open Settings, then Reset."},
    {"id": "a-2", "title": "Where is my parcel?", "body": "Track it from the Orders page."},
]


@pytest.fixture
def empty_database(worker_env):
    """A new, empty database on the test PostgreSQL server, dropped afterwards."""
    name = f"so_schema_{uuid.uuid4().hex[:10]}"
    base = worker_env["DATABASE_URL"]
    test_name = base.split("@/")[1].split("?")[0]
    server = base.replace(test_name, "postgres", 1)
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = base.replace(test_name, name, 1)
    yield url
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    return [row[0] for row in rows]


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_command_refuses_an_unmigrated_database_of_ones_own(worker_env, empty_database, tmp_path):
    articles = tmp_path / "a.jsonl"
    articles.write_text("\n".join(json.dumps(a) for a in ARTICLES))
    cases = tmp_path / "c.jsonl"
    cases.write_text(json.dumps({"messages": ["agent"]}))
    env = {**worker_env, "DATABASE_URL": empty_database}

    done = _manage(env, "bot_eval", "--articles", str(articles), "--cases", str(cases), "--json")

    assert done.returncode == 1
    error = json.loads(done.stdout)["error"]  # still exactly one JSON object
    assert error.startswith("the database is not ready: ")
    assert "migration(s) not applied (contenttypes.0001_initial, " in error
    assert "Run `manage.py migrate` first." in error
    assert "Traceback" not in done.stderr
    assert _tables(empty_database) == []  # nothing was changed

    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"query": "I forgot my password", "article_id": "a-1"}))
    plain = _manage(env, "kb_eval", "--articles", str(articles), "--queries", str(queries))
    assert plain.returncode == 1
    assert "CommandError: the database is not ready" in plain.stderr
    assert _tables(empty_database) == []


def test_a_command_brings_a_new_bundled_database_up_to_date(worker_env, tmp_path):
    """What a fresh clone does after `make install`: the first command starts the bundled
    PostgreSQL in its own var folder, migrates it, and gives its figures."""
    articles = tmp_path / "a.jsonl"
    articles.write_text("\n".join(json.dumps(a) for a in ARTICLES))
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        json.dumps({"query": "I forgot my password", "article_id": "a-1"})
        + "\n"
        + json.dumps({"query": "track my package", "article_id": "a-2"})
    )
    env = {key: value for key, value in worker_env.items() if key != "DATABASE_URL"}
    env["VAR_DIR"] = str(tmp_path / "var")  # its own bundled database, stopped on exit

    done = _manage(env, "kb_eval", "--articles", str(articles), "--queries", str(queries), "--json")

    assert done.returncode == 0, done.stderr[-2000:]
    assert "migration(s) to the bundled database" in done.stderr
    figures = json.loads(done.stdout)
    assert figures["hybrid"]["n"] == 2
    assert figures["hybrid"]["recall@1"] == 1.0

    again = _manage(
        env, "kb_eval", "--articles", str(articles), "--queries", str(queries), "--json"
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "migration(s)" not in again.stderr  # already current: nothing applied twice
