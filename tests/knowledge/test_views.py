"""Knowledge-base pages: who may do what, and what each page does."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from supportops.accounts.services import workspace_create
from supportops.integrations.embeddings import EmbeddingError
from supportops.knowledge import importing
from supportops.knowledge.models import Article, ArticleVersion, Chunk, ImportJob
from supportops.knowledge.services import (
    article_create,
    article_embed,
    article_update,
    category_get_or_create,
)
from tests.conftest import PASSWORD

HTMX = {"HX-Request": "true"}


def kb_url(name: str, *args: object, slug: str = "acme") -> str:
    return reverse(f"knowledge:{name}", args=[slug, *args])


def login(client: Client, user) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def as_owner(client, owner, workspace) -> Client:
    return login(client, owner)


@pytest.fixture
def draft(workspace, owner) -> Article:
    return article_create(
        workspace=workspace,
        title="Where is my parcel?",
        body="Track it from **Orders**.",
        category="Shipping",
        owner=owner,
    )


def texts_of_hits(response) -> list[str]:
    return re.findall(r'class="hit-title"[^>]*>([^<]+)</a>', response.content.decode())


def try_question(client: Client, question: str, **params: int | str):
    return client.get(try_url(), {"question": question, **params}, headers=HTMX)


def try_url(slug: str = "acme") -> str:
    return reverse("knowledge-try", args=[slug])


# --- Permissions: every view, every kind of user -------------------------------------------


@dataclass(frozen=True)
class Page:
    name: str
    method: str = "get"
    with_article: bool = False
    with_version: bool = False
    with_job: bool = False
    writes: bool = False
    ok: int = 200  # what an allowed user gets


PAGES = [
    Page("article-list"),
    Page("article-detail", with_article=True),
    Page("article-history", with_article=True),
    Page("version-detail", with_article=True, with_version=True),
    Page("article-create", writes=True),
    Page("article-edit", with_article=True, writes=True),
    Page("article-preview", method="post", writes=True),
    Page("article-publish", method="post", with_article=True, writes=True, ok=302),
    Page("article-unpublish", method="post", with_article=True, writes=True, ok=302),
    Page("article-delete", with_article=True, writes=True),
    Page("article-delete", method="post", with_article=True, writes=True, ok=302),
    Page(
        "version-restore", method="post", with_article=True, with_version=True, writes=True, ok=302
    ),
    Page("article-import", writes=True),
    Page("import-job", with_job=True, writes=True),
]


def page_url(page: Page, draft: Article, job: ImportJob) -> str:
    args: list[object] = []
    if page.with_article:
        args.append(draft.pk)
    if page.with_version:
        args.append(1)
    if page.with_job:
        args.append(job.pk)
    return kb_url(page.name, *args)


@pytest.fixture
def job(workspace, owner) -> ImportJob:
    return ImportJob.objects.create(
        workspace=workspace, created_by=owner, filename="faq.jsonl", status=ImportJob.Status.DONE
    )


def page_id(page: Page) -> str:
    return f"{page.method}-{page.name}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
@pytest.mark.parametrize("who", ["owner", "manager"])
def test_editors_may_use_every_page(client, request, page, who, draft, job):
    login(client, request.getfixturevalue(who))
    response = getattr(client, page.method)(page_url(page, draft, job))
    assert response.status_code == page.ok


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_agent_may_read_but_not_write(client, teammate, page, draft, job):
    login(client, teammate)
    response = getattr(client, page.method)(page_url(page, draft, job))
    assert response.status_code == (403 if page.writes else page.ok)
    assert Article.objects.filter(pk=draft.pk, status=Article.Status.DRAFT).exists()


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_finance_gets_403_on_knowledge_pages(client, finance, page, draft, job):
    login(client, finance)
    response = getattr(client, page.method)(page_url(page, draft, job))
    assert response.status_code == 403


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_outsider_gets_404(client, outsider, page, draft, job):
    login(client, outsider)
    response = getattr(client, page.method)(page_url(page, draft, job))
    assert response.status_code == 404
    assert Article.objects.filter(pk=draft.pk).exists()


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_anonymous_is_sent_to_login(client, page, draft, job):
    url = page_url(page, draft, job)
    response = getattr(client, page.method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "next=" in response["Location"]


def test_outsider_cannot_reach_an_article_through_their_own_workspace(client, outsider, draft):
    """Charlie is admin of 'other'; Acme's article id under his slug is still not found."""
    login(client, outsider)
    assert client.get(kb_url("article-detail", draft.pk, slug="other")).status_code == 404
    response = client.post(kb_url("article-delete", draft.pk, slug="other"))
    assert response.status_code == 404
    assert Article.objects.filter(pk=draft.pk).exists()


