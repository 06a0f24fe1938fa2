from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .access import KNOWLEDGE_READERS
from .selectors import memberships_for_user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send the user to their first workspace, or explain that they have none."""
    memberships = list(memberships_for_user(user=request.user))
    if len(memberships) == 1 and memberships[0].role in KNOWLEDGE_READERS:
        return redirect("knowledge:article-list", workspace_slug=memberships[0].workspace.slug)
    return render(request, "accounts/home.html", {"memberships": memberships})
