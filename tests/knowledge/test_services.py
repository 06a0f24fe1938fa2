from __future__ import annotations

import pytest

from supportops.accounts.models import AuditLog
from supportops.knowledge import selectors
from supportops.knowledge.models import Article, ArticleVersion, Chunk
from supportops.knowledge.services import (
    ArticleError,
    article_create,
    article_delete,
    article_draft_discard,
    article_draft_publish,
    article_embed,
    article_fields_for_form,
    article_publish,
    article_restore_version,
    article_unpublish,
    article_update,
)


def test_every_save_keeps_a_version(workspace, owner):
    article = article_create(workspace=workspace, title="Returns", body="v1 body", owner=owner)
    article_update(article=article, title="Returns policy", body="v2 body", actor=owner)
    article_update(article=article, title="Returns policy", body="v3 body", actor=owner)
    versions = list(article.versions.order_by("number").values_list("number", "body"))
    assert versions == [(1, "v1 body"), (2, "v2 body"), (3, "v3 body")]


def test_an_unchanged_save_writes_no_version(workspace, owner):
    article = article_create(workspace=workspace, title="Same", body="text", owner=owner)
    article_update(article=article, title="Same", body="text", actor=owner)
    assert article.versions.count() == 1


def test_restore_writes_a_new_version_with_the_old_content(workspace, owner):
    article = article_create(workspace=workspace, title="Old title", body="old", owner=owner)
    article_update(article=article, title="New title", body="new", actor=owner)
    first = article.versions.get(number=1)
    article_restore_version(article=article, version=first, actor=owner)
    article.refresh_from_db()
    assert (article.title, article.body, article.version_number) == ("Old title", "old", 3)
    assert article.versions.get(number=3).note == "restored version 1"


def test_restore_refuses_another_articles_version(workspace, owner):
    a = article_create(workspace=workspace, title="A", body="a", owner=owner)
    b = article_create(workspace=workspace, title="B", body="b", owner=owner)
    with pytest.raises(ArticleError):
        article_restore_version(article=a, version=b.versions.get(), actor=owner)


def test_a_title_is_required(workspace, owner):
    with pytest.raises(ArticleError, match="needs a title"):
        article_create(workspace=workspace, title="   ", body="x", owner=owner)
    assert not Article.objects.exists()


def test_drafts_have_no_chunks_and_publishing_indexes(workspace, owner):
    article = article_create(
        workspace=workspace, title="Tracking", body="Use the link.", owner=owner
    )
    assert not Chunk.objects.filter(article=article).exists()
    article_publish(article=article, actor=owner, embed="now")
    article.refresh_from_db()
    chunks = list(Chunk.objects.filter(article=article).order_by("ordinal"))
    assert [c.ordinal for c in chunks] == [0, 1]
    assert chunks[0].text == "Tracking"
    assert all(c.embedding is not None and c.search_vector for c in chunks)
    assert article.index_state == Article.IndexState.READY


def test_publishing_queues_embedding_on_commit(
    workspace, owner, django_capture_on_commit_callbacks
):
    article = article_create(workspace=workspace, title="Queued", body="Body text.", owner=owner)
    with django_capture_on_commit_callbacks() as callbacks:
        article_publish(article=article, actor=owner)
    assert len(callbacks) == 1
    assert Chunk.objects.filter(article=article, embedding__isnull=True).count() == 2
    # What the Celery task runs: idempotent, a second run embeds nothing more.
    assert article_embed(article_id=article.pk) == 2
    assert article_embed(article_id=article.pk) == 0


def test_unpublish_removes_chunks_at_once(make_article, owner):
    article = make_article(title="Gift cards")
    assert Chunk.objects.filter(article=article).exists()
    article_unpublish(article=article, actor=owner)
    assert not Chunk.objects.filter(article=article).exists()
    assert article.versions.order_by("-number").first().note == "unpublished"


def test_save_and_publish_reindexes_a_published_article_at_once(make_article, owner):
    article = make_article(title="Delivery times", body="Standard takes 3 days.")
    article_update(
        article=article,
        title="Delivery times",
        body="Standard takes 5 days.",
        actor=owner,
        embed="now",
        publish=True,
    )
    texts = list(Chunk.objects.filter(article=article).values_list("text", flat=True))
    assert "Standard takes 5 days." in texts
    assert all("3 days" not in t for t in texts)
    assert set(Chunk.objects.filter(article=article).values_list("version__number", flat=True)) == {
        2
    }


def _chunk_texts(article: Article) -> list[str]:
    return list(Chunk.objects.filter(article=article).values_list("text", flat=True))


def test_editing_a_published_article_saves_a_draft_and_leaves_it_live(make_article, owner):
    article = make_article(title="Delivery times", body="Standard takes 3 days.")
    article_update(
        article=article, title="Delivery times", body="Standard takes 5 days.", actor=owner
    )
    article.refresh_from_db()
    assert article.body == "Standard takes 3 days."  # what customers and the bot see
    assert "Standard takes 3 days." in _chunk_texts(article)
    assert all("5 days" not in t for t in _chunk_texts(article))
    draft = article.draft_version
    assert (draft.number, draft.status, draft.body) == (2, "draft", "Standard takes 5 days.")
    assert article_fields_for_form(article)["body"] == "Standard takes 5 days."
    assert AuditLog.objects.filter(action="article.draft_save").count() == 1


