"""Writes of the analytics app's own settings (the ledger's rows are written by `ledger`)."""

from __future__ import annotations

from django.db import transaction

from supportops.accounts.models import Role, Workspace
from supportops.accounts.services import Actor, audit_log_write, real_user

from .models import AnalyticsSettings

MAX_WINDOW_HOURS = 24 * 30


class AnalyticsError(ValueError):
    """A setting that cannot be saved; the message says why."""


@transaction.atomic
def analytics_settings_update(
    *, workspace: Workspace, actor: Actor, repeat_window_hours: int
) -> AnalyticsSettings:
    """Change the repeat-contact window (admins and managers). Outcomes already final stay
    as they are; provisional ones use the new window at their next refresh."""
    person = real_user(actor)
    if (
        person is None
        or not workspace.memberships.filter(
            user=person, role__in=(Role.ADMIN, Role.MANAGER)
        ).exists()
    ):
        raise AnalyticsError("Only admins and managers may change the repeat-contact window.")
    if isinstance(repeat_window_hours, bool) or not 1 <= repeat_window_hours <= MAX_WINDOW_HOURS:
        raise AnalyticsError(f"The window must be 1 to {MAX_WINDOW_HOURS} hours.")
    row, _ = AnalyticsSettings.objects.select_for_update().get_or_create(workspace=workspace)
    before = row.repeat_window_hours
    row.repeat_window_hours = repeat_window_hours
    row.save()
    audit_log_write(
        workspace=workspace,
        actor=person,
        action="analytics.repeat_window",
        target=row,
        details={"from": before, "to": repeat_window_hours},
    )
    return row
