"""Writes behind the widget: who the visitor is, and the customer's own actions."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest

from supportops.accounts.models import Workspace
from supportops.accounts.services import Actor, audit_log_write, request_details
from supportops.conversations.models import Customer
from supportops.conversations.services import (
    ConversationError,
    customer_get_or_create_verified,
    customer_get_or_create_visitor,
    external_id_clean,
    visitor_id_clean,
)

from .models import WidgetSettings
from .security import SignatureRefused, customer_signature_check, origin_normalize

MAX_ORIGINS = 50
ACCENT_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


class IdentityRefused(Exception):
    """The host site's signature does not vouch for the customer id it sent."""


@dataclass(frozen=True)
class Visitor:
    """Who is starting a chat, as checked: a customer the host site signed (id, name, email)
    or an anonymous visitor (a random id from their browser, nothing account-specific)."""

    external_id: str = ""
    name: str = ""
    email: str = ""
    visitor_id: str = ""

    def customer_unsaved(self, workspace: Workspace) -> Customer:
        """A Customer to decide with (the rollout bucket) without storing anything."""
        return Customer(
            workspace=workspace,
            external_id=self.external_id,
            visitor_id="" if self.external_id else self.visitor_id,
            name=self.name,
            email=self.email,
        )


def widget_visitor_check(
    *,
    workspace: Workspace,
    visitor_id: str = "",
    customer_id: str = "",
    signature: str = "",
    name: str = "",
    email: str = "",
    signature_expires: int | None = None,
    request: HttpRequest | None = None,
) -> Visitor:
    """A verified customer (id, email, name and expiry signed by the host site) or an
    anonymous visitor; stores nothing (but an audit row for a refused signature).

    An id without a matching, unexpired signature is refused rather than downgraded, so a
    broken integration shows up at once instead of quietly serving customers as strangers.
    Name and email are part of what is signed, so nobody can rewrite a verified customer's
    record by sending other ones.
    """
    customer_id = (customer_id or "").strip()
    if customer_id:
        name = (name or "").strip()
        email = (email or "").strip()
        try:
            customer_signature_check(
                workspace=workspace,
                external_id=customer_id,
                email=email,
                name=name,
                expires=signature_expires,
                signature=signature,
            )
        except SignatureRefused as exc:
            widget_refusal_audit(
                workspace=workspace,
                action="widget.signature_refused",
                details={"reason": str(exc)},
                request=request,
            )
            raise IdentityRefused("The customer signature does not match.") from exc
        if len(name) > 200:
            raise ConversationError("The customer name is over 200 characters.")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                raise ConversationError("The customer email is not a valid address.") from None
        return Visitor(external_id=external_id_clean(customer_id), name=name, email=email)
    if not visitor_id:
        raise ConversationError("Send either visitor_id or customer_id with its signature.")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", visitor_id.strip()):
        raise ConversationError("The visitor id may contain only letters, digits, _ and -.")
    return Visitor(visitor_id=visitor_id_clean(visitor_id))


def widget_customer_get_or_create(*, workspace: Workspace, visitor: Visitor) -> Customer:
    """The customer row of a checked visitor (created when their chat's first message comes)."""
    if visitor.external_id:
        return customer_get_or_create_verified(
            workspace=workspace,
            external_id=visitor.external_id,
            name=visitor.name,
            email=visitor.email,
        )
    return customer_get_or_create_visitor(workspace=workspace, visitor_id=visitor.visitor_id)


def widget_refusal_audit(
    *, workspace: Workspace, action: str, details: dict[str, str], request: HttpRequest | None
) -> None:
    """An audit row for a refused widget request (a bad signature, a rate limit): at most one
    per kind and minute, because anyone can send refused requests by the thousand and the
    audit log must not become the way to fill the database."""
    window = int(time.time() // 60)
    kind = re.sub(r"[^a-z0-9]+", "-", f"{action}:{sorted(details.items())}".lower())
    if cache.add(f"audit:{kind}:{workspace.pk}:{window}", 1, timeout=90):
        audit_log_write(
            workspace=workspace,
            actor=None,
            actor_label="widget",
            action=action,
            details={**details, **request_details(request), "note": "one row a minute"},
        )


def widget_origins_clean(values: list[str]) -> list[str]:
    """Exact origins (`https://shop.example`, `http://localhost:3000`), deduplicated."""
    cleaned: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            continue
        origin = origin_normalize(value)
        if origin is None:
            raise ConversationError(
                f"{value!r} is not an origin: write scheme and host only, "
                "like https://shop.example or http://localhost:3000."
            )
        if origin not in cleaned:
            cleaned.append(origin)
    if len(cleaned) > MAX_ORIGINS:
        raise ConversationError(f"At most {MAX_ORIGINS} allowed origins.")
    return cleaned


@transaction.atomic
def widget_settings_update(
    *,
    workspace: Workspace,
    actor: Actor,
    allowed_origins: list[str] | None = None,
    title: str | None = None,
    accent_color: str | None = None,
) -> WidgetSettings:
    widget, _ = WidgetSettings.objects.select_for_update().get_or_create(workspace=workspace)
    before = {
        "allowed_origins": list(widget.allowed_origins),
        "title": widget.title,
        "accent_color": widget.accent_color,
    }
    if allowed_origins is not None:
        widget.allowed_origins = widget_origins_clean(allowed_origins)
    if title is not None:
        title = title.strip()
        if not 1 <= len(title) <= 60:
            raise ConversationError("The widget title must be 1 to 60 characters.")
        widget.title = title
    if accent_color is not None:
        if not ACCENT_RE.match(accent_color):
            raise ConversationError("The accent colour must look like #0f766e.")
        widget.accent_color = accent_color.lower()
    widget.save()
    after = {
        "allowed_origins": widget.allowed_origins,
        "title": widget.title,
        "accent_color": widget.accent_color,
    }
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action="widget.settings_update",
        target=widget,
        details={k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]},
    )
    return widget
