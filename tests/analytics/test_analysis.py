"""Post-interaction analysis (supportops/analytics/analysis.py) on conversations played
through the real flows: sentiment per customer message and its trend, rejections, the
knowledge gap, the one-line summary, idempotency, the sweep and the inbox page."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from supportops.analytics.analysis import analyses_due, analyses_sweep_run, analysis_refresh
from supportops.analytics.models import ConversationAnalysis
from supportops.conversations.models import Message
from tests.analytics.conftest import HUMAN, PASSWORD_Q, at
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
Trend = ConversationAnalysis.Trend


def test_a_rejected_answer_is_counted_and_summarised_without_personal_data(play):
    c = play.chat(0, "My email is dana@customer.example, how do I reset my password?")
    play.feedback(0.05, c, solved=False)
    play.leave(0.1, c)
    play.outcome(c, 1)
    row = analysis_refresh(conversation=c)
    assert row.answers_rejected == 1
    assert len(row.sentiments) == 1 and row.trend == Trend.SINGLE
    assert row.summary.startswith("Chat widget")
    assert "how do I reset my password?" in row.summary
    assert "not resolved (provisional); answer rejected." in row.summary
    assert "dana@customer.example" not in row.summary


def test_sentiment_per_message_and_an_improving_trend(play):
    angry = "This is useless, I have been locked out for days and I am furious!"
    c = play.chat(0, angry, arm=HUMAN)
    play.agent_reply(0.1, c, "Sorry about that, I unlocked your account.")
    play.chat(0.2, "Thank you so much, that fixed it, brilliant help!", conversation=c)
    play.resolve(0.3, c)
    row = analysis_refresh(conversation=c)
    customer = list(c.messages.filter(author=Message.Author.CUSTOMER).order_by("pk"))
    assert [s["message_id"] for s in row.sentiments] == [m.pk for m in customer]
    assert [s["label"] for s in row.sentiments] == ["negative", "positive"]
    assert row.trend == Trend.IMPROVING
    assert row.answers_rejected == 0 and row.knowledge_gap == ""


def test_a_question_the_help_centre_cannot_answer_is_a_knowledge_gap(play):
    c = play.chat(0, "Do you ship live reptiles to Iceland in winter?")
    row = analysis_refresh(conversation=c)
    # A clear question with no passage near it: the help centre does not cover it.
    assert row.knowledge_gap == "the question is not covered by the help centre"
    assert "reptiles" in row.gap_question and "knowledge gap" in row.summary


def test_analysing_again_changes_nothing(play):
    c = play.chat(0, PASSWORD_Q)
    play.leave(0.1, c)
    first = analysis_refresh(conversation=c)
    values = ConversationAnalysis.objects.filter(pk=first.pk).values().get()
    again = analysis_refresh(conversation=c)
    assert ConversationAnalysis.objects.filter(pk=first.pk).values().get() == values
    assert again.computed_at == first.computed_at
    assert ConversationAnalysis.objects.count() == 1


def test_the_sweep_finds_quiet_or_resolved_conversations_once(play, workspace):
    quiet = play.chat(0, PASSWORD_Q)
    window = timedelta(days=2)
    assert analyses_due(now=at(0.2), lookback=window, workspace=workspace) == []  # not quiet yet
    assert analyses_due(now=at(1), lookback=window, workspace=workspace) == [quiet.pk]
    with time_machine.travel(at(1), tick=False):
        assert analyses_sweep_run(now=at(1), lookback=window, workspace=workspace) == 1
        assert analyses_sweep_run(now=at(1), lookback=window, workspace=workspace) == 0
    play.chat(2, "and how long is the reset link valid?", conversation=quiet)
    assert analyses_due(now=at(3), lookback=window, workspace=workspace) == [quiet.pk]


def test_the_inbox_page_shows_the_analysis(client, play, manager):
    c = play.chat(0, PASSWORD_Q)
    assert client.login(username=manager.email, password=PASSWORD)
    assert "Not analysed yet" in client.get(f"/w/acme/inbox/{c.pk}/").content.decode()
    row = analysis_refresh(conversation=c)
    html = client.get(f"/w/acme/inbox/{c.pk}/").content.decode()
    assert 'id="analysis-summary"' in html and "reset my password" in html
    assert row.get_trend_display().lower() in html
