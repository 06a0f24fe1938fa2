"""django-allauth hooks: closed signup, the client's address behind trusted proxies, and an
audit row for every sign-in, failed sign-in, refused (rate-limited) attempt and sign-out."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from supportops.lib.client import client_ip

from .services import security_event_write

# One audit row per client address and minute for refused attempts, however many arrive.
RATE_LIMIT_AUDIT_WINDOW_S = 60


def _login_email(credentials: dict[str, Any]) -> str:
    return str(credentials.get("email") or credentials.get("username") or "")[:254]


def _account(email: str) -> AbstractBaseUser | None:
    if not email:
        return None
    return get_user_model().objects.filter(email__iexact=email).first()


class AccountAdapter(DefaultAccountAdapter):
    """Signup is closed unless ACCOUNT_ALLOW_SIGNUP is set: admins add members."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(settings.ACCOUNT_ALLOW_SIGNUP)

    def get_client_ip(self, request: HttpRequest) -> str:
        # Ours, not allauth's: a forged short X-Forwarded-For falls back to the connection's
        # address instead of raising ImproperlyConfigured (a 500).
        return client_ip(request)

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            ip = client_ip(request)
            if cache.add(f"audit:login-limited:{ip}", 1, timeout=RATE_LIMIT_AUDIT_WINDOW_S):
                email = _login_email(credentials)
                security_event_write(
                    action="login.rate_limited",
                    user=_account(email),
                    request=request,
                    details={"email": email, "note": "one row per address and minute"},
                    actor_label="sign-in attempt",
                )
            raise

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        email = _login_email(credentials)
        security_event_write(
            action="login.failed",
            user=_account(email),
            request=request,
            details={"email": email},
            actor_label="sign-in attempt",
        )

    def login(self, request: HttpRequest, user: AbstractBaseUser) -> None:
        super().login(request, user)
        security_event_write(action="login", user=user, actor=user, request=request)

    def logout(self, request: HttpRequest) -> None:
        user = request.user
        if user.is_authenticated:
            security_event_write(action="logout", user=user, actor=user, request=request)
        super().logout(request)
