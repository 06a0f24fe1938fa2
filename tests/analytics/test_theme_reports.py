"""Theme reports: asked for on a page, found in Celery (never in the request) with
progress, each theme with its size, examples and its not-resolved and repeat-contact
counts from the ledger."""

from __future__ import annotations

import html
import re
from datetime import date

import pytest

from supportops.analytics.models import Outcome, ThemeReport
from supportops.analytics.services import AnalyticsError
from supportops.analytics.theme_reports import theme_report_request, theme_report_run
from supportops.conversations.services import customer_get_or_create_verified
from tests.analytics.conftest import EMAIL_Q, PASSWORD_AGAIN, PASSWORD_Q
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
PERIOD = {"since": date(2025, 5, 1), "until": date(2025, 6, 1)}


def as_customer(play, workspace, n):
    play.customer = customer_get_or_create_verified(
        workspace=workspace, external_id=f"T-{n}", name=f"Customer {n}", email=f"c{n}@x.example"
    )


def test_asking_for_themes_queues_celery_and_returns_at_once(
    client, workspace, manager, django_capture_on_commit_callbacks
):
    assert client.login(username=manager.email, password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            "/w/acme/analytics/themes/", {"since": "2025-05-01", "until": "2025-06-01"}
        )
    report = ThemeReport.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{report.pk}/")
    assert len(callbacks) == 1 and report.status == ThemeReport.Status.QUEUED
    page = client.get(response["Location"]).content.decode()
    assert "<progress" in page and 'hx-trigger="every 2s"' in page


def test_a_report_counts_not_resolved_and_repeat_contacts_per_theme(play, workspace, manager):
    a = play.chat(0, PASSWORD_Q)
    play.feedback(0.05, a, solved=True)
    play.chat(20, PASSWORD_AGAIN)  # the same need again: `a` becomes a repeat contact
    as_customer(play, workspace, 2)
    b = play.chat(1, EMAIL_Q)
    play.feedback(1.05, b, solved=False)
    play.leave(1.1, b)  # not resolved
    as_customer(play, workspace, 3)
    play.chat(2, "How can I change my account email address?")
    as_customer(play, workspace, 4)
    play.chat(3, "Where do I reset a forgotten password?")
    for conversation in workspace.conversations.all():
        play.outcome(conversation, 200)
    outcomes = list(Outcome.objects.values_list("outcome", flat=True))
    assert outcomes.count(Outcome.Kind.REPEAT_CONTACT) == 1
    assert outcomes.count(Outcome.Kind.NOT_RESOLVED) == 1
    report = theme_report_request(workspace=workspace, actor=manager, **PERIOD)
    done = theme_report_run(report_id=report.pk)
    assert done is not None and (done.status, done.progress) == ("done", 100)
    themes = done.result["themes"]
    assert done.result["n"] == 5 and sum(t["size"] for t in themes) == 5
    assert sum(t["not_resolved"] for t in themes) == 1
    assert sum(t["repeat_contact"] for t in themes) == 1
    for theme in themes:
        assert theme["share_not_resolved"] == round(theme["not_resolved"] / theme["size"], 4)
        assert 1 <= len(theme["examples"]) <= 3 and theme["label"]
    again = theme_report_run(report_id=report.pk)
    assert again is not None and again.result == done.result


def test_an_empty_period_has_no_themes(workspace, manager):
    report = theme_report_request(workspace=workspace, actor=manager, **PERIOD)
    done = theme_report_run(report_id=report.pk)
    assert done is not None and done.status == "done" and done.result["themes"] == []


def test_bad_periods_and_roles_are_refused(client, workspace, manager, teammate, finance):
    with pytest.raises(AnalyticsError, match="end after it starts"):
        theme_report_request(
            workspace=workspace, actor=manager, since=date(2025, 5, 2), until=date(2025, 5, 1)
        )
    with pytest.raises(AnalyticsError, match="at most 366 days"):
        theme_report_request(
            workspace=workspace, actor=manager, since=date(2024, 1, 1), until=date(2025, 6, 1)
        )
    for person in (teammate, finance):
        with pytest.raises(AnalyticsError, match="Only admins and managers"):
            theme_report_request(workspace=workspace, actor=person, **PERIOD)
    assert client.login(username=teammate.email, password=PASSWORD)
    assert client.get("/w/acme/analytics/themes/").status_code == 403
    client.logout()
    assert client.login(username=manager.email, password=PASSWORD)
    response = client.post("/w/acme/analytics/themes/", {"since": "2025-06-01", "until": "x"})
    assert response.status_code == 400 and not ThemeReport.objects.exists()


def test_a_report_shows_the_trend_and_links_unanswered_questions_to_a_draft(
    client, play, workspace, manager
):
    from django.utils import timezone

    from supportops.analytics.models import ConversationAnalysis

    # The previous period of the same length (April): two conversations.
    for n, hours in ((10, -24 * 10), (11, -24 * 9)):
        as_customer(play, workspace, n)
        play.chat(hours, "Where do I reset a forgotten password?")
    # This period (May): four, one of them a question the bot could not answer.
    for n in range(4):
        as_customer(play, workspace, 20 + n)
        play.chat(n, "How can I change my account email address?")
    gap = workspace.conversations.order_by("-pk").first()
    ConversationAnalysis.objects.create(
        workspace=workspace,
        conversation=gap,
        knowledge_gap="low confidence",
        gap_question="How can I change my account email address?",
        summary="asked how to change the account email",
        computed_at=timezone.now(),
    )
    report = theme_report_request(workspace=workspace, actor=manager, **PERIOD)
    done = theme_report_run(report_id=report.pk)
    assert done is not None and done.status == "done"
    themes = done.result["themes"]
    assert done.result["n"] == 4  # April's conversations are only the comparison
    assert sum(t["previous"] for t in themes) == 2
    assert sum(t["unanswered"] for t in themes) == 1
    for theme in themes:
        before = theme["previous"]
        assert theme["change"] == (
            "new"
            if before == 0
            else "steady"
            if abs(theme["size"] - before) / before < 0.1
            else f"{(theme['size'] - before) / before:+.0%}"
        )
    unanswered = next(t for t in themes if t["unanswered"])
    assert unanswered["unanswered_examples"] == ["How can I change my account email address?"]

    assert client.login(username=manager.email, password=PASSWORD)
    page = client.get(f"/w/acme/analytics/themes/{report.pk}/").content.decode()
    assert page.count("Write an article") == 1
    link = re.search(r'href="(/w/acme/knowledge/new/\?[^"]+)">Write an article', page)
    assert link is not None
    draft = client.get(html.unescape(link.group(1))).content.decode()
    assert 'value="How can I change my account email address?"' in draft
    assert "&gt; How can I change my account email address?" in draft  # quoted in the body
    assert "Write the answer here." in draft
    assert not workspace.articles.filter(title__startswith="How can I change").exists()
