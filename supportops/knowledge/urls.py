from __future__ import annotations

from django.urls import path

from . import views

app_name = "knowledge"

# Mounted under w/<workspace_slug>/knowledge/ (supportops/urls.py).
urlpatterns = [
    path("", views.article_list, name="article-list"),
    path("new/", views.article_create, name="article-create"),
    path("preview/", views.article_preview, name="article-preview"),
    path("import/", views.article_import, name="article-import"),
    path("import/<int:job_id>/", views.import_job_detail, name="import-job"),
    path("<int:article_id>/", views.article_detail, name="article-detail"),
    path("<int:article_id>/edit/", views.article_edit, name="article-edit"),
    path("<int:article_id>/publish/", views.article_publish, name="article-publish"),
    path("<int:article_id>/unpublish/", views.article_unpublish, name="article-unpublish"),
    path("<int:article_id>/delete/", views.article_delete, name="article-delete"),
    path("<int:article_id>/draft/publish/", views.article_draft_publish, name="draft-publish"),
    path("<int:article_id>/draft/discard/", views.article_draft_discard, name="draft-discard"),
    path("<int:article_id>/history/", views.article_history, name="article-history"),
    path("<int:article_id>/history/compare/", views.version_compare, name="version-compare"),
    path(
        "<int:article_id>/history/<int:number>/",
        views.version_detail,
        name="version-detail",
    ),
    path(
        "<int:article_id>/history/<int:number>/restore/",
        views.version_restore,
        name="version-restore",
    ),
]