def test_import_job_of_another_workspace_is_404(as_owner, outsider):
    other = workspace_create(name="Third", owner=outsider, slug="third")
    foreign = ImportJob.objects.create(workspace=other, filename="x.jsonl")
    assert as_owner.get(kb_url("import-job", foreign.pk)).status_code == 404


def test_agent_cannot_publish(client, teammate, draft):
    login(client, teammate)
    response = client.post(kb_url("article-publish", draft.pk))
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT
    assert not Chunk.objects.filter(article=draft).exists()


def test_agent_cannot_create_or_import(client, teammate):
    login(client, teammate)
    response = client.post(kb_url("article-create"), {"title": "Sneaky", "action": "publish"})
    assert response.status_code == 403
    upload = _upload("faq.csv", b"question,answer\nHi?,Hello\n")
    assert client.post(kb_url("article-import"), {"file": upload}).status_code == 403
    assert not Article.objects.exists()


def test_agent_sees_no_edit_buttons(client, teammate, draft):
    login(client, teammate)
    listing = client.get(kb_url("article-list")).content.decode()
    assert kb_url("article-create") not in listing
    assert kb_url("article-import") not in listing
    html = client.get(kb_url("article-detail", draft.pk)).content.decode()
    assert kb_url("article-edit", draft.pk) not in html
    assert kb_url("article-publish", draft.pk) not in html
    assert kb_url("article-history", draft.pk) in html


def test_post_without_csrf_token_is_refused(owner, draft):
    client = Client(enforce_csrf_checks=True)
    login(client, owner)
    response = client.post(kb_url("article-publish", draft.pk))
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT


# --- Article list ------------------------------------------------------------------------


def test_list_shows_articles_with_category_status_and_index_state(as_owner, draft, make_article):
    make_article("Refund policy", category="Billing")
    html = as_owner.get(kb_url("article-list")).content.decode()
    assert "Where is my parcel?" in html
    assert "Refund policy" in html
    assert "Shipping" in html and "Billing" in html
    assert "Draft" in html and "Published" in html
    assert "Not in search" in html and "Indexed" in html


def test_list_filters_by_query_category_and_status(as_owner, workspace, owner, draft):
    article_create(
        workspace=workspace,
        title="Change my plan",
        body="Upgrade under Billing.",
        category="Billing",
        owner=owner,
        publish=True,
        embed="later",
    )
    get = as_owner.get
    by_body = get(kb_url("article-list"), {"q": "upgrade"}).content.decode()
    assert "Change my plan" in by_body and "Where is my parcel?" not in by_body

    shipping = draft.category_id
    by_category = get(kb_url("article-list"), {"category": shipping}).content.decode()
    assert "Where is my parcel?" in by_category and "Change my plan" not in by_category

    published = get(kb_url("article-list"), {"status": "published"}).content.decode()
    assert "Change my plan" in published and "Where is my parcel?" not in published


def test_list_ignores_a_category_of_another_workspace(as_owner, outsider, draft):
    other = workspace_create(name="Third", owner=outsider, slug="third")
    foreign = category_get_or_create(workspace=other, name="Secret")
    assert foreign is not None
    html = as_owner.get(kb_url("article-list"), {"category": foreign.pk}).content.decode()
    assert "Where is my parcel?" in html
    assert "Secret" not in html


