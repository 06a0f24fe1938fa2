from __future__ import annotations

import secrets

import pytest


@pytest.fixture
def client_address() -> str:
    """A client address of its own per test (and per run): the login rate limits count per
    address in the shared Redis, so tests never use up each other's allowance."""
    return "10." + ".".join(str(b) for b in secrets.token_bytes(3))


def unique_email(name: str) -> str:
    """The per-account login limit lasts minutes in the shared Redis: one address per run."""
    return f"{name}-{secrets.token_hex(4)}@host.example"


def totp_code(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """The standing users' passwords are hashed per test; the real hasher is slow by design."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
