"""A per-conversation export too large to stream while the person waits: prepared by a Celery
task into a file under MEDIA_ROOT/exports/, offered for download until it expires."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from supportops.accounts.models import Workspace


class ExportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Preparing"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    class Kind(models.TextChoices):
        CONVERSATIONS = "conversations", "Conversations"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="export_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CONVERSATIONS)
    # The query string's filters (from, to, arm, channel, category, figure, segment), as the
    # exports page and the audit row have them.
    filters = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0, help_text="counted when requested")
    rows_done = models.PositiveIntegerField(default=0)
    # Relative to MEDIA_ROOT; empty until the file is complete.
    file_path = models.CharField(max_length=300, blank=True)
    file_name = models.CharField(max_length=200, blank=True, help_text="offered to the browser")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["workspace", "-created_at"], name="exportjob_ws_created_idx")
        ]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.EXPIRED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)
