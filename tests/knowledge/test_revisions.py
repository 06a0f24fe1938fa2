"""Draft revisions of published articles, comparing versions, and restoring with a diff."""

from __future__ import annotations

import pytest

from supportops.knowledge import search
from supportops.knowledge.models import Article
from supportops.knowledge.services import article_update
from tests.knowledge.test_views import kb_url, login


@pytest.fixture
def live(make_article) -> Article:
    return make_article(
        "How long does delivery take?",
        body="## Standard\n\nStandard delivery takes 3 working days.\n\nWe ship from Bergen.",
        category="Orders",
    )


def _titles(workspace, query: str) -> list[str]:
    hits = search.search(workspace=workspace, query=query, mode="keyword", k=5).hits
    return [h.article.title for h in hits if h.article is not None]


def _body_of_live_chunks(article: Article) -> str:
    return " ".join(article.chunks.values_list("text", flat=True))


def test_editing_a_published_article_keeps_it_live_until_the_draft_is_published(
    client, owner, workspace, live
):
    login(client, owner)
    response = client.post(
        kb_url("article-edit", live.pk),
        {
            "title": live.title,
            "category": "Orders",
            "body": "## Standard\n\nStandard delivery takes 5 working days with Fjordpost.",
            "action": "draft",
        },
        follow=True,
    )
    html = response.content.decode()
    assert "Saved as draft version 2" in html
    assert "A draft of changes is waiting" in html
    live.refresh_from_db()
    assert "3 working days" in live.body and "Fjordpost" not in _body_of_live_chunks(live)
    assert _titles(workspace, "Fjordpost") == []
    # The public help page shows the live text too.
    assert (
        "Fjordpost" not in client.get(f"/help/{workspace.public_key}/{live.pk}/").content.decode()
    )

    response = client.post(kb_url("draft-publish", live.pk), follow=True)
    assert "Published the draft as version 3" in response.content.decode()
    live.refresh_from_db()
    assert "Fjordpost" in live.body and live.draft_version is None
    assert _titles(workspace, "Fjordpost") == [live.title]


def test_the_editor_reopens_the_waiting_draft(client, owner, live):
    article_update(article=live, title=live.title, body="Draft text here.", actor=owner)
    login(client, owner)
    html = client.get(kb_url("article-edit", live.pk)).content.decode()
    assert "Draft text here." in html and "You are editing the waiting draft" in html
    assert 'value="draft"' in html and "Save as draft" in html and "Save and publish" in html


def test_history_marks_live_and_draft_and_compares_any_two_versions(client, owner, live):
    article_update(
        article=live, title=live.title, body=live.body.replace("3", "4"), actor=owner, publish=True
    )
    article_update(
        article=live, title="Delivery times", body=live.body.replace("4", "<b>5</b>"), actor=owner
    )
    login(client, owner)
    html = client.get(kb_url("article-history", live.pk)).content.decode()
    assert "draft, not live yet" in html and ">live<" in html
    # The newest and the live version are preselected for comparing.
    assert 'name="old" value="2" checked' in html and 'name="new" value="3" checked' in html

    html = client.get(kb_url("version-compare", live.pk), {"old": 3, "new": 1}).content.decode()
    assert "Version 1 compared with version 3" in html
    assert "<del>How long does delivery take?</del>" in html
    assert "<ins>Delivery times</ins>" in html
    assert "<del>3</del>" in html
    assert "<ins>&lt;b&gt;5&lt;/b&gt;</ins>" in html  # escaped, never rendered
    assert "<b>5</b>" not in html


def test_comparing_needs_two_known_versions(client, owner, live):
    login(client, owner)
    response = client.get(kb_url("version-compare", live.pk), {"old": "x"}, follow=True)
    assert "Choose two versions to compare." in response.content.decode()
    assert client.get(kb_url("version-compare", live.pk), {"old": 1, "new": 9}).status_code == 404


def test_restore_shows_the_diff_against_the_current_text_before_confirming(
    client, owner, live, workspace
):
    article_update(
        article=live,
        title=live.title,
        body=live.body.replace("Bergen", "Oslo"),
        actor=owner,
        publish=True,
    )
    login(client, owner)
    html = client.get(kb_url("version-restore", live.pk, 1)).content.decode()
    assert "Restore version 1?" in html
    assert "Current text" in html and "After restoring version 1" in html
    assert "<del>Oslo</del>" in html and "<ins>Bergen</ins>" in html
    assert "Restore as a draft" in html and "Restore and publish now" in html
    live.refresh_from_db()
    assert live.version_number == 2  # asking changed nothing

    response = client.post(kb_url("version-restore", live.pk, 1), {"action": "draft"}, follow=True)
    assert "Restored version 1 as draft version 3" in response.content.decode()
    live.refresh_from_db()
    assert "Oslo" in live.body and live.draft_version.body.endswith("Bergen.")


def test_only_editors_publish_or_discard_drafts_and_restore(client, teammate, owner, live):
    article_update(article=live, title=live.title, body="Changed.", actor=owner)
    login(client, teammate)
    assert client.get(kb_url("version-compare", live.pk), {"old": 1, "new": 2}).status_code == 200
    assert client.post(kb_url("draft-publish", live.pk)).status_code == 403
    assert client.post(kb_url("draft-discard", live.pk)).status_code == 403
    assert client.get(kb_url("version-restore", live.pk, 1)).status_code == 403
    live.refresh_from_db()
    assert live.draft_version is not None and "3 working days" in live.body


def test_an_outsider_sees_no_revision_pages(client, outsider, owner, live):
    article_update(article=live, title=live.title, body="Changed.", actor=owner)
    login(client, outsider)
    assert client.get(kb_url("version-compare", live.pk), {"old": 1, "new": 2}).status_code == 404
    assert client.post(kb_url("draft-publish", live.pk)).status_code == 404


def test_discarding_a_draft_keeps_the_live_text(client, owner, live):
    article_update(article=live, title=live.title, body="Changed.", actor=owner)
    login(client, owner)
    response = client.post(kb_url("draft-discard", live.pk), follow=True)
    assert "Discarded the draft" in response.content.decode()
    live.refresh_from_db()
    assert live.draft_version is None and "3 working days" in live.body
