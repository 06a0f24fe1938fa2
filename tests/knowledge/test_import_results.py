"""CSV imports get a category, and the import's result links to what it wrote."""

from __future__ import annotations

from supportops.knowledge import importing
from supportops.knowledge.models import Article, ImportJob
from tests.knowledge.test_views import _upload, kb_url, login

CSV_MIXED = (
    b"question,answer,category\n"
    b"How do I pay?,By card or invoice.,Billing and payments\n"
    b"Can I wax my boots?,Yes with the Tidewell wax.,\n"
)


def test_csv_rows_without_a_category_get_the_one_chosen_on_the_form(client, owner, workspace):
    login(client, owner)
    response = client.post(
        kb_url("article-import"),
        {"file": _upload("faq.csv", CSV_MIXED), "publish": "on", "category": "Product care"},
        follow=True,
    )
    categories = dict(
        Article.objects.filter(workspace=workspace).values_list("title", "category__name")
    )
    assert categories == {
        "How do I pay?": "Billing and payments",  # the file's own category wins
        "Can I wax my boots?": "Product care",
    }
    job = ImportJob.objects.get(workspace=workspace)
    assert (job.status, job.category, job.created_count) == ("done", "Product care", 2)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == kb_url("import-job", job.pk)
    for article in Article.objects.filter(workspace=workspace):
        assert kb_url("article-detail", article.pk) in html
    assert f"{kb_url('article-list')}?import_job={job.pk}" in html


def test_a_csv_without_category_column_takes_the_chosen_category(client, owner, workspace):
    login(client, owner)
    client.post(
        kb_url("article-import"),
        {"file": _upload("faq.csv", b"question,answer\nQ one?,A.\nQ two?,B.\n"), "category": "FAQ"},
    )
    assert set(Article.objects.values_list("category__name", flat=True)) == {"FAQ"}


def test_the_list_filtered_to_an_import_shows_only_its_articles(
    client, owner, workspace, make_article
):
    make_article("Older article")
    login(client, owner)
    client.post(kb_url("article-import"), {"file": _upload("faq.csv", CSV_MIXED), "publish": "on"})
    job = ImportJob.objects.get()
    html = client.get(kb_url("article-list"), {"import_job": job.pk}).content.decode()
    assert "How do I pay?" in html and "Can I wax my boots?" in html
    assert "Older article" not in html
    assert "Showing only the articles imported from" in html


def test_an_import_of_another_workspace_filters_nothing_open(client, owner, outsider):
    from supportops.accounts.models import Workspace

    other = Workspace.objects.get(slug="other")
    job = ImportJob.objects.create(workspace=other, filename="x.csv")
    login(client, owner)
    assert client.get(kb_url("article-list"), {"import_job": job.pk}).status_code == 404


def test_a_background_import_links_its_articles_once_written(client, owner, workspace, settings):
    settings.KB_IMPORT_ASYNC_THRESHOLD = 1
    login(client, owner)
    client.post(
        kb_url("article-import"),
        {"file": _upload("faq.csv", CSV_MIXED), "publish": "on", "category": "Gear"},
    )
    job = ImportJob.objects.get()
    importing.import_job_run(job_id=job.pk)  # what the Celery task does
    assert set(job.articles.values_list("category__name", flat=True)) == {
        "Billing and payments",
        "Gear",
    }
    html = client.get(kb_url("import-job", job.pk)).content.decode()
    for article in job.articles.all():
        assert kb_url("article-detail", article.pk) in html
