from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.http import Http404

from .models import Membership, Workspace


def membership_get(*, user: User | AnonymousUser, workspace_slug: str) -> Membership:
    """The user's membership in the workspace; 404 (not 403) so outsiders learn nothing."""
    if not user.is_authenticated:
        raise Http404("workspace not found")
    membership = (
        Membership.objects.select_related("workspace")
        .filter(user=user, workspace__slug=workspace_slug)
        .first()
    )
    if membership is None:
        raise Http404("workspace not found")
    return membership


def memberships_for_user(*, user: User | AnonymousUser) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return (
        Membership.objects.select_related("workspace")
        .filter(user=user, workspace__is_scratch=False)
        .order_by("workspace__name")
    )


def workspace_get_by_slug(*, slug: str) -> Workspace | None:
    return Workspace.objects.filter(slug=slug).first()
