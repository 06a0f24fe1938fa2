from __future__ import annotations

from django.urls import path

from . import views

app_name = "rollout"

# Mounted under w/<workspace_slug>/rollout/ (supportops/urls.py).
urlpatterns = [
    path("", views.index, name="index"),
    path("plans/new/", views.plan_create, name="plan-create"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan"),
    path("plans/<int:plan_id>/phases/new/", views.phase_create, name="phase-create"),
    path("phases/<int:phase_id>/edit/", views.phase_update, name="phase-update"),
    path("phases/<int:phase_id>/<slug:action>/", views.phase_action, name="phase-action"),
    path("runs/<int:run_id>/", views.run_detail, name="run"),
    path("kill-switch/", views.kill_switch, name="kill-switch"),
    path("cases/", views.cases, name="cases"),
    path("cases/import/", views.cases_import, name="cases-import"),
    path("cases/threshold/", views.threshold_set, name="threshold"),
    path("cases/<int:case_id>/delete/", views.case_delete, name="case-delete"),
    path(
        "cases/from-conversation/<int:conversation_id>/",
        views.case_from_conversation,
        name="case-from-conversation",
    ),
]
