"""Knowledge gaps: a conversation the bot could not answer, resolved by a person, becomes a
draft article linked to the conversations it came from."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client
from django.urls import reverse

from supportops.accounts.models import AuditLog
from supportops.conversations.models import Conversation
from supportops.conversations.services import conversation_feedback, customer_get_or_create_verified
from supportops.flows import (
    do_agent_reply,
    do_conversation_start,
    do_customer_message,
    do_hand_off,
    do_resolve,
)
from supportops.inbox.gaps import GapError, gap_draft_create, gap_for
from supportops.knowledge.models import Article
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

_customers = itertools.count()
QUESTION = "Can I return a tent I bought at the Portland store through the website?"
ANSWER = (
    "Yes: start the return online and choose drop-off at any store. "
    "Call me on +1 415 555 0134 if the form refuses it."
)


def resolved_gap(
    workspace,
    agent,
    *,
    trigger: str = "low_confidence",
    question: str = QUESTION,
    answer: str = ANSWER,
    resolve: bool = True,
) -> Conversation:
    """A customer asks something, the bot hands off with `trigger`, an agent answers."""
    customer = customer_get_or_create_verified(
        workspace=workspace, external_id=f"gap-{next(_customers)}", name="Rosa Diaz"
    )
    conversation = do_conversation_start(workspace=workspace, customer=customer).conversation
    do_customer_message(conversation=conversation, text=question, queue_bot=False)
    do_hand_off(
        conversation=conversation,
        trigger=trigger,
        reason="no passage scored above the minimum",
        scores={"retrieval_score": 0.21},
    )
    do_agent_reply(conversation=conversation, agent=agent, text=answer)
    if resolve:
        do_resolve(conversation=conversation, actor=agent)
    conversation.refresh_from_db()
    return conversation


def login(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def gap_url(conversation: Conversation, slug: str = "acme") -> str:
    return reverse("inbox:gap-draft", args=[slug, conversation.pk])


def conversation_url(conversation: Conversation) -> str:
    return reverse("inbox:conversation", args=["acme", conversation.pk])


def test_it_drafts_an_article_from_a_low_confidence_conversation(workspace, teammate):
    conversation = resolved_gap(workspace, teammate)

    article = gap_draft_create(conversation=conversation, actor=teammate)

    assert article.status == Article.Status.DRAFT
    assert article.source == Article.Source.CONVERSATION
    assert article.title == QUESTION
    assert "drop-off at any store" in article.body
    assert "555 0134" not in article.body  # the agent's personal details are redacted
    assert list(article.source_conversations.all()) == [conversation]
    assert not article.chunks.exists()  # a draft is not searchable by the bot
    audit = AuditLog.objects.get(action="article.gap_draft")
    assert audit.details == {
        "conversation": conversation.pk,
        "reason": "the assistant found no good answer in the knowledge base",
    }


def test_running_it_twice_gives_the_same_draft(workspace, teammate):
    conversation = resolved_gap(workspace, teammate)

    first = gap_draft_create(conversation=conversation, actor=teammate)
    second = gap_draft_create(conversation=conversation, actor=teammate)

    assert first.pk == second.pk
    assert Article.objects.filter(source=Article.Source.CONVERSATION).count() == 1


def test_a_second_conversation_can_join_an_existing_draft(workspace, teammate):
    first = resolved_gap(workspace, teammate)
    draft = gap_draft_create(conversation=first, actor=teammate)
    second = resolved_gap(workspace, teammate, question="Do stores take back tents bought online?")

    joined = gap_draft_create(conversation=second, actor=teammate, article=draft)

    assert joined.pk == draft.pk
    assert set(draft.source_conversations.all()) == {first, second}


def test_a_rejected_answer_is_a_gap(workspace, teammate):
    conversation = resolved_gap(workspace, teammate, trigger="explicit_request", resolve=False)
    conversation_feedback(conversation=conversation, solved=False)
    do_resolve(conversation=conversation, actor=teammate)
    conversation.refresh_from_db()

    gap = gap_for(conversation=conversation)

    assert gap is not None
    assert gap.reason == "the customer said the assistant's answer did not help"


def test_a_plain_request_for_a_person_is_not_a_gap(workspace, teammate):
    conversation = resolved_gap(workspace, teammate, trigger="explicit_request")

    assert gap_for(conversation=conversation) is None
    with pytest.raises(GapError, match="could not answer"):
        gap_draft_create(conversation=conversation, actor=teammate)


def test_an_unresolved_conversation_is_not_a_gap_yet(workspace, teammate):
    conversation = resolved_gap(workspace, teammate, resolve=False)

    assert gap_for(conversation=conversation) is None


def test_only_a_gap_draft_can_be_joined(workspace, teammate, make_article):
    conversation = resolved_gap(workspace, teammate)
    written = make_article(title="Returns in store", publish=False)

    with pytest.raises(GapError, match="draft made from conversations"):
        gap_draft_create(conversation=conversation, actor=teammate, article=written)


def test_the_conversation_page_offers_the_action_and_the_agent_uses_it(workspace, teammate):
    conversation = resolved_gap(workspace, teammate)
    client = login(teammate)

    page = client.get(conversation_url(conversation))
    assert "Turn my answer into a draft article" in page.content.decode()

    response = client.post(gap_url(conversation))

    assert response.status_code == 302
    assert response["Location"] == conversation_url(conversation)  # agents cannot edit articles
    article = Article.objects.get(source=Article.Source.CONVERSATION)
    page = client.get(conversation_url(conversation)).content.decode()
    assert "in the knowledge base" in page and article.title in page


def test_a_manager_reviews_the_gap_drafts_in_the_knowledge_list(workspace, teammate, manager):
    conversation = resolved_gap(workspace, teammate)
    article = gap_draft_create(conversation=conversation, actor=teammate)
    client = login(manager)

    listing = client.get(reverse("knowledge:article-list", args=["acme"]), {"status": "gap"})
    detail = client.get(reverse("knowledge:article-detail", args=["acme", article.pk]))

    assert article.title in listing.content.decode()
    assert f"conversation #{conversation.pk}" in detail.content.decode()


def test_the_gap_list_leaves_out_other_drafts(workspace, teammate, manager, make_article):
    make_article(title="A draft a manager wrote", publish=False)
    client = login(manager)

    listing = client.get(reverse("knowledge:article-list", args=["acme"]), {"status": "gap"})

    assert "A draft a manager wrote" not in listing.content.decode()


def test_a_bad_draft_choice_is_refused_with_a_message(workspace, teammate):
    conversation = resolved_gap(workspace, teammate)
    client = login(teammate)

    response = client.post(gap_url(conversation), {"article": "abc"}, follow=True)

    assert "Choose a draft from the list." in response.content.decode()
    assert not Article.objects.filter(source=Article.Source.CONVERSATION).exists()


def test_permissions(workspace, teammate, finance, outsider):
    conversation = resolved_gap(workspace, teammate)

    assert login(finance).post(gap_url(conversation)).status_code == 403
    assert login(outsider).post(gap_url(conversation)).status_code == 404
    assert login(outsider).post(gap_url(conversation, slug="other")).status_code == 404
    assert not Article.objects.filter(source=Article.Source.CONVERSATION).exists()
