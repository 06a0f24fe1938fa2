from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from pgvector.django import HnswIndex, VectorField

from supportops.accounts.models import Workspace


class Category(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "slug"], name="category_unique_slug")
        ]

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    class Source(models.TextChoices):
        WRITTEN = "written", "Written here"
        IMPORTED = "imported", "Imported file"
        URL = "url", "From a URL"
        CONVERSATION = "conversation", "From a conversation"

    class IndexState(models.TextChoices):
        NONE = "none", "Not in search"
        PENDING = "pending", "Indexing"
        READY = "ready", "Indexed"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="articles")
    external_id = models.CharField(max_length=200, blank=True, default="")
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.WRITTEN)
    source_url = models.URLField(max_length=500, blank=True)
    source_file = models.CharField(max_length=300, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Knowledge gaps: the conversations an agent answered that this draft was written from.
    source_conversations = models.ManyToManyField(
        "conversations.Conversation", blank=True, related_name="gap_articles"
    )
    version_number = models.PositiveIntegerField(default=0)
    # An edit of a published article waiting to go live: the article's own title, body and
    # category (and its chunks) stay the published text until this version is published.
    draft_version = models.ForeignKey(
        "ArticleVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    index_state = models.CharField(
        max_length=10, choices=IndexState.choices, default=IndexState.NONE
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["workspace", "status", "-updated_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=~models.Q(external_id=""),
                name="article_unique_external_id",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def has_draft_revision(self) -> bool:
        return self.draft_version_id is not None


class ArticleVersion(models.Model):
    """An immutable snapshot written on every save; restoring one writes a new version."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    category_name = models.CharField(max_length=80, blank=True)
    status = models.CharField(max_length=12, choices=Article.Status.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="version_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"


class Chunk(models.Model):
    """A searchable passage of a published article version.

    Only published articles have chunks, so deleting them takes an article out of
    search at once. `embedding` is filled by a Celery task after publishing; until
    then the keyword leg still finds the chunk.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="chunks")
    version = models.ForeignKey(ArticleVersion, on_delete=models.CASCADE, related_name="chunks")
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ordinal = models.PositiveIntegerField()
    heading = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    search_vector = SearchVectorField(null=True)
    embedding = VectorField(dimensions=settings.EMBEDDING_DIMENSIONS, null=True)

    class Meta:
        ordering = ["article_id", "ordinal"]
        indexes = [
            models.Index(fields=["workspace", "category"]),
            GinIndex(fields=["search_vector"], name="chunk_search_vector_gin"),
            HnswIndex(
                name="chunk_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article_id}#{self.ordinal}"


class ImportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        IMPORTING = "importing", "Importing"
        INDEXING = "indexing", "Indexing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(max_length=300)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    publish = models.BooleanField(default=True)
    items = models.JSONField(default=list, help_text="Validated articles waiting to be written.")
    category = models.CharField(
        max_length=80, blank=True, help_text="Given to imported articles that name none."
    )
    # What this import wrote, so its result page links to each article and the article
    # list can be filtered to it.
    articles = models.ManyToManyField(Article, blank=True, related_name="import_jobs")
    total_articles = models.PositiveIntegerField(default=0)
    total_chunks = models.PositiveIntegerField(default=0)
    embedded_chunks = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import {self.filename} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if self.status in (self.Status.QUEUED, self.Status.IMPORTING) or not self.total_chunks:
            return 5 if self.status == self.Status.IMPORTING else 0
        return 10 + int(90 * self.embedded_chunks / self.total_chunks)
