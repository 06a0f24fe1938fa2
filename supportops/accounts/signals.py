"""Audit rows for account-security events that allauth reports only as signals (password and
two-factor changes). Recording only: no flow of the product hangs on these receivers."""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.dispatch import Signal

from .services import security_event_write

# The person did it themselves, signed in: they are the actor.
OWN_CHANGES: dict[Signal, str] = {
    account_signals.password_changed: "password.change",
    account_signals.password_set: "password.set",
    account_signals.password_reset: "password.reset",
    mfa_signals.authenticator_added: "mfa.add",
    mfa_signals.authenticator_removed: "mfa.remove",
    mfa_signals.authenticator_reset: "mfa.reset",
}


def _authenticator_type(kwargs: dict[str, Any]) -> dict[str, str]:
    authenticator = kwargs.get("authenticator")
    return {"type": str(getattr(authenticator, "type", ""))} if authenticator else {}


def _own_change(sender: Any, signal: Signal, request: Any, user: Any, **kwargs: Any) -> None:
    security_event_write(
        action=OWN_CHANGES[signal],
        user=user,
        actor=user,
        request=request,
        details=_authenticator_type(kwargs),
    )


def _mfa_failed(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    security_event_write(
        action="login.mfa_failed",
        user=user,
        request=request,
        details=_authenticator_type(kwargs),
        actor_label="sign-in attempt",
    )


for _signal, _action in OWN_CHANGES.items():
    _signal.connect(_own_change, dispatch_uid=f"supportops-audit-{_action}")
mfa_signals.authentication_failed.connect(_mfa_failed, dispatch_uid="supportops-audit-mfa-failed")