def test_publishing_the_draft_puts_it_live_and_reindexes(make_article, owner):
    article = make_article(title="Delivery times", body="Standard takes 3 days.", category="Orders")
    article_update(
        article=article,
        title="How long does delivery take?",
        body="Standard takes 5 days.",
        category="Shipping",
        actor=owner,
    )
    article_draft_publish(article=article, actor=owner, embed="now")
    article.refresh_from_db()
    assert (article.title, article.body, article.category.name) == (
        "How long does delivery take?",
        "Standard takes 5 days.",
        "Shipping",
    )
    assert article.draft_version is None
    assert "Standard takes 5 days." in _chunk_texts(article)
    assert all("3 days" not in t for t in _chunk_texts(article))
    live = article.versions.get(number=3)
    assert (live.status, live.note) == ("published", "published the draft of version 2")
    assert set(Chunk.objects.filter(article=article).values_list("version__number", flat=True)) == {
        3
    }
    assert selectors.version_live_number(article=article) == 3
    with pytest.raises(ArticleError, match="no draft"):
        article_draft_publish(article=article, actor=owner)


def test_a_second_edit_continues_the_draft_and_an_unchanged_one_saves_nothing(make_article, owner):
    article = make_article(title="Gift cards", body="Valid one year.")
    article_update(article=article, title="Gift cards", body="Valid two years.", actor=owner)
    article_update(article=article, title="Gift cards", body="Valid two years.", actor=owner)
    assert article.version_number == 2
    article_update(article=article, title="Gift cards", body="Valid three years.", actor=owner)
    article.refresh_from_db()
    assert (article.version_number, article.draft_version.number) == (3, 3)
    assert selectors.version_live_number(article=article) == 1


def test_discarding_the_draft_keeps_the_live_text_and_the_history(make_article, owner):
    article = make_article(title="Gift cards", body="Valid one year.")
    article_update(article=article, title="Gift cards", body="Valid forever.", actor=owner)
    article_draft_discard(article=article, actor=owner)
    article.refresh_from_db()
    assert article.draft_version is None and article.body == "Valid one year."
    assert article.versions.filter(body="Valid forever.").exists()
    assert article_fields_for_form(article)["body"] == "Valid one year."


def test_save_and_publish_replaces_a_waiting_draft(make_article, owner):
    article = make_article(title="Gift cards", body="Valid one year.")
    article_update(article=article, title="Gift cards", body="Valid forever.", actor=owner)
    article_update(
        article=article, title="Gift cards", body="Valid two years.", actor=owner, publish=True
    )
    article.refresh_from_db()
    assert article.draft_version is None and article.body == "Valid two years."


def test_unpublishing_keeps_the_waiting_draft_as_the_text(make_article, owner):
    article = make_article(title="Gift cards", body="Valid one year.")
    article_update(article=article, title="Gift cards", body="Valid two years.", actor=owner)
    article_unpublish(article=article, actor=owner)
    article.refresh_from_db()
    assert (article.status, article.body, article.draft_version) == (
        "draft",
        "Valid two years.",
        None,
    )


def test_restoring_on_a_published_article_is_a_draft_unless_published(make_article, owner):
    article = make_article(title="Gift cards", body="Valid one year.")
    article_update(
        article=article, title="Gift cards", body="Valid two years.", actor=owner, publish=True
    )
    first = article.versions.get(number=1)
    article_restore_version(article=article, version=first, actor=owner)
    article.refresh_from_db()
    assert article.body == "Valid two years."
    assert article.draft_version.body == "Valid one year."
    article_restore_version(article=article, version=first, actor=owner, publish=True)
    article.refresh_from_db()
    assert article.body == "Valid one year." and article.draft_version is None


def test_writes_are_audited(make_article, owner):
    article = make_article(title="Audited")
    article_delete(article=article, actor=owner)
    actions = list(AuditLog.objects.values_list("action", flat=True))
    assert "article.create" in actions and "article.delete" in actions
    assert not ArticleVersion.objects.filter(article_id=article.pk).exists()


def test_categories_are_per_workspace(workspace, outsider, owner):
    from supportops.accounts.models import Workspace

    other = Workspace.objects.get(slug="other")
    a = article_create(workspace=workspace, title="A", body="", category="Billing", owner=owner)
    b = article_create(workspace=other, title="B", body="", category="Billing", owner=outsider)
    assert a.category_id != b.category_id
    assert a.category.name == "Billing"


def test_the_sweeper_finds_articles_a_lost_task_left_unembedded(workspace, owner):
    from datetime import timedelta

    from django.utils import timezone

    from supportops.knowledge.services import articles_missing_embeddings

    stale = article_create(
        workspace=workspace, title="Stale", body="b", owner=owner, publish=True, embed="later"
    )
    fresh = article_create(
        workspace=workspace, title="Fresh", body="b", owner=owner, publish=True, embed="later"
    )
    Article.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    assert articles_missing_embeddings() == [stale.pk]
    assert fresh.pk not in articles_missing_embeddings()
