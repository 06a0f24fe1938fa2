"""Home, and the workspace admin's settings pages: members and roles, and the audit log.
Thin: reads through selectors, every change through an audited service."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from supportops.lib.htmx import wants_fragment

from .access import workspace_view
from .finance import FINANCE_FEATURES
from .forms import AuditFilterForm, InviteForm, RoleForm
from .models import Membership, Role, Workspace
from .selectors import (
    audit_log_list,
    members_list,
    membership_get_in_workspace,
    memberships_for_user,
)
from .services import MemberError, member_invite, member_remove, member_role_change

AUDIT_PAGE_SIZE = 50

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


def _workspace(request: HttpRequest) -> Workspace:
    return request.workspace  # type: ignore[attr-defined,no-any-return]  # workspace_view


def _membership(request: HttpRequest) -> Membership:
    return request.membership  # type: ignore[attr-defined,no-any-return]  # workspace_view


# --- Members and roles (admins change; managers read) ---------------------------------------


def _members_page(request: HttpRequest, invite_form: InviteForm | None = None, status: int = 200):
    workspace = _workspace(request)
    can_edit = _membership(request).role == Role.ADMIN
    rows = [
        (m, RoleForm(initial={"role": m.role}, prefix=f"m{m.pk}"))
        for m in members_list(workspace=workspace)
    ]
    context = {
        "section": "settings",
        "tab": "members",
        "rows": rows,
        "can_edit": can_edit,
        "invite_form": invite_form or InviteForm(),
        "admin_count": sum(1 for m, _ in rows if m.role == Role.ADMIN),
    }
    return render(request, "accounts/members.html", context, status=status)


@workspace_view(Role.ADMIN, Role.MANAGER)
@require_GET
def members(request: HttpRequest) -> HttpResponse:
    return _members_page(request)


def _back_to_members(request: HttpRequest) -> HttpResponse:
    return redirect("settings:members", workspace_slug=_workspace(request).slug)


@workspace_view(Role.ADMIN)
@require_POST
def member_add(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _members_page(request, invite_form=form, status=400)
    try:
        membership = member_invite(
            workspace=_workspace(request),
            email=form.cleaned_data["email"],
            role=form.cleaned_data["role"],
            actor=request.user,
            site_url=request.build_absolute_uri("/").rstrip("/"),
        )
    except MemberError as exc:
        form.add_error("email", str(exc))
        return _members_page(request, invite_form=form, status=400)
    messages.success(request, f"Added {membership.user.email}; an invitation email is on its way.")
    return _back_to_members(request)


@workspace_view(Role.ADMIN)
@require_POST
def member_role(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = membership_get_in_workspace(
        workspace=_workspace(request), membership_id=membership_id
    )
    form = RoleForm(request.POST, prefix=f"m{membership.pk}")
    if not form.is_valid():
        messages.error(request, "Choose one of the roles.")
        return _back_to_members(request)
    try:
        member_role_change(
            membership=membership, role=form.cleaned_data["role"], actor=request.user
        )
    except MemberError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{membership.user.email} is now {form.cleaned_data['role']}.")
    return _back_to_members(request)


@workspace_view(Role.ADMIN)
@require_POST
def member_delete(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = membership_get_in_workspace(
        workspace=_workspace(request), membership_id=membership_id
    )
    try:
        member_remove(membership=membership, actor=request.user)
    except MemberError as exc:
        messages.error(request, str(exc))
        return _back_to_members(request)
    messages.success(request, f"Removed {membership.user.email} from the workspace.")
    if membership.user_id == request.user.pk:
        return redirect("home")  # they left: this workspace's pages are now 404 to them
    return _back_to_members(request)


# --- Audit log (admins, read-only) -------------------------------------------------------------


def _day_start(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@workspace_view(Role.ADMIN)
@vary_on_headers("HX-Request")
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {"group": data["group"], "actor": data["actor"].strip()}
        if data["since"]:
            filters["since"] = _day_start(data["since"])
        if data["until"]:
            filters["until"] = _day_start(data["until"] + timedelta(days=1))
    rows = audit_log_list(workspace=_workspace(request), **filters)
    page = Paginator(rows, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"section": "settings", "tab": "audit", "form": form, "page_obj": page}
    if wants_fragment(request):
        return render(request, "accounts/audit.html#audit-list", context)
    return render(request, "accounts/audit.html", context)
