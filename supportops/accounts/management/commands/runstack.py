"""`make run`: migrate, seed the demo, and run web + Celery worker + Celery beat together.

Ctrl-C (or SIGTERM) stops all three, then the bundled Redis; the bundled PostgreSQL
stops when this process, its last user, exits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from supportops.accounts.demo import DEMO_USERS, demo_password
from supportops.lib import embedded


class Command(BaseCommand):
    help = "Run the whole product locally: web server, Celery worker and Celery beat."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--workers", type=int, default=1, help="Celery worker processes")

    def handle(self, *args, **opts):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("demo_seed")
        env = {
            **os.environ,
            # Children use the servers this process started instead of starting their own.
            "DATABASE_URL": settings.DATABASE_URL,
            "REDIS_URL": settings.REDIS_URL,
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "PYTHONUNBUFFERED": "1",
        }
        python = sys.executable
        commands = {
            "web": [
                python,
                "manage.py",
                "runserver",
                f"{opts['host']}:{opts['port']}",
                "--noreload",
            ],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "supportops",
                "worker",
                "--loglevel=INFO",
                "-Q",
                settings.CELERY_TASK_DEFAULT_QUEUE,
                f"--concurrency={opts['workers']}",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "supportops",
                "beat",
                "--loglevel=INFO",
                "-s",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        procs = {
            name: subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR, start_new_session=True)
            for name, cmd in commands.items()
        }
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        host = "localhost" if opts["host"] in ("127.0.0.1", "0.0.0.0") else opts["host"]  # noqa: S104
        url = f"http://{host}:{opts['port']}/"
        self.stdout.write(
            self.style.SUCCESS(
                f"\nSupportOps is running at {url}\n"
                f"  log in as {DEMO_USERS[0][0]} / {demo_password()}\n"
                f"  (also {', '.join(e for e, _ in DEMO_USERS[1:])}, same password)\n"
                "  Ctrl-C stops the web server, the worker and beat.\n"
            )
        )
        exit_code = 0
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    self.stderr.write(f"{name} exited with code {proc.returncode}; stopping.")
                    stopping, exit_code = True, 1
            time.sleep(0.5)
        self._shutdown(procs)
        if not os.environ.get("REDIS_URL"):
            embedded.redis_stop(settings.VAR_DIR)
        self.stdout.write("Stopped.")
        if exit_code:
            sys.exit(exit_code)

    def _shutdown(self, procs: dict[str, subprocess.Popen]) -> None:
        for proc in procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
