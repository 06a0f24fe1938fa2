"""The bundled Redis keeps queued tasks across a restart and a crash (append-only file), and
the compose file's Redis is configured the same way."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import redis
import yaml
from celery import Celery
from django.conf import settings

from supportops.lib import embedded
from supportops.lib.env import redis_urls

from .stack import stack_folder


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _stop(var_dir: Path, how: signal.Signals) -> None:
    pid = int((var_dir / "redis" / "redis.pid").read_text())
    os.kill(pid, how)
    deadline = time.monotonic() + 30
    while not _gone(pid):
        assert time.monotonic() < deadline, "Redis did not stop"
        time.sleep(0.05)


def test_queued_tasks_survive_a_restart_and_a_crash_of_the_bundled_redis():
    with stack_folder("redis") as var_dir:
        try:
            sock = embedded.redis_socket(var_dir)
            client = redis.Redis(unix_socket_path=str(sock), decode_responses=True)
            assert client.config_get("appendonly") == {"appendonly": "yes"}
            assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
            app = Celery("persistence", set_as_current=False)
            sent: list[str] = []
            # A restart, then a crash: each time a task queued since the last start must be
            # there afterwards (after a crash, only the append-only file can have it).
            for n, how in enumerate((signal.SIGTERM, signal.SIGKILL)):
                app.conf.broker_url = redis_urls(f"unix://{sock}?db=0")[0]
                with app.connection_for_write() as conn:
                    app.send_task(
                        "supportops.bot.tasks.bot_turn",
                        args=[n],
                        queue="supportops",
                        connection=conn,
                    )
                sent.append(f"[{n}]")
                client.set(f"supportops:probe:{n}", "kept")
                client.close()
                _stop(var_dir, how)
                sock = embedded.redis_socket(var_dir)  # as the next `make run` does
                client = redis.Redis(unix_socket_path=str(sock), decode_responses=True)
                assert client.get(f"supportops:probe:{n}") == "kept", how
                queued = [json.loads(raw) for raw in client.lrange("supportops", 0, -1)]
                assert {m["headers"]["task"] for m in queued} == {"supportops.bot.tasks.bot_turn"}
                assert sorted(m["headers"]["argsrepr"] for m in queued) == sent, how
            client.close()
        finally:
            embedded.redis_stop(var_dir)


def test_the_compose_redis_writes_an_append_only_file_to_its_volume():
    compose = yaml.safe_load((Path(settings.BASE_DIR) / "docker-compose.yml").read_text())
    redis_service = compose["services"]["redis"]
    command = " ".join(redis_service["command"])
    assert "--appendonly yes" in command and "--appendfsync everysec" in command
    assert any(volume.endswith(":/data") for volume in redis_service["volumes"])
