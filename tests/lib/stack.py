"""A second, throw-away embedded stack for fault tests: its own VAR_DIR with its own bundled
PostgreSQL and Redis, the web app under gunicorn and a Celery worker as subprocesses.

The session's own database must stay up, so tests that stop PostgreSQL or Redis do it here.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.conf import settings

from supportops.lib import embedded

# Variables of the test session that must not leak into the stack's processes.
SESSION_ONLY = ("DATABASE_URL", "REDIS_URL", "TEST_DATABASE_NAME", "VAR_DIR", "MEDIA_ROOT")


@contextlib.contextmanager
def stack_folder(name: str) -> Iterator[Path]:
    """A VAR_DIR outside pytest's temporary folders: those are made private again (0700)
    whenever any pytest session on the machine starts, and the bundled PostgreSQL runs as
    its own user when tests run as root, so it must be able to reach its data folder."""
    root = Path(tempfile.mkdtemp(prefix=f"supportops-{name}-"))
    try:
        yield root / "var"
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _pg_ctl(args: list[str], pgdata: Path) -> None:
    from pgserver._commands import pg_ctl

    # As root, pgserver runs the server as its own 'pgserver' user; so must pg_ctl.
    pg_ctl(args, pgdata=pgdata, user="pgserver" if os.geteuid() == 0 else None, timeout=60)


class EmbeddedStack:
    def __init__(self, var_dir: Path) -> None:
        self.var_dir = var_dir
        self.pgdata = var_dir / "pgdata"
        self.processes: list[subprocess.Popen] = []
        self.logs: list[IO[Any]] = []
        # This process starts both servers, as `make run` does; its children only connect.
        self.database_url = embedded.postgres_url(var_dir)
        self.redis_url = f"unix://{embedded.redis_socket(var_dir)}?db=0"
        from pgserver.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        assert info is not None and info.socket_dir is not None
        self.socket_dir = info.socket_dir
        self.env = {k: v for k, v in os.environ.items() if k not in SESSION_ONLY}
        self.env.update(
            VAR_DIR=str(var_dir),
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            DEBUG="true",
            HF_HUB_OFFLINE="1",
            PYTHONUNBUFFERED="1",
            TOKENIZERS_PARALLELISM="false",
        )
        self.worker_name = f"stack-{os.getpid()}@localhost"

    # --- commands and processes ---------------------------------------------------------------

    def manage(self, *args: str, timeout: float = 600) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            env=self.env,
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def python(self, code: str) -> Any:
        """Run `code` in the stack's Django (manage.py shell); it prints one JSON value."""
        return json.loads(self.manage("shell", "-c", code).strip().splitlines()[-1])

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = (self.var_dir / f"{name}.log").open("w+")
        self.logs.append(log)
        proc = subprocess.Popen(
            args, env=self.env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT
        )
        self.processes.append(proc)
        return proc

    def log(self, name: str) -> str:
        return (self.var_dir / f"{name}.log").read_text(errors="replace")

    def web(self) -> str:
        """The app under gunicorn (as in docker compose); returns its base URL once it answers."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        proc = self._start(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "supportops.wsgi:application",
                f"--bind=127.0.0.1:{port}",
                "--workers=1",
                "--threads=4",
                "--timeout=120",
            ],
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, self.log("web")
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url + "/healthz", timeout=5)  # noqa: S310 (local)
                return url
            time.sleep(0.3)
        raise AssertionError("the web app did not answer within 120 s:\n" + self.log("web"))

    def worker(self) -> subprocess.Popen:
        """A Celery worker; returns once it takes tasks (after loading the models)."""
        proc = self._start(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "supportops",
                "worker",
                "-P",
                "solo",
                "-Q",
                "supportops",
                "--loglevel=INFO",
                "-n",
                self.worker_name,
            ],
        )
        deadline = time.monotonic() + 600
        while f"{self.worker_name} ready." not in self.log("worker"):
            assert proc.poll() is None and time.monotonic() < deadline, self.log("worker")
            time.sleep(0.5)
        return proc

    def consuming(self, on: bool) -> None:
        """Stop or resume the worker's taking of new tasks (Celery remote control)."""
        from celery import Celery

        from supportops.lib.env import redis_urls

        broker = redis_urls(self.redis_url)[0]
        control = Celery("stack-control", broker=broker, set_as_current=False).control
        change = control.add_consumer if on else control.cancel_consumer
        replies = change("supportops", destination=[self.worker_name], reply=True, timeout=30)
        assert replies, "the worker did not answer"

    # --- faults -----------------------------------------------------------------------------

    def postgres_stop(self) -> None:
        _pg_ctl(["-w", "-m", "fast", "stop"], self.pgdata)

    def postgres_start(self) -> None:
        _pg_ctl(
            [
                "-w",
                "-o",
                '-h ""',
                "-o",
                f"-k {self.socket_dir}",
                "-l",
                str(self.pgdata / "log"),
                "start",
            ],
            self.pgdata,
        )

    def close(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self.logs:
            log.close()
        with contextlib.suppress(subprocess.CalledProcessError):
            self.postgres_stop()
        embedded.redis_stop(self.var_dir)


def http(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request with the standard library: (status, headers, body), errors included."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 (the test's own local URLs)
        url, data=data, method=method, headers=dict(headers or {})
    )
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (local)
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
