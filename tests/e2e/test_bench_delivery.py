"""`bench_delivery` times agent replies from stored to shown in the widget, in Chromium."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from supportops.accounts.models import Workspace
from tests.e2e.conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: the browser tests need Debian's chromium package",
    ),
]


@pytest.mark.django_db(transaction=True)
def test_it_measures_replies_reaching_the_widget_and_cleans_up():
    out = io.StringIO()

    call_command("bench_delivery", replies=3, json=True, stdout=out)

    result = json.loads(out.getvalue())
    assert result["replies"] == 3
    delivery = result["delivery_ms"]
    assert 0 < delivery["p50"] <= delivery["p95"] <= delivery["max"] < 15_000
    assert not Workspace.objects.filter(is_scratch=True).exists()
