from __future__ import annotations

from django.urls import path

from . import views

app_name = "conversations"

# Mounted under w/<workspace_slug>/queue/ (supportops/urls.py).
urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:conversation_id>/", views.conversation_detail, name="conversation-detail"),
    path("<int:conversation_id>/reply/", views.conversation_reply, name="conversation-reply"),
    path("<int:conversation_id>/resolve/", views.conversation_resolve, name="conversation-resolve"),
]
