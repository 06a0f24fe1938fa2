"""Writes for the knowledge base: articles, versions, categories, indexing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction
from django.db.models import Case, Value, When
from django.utils import timezone
from django.utils.text import slugify

from supportops.accounts.models import Workspace
from supportops.accounts.services import Actor, audit_log_write, real_user
from supportops.integrations.embeddings import embed_texts

from .chunking import chunk_markdown
from .models import Article, ArticleVersion, Category, Chunk

logger = logging.getLogger(__name__)
TITLE_MAX = 300


class ArticleError(ValueError):
    """A write was refused; the message is shown to the user."""


def category_get_or_create(*, workspace: Workspace, name: str) -> Category | None:
    name = " ".join((name or "").split())[:80]
    if not name:
        return None
    slug = slugify(name)[:80] or "general"
    category, created = Category.objects.get_or_create(
        workspace=workspace, slug=slug, defaults={"name": _display_name(name)}
    )
    return category


def _display_name(name: str) -> str:
    """'orders-and-shipping' -> 'Orders and shipping'; names with capitals stay as typed."""
    if name == name.lower() and ("-" in name or "_" in name):
        words = name.replace("_", " ").replace("-", " ").split()
        return " ".join(words).capitalize()
    return name


def _clean(title: str, body: str) -> tuple[str, str]:
    title = " ".join((title or "").split())
    if not title:
        raise ArticleError("An article needs a title.")
    if len(title) > TITLE_MAX:
        raise ArticleError(f"The title is {len(title)} characters; the limit is {TITLE_MAX}.")
    return title, (body or "").replace("\r\n", "\n").strip()


def _version_write(
    *,
    article: Article,
    author: Actor,
    note: str,
    content: tuple[str, str, str] | None = None,
    status: str | None = None,
) -> ArticleVersion:
    """Snapshot the article (or `content`: title, body, category name) as its next version."""
    if content is None:
        content = (article.title, article.body, article.category.name if article.category else "")
    article.version_number += 1
    article.save(update_fields=["version_number", "updated_at"])
    title, body, category_name = content
    return ArticleVersion.objects.create(
        article=article,
        number=article.version_number,
        title=title,
        body=body,
        category_name=category_name,
        status=status or article.status,
        author=real_user(author),
        note=note,
    )


def category_name_for(*, workspace: Workspace, name: str) -> str:
    """The name a category typed as `name` has (or would get) in this workspace."""
    name = " ".join((name or "").split())[:80]
    if not name:
        return ""
    existing = Category.objects.filter(
        workspace=workspace, slug=slugify(name)[:80] or "general"
    ).first()
    return existing.name if existing else _display_name(name)


def article_working_text(article: Article) -> tuple[str, str, str]:
    """What an editor works on: the pending draft revision if there is one, else the article."""
    draft = article.draft_version
    if draft is not None:
        return draft.title, draft.body, draft.category_name
    return article.title, article.body, article.category.name if article.category else ""


@transaction.atomic
def article_create(
    *,
    workspace: Workspace,
    title: str,
    body: str,
    category: str = "",
    owner: Actor = None,
    publish: bool = False,
    source: str = Article.Source.WRITTEN,
    source_url: str = "",
    source_file: str = "",
    external_id: str = "",
    embed: str = "queue",
) -> Article:
    title, body = _clean(title, body)
    article = Article.objects.create(
        workspace=workspace,
        title=title,
        body=body,
        category=category_get_or_create(workspace=workspace, name=category),
        status=Article.Status.PUBLISHED if publish else Article.Status.DRAFT,
        source=source,
        source_url=source_url,
        source_file=source_file,
        external_id=external_id,
        owner=real_user(owner),
        published_at=timezone.now() if publish else None,
    )
    version = _version_write(article=article, author=owner, note="created")
    audit_log_write(
        workspace=workspace,
        actor=owner,
        action="article.create",
        target=article,
        details={"title": title, "published": publish},
    )
    if publish:
        article_index(article=article, version=version, embed=embed)
    return article


@transaction.atomic
def article_draft_from_conversation(
    *,
    workspace: Workspace,
    conversation: Any,
    title: str,
    body: str,
    reason: str,
    actor: Actor,
    article: Article | None = None,
) -> Article:
    """A knowledge gap: a new draft written from a conversation a person answered, or an
    existing gap draft that one more conversation is linked to. Drafts are never indexed."""
    if article is None:
        article = article_create(
            workspace=workspace,
            title=title,
            body=body,
            owner=actor,
            source=Article.Source.CONVERSATION,
        )
    article.source_conversations.add(conversation)
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action="article.gap_draft",
        target=article,
        details={"conversation": conversation.pk, "reason": reason},
    )
    return article


@transaction.atomic
def article_update(
    *,
    article: Article,
    title: str,
    body: str,
    category: str = "",
    actor: Actor = None,
    note: str = "edited",
    embed: str = "queue",
    publish: bool = False,
) -> Article:
    """Save an edit as a new version.

    A draft article simply takes the edit. A published article keeps its live text (and
    its search index) and gets a draft revision instead, which goes live with
    `article_draft_publish`; `publish=True` puts the edit live at once (an editor's "Save
    and publish", an import that publishes) and supersedes any pending draft revision.
    """
    title, body = _clean(title, body)
    if article.is_published and not publish:
        return _draft_revision_save(
            article=article, content=(title, body, category), actor=actor, note=note
        )
    new_category = category_get_or_create(workspace=article.workspace, name=category)
    unchanged = title == article.title and body == article.body and new_category == article.category
    if unchanged and article.draft_version_id is None:
        return article
    had_draft = article.draft_version_id is not None
    article.title, article.body, article.category = title, body, new_category
    article.draft_version = None
    article.save(update_fields=["title", "body", "category", "draft_version", "updated_at"])
    if unchanged:  # the edit only dropped a pending draft revision
        audit_log_write(
            workspace=article.workspace,
            actor=actor,
            action="article.draft_discard",
            target=article,
        )
        return article
    version = _version_write(article=article, author=actor, note=note)
    audit_log_write(
        workspace=article.workspace,
        actor=actor,
        action="article.update",
        target=article,
        details={"version": version.number, "replaced_draft": had_draft},
    )
    if article.is_published:
        article_index(article=article, version=version, embed=embed)
    return article


def _draft_revision_save(
    *, article: Article, content: tuple[str, str, str], actor: Actor, note: str
) -> Article:
    title, body, category = content
    category = category_name_for(workspace=article.workspace, name=category)
    if (title, body, category) == article_working_text(article):
        return article
    version = _version_write(
        article=article,
        author=actor,
        note=note if note != "edited" else "draft revision",
        content=(title, body, category),
        status=Article.Status.DRAFT,
    )
    article.draft_version = version
    article.save(update_fields=["draft_version", "updated_at"])
    audit_log_write(
        workspace=article.workspace,
        actor=actor,
        action="article.draft_save",
        target=article,
        details={"version": version.number},
    )
    return article


@transaction.atomic
def article_draft_publish(
    *, article: Article, actor: Actor = None, embed: str = "queue"
) -> Article:
    """Put the pending draft revision live: the article takes its text and is re-indexed."""
    # Locked, so two editors publishing at once put one draft live once.
    Article.objects.select_for_update().filter(pk=article.pk).first()
    article.refresh_from_db()
    draft = article.draft_version
    if draft is None:
        raise ArticleError("There is no draft revision to publish; it may have been published.")
    article.title, article.body = draft.title, draft.body
    article.category = category_get_or_create(workspace=article.workspace, name=draft.category_name)
    article.draft_version = None
    fields = ["title", "body", "category", "draft_version", "updated_at"]
    if not article.is_published:
        article.status, article.published_at = Article.Status.PUBLISHED, timezone.now()
        fields += ["status", "published_at"]
    article.save(update_fields=fields)
    version = _version_write(
        article=article, author=actor, note=f"published the draft of version {draft.number}"
    )
    audit_log_write(
        workspace=article.workspace,
        actor=actor,
        action="article.draft_publish",
        target=article,
        details={"draft": draft.number, "version": version.number},
    )
    article_index(article=article, version=version, embed=embed)
    return article


@transaction.atomic
def article_draft_discard(*, article: Article, actor: Actor = None) -> Article:
    """Drop the pending draft revision; it stays in the history, the live text is untouched."""
    if article.draft_version_id is None:
        raise ArticleError("There is no draft revision to discard.")
    number = article.draft_version.number if article.draft_version else None
    article.draft_version = None
    article.save(update_fields=["draft_version", "updated_at"])
    audit_log_write(
        workspace=article.workspace,
        actor=actor,
        action="article.draft_discard",
        target=article,
        details={"draft": number},
    )
    return article


@transaction.atomic
def article_publish(*, article: Article, actor: Actor = None, embed: str = "queue") -> Article:
    if article.is_published:
        return article
    article.status = Article.Status.PUBLISHED
    article.published_at = timezone.now()
    article.save(update_fields=["status", "published_at", "updated_at"])
    version = _version_write(article=article, author=actor, note="published")
    audit_log_write(
        workspace=article.workspace, actor=actor, action="article.publish", target=article
    )
    article_index(article=article, version=version, embed=embed)
    return article


@transaction.atomic
def article_unpublish(*, article: Article, actor: Actor = None) -> Article:
    """Back to draft; its chunks are deleted in the same transaction, so search drops it at once.

    A pending draft revision becomes the draft's text: nothing an editor wrote is lost.
    """
    if not article.is_published:
        return article
    draft = article.draft_version
    if draft is not None:
        article.title, article.body = draft.title, draft.body
        article.category = category_get_or_create(
            workspace=article.workspace, name=draft.category_name
        )
    article.status = Article.Status.DRAFT
    article.index_state = Article.IndexState.NONE
    article.draft_version = None
    article.save(
        update_fields=[
            "status",
            "index_state",
            "title",
            "body",
            "category",
            "draft_version",
            "updated_at",
        ]
    )
    Chunk.objects.filter(article=article).delete()
    _version_write(article=article, author=actor, note="unpublished")
    audit_log_write(
        workspace=article.workspace, actor=actor, action="article.unpublish", target=article
    )
    return article


@transaction.atomic
def article_delete(*, article: Article, actor: Actor = None) -> None:
    audit_log_write(
        workspace=article.workspace,
        actor=actor,
        action="article.delete",
        target=article,
        details={"title": article.title},
    )
    article.delete()


@transaction.atomic
def article_restore_version(
    *, article: Article, version: ArticleVersion, actor: Actor = None, publish: bool = False
) -> Article:
    """Restoring writes a new version with the old content; history is never rewritten.

    Like any edit, on a published article it becomes a draft revision unless `publish`.
    """
    if version.article_id != article.pk:
        raise ArticleError("That version belongs to another article.")
    return article_update(
        article=article,
        title=version.title,
        body=version.body,
        category=version.category_name,
        actor=actor,
        note=f"restored version {version.number}",
        publish=publish,
    )


def _chunk_rows(article: Article, version: ArticleVersion) -> list[Chunk]:
    rows = [
        # Ordinal 0 is the title alone: help-centre titles are phrased like the customer's
        # question, and matching on them is the strongest single retrieval signal.
        Chunk(
            workspace_id=article.workspace_id,
            article=article,
            version=version,
            category_id=article.category_id,
            ordinal=0,
            heading="",
            text=article.title,
        )
    ]
    for ordinal, passage in enumerate(chunk_markdown(article.body), start=1):
        rows.append(
            Chunk(
                workspace_id=article.workspace_id,
                article=article,
                version=version,
                category_id=article.category_id,
                ordinal=ordinal,
                heading=passage.heading[:500],
                text=passage.text,
            )
        )
    return rows


def embedding_text(*, title: str, heading: str, text: str) -> str:
    """What the embedding model sees for a chunk: its article title and section give context."""
    if text == title:
        return title
    parts = [title, heading, text] if heading else [title, text]
    return "\n".join(parts)


@transaction.atomic
def article_index(
    *, article: Article, version: ArticleVersion | None = None, embed: str = "queue"
) -> int:
    """Replace the article's chunks with those of `version` (default: latest).

    Full-text vectors are written here, in the caller's transaction; embeddings are
    computed by Celery after commit ("queue"), right away ("now", for commands), or by
    the caller ("later", e.g. an import job that reports its own progress).
    """
    if version is None:
        # The live text's version: a pending draft revision is newer but not live.
        versions = article.versions.order_by("-number")
        version = versions.filter(status=Article.Status.PUBLISHED).first() or versions.first()
    if version is None:
        raise ArticleError("The article has no saved version to index.")
    Chunk.objects.filter(article=article).delete()
    rows = Chunk.objects.bulk_create(_chunk_rows(article, version))
    title_vector = SearchVector(Value(article.title), weight="A", config="english")
    Chunk.objects.filter(article=article).update(
        search_vector=Case(
            # The title chunk should not count the title twice (as A and as C).
            When(ordinal=0, then=title_vector),
            default=title_vector
            + SearchVector("heading", weight="B", config="english")
            + SearchVector("text", weight="C", config="english"),
        )
    )
    article.index_state = Article.IndexState.PENDING
    article.save(update_fields=["index_state"])
    if embed == "now":
        chunks_embed(chunk_ids=[row.pk for row in rows])
    elif embed == "queue":
        from .tasks import article_embed

        article_id = article.pk
        transaction.on_commit(lambda: article_embed.delay(article_id))
    return len(rows)


def chunks_embed(*, chunk_ids: list[int]) -> int:
    """Compute embeddings for chunks that still lack one; idempotent and safe to retry."""
    chunks = list(
        Chunk.objects.filter(pk__in=chunk_ids, embedding__isnull=True)
        .select_related("article")
        .order_by("pk")
    )
    if not chunks:
        return 0
    vectors = embed_texts(
        [embedding_text(title=c.article.title, heading=c.heading, text=c.text) for c in chunks]
    )
    with transaction.atomic():
        # One statement for the whole batch (bulk_update's CASE per row is several times
        # slower with 384-number vectors). Chunks deleted meanwhile simply update nothing.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE knowledge_chunk AS c SET embedding = v.embedding"
                " FROM unnest(%s::bigint[], %s::vector[]) AS v(id, embedding)"
                " WHERE c.id = v.id",
                [[c.pk for c in chunks], [_vector_literal(v) for v in vectors]],
            )
        article_ids = {c.article_id for c in chunks}
        ready = Article.objects.filter(
            pk__in=article_ids, index_state=Article.IndexState.PENDING
        ).exclude(chunks__embedding__isnull=True)
        Article.objects.filter(pk__in=ready.values("pk")).update(
            index_state=Article.IndexState.READY
        )
    return len(chunks)


def articles_embed(
    *,
    article_ids: list[int],
    batch_size: int = 128,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Embed every chunk of these articles that lacks a vector, in batches across articles.

    Batching across articles keeps the model busy with full batches (imports of many
    short articles would otherwise send it a handful of passages at a time).
    """
    ids = list(
        Chunk.objects.filter(article_id__in=article_ids, embedding__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    done = 0
    for start in range(0, len(ids), batch_size):
        done += chunks_embed(chunk_ids=ids[start : start + batch_size])
        if progress is not None:
            progress(done)
    return done


def _vector_literal(vector: Any) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector) + "]"


def article_embed(*, article_id: int) -> int:
    return articles_embed(article_ids=[article_id])


def articles_missing_embeddings(*, older_than_s: int = 120, limit: int = 500) -> list[int]:
    """Articles whose chunks still lack embeddings a while after indexing (a lost task)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    return list(
        Chunk.objects.filter(embedding__isnull=True, article__updated_at__lt=cutoff)
        .order_by("article_id")
        .values_list("article_id", flat=True)
        .distinct()[:limit]
    )


def article_fields_for_form(article: Article) -> dict[str, Any]:
    title, body, category = article_working_text(article)
    return {"title": title, "body": body, "category": category}
