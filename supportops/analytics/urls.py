from __future__ import annotations

from django.urls import path

from . import views

app_name = "analytics"

# Mounted under w/<workspace_slug>/analytics/ (supportops/urls.py).
urlpatterns = [
    path("rollout/<int:phase_id>/", views.phase_readout, name="readout"),
]
