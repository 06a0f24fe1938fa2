"""Shared plumbing for the JSON-printing management commands of the command-line contract."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError


def fail(command: BaseCommand, opts: dict[str, Any], message: str) -> None:
    """End a command with `message`: with --json as one {"error": ...} object on stdout (and
    the message on stderr) and exit status 1, otherwise as a CommandError."""
    if opts.get("json"):
        print_json({"error": message}, command.stdout)
        command.stderr.write(message)
        sys.exit(1)
    raise CommandError(message)


def database_ready(command: BaseCommand, opts: dict[str, Any]) -> None:
    """Fail cleanly, before any work, when the database's schema is not current (see
    lib.schema: the bundled database is brought up to date instead)."""
    from supportops.lib.schema import schema_ensure

    try:
        schema_ensure(stderr=command.stderr)
    except CommandError as exc:
        fail(command, opts, str(exc))


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def round_floats(value: Any, digits: int = 4) -> Any:
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: round_floats(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [round_floats(v, digits) for v in value]
    return value


def print_json(payload: dict[str, Any], stream: Any = None) -> None:
    """Exactly one JSON object on stdout (the command's stdout); logs go to stderr."""
    stream = stream or sys.stdout
    stream.write(json.dumps(round_floats(payload)) + "\n")
    stream.flush()


def read_jsonl(path: str, required: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise CommandError(
                        f"{path}, line {number}: malformed JSON ({exc.msg})"
                    ) from None
                if not isinstance(row, dict):
                    raise CommandError(f"{path}, line {number}: expected a JSON object")
                missing = [key for key in required if key not in row]
                if missing:
                    raise CommandError(f"{path}, line {number}: missing {', '.join(missing)}")
                rows.append(row)
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path}: not valid UTF-8; save the file as UTF-8") from None
    return rows


@contextmanager
def logs_to_stderr() -> Iterator[None]:
    """Keep libraries from printing progress bars or logs on stdout."""
    logging.getLogger().handlers = [logging.StreamHandler(sys.stderr)]
    yield


@contextmanager
def http_server(handler: Any) -> Iterator[str]:
    """A small local HTTP server (`handler`: a BaseHTTPRequestHandler class or factory) in a
    background thread, for stand-ins and host pages: yields its origin, "http://127.0.0.1:N"."""
    with _serving(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as origin:
        yield origin


@contextmanager
def _serving(server: Any) -> Iterator[str]:
    """Run a socketserver-style server in a daemon thread; stop and close it afterwards."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietFilesHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass


def quiet_files(directory: str) -> Any:
    """A handler for `http_server` that serves the files of `directory`, without request logs."""
    return partial(_QuietFilesHandler, directory=directory)


@contextmanager
def wsgi_server() -> Iterator[str]:
    """The app on a real HTTP port in a background thread, for benchmarks that need one:
    yields the base URL ("http://127.0.0.1:<port>")."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from django.core.wsgi import get_wsgi_application
    from django.db import DEFAULT_DB_ALIAS, connections

    class ThreadingServer(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    # A thread per request (unlike gunicorn's fixed workers) would leave one open database
    # connection behind per finished request: close them at its end.
    connections.settings[DEFAULT_DB_ALIAS]["CONN_MAX_AGE"] = 0
    server = make_server("127.0.0.1", 0, get_wsgi_application(), ThreadingServer, QuietHandler)
    with _serving(server) as origin:
        yield origin


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server_process(env: dict[str, str], workers: int = 2) -> Iterator[str]:
    """The app under gunicorn in its own process (a real server, as deployed): yields its
    base URL once it answers /healthz, and stops it afterwards."""
    import os
    import subprocess
    import time
    import urllib.request

    from django.conf import settings

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "supportops.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--log-level",
            "warning",
        ],
        env={**os.environ, **env},
        cwd=settings.BASE_DIR,
        stdout=sys.stderr,
        stderr=sys.stderr,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        # Loading the app in each gunicorn worker takes long on a busy machine.
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                raise CommandError(f"the web server exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):  # noqa: S310
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise CommandError("the web server did not answer within 300 s") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def celery_worker(processes: int = 1) -> Iterator[None]:
    """A real Celery worker process for the default queue, answering a ping before it is
    used; stopped afterwards."""
    import os
    import subprocess
    import time
    import uuid

    from django.conf import settings

    from supportops.celery import app

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "supportops",
            "worker",
            "-c",
            str(processes),
            "-Q",
            settings.CELERY_TASK_DEFAULT_QUEUE,
            "--loglevel=WARNING",
            "-n",
            f"check-{uuid.uuid4().hex[:6]}@%h",
        ],
        env={**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"},
        cwd=settings.BASE_DIR,
        stdout=sys.stderr,
        stderr=sys.stderr,
    )
    try:
        deadline = time.monotonic() + 240
        while not app.control.ping(timeout=0.5):
            if proc.poll() is not None:
                raise CommandError(f"the Celery worker exited with {proc.returncode}")
            if time.monotonic() > deadline:
                raise CommandError("the Celery worker did not answer within 240 s")
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
