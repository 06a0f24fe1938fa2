"""The workspace's widget settings pages, under w/<workspace_slug>/settings/widget/."""

from __future__ import annotations

from django.urls import path

from . import settings_views as views

app_name = "widget_settings"

urlpatterns = [
    path("", views.widget_settings, name="index"),
    path("appearance/", views.appearance_save, name="appearance"),
    path("origins/add/", views.origin_add, name="origin-add"),
    path("origins/remove/", views.origin_remove, name="origin-remove"),
    path("secret/reveal/", views.secret_reveal, name="secret-reveal"),
    path("secret/rotate/", views.secret_rotate, name="secret-rotate"),
    path("secret/retire/", views.secret_retire, name="secret-retire"),
]
