"""Which conversations an agent may open (security review, finding 8): those in their queues,
assigned to them, or that they took part in; managers and admins open every one."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.urls import reverse

from supportops.accounts.models import Membership
from supportops.conversations.models import Conversation
from supportops.flows import do_agent_reply, do_resolve
from supportops.inbox.models import Queue
from supportops.inbox.selectors import conversation_get_for_agent, inbox_list
from supportops.inbox.services import agent_status_set, handoff_transfer, note_add
from tests.inbox.test_routing import hand_off

pytestmark = pytest.mark.django_db


@pytest.fixture
def legal(workspace):
    """A queue only agents with the 'legal' skill work; the teammate has no such skill."""
    Queue.objects.create(
        workspace=workspace, name="Legal", categories=["legal"], required_skill="legal"
    )
    return hand_off(workspace, category="legal", text="Secret legal matter")


def detail(conversation_id: int) -> str:
    return reverse("inbox:conversation", args=["acme", conversation_id])


def test_an_agent_cannot_open_a_conversation_outside_their_queues(client, teammate, legal):
    client.force_login(teammate)
    conversation_id = legal.conversation_id
    # Before the fix every member could open any conversation of the workspace by its id.
    assert client.get(detail(conversation_id)).status_code == 404
    for action in ("claim", "note"):
        response = client.post(reverse(f"inbox:{action}", args=["acme", conversation_id]))
        assert response.status_code == 404, action
    reply = reverse("inbox:reply", args=["acme", conversation_id])
    assert client.post(reply, {"text": "peek"}).status_code == 404
    assert not Conversation.objects.get(pk=conversation_id).messages.filter(author="agent")


def test_an_agent_opens_what_is_in_their_queues(client, workspace, teammate, legal):
    general = hand_off(workspace, text="General question")
    client.force_login(teammate)
    assert client.get(detail(general.conversation_id)).status_code == 200
    agent_status_set(workspace=workspace, user=teammate, status="away", skills=["legal"])
    assert client.get(detail(legal.conversation_id)).status_code == 200


def test_an_agent_opens_what_is_assigned_to_them_or_what_they_took_part_in(
    workspace, owner, teammate, legal
):
    membership = Membership.objects.get(user=teammate)
    handoff_transfer(handoff=legal, actor=owner, to_agent=teammate)
    assert conversation_get_for_agent(membership=membership, conversation_id=legal.conversation_id)
    conversation = legal.conversation
    do_agent_reply(conversation=conversation, agent=teammate, text="On it.")
    do_resolve(conversation=conversation, actor=teammate)
    # Resolved and no longer assigned: taking part still counts (their own history).
    legal.refresh_from_db()
    legal.assignee = None
    legal.save(update_fields=["assignee"])
    assert conversation_get_for_agent(membership=membership, conversation_id=conversation.pk)
    # A note counts as taking part; another legal conversation they never touched does not.
    noted = hand_off(workspace, category="legal", text="Noted legal matter")
    note_add(conversation=noted.conversation, author=teammate, text="Looked at the contract")
    assert conversation_get_for_agent(membership=membership, conversation_id=noted.conversation_id)
    other = hand_off(workspace, category="legal", text="Another legal matter")
    with pytest.raises(Http404):
        conversation_get_for_agent(membership=membership, conversation_id=other.conversation_id)


def test_managers_and_admins_open_every_conversation(client, owner, manager, legal):
    for user in (owner, manager):
        client.force_login(user)
        assert client.get(detail(legal.conversation_id)).status_code == 200


def test_the_unassigned_tab_lists_only_what_the_agent_may_open(workspace, teammate, owner, legal):
    hand_off(workspace, text="General question")
    listed = inbox_list(workspace=workspace, user=teammate, view="unassigned")
    assert [c.last_customer_text for c in listed] == ["General question"]
    everything = inbox_list(workspace=workspace, user=owner, view="unassigned")
    assert len(everything) == 2


def test_an_agent_transferring_away_from_their_queues_lands_on_the_inbox(
    client, workspace, teammate
):
    general = hand_off(workspace, text="General question")
    legal_queue = Queue.objects.create(
        workspace=workspace, name="Legal", categories=["legal"], required_skill="legal"
    )
    client.force_login(teammate)
    response = client.post(
        reverse("inbox:transfer", args=["acme", general.conversation_id]),
        {"queue": legal_queue.pk},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("inbox:index", args=["acme"])
