from __future__ import annotations

from django.urls import path

from . import views

app_name = "exports"

# Mounted under w/<workspace_slug>/exports/ (supportops/urls.py).
urlpatterns = [
    path("", views.index, name="index"),
    path("conversations.csv", views.conversations_csv, name="conversations"),
    path("finance-summary.csv", views.finance_summary_csv, name="finance-summary"),
    path("jobs/", views.job_start, name="job-start"),
    path("jobs/<int:job_id>/", views.job_detail, name="job"),
    path("jobs/<int:job_id>/download/", views.job_download, name="job-download"),
]
