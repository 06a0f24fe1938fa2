"""Rollout fixtures: the demo categories (so the bot's classifier knows them), a small help
centre in two of them, and a phase made live directly (the suite gate is tested apart)."""

from __future__ import annotations

import pytest

from supportops.bot.demo import demo_categories_seed
from supportops.conversations.models import Conversation
from supportops.conversations.services import customer_get_or_create_visitor
from supportops.flows import do_conversation_start
from supportops.rollout.models import Phase
from supportops.rollout.services import phase_create, plan_create

RETURNS = "Returns and refunds"
SHIPPING = "Orders and delivery"
RETURN_QUESTION = "How do I send back an item I bought?"
SHIPPING_QUESTION = "How many days does delivery take to reach me?"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def categories(workspace) -> list[str]:
    demo_categories_seed(workspace=workspace)
    from supportops.bot.categories import category_list

    return list(category_list(workspace=workspace).values_list("name", flat=True))


@pytest.fixture
def help_centre(make_article):
    return {
        "returns": make_article(
            title="How do I return an item?",
            body="How do I return an item?\n\nOpen Account > Orders, choose Return items and "
            "print the free label. Send the parcel back within 30 days.",
            category=RETURNS,
            external_id="ret-1",
        ),
        "shipping": make_article(
            title="How long does delivery take?",
            body="How long does delivery take?\n\nStandard delivery takes 3 to 5 working days "
            "in the EU; express takes 1 to 2.",
            category=SHIPPING,
            external_id="ship-1",
        ),
    }


def make_phase(workspace, owner, categories, *, share: float = 0.5, live: bool = True) -> Phase:
    from supportops.rollout.models import Plan

    name = f"Launch {Plan.objects.filter(workspace=workspace).count() + 1}"
    plan = plan_create(workspace=workspace, actor=owner, name=name)
    phase = phase_create(
        plan=plan,
        actor=owner,
        known_categories=categories,
        name="Returns first",
        categories=[RETURNS],
        control_share=share,
    )
    if live:
        Phase.objects.filter(pk=phase.pk).update(status=Phase.Status.LIVE)
        phase.refresh_from_db()
    return phase


@pytest.fixture
def live_phase(workspace, owner, categories) -> Phase:
    return make_phase(workspace, owner, categories)


def start_as(workspace, arm: str, *, prefix: str = "visitor") -> Conversation:
    """Start a conversation for the first visitor id whose bucket puts them in `arm`."""
    for n in range(200):
        customer = customer_get_or_create_visitor(
            workspace=workspace, visitor_id=f"{prefix}-{n:04d}-{'x' * 12}"
        )
        conversation = do_conversation_start(workspace=workspace, customer=customer).conversation
        if conversation.arm == arm:
            return conversation
    raise AssertionError(f"no customer in {arm} among 200")
