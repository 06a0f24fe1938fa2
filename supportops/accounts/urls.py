from __future__ import annotations

from django.urls import path

from . import views

app_name = "settings"

# Mounted under w/<workspace_slug>/settings/ (supportops/urls.py).
urlpatterns = [
    path("members/", views.members, name="members"),
    path("members/add/", views.member_add, name="member-add"),
    path("members/<int:membership_id>/role/", views.member_role, name="member-role"),
    path("members/<int:membership_id>/remove/", views.member_delete, name="member-remove"),
    path("audit/", views.audit_log, name="audit"),
]
