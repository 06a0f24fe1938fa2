from __future__ import annotations

from django.urls import path

from . import readout_views, views

app_name = "analytics"

# Mounted under w/<workspace_slug>/analytics/ (supportops/urls.py).
urlpatterns = [
    path("rollout/<int:phase_id>/", readout_views.phase_readout, name="readout"),
    path("costs/", views.costs, name="costs"),
    path("prices/", views.prices, name="prices"),
    path("themes/", views.themes, name="themes"),
    path("themes/<int:report_id>/", views.theme_report, name="theme-report"),
]
