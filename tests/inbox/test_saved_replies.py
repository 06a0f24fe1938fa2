"""Saved replies (macros): managers keep the shared set, everyone their own; nobody sees
another person's; placeholders are filled for the conversation (or left visibly for the
agent); uses are counted when the reply is sent; every change is audited."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from supportops.accounts.models import AuditLog, Membership
from supportops.bot.models import BotTurn
from supportops.conversations.models import Conversation, Message, Order
from supportops.conversations.services import (
    customer_get_or_create_verified,
    customer_get_or_create_visitor,
)
from supportops.flows import do_conversation_start, do_customer_message, do_hand_off
from supportops.inbox import macros
from supportops.inbox.models import SavedReply
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

_ids = itertools.count()


def member(user, workspace) -> Membership:
    return Membership.objects.select_related("workspace", "user").get(
        user=user, workspace=workspace
    )


def login(client: Client, user) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def url(name: str, *args: object) -> str:
    return reverse(f"inbox:{name}", args=["acme", *args])


@pytest.fixture
def other_agent(workspace):
    user = make_user("olga@acme.example")
    Membership.objects.create(user=user, workspace=workspace, role="agent")
    return user


@pytest.fixture
def shared(workspace, manager):
    return macros.saved_reply_create(
        membership=member(manager, workspace),
        title="Refund on its way",
        body="Hi {customer_first_name}, the refund for order {order_number} is on its way. "
        "{agent_name}",
        shortcut="/refund",
        shared=True,
    )


@pytest.fixture
def own(workspace, teammate):
    return macros.saved_reply_create(
        membership=member(teammate, workspace),
        title="My sign-off",
        body="Have a lovely day, {agent_name}",
        shortcut="bye",
    )


def conversation_for(workspace, *, name: str = "", verified: bool = True) -> Conversation:
    if verified:
        customer = customer_get_or_create_verified(
            workspace=workspace, external_id=f"cust-{next(_ids)}", name=name
        )
    else:
        customer = customer_get_or_create_visitor(
            workspace=workspace, visitor_id=f"visitor-{next(_ids):06d}-abcdefgh"
        )
    conversation = do_conversation_start(workspace=workspace, customer=customer).conversation
    do_customer_message(conversation=conversation, text="Where is my refund?", queue_bot=False)
    do_hand_off(conversation=conversation, trigger="explicit_request", reason="asked")
    conversation.refresh_from_db()
    return conversation


def order(customer, number: str, days_ago: int) -> Order:
    return Order.objects.create(
        workspace=customer.workspace,
        customer=customer,
        number=number,
        status=Order.Status.SHIPPED,
        placed_at=timezone.now() - timedelta(days=days_ago),
        total=Decimal("19.90"),
    )


# --- Who sees and changes what ---------------------------------------------------------------


def test_agents_see_the_shared_set_and_their_own_never_anothers(
    workspace, teammate, other_agent, manager, shared, own
):
    assert set(macros.saved_replies_for_member(membership=member(teammate, workspace))) == {
        shared,
        own,
    }
    assert set(macros.saved_replies_for_member(membership=member(other_agent, workspace))) == {
        shared
    }
    assert set(macros.saved_replies_for_member(membership=member(manager, workspace))) == {shared}
    with pytest.raises(Http404):
        macros.saved_reply_get_for_member(
            membership=member(other_agent, workspace), reply_id=own.pk
        )


def test_only_managers_and_admins_change_the_shared_set(workspace, teammate, owner, shared):
    agent = member(teammate, workspace)
    with pytest.raises(PermissionDenied):
        macros.saved_reply_get_for_member(membership=agent, reply_id=shared.pk, to_change=True)
    with pytest.raises(PermissionDenied):
        macros.saved_reply_update(membership=agent, reply=shared, title="Mine now", body="x")
    with pytest.raises(PermissionDenied):
        macros.saved_reply_delete(membership=agent, reply=shared)
    with pytest.raises(PermissionDenied):
        macros.saved_reply_create(membership=agent, title="T", body="B", shared=True)
    admin = member(owner, workspace)
    macros.saved_reply_update(membership=admin, reply=shared, title="Refund sent", body="Done.")
    shared.refresh_from_db()
    assert (shared.title, shared.body, shared.owner_id) == ("Refund sent", "Done.", None)


def test_a_manager_cannot_change_an_agents_own_reply(workspace, manager, own):
    with pytest.raises(Http404):  # not even visible to them
        macros.saved_reply_get_for_member(
            membership=member(manager, workspace), reply_id=own.pk, to_change=True
        )


def test_shortcuts_are_one_word_and_unique_per_set(workspace, teammate, manager, shared):
    agent = member(teammate, workspace)
    with pytest.raises(macros.MacroError, match="one word"):
        macros.saved_reply_create(membership=agent, title="T", body="B", shortcut="two words")
    # The agent may use /refund for their own reply, but not twice in their own set.
    macros.saved_reply_create(membership=agent, title="Mine", body="B", shortcut="refund")
    with pytest.raises(macros.MacroError, match="already uses /refund"):
        macros.saved_reply_create(membership=agent, title="Again", body="B", shortcut="/Refund")
    with pytest.raises(macros.MacroError, match="already uses /refund"):
        macros.saved_reply_create(
            membership=member(manager, workspace),
            title="Dup",
            body="B",
            shortcut="refund",
            shared=True,
        )


def test_unknown_placeholders_are_refused_when_saving(workspace, teammate):
    with pytest.raises(macros.MacroError, match=r"Unknown placeholder \{tracking_url\}"):
        macros.saved_reply_create(
            membership=member(teammate, workspace), title="T", body="See {tracking_url}"
        )


def test_every_change_is_audited(workspace, manager, shared):
    membership = member(manager, workspace)
    macros.saved_reply_update(
        membership=membership, reply=shared, title="Refund sent", body="Done.", shortcut="refund"
    )
    pk = shared.pk
    macros.saved_reply_delete(membership=membership, reply=shared)
    rows = AuditLog.objects.filter(target_type="savedreply", target_id=str(pk)).order_by("pk")
    assert [r.action for r in rows] == [
        "saved_reply.create",
        "saved_reply.update",
        "saved_reply.delete",
    ]
    assert all(r.actor_id == manager.pk and r.workspace_id == workspace.pk for r in rows)
    assert rows[0].details["shared"] is True
    assert rows[1].details["before"]["title"] == "Refund on its way"
    assert rows[1].details["after"]["title"] == "Refund sent"
    assert not SavedReply.objects.filter(pk=pk).exists()


# --- Search and placeholders -----------------------------------------------------------------


def test_search_by_shortcut_prefix_or_words(workspace, teammate, shared, own):
    agent = member(teammate, workspace)
    assert macros.saved_replies_search(membership=agent, query="/ref") == [shared]
    assert macros.saved_replies_search(membership=agent, query="/") == [own, shared]
    assert macros.saved_replies_search(membership=agent, query="lovely day") == [own]
    assert macros.saved_replies_search(membership=agent, query="/nothing") == []


def test_placeholders_are_filled_from_the_conversation(workspace, teammate):
    teammate.first_name = "Maren"
    teammate.save()
    conversation = conversation_for(workspace, name="Dana Reyes")
    order(conversation.customer, "TW-100", days_ago=20)
    order(conversation.customer, "TW-200", days_ago=2)
    values = macros.placeholder_values(conversation=conversation, agent=teammate)
    assert values == {
        "customer_first_name": "Dana",
        "order_number": "TW-200",  # the most recent
        "agent_name": "Maren",
    }
    text, missing = macros.macro_fill(
        body="Hi {customer_first_name}, order {order_number} ships today. {agent_name}",
        values=values,
    )
    assert text == "Hi Dana, order TW-200 ships today. Maren"
    assert missing == []


def test_the_order_the_conversation_is_about_wins_over_the_latest(workspace, teammate):
    conversation = conversation_for(workspace, name="Dana Reyes")
    order(conversation.customer, "TW-100", days_ago=20)
    order(conversation.customer, "TW-200", days_ago=2)
    message = conversation.messages.filter(author=Message.Author.CUSTOMER).first()
    BotTurn.objects.create(
        workspace=workspace,
        conversation=conversation,
        message=message,
        records=[{"number": "TW-100"}, {"number": "SOMEONE-ELSES-1"}],
    )
    assert macros.conversation_order_number(conversation=conversation) == "TW-100"


def test_missing_values_stay_visible_in_brackets_never_as_braces(workspace, teammate):
    teammate.first_name = ""
    teammate.save()
    conversation = conversation_for(workspace, verified=False)
    values = macros.placeholder_values(conversation=conversation, agent=teammate)
    assert values == {"customer_first_name": "", "order_number": "", "agent_name": ""}
    text, missing = macros.macro_fill(
        body="Hi {customer_first_name}, about order { order_number }: {agent_name}",
        values=values,
    )
    assert text == "Hi [customer's first name], about order [order number]: [your name]"
    assert "{" not in text and "}" not in text
    assert missing == ["customer_first_name", "order_number", "agent_name"]


def test_an_anonymous_visitors_orders_are_never_read(workspace, teammate):
    conversation = conversation_for(workspace, verified=False)
    order(conversation.customer, "TW-999", days_ago=1)
    assert macros.conversation_order_number(conversation=conversation) == ""


# --- The pages and endpoints -----------------------------------------------------------------


def test_the_list_page_shows_shared_and_own_with_the_right_actions(
    client, workspace, teammate, shared, own
):
    html = login(client, teammate).get(url("saved-replies")).content.decode()
    assert "Refund on its way" in html and "My sign-off" in html
    assert url("saved-reply-edit", own.pk) in html
    assert url("saved-reply-edit", shared.pk) not in html  # agents do not edit shared ones
    assert "Add a shared reply" not in html


def test_an_agent_adds_an_own_reply_through_the_form(client, workspace, teammate):
    login(client, teammate)
    response = client.post(
        url("saved-reply-create"),
        {"title": "Tracking", "shortcut": "/track", "body": "Hi {customer_first_name}!"},
    )
    assert response.status_code == 302
    reply = SavedReply.objects.get(title="Tracking")
    assert (reply.owner_id, reply.shortcut) == (teammate.pk, "track")
    # An agent asking for a shared one gets their own: the form cannot make it shared.
    client.post(url("saved-reply-create"), {"title": "Sneaky", "body": "x", "shared": "1"})
    assert SavedReply.objects.filter(title="Sneaky").count() == 0


def test_a_bad_form_says_why_and_keeps_what_was_typed(client, workspace, teammate):
    login(client, teammate)
    response = client.post(
        url("saved-reply-create"), {"title": "Oops", "body": "Hi {nme}", "shortcut": ""}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Unknown placeholder {nme}" in html
    assert "Hi {nme}" in html


def test_a_manager_adds_a_shared_reply(client, workspace, manager):
    login(client, manager)
    response = client.post(
        url("saved-reply-create"), {"title": "Welcome", "body": "Hello!", "shared": "1"}
    )
    assert response.status_code == 302
    assert SavedReply.objects.get(title="Welcome").owner_id is None


def test_agents_get_403_on_shared_and_404_on_anothers(
    client, workspace, teammate, other_agent, shared, own
):
    login(client, other_agent)
    assert client.get(url("saved-reply-edit", shared.pk)).status_code == 403
    assert client.post(url("saved-reply-delete", shared.pk)).status_code == 403
    assert client.get(url("saved-reply-edit", own.pk)).status_code == 404
    assert client.post(url("saved-reply-delete", own.pk)).status_code == 404
    assert SavedReply.objects.filter(pk__in=[shared.pk, own.pk]).count() == 2


def test_another_workspace_sees_nothing(client, workspace, outsider, shared):
    login(client, outsider)
    assert client.get(url("saved-replies")).status_code == 404
    other = reverse("inbox:saved-reply-edit", args=["other", shared.pk])
    assert client.get(other).status_code == 404
    conversation = conversation_for(workspace)
    fill = reverse("inbox:saved-reply-fill", args=["other", conversation.pk, shared.pk])
    assert client.get(fill).status_code == 404


def test_the_fill_endpoint_returns_the_filled_text(client, workspace, teammate, shared, own):
    teammate.first_name = "Maren"
    teammate.save()
    conversation = conversation_for(workspace, name="Dana Reyes")
    order(conversation.customer, "TW-200", days_ago=2)
    login(client, teammate)
    found = client.get(url("saved-reply-search", conversation.pk), {"q": "/ref"}).json()
    assert [r["id"] for r in found["results"]] == [shared.pk]
    body = client.get(url("saved-reply-fill", conversation.pk, shared.pk)).json()
    assert body["text"] == "Hi Dana, the refund for order TW-200 is on its way. Maren"
    assert body["missing"] == []


def test_usage_is_counted_when_the_reply_is_sent(client, workspace, teammate, shared, own):
    conversation = conversation_for(workspace, name="Dana Reyes")
    login(client, teammate)
    # Inserting (filling) is not a use.
    client.get(url("saved-reply-fill", conversation.pk, shared.pk))
    shared.refresh_from_db()
    assert shared.usage_count == 0
    # A failed send (empty) counts nothing.
    client.post(url("reply", conversation.pk), {"text": " ", "saved_reply_ids": f"{shared.pk}"})
    shared.refresh_from_db()
    assert shared.usage_count == 0
    response = client.post(
        url("reply", conversation.pk),
        {"text": "Hi Dana, refund sent.", "saved_reply_ids": f"{shared.pk},{own.pk},x,99999"},
    )
    assert response.status_code == 302
    shared.refresh_from_db()
    own.refresh_from_db()
    assert (shared.usage_count, own.usage_count) == (1, 1)


def test_another_agents_reply_is_not_counted_by_id(client, workspace, other_agent, own):
    conversation = conversation_for(workspace)
    login(client, other_agent)
    client.post(url("reply", conversation.pk), {"text": "Hello", "saved_reply_ids": str(own.pk)})
    own.refresh_from_db()
    assert own.usage_count == 0


def test_the_reply_box_offers_saved_replies(client, workspace, teammate):
    conversation = conversation_for(workspace)
    html = login(client, teammate).get(url("conversation", conversation.pk)).content.decode()
    assert 'id="macro-search"' in html
    assert 'name="saved_reply_ids"' in html
    assert f'data-search-url="{url("saved-reply-search", conversation.pk)}"' in html
    assert "js/reply-box.js" in html
