"""copy_models writes model instances with COPY exactly as save() would store them: defaults,
JSON, auto_now dates (or the given ones), foreign keys, and ids either reserved beforehand
or numbered by the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from supportops.conversations.models import Conversation, Customer, Message
from supportops.lib.bulkcopy import copy_models, reserve_ids

pytestmark = pytest.mark.django_db


def test_reserved_ids_are_fresh_and_rows_can_point_at_each_other(workspace):
    existing = Customer.objects.create(workspace=workspace, name="Already here")
    ids = reserve_ids(Customer, 3)
    assert len(set(ids)) == 3 and min(ids) > existing.pk
    customers = [
        Customer(pk=pk, workspace=workspace, name=f"C{i}", attributes={"plan": i})
        for i, pk in enumerate(ids)
    ]
    conversations = [
        Conversation(pk=pk, workspace=workspace, customer=customers[0], token_hash=f"t{pk}")
        for pk in reserve_ids(Conversation, 2)
    ]
    assert copy_models(Customer, customers) == 3
    assert copy_models(Conversation, conversations) == 2
    stored = Customer.objects.get(pk=ids[2])
    assert (stored.name, stored.attributes, stored.is_vip) == ("C2", {"plan": 2}, False)
    assert stored.created_at is not None  # auto_now_add ran
    assert set(Conversation.objects.filter(customer_id=ids[0]).values_list("pk", flat=True)) == {
        c.pk for c in conversations
    }
    # The sequence goes on after the reserved block: a plain create gets a new id.
    assert Customer.objects.create(workspace=workspace, name="Later").pk > max(ids)


def test_rows_without_ids_are_numbered_and_given_dates_are_kept(workspace):
    customer = Customer.objects.create(workspace=workspace, name="Ann")
    conversation = Conversation.objects.create(
        workspace=workspace, customer=customer, token_hash="x"
    )
    then = timezone.now() - timedelta(days=200)
    messages = [
        Message(
            workspace=workspace,
            conversation=conversation,
            author=Message.Author.BOT,
            kind=Message.Kind.ANSWER,
            text=f"answer {i}",
            redacted_text=f"answer {i}",
            sources=[{"article_id": "a", "title": "T", "url": "/u"}],
            prompt_tokens=10 + i,
            created_at=then,
        )
        for i in range(2)
    ]
    assert copy_models(Message, messages, as_given={"created_at"}) == 2
    rows = list(Message.objects.filter(conversation=conversation).order_by("pk"))
    assert [m.text for m in rows] == ["answer 0", "answer 1"]
    assert [m.prompt_tokens for m in rows] == [10, 11]
    assert rows[0].sources == [{"article_id": "a", "title": "T", "url": "/u"}]
    assert all(m.created_at == then for m in rows)
    # The generated search column was filled by the database, so full-text search finds them.
    assert Message.objects.filter(search_vector="answer").count() == 2


def test_mixing_rows_with_and_without_ids_is_refused(workspace):
    rows = [
        Customer(pk=reserve_ids(Customer, 1)[0], workspace=workspace, name="A"),
        Customer(workspace=workspace, name="B"),
    ]
    with pytest.raises(ValueError, match="every primary key or none"):
        copy_models(Customer, rows)
    assert copy_models(Customer, []) == 0
    assert not Customer.objects.filter(workspace=workspace).exists()
