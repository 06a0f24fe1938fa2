"""'Try a question' shows what the bot would really do, and leaves nothing behind."""

from __future__ import annotations

import pytest
from django.urls import reverse

from supportops.accounts.models import AuditLog
from supportops.bot.models import BotTurn
from supportops.bot.services import bot_settings_get, bot_settings_update
from supportops.conversations.models import Conversation, Customer, Message
from supportops.inbox.models import Handoff
from supportops.integrations.embeddings import EmbeddingError
from tests.conftest import PASSWORD

HTMX = {"HX-Request": "true"}
RETURNS = (
    "You can return unworn boots within 30 days of delivery. Start the return from "
    "**Orders** and print the free label; the refund reaches your card within 5 days."
)


def try_url(slug: str = "acme") -> str:
    return reverse("knowledge-try", args=[slug])


def ask(client, question: str, **params):
    return client.get(try_url(), {"question": question, **params}, headers=HTMX)


@pytest.fixture
def as_manager(client, manager):
    assert client.login(username=manager.username, password=PASSWORD)
    return client


@pytest.fixture
def kb(make_article):
    make_article("How do I return boots?", body=RETURNS, category="Returns and refunds")
    make_article(
        "How long does delivery take?",
        body="Standard delivery takes 3 to 5 working days within Norway.",
        category="Orders and delivery",
    )


def _row_counts() -> tuple[int, ...]:
    return (
        Customer.objects.count(),
        Conversation.objects.count(),
        Message.objects.count(),
        BotTurn.objects.count(),
        Handoff.objects.count(),
        AuditLog.objects.count(),
    )


def test_an_answerable_question_shows_the_reply_with_its_source(as_manager, kb, workspace):
    bot_settings_get(workspace=workspace)
    before = _row_counts()
    response = ask(as_manager, "How do I return my boots?")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="try-results"')
    assert "What the bot would do" in html and ">Answers<" in html
    reply = html[html.index('class="prose reply-text"') : html.index("Ranked passages")]
    assert "<p>Here is what our help centre says" in reply  # rendered, paragraph by paragraph
    assert "within 30 days" in reply
    assert "Sources:" in reply and "How do I return boots?" in reply
    assert "a good match" in html
    # The reply sits above the ranked passages, whose Markdown is rendered too.
    assert html.index("reply-text") < html.index('class="hits"')
    assert "<strong>Orders</strong> and print" in html[html.index('class="hits"') :]
    assert _row_counts() == before  # the throwaway conversation was rolled back


def test_asking_for_a_person_shows_the_trigger_and_why(as_manager, kb, workspace):
    settings = bot_settings_get(workspace=workspace)
    before = _row_counts()
    html = ask(as_manager, "I want to speak to a human").content.decode()
    assert "Hands off to a person" in html
    assert "The customer asks for a person" in html
    assert "The message asks to talk to a person." in html
    assert settings.handoff_message.split(".")[0] in html
    assert _row_counts() == before


def test_it_runs_the_real_decision_with_the_workspace_settings(as_manager, kb, workspace, owner):
    bot_settings_update(workspace=workspace, actor=owner, explicit_request_enabled=False)
    html = ask(as_manager, "I want to speak to a human").content.decode()
    assert "The customer asks for a person" not in html


def test_a_weak_match_hands_off_with_the_scores_in_words(as_manager, kb):
    html = ask(as_manager, "Do you sell kayak paddles for children?").content.decode()
    assert "Low confidence" in html or "Asks what the customer means" in html
    assert "best passage scores" in html


def test_the_whole_page_works_without_htmx(as_manager, kb):
    html = as_manager.get(try_url(), {"question": "How do I return my boots?"}).content.decode()
    assert "<html" in html and 'id="try-form"' in html
    assert "What the bot would do" in html and 'aria-current="page">Try a question' in html


def test_an_embedding_failure_is_explained_and_passages_fall_back(as_manager, kb, monkeypatch):
    def broken(*args, **kwargs):
        raise EmbeddingError("provider down")

    monkeypatch.setattr("supportops.knowledge.search.embed_query", broken)
    monkeypatch.setattr("supportops.bot.turn.embed_query_cached", broken)
    response = ask(as_manager, "return boots")
    html = response.content.decode()
    assert response.status_code == 200
    assert "the bot could not decide" in html
    assert "keyword search only" in html and "How do I return boots?" in html


@pytest.mark.parametrize(
    ("who", "status"),
    [("owner", 200), ("manager", 200), ("teammate", 200), ("finance", 403), ("outsider", 404)],
)
def test_who_may_try_a_question(client, request, kb, who, status):
    user = request.getfixturevalue(who)
    assert client.login(username=user.username, password=PASSWORD)
    assert ask(client, "return boots").status_code == status


def test_anonymous_is_sent_to_login(client, workspace):
    response = client.get(try_url(), {"question": "x"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
