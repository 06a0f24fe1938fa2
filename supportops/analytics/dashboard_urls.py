from __future__ import annotations

from django.urls import path

from . import conversation_views
from . import dashboard_views as views

app_name = "dashboards"

# Mounted under w/<workspace_slug>/dashboards/ (supportops/urls.py).
urlpatterns = [
    path("", views.dashboard, name="overview"),
    # The list behind a figure is the conversations page (also at conversations:list).
    path("conversations/", conversation_views.conversation_list_page, name="conversations"),
    path("<slug:area>/", views.dashboard, name="area"),
]
