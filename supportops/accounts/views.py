from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from .access import workspace_view
from .finance import FINANCE_FEATURES
from .models import Membership, Role
from .selectors import memberships_for_user

# Where each role starts its day: agents and managers work from the inbox, finance from its
# own page (the knowledge base is one section among others, not a landing page).
LANDING: dict[str, str] = {
    Role.ADMIN: "inbox:index",
    Role.MANAGER: "inbox:index",
    Role.AGENT: "inbox:index",
    Role.FINANCE: "finance-home",
}


def landing_redirect(membership: Membership) -> HttpResponse:
    return redirect(LANDING.get(membership.role, "finance-home"), membership.workspace.slug)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send the user to where their role works in their workspace, or list their workspaces."""
    memberships = list(memberships_for_user(user=request.user))
    if len(memberships) == 1:
        return landing_redirect(memberships[0])
    return render(request, "accounts/home.html", {"memberships": memberships})


@workspace_view()
@require_GET
def workspace_home(request: HttpRequest) -> HttpResponse:
    """A workspace's own address: the role's start page in it."""
    return landing_redirect(request.membership)  # type: ignore[attr-defined]


@workspace_view(Role.FINANCE, Role.ADMIN)
@require_GET
def finance_home(request: HttpRequest) -> HttpResponse:
    """What the finance role can do here today, and what is coming."""
    slug = request.workspace.slug  # type: ignore[attr-defined]
    features = [(feature, feature.url(slug)) for feature in FINANCE_FEATURES]
    return render(
        request,
        "accounts/finance.html",
        {
            "section": "finance",
            "available": [(f, url) for f, url in features if url],
            "coming": [f for f, url in features if not url],
        },
    )