def test_htmx_filter_request_returns_only_the_list_fragment(as_owner, draft):
    response = as_owner.get(kb_url("article-list"), {"q": "parcel"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="article-list"')
    assert "<html" not in html and "Try a question" not in html
    assert "Where is my parcel?" in html
    assert "HX-Request" in response["Vary"]


def test_full_page_contains_the_list_region_and_try_panel(as_owner, draft):
    html = as_owner.get(kb_url("article-list")).content.decode()
    assert "<html" in html
    assert 'id="article-list"' in html
    assert 'id="try-results"' in html
    assert 'hx-get="' + kb_url("article-list") + '"' in html


def test_list_paginates_by_50(as_owner, workspace):
    for n in range(53):
        article_create(workspace=workspace, title=f"Article number {n:02d}", body="x")
    first = as_owner.get(kb_url("article-list")).content.decode()
    second = as_owner.get(kb_url("article-list"), {"page": 2}).content.decode()
    assert first.count('data-label="Title"') == 50
    assert second.count('data-label="Title"') == 3
    assert "Page 2 of 2" in second
    assert "53 articles" in first


def test_list_query_count_does_not_grow_with_articles(
    as_owner, workspace, django_assert_num_queries
):
    def make(n: int, start: int) -> None:
        for i in range(start, start + n):
            article_create(
                workspace=workspace, title=f"Article {i}", body="x", category=f"Category {i}"
            )

    make(3, 0)
    as_owner.get(kb_url("article-list"))  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert as_owner.get(kb_url("article-list")).status_code == 200
    make(12, 3)
    with django_assert_num_queries(len(few.captured_queries)):
        html = as_owner.get(kb_url("article-list")).content.decode()
    assert "Category 14" in html


def test_title_with_script_is_escaped_in_list_and_detail(as_owner, workspace, owner):
    article = article_create(
        workspace=workspace, title="<script>alert(1)</script>", body="hi", owner=owner
    )
    for url in (kb_url("article-list"), kb_url("article-detail", article.pk)):
        html = as_owner.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- Try a question ----------------------------------------------------------------------


def test_try_ranks_published_articles_with_scores(as_owner, make_article):
    make_article("How do I reset my password?", category="Account")
    make_article("Where is my parcel?", body="Track the parcel from Orders.", category="Shipping")
    response = try_question(as_owner, "I forgot my password and cannot log in")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="try-results"')
    assert texts_of_hits(response)[0] == "How do I reset my password?"
    scores = re.findall(r"<dd>(-?\d+\.\d+)</dd>", html)
    assert scores and all(re.fullmatch(r"-?\d+\.\d{3}", s) for s in scores)
    assert "vector" in html and "keyword" in html and "fused" in html
    assert "Account" in html


def test_try_with_empty_question_says_what_to_do(as_owner, make_article):
    make_article()
    response = try_question(as_owner, "   ")
    assert "Type a customer question first" in response.content.decode()
    assert texts_of_hits(response) == []


def test_try_says_when_nothing_matches(as_owner):
    response = try_question(as_owner, "quantum flux capacitor warranty")
    assert "No published article matches" in response.content.decode()


def test_try_category_filter_limits_results(as_owner, make_article):
    make_article("How do I reset my password?", category="Account")
    shipping = make_article("Reset a delivery address", category="Shipping")
    response = try_question(as_owner, "reset", category=shipping.category_id)
    assert texts_of_hits(response) == ["Reset a delivery address"]


def test_try_without_htmx_renders_the_whole_page(as_owner, make_article):
    make_article()
    response = as_owner.get(try_url(), {"question": "reset password"})
    html = response.content.decode()
    assert "<html" in html and 'id="try-form"' in html and 'id="try-results"' in html
    assert "How do I reset my password?" in texts_of_hits(response)


def test_try_falls_back_to_keywords_when_embeddings_fail(as_owner, make_article, monkeypatch):
    make_article("How do I reset my password?")

    def broken(query: str):
        raise EmbeddingError("provider down")

    monkeypatch.setattr("supportops.knowledge.search.embed_query", broken)
    response = try_question(as_owner, "reset my password")
    assert response.status_code == 200
    assert texts_of_hits(response) == ["How do I reset my password?"]
    assert "keyword search only" in response.content.decode()


def test_try_renders_the_passage_markdown_without_scripts(as_owner, make_article):
    make_article(
        "Strange characters",
        body="Type **bold** & <script>x()</script> <img src=x onerror=alert(1)> here",
    )
    html = try_question(as_owner, "strange characters").content.decode()
    assert "<script>x()</script>" not in html and "onerror" not in html
    assert "<strong>bold</strong> &amp;" in html


def test_publish_makes_article_findable_via_try(as_owner, workspace):
    as_owner.post(
        kb_url("article-create"),
        {
            "title": "Cancel my subscription",
            "body": "Go to Billing and press Cancel plan.",
            "action": "draft",
        },
    )
    article = Article.objects.get(workspace=workspace)
    assert texts_of_hits(try_question(as_owner, "how can I stop paying monthly")) == []

    response = as_owner.post(kb_url("article-publish", article.pk))
    assert response.status_code == 302
    # Celery's on_commit callbacks do not run inside the test transaction; embed here.
    assert article_embed(article_id=article.pk) > 0
    article.refresh_from_db()
    assert article.index_state == Article.IndexState.READY
    hits = texts_of_hits(try_question(as_owner, "how can I stop paying monthly"))
    assert hits[0] == "Cancel my subscription"


def test_unpublished_article_never_appears_in_try(as_owner, make_article, workspace, owner):
    kept = make_article("How do I reset my password?")
    hidden = make_article("Reset your password by phone", body="Call us to reset the password.")
    article_create(
        workspace=workspace, title="Password reset draft", body="Reset password.", owner=owner
    )
    assert "Reset your password by phone" in texts_of_hits(try_question(as_owner, "reset password"))

    as_owner.post(kb_url("article-unpublish", hidden.pk))
    hidden.refresh_from_db()
    assert hidden.status == Article.Status.DRAFT
    assert not Chunk.objects.filter(article=hidden).exists()
    for question in ("reset password", "reset your password by phone", "password reset draft"):
        hits = texts_of_hits(try_question(as_owner, question))
        assert "Reset your password by phone" not in hits
        assert "Password reset draft" not in hits
    assert kept.title in texts_of_hits(try_question(as_owner, "reset password"))


# --- Detail, editor, preview -------------------------------------------------------------


def test_detail_renders_markdown_and_strips_scripts(as_owner, workspace, owner):
    article = article_create(
        workspace=workspace,
        title="Formatting",
        body="## Steps\n\n1. Open **Settings**\n\n<script>alert('x')</script>\n\n"
        "[bad](javascript:alert(1)) <img src=x onerror=alert(2)>",
        owner=owner,
    )
    html = as_owner.get(kb_url("article-detail", article.pk)).content.decode()
    assert "<h2>Steps</h2>" in html
    assert "<strong>Settings</strong>" in html
    assert "alert('x')" not in html
    assert "javascript:" not in html
    assert "onerror" not in html


def test_owner_creates_a_draft_with_a_first_version(as_owner, workspace, owner):
    response = as_owner.post(
        kb_url("article-create"),
        {
            "title": "Opening hours",
            "category": "General",
            "body": "Mon–Fri 9–17.",
            "action": "draft",
        },
    )
    article = Article.objects.get(workspace=workspace, title="Opening hours")
    assert response.status_code == 302
    assert response["Location"] == kb_url("article-detail", article.pk)
    assert article.status == Article.Status.DRAFT
    assert article.category is not None and article.category.name == "General"
    assert article.owner == owner
    assert list(article.versions.values_list("number", flat=True)) == [1]
    assert not Chunk.objects.filter(article=article).exists()


def test_save_and_publish_publishes_and_indexes(as_owner, workspace):
    as_owner.post(
        kb_url("article-create"),
        {"title": "Opening hours", "body": "Mon–Fri 9–17.", "action": "publish"},
    )
    article = Article.objects.get(workspace=workspace)
    assert article.status == Article.Status.PUBLISHED
    assert article.index_state == Article.IndexState.PENDING
    assert Chunk.objects.filter(article=article).exists()


def test_success_message_is_shown_after_saving(as_owner):
    response = as_owner.post(
        kb_url("article-create"),
        {"title": "Opening hours", "body": "Mon–Fri", "action": "publish"},
        follow=True,
    )
    assert "Article published." in response.content.decode()


def test_invalid_article_shows_error_next_to_field_and_keeps_text(as_owner):
    response = as_owner.post(
        kb_url("article-create"),
        {
            "title": "",
            "category": "Billing",
            "body": "My carefully written <answer>",
            "action": "publish",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="title-errors"' in html and "This field is required." in html
    assert "My carefully written &lt;answer&gt;" in html
    assert 'value="Billing"' in html
    assert not Article.objects.exists()


def test_too_long_title_is_refused(as_owner):
    response = as_owner.post(kb_url("article-create"), {"title": "x" * 301, "body": "b"})
    assert response.status_code == 400
    assert "at most 300 characters" in response.content.decode()
    assert not Article.objects.exists()


def test_editor_offers_existing_categories(as_owner, draft):
    html = as_owner.get(kb_url("article-create")).content.decode()
    assert '<datalist id="category-options">' in html
    assert '<option value="Shipping">' in html
    assert 'hx-trigger="keyup changed delay:400ms' in html


def test_edit_creates_version_2(as_owner, draft, owner):
    form = as_owner.get(kb_url("article-edit", draft.pk)).content.decode()
    assert 'value="Where is my parcel?"' in form
    response = as_owner.post(
        kb_url("article-edit", draft.pk),
        {
            "title": "Where is my order?",
            "category": "Shipping",
            "body": draft.body,
            "action": "draft",
        },
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "Where is my order?"
    assert draft.version_number == 2
    version = draft.versions.get(number=2)
    assert version.title == "Where is my order?" and version.author == owner


def test_edit_without_changes_keeps_the_version(as_owner, draft):
    response = as_owner.post(
        kb_url("article-edit", draft.pk),
        {"title": draft.title, "category": "Shipping", "body": draft.body, "action": "draft"},
        follow=True,
    )
    draft.refresh_from_db()
    assert draft.version_number == 1
    assert "Nothing changed" in response.content.decode()


def test_edit_and_publish_publishes_a_draft(as_owner, draft):
    as_owner.post(
        kb_url("article-edit", draft.pk),
        {"title": draft.title, "category": "Shipping", "body": "New text", "action": "publish"},
    )
    draft.refresh_from_db()
    assert draft.is_published
    assert draft.body == "New text"
    assert list(draft.versions.values_list("note", flat=True)) == ["published", "edited", "created"]


def test_markdown_preview_sanitizes_script(as_owner):
    response = as_owner.post(
        kb_url("article-preview"),
        {"body": '# Hello\n\n<script>alert(1)</script><a href="javascript:x()">y</a>'},
        headers=HTMX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="markdown-preview"')
    assert "<h1>Hello</h1>" in html
    assert "<script" not in html and "alert(1)" not in html
    assert "javascript:" not in html


def test_preview_requires_post(as_owner):
    assert as_owner.get(kb_url("article-preview")).status_code == 405


def test_publish_and_unpublish_via_buttons(as_owner, draft):
    detail = as_owner.get(kb_url("article-detail", draft.pk)).content.decode()
    assert kb_url("article-publish", draft.pk) in detail
    as_owner.post(kb_url("article-publish", draft.pk))
    draft.refresh_from_db()
    assert draft.is_published and Chunk.objects.filter(article=draft).exists()

    detail = as_owner.get(kb_url("article-detail", draft.pk)).content.decode()
    assert kb_url("article-unpublish", draft.pk) in detail
    as_owner.post(kb_url("article-unpublish", draft.pk))
    draft.refresh_from_db()
    assert not draft.is_published and not Chunk.objects.filter(article=draft).exists()


def test_publish_requires_post(as_owner, draft):
    assert as_owner.get(kb_url("article-publish", draft.pk)).status_code == 405
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT


def test_delete_asks_for_confirmation_then_deletes(as_owner, draft):
    confirm = as_owner.get(kb_url("article-delete", draft.pk))
    assert "Delete this article?" in confirm.content.decode()
    assert Article.objects.filter(pk=draft.pk).exists()

    response = as_owner.post(kb_url("article-delete", draft.pk), follow=True)
    assert not Article.objects.filter(pk=draft.pk).exists()
    assert response.redirect_chain[-1][0] == kb_url("article-list")
    assert "Deleted" in response.content.decode()


# --- History and restore -----------------------------------------------------------------


def test_history_lists_versions_and_shows_old_content(as_owner, draft, owner):
    article_update(
        article=draft,
        title="Where is my order?",
        body="New **text**",
        category="Shipping",
        actor=owner,
    )
    html = as_owner.get(kb_url("article-history", draft.pk)).content.decode()
    assert "v1" in html and "v2" in html
    assert "created" in html and "edited" in html
    assert owner.email in html
    assert kb_url("version-restore", draft.pk, 1) in html
    assert kb_url("version-restore", draft.pk, 2) not in html  # the current one

    old = as_owner.get(kb_url("version-detail", draft.pk, 1)).content.decode()
    assert "Where is my parcel?" in old
    assert "<strong>Orders</strong>" in old
    assert "Restore this version" in old


def test_restore_writes_a_new_version_with_the_old_content(as_owner, draft, owner):
    article_update(
        article=draft, title="Where is my order?", body="Changed", category="", actor=owner
    )
    response = as_owner.post(kb_url("version-restore", draft.pk, 1), follow=True)
    draft.refresh_from_db()
    assert draft.version_number == 3
    assert draft.title == "Where is my parcel?"
    assert draft.body == "Track it from **Orders**."
    assert draft.category.name == "Shipping"
    assert draft.versions.get(number=3).note == "restored version 1"
    assert "Restored version 1 as new version 3" in response.content.decode()


def test_unknown_version_is_404(as_owner, draft):
    assert as_owner.get(kb_url("version-detail", draft.pk, 9)).status_code == 404
    assert as_owner.post(kb_url("version-restore", draft.pk, 9)).status_code == 404
    assert ArticleVersion.objects.filter(article=draft).count() == 1


def test_agent_cannot_restore(client, teammate, draft, owner):
    article_update(article=draft, title="Changed", body="", actor=owner)
    login(client, teammate)
    assert client.post(kb_url("version-restore", draft.pk, 1)).status_code == 403
    draft.refresh_from_db()
    assert draft.title == "Changed" and draft.version_number == 2
    html = client.get(kb_url("article-history", draft.pk)).content.decode()
    assert "Restore this version" not in html


# --- Import ------------------------------------------------------------------------------


def _upload(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_import_page_offers_publish_checked_by_default(as_owner):
    html = as_owner.get(kb_url("article-import")).content.decode()
    assert 'type="file"' in html and 'enctype="multipart/form-data"' in html
    assert re.search(r'name="publish"[^>]*checked', html)


def test_import_bad_jsonl_shows_line_and_creates_nothing(as_owner):
    data = (
        b'{"id": "a1", "title": "Fine", "body": "ok"}\n'
        b'{"id": "a2", "title": "Also fine", "body": "ok"}\n'
        b'{"id": "a3", "title": "Broken", "body": "no closing brace"\n'
    )
    response = as_owner.post(
        kb_url("article-import"), {"file": _upload("faq.jsonl", data), "publish": "on"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "faq.jsonl, line 3: malformed JSON" in html
    assert "Nothing was imported" in html
    assert not Article.objects.exists()
    assert not ImportJob.objects.exists()


def test_import_good_csv_creates_published_articles(as_owner, workspace):
    data = (
        b"question,answer\n"
        b"How do I pay?,By card or invoice.\n"
        b"Can I get a refund?,Yes within 30 days.\n"
    )
    response = as_owner.post(
        kb_url("article-import"), {"file": _upload("faq.csv", data), "publish": "on"}, follow=True
    )
    titles = set(Article.objects.filter(workspace=workspace).values_list("title", flat=True))
    assert titles == {"How do I pay?", "Can I get a refund?"}
    assert all(a.is_published for a in Article.objects.all())
    assert "Imported faq.csv: 2 created, 0 updated." in response.content.decode()


def test_import_without_publish_creates_drafts(as_owner):
    as_owner.post(
        kb_url("article-import"), {"file": _upload("faq.csv", b"question,answer\nQ?,A\n")}
    )
    article = Article.objects.get()
    assert article.status == Article.Status.DRAFT
    assert article.source == Article.Source.IMPORTED


def test_import_reimport_by_id_updates(as_owner):
    first = b'{"id": "faq-1", "title": "Old title", "body": "text"}\n'
    as_owner.post(kb_url("article-import"), {"file": _upload("a.jsonl", first), "publish": "on"})
    second = b'{"id": "faq-1", "title": "New title", "body": "text"}\n'
    response = as_owner.post(
        kb_url("article-import"),
        {"file": _upload("a.jsonl", second), "publish": "on"},
        follow=True,
    )
    assert Article.objects.get().title == "New title"
    assert "0 created, 1 updated" in response.content.decode()


def test_import_unsupported_type_is_explained(as_owner):
    response = as_owner.post(kb_url("article-import"), {"file": _upload("faq.pdf", b"%PDF")})
    assert response.status_code == 400
    assert "unsupported file type" in response.content.decode()
    assert not Article.objects.exists()


def test_import_without_file_shows_field_error(as_owner):
    response = as_owner.post(kb_url("article-import"), {"publish": "on"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_large_import_runs_as_a_job_with_a_polling_progress_bar(as_owner, settings, workspace):
    settings.KB_IMPORT_ASYNC_THRESHOLD = 2
    rows = "".join(f"Question {n}?,Answer number {n}.\n" for n in range(3))
    response = as_owner.post(
        kb_url("article-import"),
        {"file": _upload("big.csv", ("question,answer\n" + rows).encode()), "publish": "on"},
        follow=True,
    )
    job = ImportJob.objects.get(workspace=workspace)
    html = response.content.decode()
    assert job.status == ImportJob.Status.QUEUED and job.total_articles == 3
    assert not Article.objects.exists()  # written by Celery, not by the request
    assert f'id="import-job-{job.pk}"' in html
    assert 'hx-trigger="every 1s"' in html
    assert kb_url("import-job", job.pk) in html

    polling = as_owner.get(kb_url("import-job", job.pk), headers=HTMX).content.decode()
    assert polling.lstrip().startswith(f'<div id="import-job-{job.pk}"')
    assert 'hx-trigger="every 1s"' in polling

    importing.import_job_run(job_id=job.pk)  # what the Celery task does
    done = as_owner.get(kb_url("import-job", job.pk), headers=HTMX).content.decode()
    assert "hx-trigger" not in done
    assert "Done: 3 created, 0 updated" in done
    assert 'value="100"' in done
    assert Article.objects.filter(workspace=workspace).count() == 3


def test_failed_job_stops_polling_and_shows_the_error(as_owner, workspace):
    job = ImportJob.objects.create(
        workspace=workspace,
        filename="big.jsonl",
        status=ImportJob.Status.FAILED,
        error="database went away <b>",
    )
    html = as_owner.get(kb_url("import-job", job.pk)).content.decode()
    assert "hx-trigger" not in html
    assert "database went away &lt;b&gt;" in html


def test_a_link_can_start_a_new_article_and_nothing_is_saved_until_submitted(as_owner, workspace):
    from django.utils.html import escape

    from supportops.knowledge.services import TITLE_MAX

    long_title = "Can I pause my subscription while I travel? " * 10
    response = as_owner.get(
        kb_url("article-create"),
        {"title": long_title, "category": "Billing", "body": "> Customers asked: can I?"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{escape(long_title[:TITLE_MAX])}"' in html  # cut to the field's limit
    assert f'value="{escape(long_title[: TITLE_MAX + 1])}"' not in html
    assert "&gt; Customers asked: can I?</textarea>" in html
    assert not Article.objects.filter(workspace=workspace).exists()
