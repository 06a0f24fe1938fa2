"""The analytics timelines (real flows under a moving clock), for exports of costed
conversations."""

from __future__ import annotations

from tests.analytics.conftest import help_centre, play

__all__ = ["help_centre", "play"]
