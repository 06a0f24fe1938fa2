"""Shared fixtures: three standing users (owner, teammate, outsider) and factories.

Everything runs against the real embedded PostgreSQL with pgvector and the real Redis.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from supportops.accounts.models import Membership, Role, Workspace
from supportops.accounts.services import workspace_create
from supportops.knowledge.models import Article
from supportops.knowledge.services import article_create

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

    def factory(title: str = "How do I reset my password?", body: str = "", **kwargs: Any) -> Article:
        kwargs.setdefault("workspace", workspace)
        kwargs.setdefault("owner", owner)
        kwargs.setdefault("publish", True)
        kwargs.setdefault("embed", "now")
        body = body or f"{title}\n\nOpen Settings and follow the steps to sort this out."
        return article_create(title=title, body=body, **kwargs)

    return factory
