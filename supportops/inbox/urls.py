from __future__ import annotations

from django.urls import path

from . import macro_views, views

app_name = "inbox"

# Mounted under w/<workspace_slug>/inbox/ (supportops/urls.py).
urlpatterns = [
    path("", views.index, name="index"),
    path("status/", views.status_set, name="status-set"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/settings/", views.alert_settings, name="alert-settings"),
    path("hours/", views.business_hours, name="hours"),
    path("routing/", views.routing_settings, name="routing"),
    path("<int:conversation_id>/", views.conversation_detail, name="conversation"),
    path("<int:conversation_id>/reply/", views.conversation_reply, name="reply"),
    path("<int:conversation_id>/resolve/", views.conversation_resolve, name="resolve"),
    path("<int:conversation_id>/gap-draft/", views.gap_draft, name="gap-draft"),
    path("<int:conversation_id>/claim/", views.claim, name="claim"),
    path("<int:conversation_id>/transfer/", views.transfer, name="transfer"),
    path("<int:conversation_id>/notes/", views.note, name="note"),
    path("<int:conversation_id>/copilot/summary/", views.copilot_summary, name="copilot-summary"),
    path("<int:conversation_id>/copilot/draft/", views.copilot_draft, name="copilot-draft"),
    path("<int:conversation_id>/copilot/rewrite/", views.copilot_rewrite, name="copilot-rewrite"),
    path("replies/", macro_views.saved_reply_list, name="saved-replies"),
    path("replies/new/", macro_views.saved_reply_create, name="saved-reply-create"),
    path("replies/<int:reply_id>/", macro_views.saved_reply_edit, name="saved-reply-edit"),
    path(
        "replies/<int:reply_id>/delete/",
        macro_views.saved_reply_delete,
        name="saved-reply-delete",
    ),
    path(
        "<int:conversation_id>/replies/",
        macro_views.saved_reply_search,
        name="saved-reply-search",
    ),
    path(
        "<int:conversation_id>/replies/<int:reply_id>/fill/",
        macro_views.saved_reply_fill,
        name="saved-reply-fill",
    ),
    path("<int:conversation_id>/typing/", macro_views.agent_typing, name="typing"),
]
