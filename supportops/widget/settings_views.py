"""Widget settings for the workspace's admins and managers: the embed code to copy, the
websites allowed to embed it, its appearance; and, for admins only, the signing secret
(shown only on request after a fresh password check, rotated with a two-secret window).
Every change goes through an audited service."""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from supportops.accounts.access import workspace_view
from supportops.accounts.models import Role, Workspace
from supportops.accounts.selectors import secret_masked, workspace_secrets_valid
from supportops.accounts.services import (
    audit_log_write,
    workspace_secret_previous_retire,
    workspace_secret_rotate,
)
from supportops.conversations.services import ConversationError

from .forms import AppearanceForm, OriginForm
from .selectors import widget_settings_get
from .services import widget_settings_update

SETTINGS_ROLES = (Role.ADMIN, Role.MANAGER)


def _workspace(request: HttpRequest) -> Workspace:
    return request.workspace  # type: ignore[attr-defined,no-any-return]  # workspace_view


def _is_admin(request: HttpRequest) -> bool:
    return bool(request.membership.role == Role.ADMIN)  # type: ignore[attr-defined]


def _page(request: HttpRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    workspace = _workspace(request)
    widget = widget_settings_get(workspace=workspace)
    script_src = request.build_absolute_uri("/widget.js")
    embed_code = (
        f'<script src="{script_src}" data-workspace="{workspace.public_key}" async></script>'
    )
    previous_valid = len(workspace_secrets_valid(workspace=workspace)) > 1
    context = {
        "section": "settings",
        "tab": "widget",
        "widget": widget,
        "embed_code": embed_code,
        "app_origin": request.build_absolute_uri("/").rstrip("/"),
        "is_admin": _is_admin(request),
        "secret_masked": secret_masked(workspace.secret),
        "previous_masked": secret_masked(workspace.secret_previous) if previous_valid else "",
        "previous_until": workspace.secret_previous_until if previous_valid else None,
        "appearance_form": AppearanceForm(
            initial={"title": widget.title, "accent_color": widget.accent_color}
        ),
        "origin_form": OriginForm(),
        **extra,
    }
    return render(request, "widget/settings.html", context, status=status)


def _back(request: HttpRequest) -> HttpResponse:
    return redirect("widget_settings:index", workspace_slug=_workspace(request).slug)


@workspace_view(*SETTINGS_ROLES)
@require_GET
def widget_settings(request: HttpRequest) -> HttpResponse:
    return _page(request)


@workspace_view(*SETTINGS_ROLES)
@require_POST
def appearance_save(request: HttpRequest) -> HttpResponse:
    form = AppearanceForm(request.POST)
    if not form.is_valid():
        return _page(request, appearance_form=form, status=400)
    widget_settings_update(
        workspace=_workspace(request),
        actor=request.user,
        title=form.cleaned_data["title"],
        accent_color=form.cleaned_data["accent_color"],
    )
    messages.success(request, "Appearance saved; open chats pick it up on their next page load.")
    return _back(request)


@workspace_view(*SETTINGS_ROLES)
@require_POST
def origin_add(request: HttpRequest) -> HttpResponse:
    form = OriginForm(request.POST)
    if form.is_valid():
        workspace = _workspace(request)
        current = list(widget_settings_get(workspace=workspace).allowed_origins or [])
        try:
            widget = widget_settings_update(
                workspace=workspace,
                actor=request.user,
                allowed_origins=[*current, form.cleaned_data["origin"]],
            )
        except ConversationError as exc:
            form.add_error("origin", str(exc))
        else:
            added = widget.allowed_origins[-1] if widget.allowed_origins else ""
            messages.success(request, f"{added} may now embed the chat widget.")
            return _back(request)
    return _page(request, origin_form=form, status=400)


@workspace_view(*SETTINGS_ROLES)
@require_POST
def origin_remove(request: HttpRequest) -> HttpResponse:
    workspace = _workspace(request)
    origin = request.POST.get("origin", "")
    current = list(widget_settings_get(workspace=workspace).allowed_origins or [])
    if origin in current:
        widget_settings_update(
            workspace=workspace,
            actor=request.user,
            allowed_origins=[o for o in current if o != origin],
        )
        messages.success(request, f"{origin} may no longer embed the chat widget.")
    return _back(request)


# --- The signing secret: admins only, after a fresh password check -----------------------------


@workspace_view(Role.ADMIN)
@require_POST
@reauthentication_required
@never_cache
def secret_reveal(request: HttpRequest) -> HttpResponse:
    workspace = _workspace(request)
    audit_log_write(
        workspace=workspace, actor=request.user, action="widget.secret_reveal", target=workspace
    )
    return _page(request, revealed_secret=workspace.secret)


@workspace_view(Role.ADMIN)
@require_POST
@reauthentication_required
@never_cache
def secret_rotate(request: HttpRequest) -> HttpResponse:
    workspace = workspace_secret_rotate(workspace=_workspace(request), actor=request.user)
    request.workspace = workspace  # type: ignore[attr-defined]
    messages.success(
        request,
        "New signing secret made. Put it on your servers; the previous one keeps working "
        "until the time shown below, or until you retire it.",
    )
    return _page(request, revealed_secret=workspace.secret, just_rotated=True)


@workspace_view(Role.ADMIN)
@require_POST
def secret_retire(request: HttpRequest) -> HttpResponse:
    workspace_secret_previous_retire(workspace=_workspace(request), actor=request.user)
    messages.success(request, "The previous signing secret is no longer accepted.")
    return _back(request)
