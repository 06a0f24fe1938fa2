from __future__ import annotations

from django.urls import path

from . import dashboard_views as views

app_name = "dashboards"

# Mounted under w/<workspace_slug>/dashboards/ (supportops/urls.py).
urlpatterns = [
    path("", views.dashboard, name="overview"),
    path("conversations/", views.conversations, name="conversations"),
    path("<slug:area>/", views.dashboard, name="area"),
]
