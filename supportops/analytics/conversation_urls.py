from __future__ import annotations

from django.urls import path

from . import conversation_views as views

app_name = "conversations"

# Mounted under w/<workspace_slug>/conversations/ (supportops/urls.py).
urlpatterns = [
    path("", views.conversation_list_page, name="list"),
]
