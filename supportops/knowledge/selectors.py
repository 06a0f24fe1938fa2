"""Reads for the knowledge pages, always scoped to the workspace the member is in.

Every lookup by a user-supplied id goes through a `workspace=` (or `article=`) filter,
so an id from another workspace is simply not found (404), never shown.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from supportops.accounts.models import Workspace

from .models import Article, ArticleVersion, Category, ImportJob

# The status filter's extra value: drafts written from conversations the bot could not
# answer (knowledge gaps), waiting for a manager's review.
GAP_DRAFTS = "gap"


def article_list_for_workspace(
    *,
    workspace: Workspace,
    query: str = "",
    category_id: int | None = None,
    status: str | None = None,
    import_job_id: int | None = None,
) -> QuerySet[Article]:
    """The workspace's articles, newest edit first, filtered like the list page asks."""
    articles = Article.objects.filter(workspace=workspace).select_related("category")
    if import_job_id is not None:
        articles = articles.filter(import_jobs__id=import_job_id)
    query = " ".join((query or "").split())
    if query:
        articles = articles.filter(Q(title__icontains=query) | Q(body__icontains=query))
    if category_id is not None:
        articles = articles.filter(category_id=category_id)
    if status == GAP_DRAFTS:
        articles = articles.filter(status=Article.Status.DRAFT, source=Article.Source.CONVERSATION)
    elif status:
        articles = articles.filter(status=status)
    return articles.order_by("-updated_at", "-pk")


def article_get_for_member(*, workspace: Workspace, article_id: int) -> Article:
    article = (
        Article.objects.select_related("category", "owner", "draft_version__author")
        .filter(workspace=workspace, pk=article_id)
        .first()
    )
    if article is None:
        raise Http404("article not found")
    return article


def version_list(*, article: Article) -> QuerySet[ArticleVersion]:
    return article.versions.select_related("author").order_by("-number")


def version_live_number(*, article: Article) -> int | None:
    """The number of the version customers see (and search holds); None for a draft article.

    Every write that puts text live saves a version with the published status; a pending
    draft revision of a published article is saved with the draft status.
    """
    if not article.is_published:
        return None
    return (
        article.versions.filter(status=Article.Status.PUBLISHED)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )


def version_get(*, article: Article, number: int) -> ArticleVersion:
    version = article.versions.select_related("author").filter(number=number).first()
    if version is None:
        raise Http404("version not found")
    return version


def category_list(*, workspace: Workspace) -> QuerySet[Category]:
    return Category.objects.filter(workspace=workspace).order_by("name")


def category_id_for_workspace(*, workspace: Workspace, value: str | None) -> int | None:
    """A category id from a query string, if it names one of this workspace's categories."""
    try:
        category_id = int(value or "")
    except ValueError:
        return None
    exists = Category.objects.filter(workspace=workspace, pk=category_id).exists()
    return category_id if exists else None


def import_job_get(*, workspace: Workspace, job_id: int) -> ImportJob:
    job = ImportJob.objects.filter(workspace=workspace, pk=job_id).defer("items").first()
    if job is None:
        raise Http404("import not found")
    return job


def import_job_articles(*, job: ImportJob) -> QuerySet[Article]:
    return job.articles.select_related("category").order_by("title", "pk")


def import_job_list_recent(*, workspace: Workspace, limit: int = 10) -> QuerySet[ImportJob]:
    # `items` can hold a whole file while the job waits; the page never needs it.
    return (
        ImportJob.objects.filter(workspace=workspace)
        .select_related("created_by")
        .defer("items")
        .order_by("-created_at")[:limit]
    )


def article_source_conversations(*, article: Article) -> list[Any]:
    """The conversations a knowledge-gap draft was written from, oldest first."""
    if article.source != Article.Source.CONVERSATION:
        return []
    return list(article.source_conversations.order_by("pk").only("pk"))
