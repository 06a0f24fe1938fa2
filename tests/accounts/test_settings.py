from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from supportops.lib.env import database_from_url, env_bool, env_int, redis_urls

ROOT = Path(__file__).resolve().parents[2]


def test_env_bool_fails_loudly_on_malformed_values(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        env_bool("FLAG", False)
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG", False) is True


def test_env_int_checks_type_and_minimum(monkeypatch):
    monkeypatch.setenv("N", "soon")
    with pytest.raises(ImproperlyConfigured, match="N must be an integer"):
        env_int("N", 1)
    monkeypatch.setenv("N", "-3")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_int("N", 1, minimum=0)


def test_database_url_parsing():
    db = database_from_url("postgresql://app:s%40cret@db.internal:5433/support?sslmode=require")
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "support",
        "app",
        "s@cret",
        "db.internal",
        "5433",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}
    socket = database_from_url("postgresql://postgres:@/supportops?host=/tmp/pg")
    assert socket["HOST"] == "/tmp/pg"
    with pytest.raises(ImproperlyConfigured, match="postgresql://"):
        database_from_url("mysql://x@y/z")


def test_redis_urls():
    assert redis_urls("redis://r:6379/2") == ("redis://r:6379/2", "redis://r:6379/2")
    assert redis_urls("unix:///v/redis.sock?db=1") == (
        "redis+socket:///v/redis.sock?virtual_host=1",
        "unix:///v/redis.sock?db=1",
    )
    with pytest.raises(ImproperlyConfigured):
        redis_urls("http://nope")


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {
        k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "ALLOWED_HOSTS", "DEBUG")
    }
    # Point at services without starting them: `check` does not connect.
    base.update(DATABASE_URL="postgresql://x@localhost:1/x", REDIS_URL="redis://localhost:1/0")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_mode_refuses_to_start_without_a_secret_key():
    result = _manage("check", DEBUG="false", ALLOWED_HOSTS="support.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_mode_refuses_to_start_without_allowed_hosts():
    result = _manage(
        "check", DEBUG="false", SECRET_KEY="k" * 30 + "0123456789abcdefghijklmnopqrstu"
    )
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_production_mode_passes_the_deploy_check():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="p9!v-" + "x7Qk2mZr8Lw3Nt6Yb1Hc4Jd5Fg0Se" * 2,
        ALLOWED_HOSTS="support.example.com",
        TRUSTED_PROXY_COUNT="1",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_app_refuses_to_start_without_debug_set():
    # Finding 4: DEBUG used to default to on, with a public secret key.
    for value in (None, "", "  "):
        env = {} if value is None else {"DEBUG": value}
        result = _manage("check", **env)
        assert result.returncode != 0
        assert "ImproperlyConfigured: DEBUG is not set" in result.stderr


def test_production_mode_refuses_the_public_development_key():
    result = _manage(
        "check",
        DEBUG="false",
        ALLOWED_HOSTS="support.example.com",
        SECRET_KEY="django-insecure-supportops-local-development-only",
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_runstack_sets_debug_for_the_local_stack():
    result = _manage("runstack", "--help")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("command", ["kb_eval", "bot_eval", "pii_eval", "demo_seed"])
def test_the_contract_commands_run_without_debug_set(command):
    """Evaluation, benchmark and demo commands serve no requests: the README's commands
    work as written, with development settings unless DEBUG says otherwise."""
    result = _manage(command, "--help")
    assert result.returncode == 0, result.stderr


def test_a_malformed_setting_names_the_variable():
    result = _manage("check", DEBUG="true", DB_CONN_MAX_AGE="soon")
    assert result.returncode != 0
    assert "DB_CONN_MAX_AGE" in result.stderr
