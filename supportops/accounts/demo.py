"""The demo workspace's name and people, shared by `demo_seed` and `runstack`."""

from __future__ import annotations

import secrets

from django.conf import settings

from .models import Role

DEMO_SLUG = "tidewell"
DEMO_NAME = "Tidewell Outdoor"
DEMO_USERS = [
    ("admin@tidewell.example", Role.ADMIN),
    ("manager@tidewell.example", Role.MANAGER),
    ("agent@tidewell.example", Role.AGENT),
    ("finance@tidewell.example", Role.FINANCE),
]


def demo_password() -> str:
    """One generated password for the demo users, kept in var/ so restarts reuse it."""
    path = settings.VAR_DIR / "demo-login.txt"
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password
