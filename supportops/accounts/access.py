"""Role checks for views: every workspace page declares which roles may use it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from .models import Role
from .selectors import membership_get

KNOWLEDGE_READERS = (Role.ADMIN, Role.MANAGER, Role.AGENT)
KNOWLEDGE_EDITORS = (Role.ADMIN, Role.MANAGER)


def workspace_view(
    *roles: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Resolve `workspace_slug` to the user's membership and require one of `roles`.

    Outsiders get 404 (the workspace is invisible to them); members without the role get 403.
    The view receives `request.membership` and `request.workspace`.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapper(
            request: HttpRequest, workspace_slug: str, *args: Any, **kwargs: Any
        ) -> HttpResponse:
            membership = membership_get(user=request.user, workspace_slug=workspace_slug)
            # Set before the role check, so the 403 page shows the workspace's layout.
            request.membership = membership  # type: ignore[attr-defined]
            request.workspace = membership.workspace  # type: ignore[attr-defined]
            if roles and membership.role not in roles:
                raise PermissionDenied("your role does not allow this page")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
