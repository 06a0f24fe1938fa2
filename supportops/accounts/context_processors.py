from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .selectors import memberships_for_user


def workspace(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    return {
        "current_membership": membership,
        "current_workspace": getattr(request, "workspace", None),
        "user_memberships": memberships_for_user(user=request.user)
        if hasattr(request, "user")
        else [],
    }
