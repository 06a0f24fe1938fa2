from __future__ import annotations

import pytest

from supportops.accounts.models import AuditLog
from supportops.knowledge.models import Article, ArticleVersion, Chunk
from supportops.knowledge.services import (
    ArticleError,
    article_create,
    article_delete,
    article_embed,
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


def test_editing_a_published_article_reindexes_it(make_article, owner):
    article = make_article(title="Delivery times", body="Standard takes 3 days.")
    article_update(
        article=article,
        title="Delivery times",
        body="Standard takes 5 days.",
        actor=owner,
        embed="now",
    )
    texts = list(Chunk.objects.filter(article=article).values_list("text", flat=True))
    assert "Standard takes 5 days." in texts
    assert all("3 days" not in t for t in texts)
    assert set(Chunk.objects.filter(article=article).values_list("version__number", flat=True)) == {
        2
    }


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
