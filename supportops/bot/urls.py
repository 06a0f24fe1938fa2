from __future__ import annotations

from django.urls import path

from . import views

app_name = "bot"

# Mounted under w/<workspace_slug>/bot/ (supportops/urls.py).
urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("save/", views.settings_save, name="settings-save"),
    path("categories/", views.category_list, name="category-list"),
    path("categories/new/", views.category_create, name="category-create"),
    path("categories/defaults/", views.categories_install_defaults, name="category-defaults"),
    path("categories/import/", views.categories_import, name="category-import"),
    path("categories/try/", views.category_try, name="category-try"),
    path("categories/<int:category_id>/", views.category_detail, name="category-detail"),
    path("categories/<int:category_id>/edit/", views.category_edit, name="category-edit"),
    path("categories/<int:category_id>/delete/", views.category_delete, name="category-delete"),
    path(
        "categories/<int:category_id>/examples/",
        views.category_examples_add,
        name="category-examples-add",
    ),
    path(
        "categories/<int:category_id>/examples/<int:example_id>/delete/",
        views.category_example_remove,
        name="category-example-remove",
    ),
]
