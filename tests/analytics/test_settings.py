"""The repeat-contact window is a workspace setting that managers change, audited."""

from __future__ import annotations

import pytest

from supportops.accounts.models import AuditLog
from supportops.analytics.ledger import repeat_window_get
from supportops.analytics.services import AnalyticsError, analytics_settings_update

pytestmark = pytest.mark.django_db


def test_a_manager_changes_the_window_and_it_is_audited(workspace, manager):
    assert repeat_window_get(workspace=workspace).total_seconds() == 48 * 3600
    analytics_settings_update(workspace=workspace, actor=manager, repeat_window_hours=72)
    assert repeat_window_get(workspace=workspace).total_seconds() == 72 * 3600
    audit = AuditLog.objects.get(workspace=workspace, action="analytics.repeat_window")
    assert audit.details == {"from": 48, "to": 72}


@pytest.mark.parametrize("hours", [0, -1, 24 * 31, True])
def test_a_window_out_of_range_is_refused(workspace, manager, hours):
    with pytest.raises(AnalyticsError, match="1 to 720 hours"):
        analytics_settings_update(workspace=workspace, actor=manager, repeat_window_hours=hours)


def test_agents_finance_and_outsiders_may_not_change_it(workspace, teammate, finance, outsider):
    for person in (teammate, finance, outsider, None):
        with pytest.raises(AnalyticsError, match="Only admins and managers"):
            analytics_settings_update(workspace=workspace, actor=person, repeat_window_hours=24)
    assert repeat_window_get(workspace=workspace).total_seconds() == 48 * 3600
