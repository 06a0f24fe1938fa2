"""Audit rows for account-security events that allauth reports only as signals (password and
two-factor changes). Recording only: no flow of the product hangs on these receivers."""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.dispatch import receiver

from .services import security_event_write


def _type(authenticator: Any) -> str:
    return str(getattr(authenticator, "type", "") or "")


@receiver(account_signals.password_changed)
def _password_changed(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    security_event_write(action="password.change", user=user, actor=user, request=request)


@receiver(account_signals.password_set)
def _password_set(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    security_event_write(action="password.set", user=user, actor=user, request=request)


@receiver(account_signals.password_reset)
def _password_reset(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    security_event_write(action="password.reset", user=user, actor=user, request=request)


@receiver(mfa_signals.authenticator_added)
def _mfa_added(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    security_event_write(
        action="mfa.add",
        user=user,
        actor=user,
        request=request,
        details={"type": _type(authenticator)},
    )


@receiver(mfa_signals.authenticator_removed)
def _mfa_removed(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    security_event_write(
        action="mfa.remove",
        user=user,
        actor=user,
        request=request,
        details={"type": _type(authenticator)},
    )


@receiver(mfa_signals.authenticator_reset)
def _mfa_reset(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    security_event_write(
        action="mfa.reset",
        user=user,
        actor=user,
        request=request,
        details={"type": _type(authenticator)},
    )


@receiver(mfa_signals.authentication_failed)
def _mfa_failed(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    security_event_write(
        action="login.mfa_failed",
        user=user,
        request=request,
        details={"type": _type(kwargs.get("authenticator"))},
        actor_label="sign-in attempt",
    )
