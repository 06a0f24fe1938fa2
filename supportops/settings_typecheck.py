"""Settings for mypy's Django plugin only: it imports the settings to learn the models, and the
real settings refuse to load without DEBUG set. Never used to run the app."""

from __future__ import annotations

import os

os.environ.setdefault("DEBUG", "true")

from supportops.settings import *  # noqa: E402, F403
