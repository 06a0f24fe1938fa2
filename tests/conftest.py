"""Shared fixtures: three standing users (owner, teammate, outsider) and factories.

Everything runs against the real embedded PostgreSQL with pgvector and the real Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from supportops.accounts.models import Membership, Role, Workspace
from supportops.accounts.services import workspace_create
from supportops.knowledge.models import Article
from supportops.knowledge.services import article_create
from supportops.lib import embedded

PASSWORD = "correct horse battery staple 42"


def make_user(email: str):
    return get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)


@pytest.fixture
def owner(db):
    """Alice: admin of the 'Acme' workspace."""
    return make_user("alice@acme.example")


@pytest.fixture
def workspace(owner) -> Workspace:
    return workspace_create(name="Acme Support", owner=owner, slug="acme")


@pytest.fixture
def teammate(workspace):
    """Bob: an agent in Acme (may read and search the knowledge base, may not edit it)."""
    user = make_user("bob@acme.example")
    Membership.objects.create(user=user, workspace=workspace, role=Role.AGENT)
    return user


@pytest.fixture
def manager(workspace):
    user = make_user("mia@acme.example")
    Membership.objects.create(user=user, workspace=workspace, role=Role.MANAGER)
    return user


@pytest.fixture
def finance(workspace):
    user = make_user("fin@acme.example")
    Membership.objects.create(user=user, workspace=workspace, role=Role.FINANCE)
    return user


@pytest.fixture
def outsider(db):
    """Charlie: admin of another workspace; must see nothing of Acme."""
    user = make_user("charlie@other.example")
    workspace_create(name="Other Co", owner=user, slug="other")
    return user


@pytest.fixture
def make_article(workspace, owner) -> Callable[..., Article]:
    """Create an article; published ones are indexed with embeddings right away."""

    def factory(
        title: str = "How do I reset my password?", body: str = "", **kwargs: Any
    ) -> Article:
        kwargs.setdefault("workspace", workspace)
        kwargs.setdefault("owner", owner)
        kwargs.setdefault("publish", True)
        kwargs.setdefault("embed", "now")
        body = body or f"{title}\n\nOpen Settings and follow the steps to sort this out."
        return article_create(title=title, body=body, **kwargs)

    return factory


@pytest.fixture(scope="session")
def worker_env(django_db_setup, django_db_blocker):
    """Environment for a real Celery worker that uses the test database and test Redis."""
    import os

    from django.conf import settings
    from django.db import connection

    with django_db_blocker.unblock():
        db = connection.settings_dict
    url = f"postgresql://{db['USER']}:{db['PASSWORD']}@/{db['NAME']}?host={db['HOST']}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }


_worker = {"running": False}


@pytest.fixture(scope="session")
def celery_worker_process(worker_env):
    """A real `celery worker` subprocess, started once per test session."""
    import subprocess
    import sys
    import time

    from django.conf import settings

    from supportops.celery import app

    app.control.purge()  # nothing left over from an earlier run
    proc = subprocess.Popen(
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
            settings.CELERY_TASK_DEFAULT_QUEUE,
            "--loglevel=WARNING",
            "-n",
            "test@%h",
        ],
        env=worker_env,
        cwd=settings.BASE_DIR,
    )
    # Warming the models takes seconds alone and much longer on a loaded machine.
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited with {proc.returncode}")
        if app.control.ping(timeout=0.5):
            break
    else:
        proc.terminate()
        raise RuntimeError("celery worker did not answer a ping within 240 s")
    _worker["running"] = True
    yield proc
    _worker["running"] = False
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Poll until predicate() is truthy; return its value or fail after timeout."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def pytest_sessionfinish(session, exitstatus):
    """The bundled Redis is a daemon; one that this test run started is stopped with it
    (PostgreSQL stops by itself when its last user exits)."""
    if settings.VAR_DIR in embedded.started_redis:
        embedded.redis_stop(settings.VAR_DIR)


@pytest.fixture(autouse=True)
def _worker_idle_after_test(request):
    """A test that used the real worker ends once the worker is idle: the tasks its flows
    queued on commit (the ledger's refresh after a bot turn) would otherwise still run while
    the test's tables are being emptied. So does any test whose transactions really commit
    while the session's worker runs (its on-commit tasks reach that worker too)."""
    yield
    marker = request.node.get_closest_marker("django_db")
    commits = marker is not None and bool(marker.kwargs.get("transaction"))
    if "celery_worker_process" not in request.fixturenames and not (commits and _worker["running"]):
        return
    import time

    from supportops.celery import app

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    deadline = time.monotonic() + 30
    with app.connection_for_write() as connection:
        client = connection.default_channel.client
        while time.monotonic() < deadline:
            # The worker runs one task at a time (-P solo) and answers a ping only between
            # tasks: an empty queue and a ping answered means nothing is running.
            if not client.llen(queue) and app.control.ping(timeout=0.5):
                return
            time.sleep(0.2)
