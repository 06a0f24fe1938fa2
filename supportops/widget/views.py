"""The embed script at a stable address, and a demo shop page that embeds it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.contrib.staticfiles import finders
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from supportops.accounts.demo import DEMO_SLUG
from supportops.accounts.selectors import membership_get, workspace_get_by_slug

from .security import customer_identity_signed

ASSET_TYPES = {
    "widget.js": "text/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
}


@cache
def _asset_cached(name: str) -> bytes:
    return _asset_read(name)


def _asset_read(name: str) -> bytes:
    path = finders.find(f"widget/{name}")
    if not path:
        raise Http404(f"widget/{name} is missing from the static files")
    return Path(str(path)).read_bytes()


@require_GET
def widget_asset(request: HttpRequest, name: str) -> HttpResponse:
    """`/widget.js` and `/widget.css`: one address for every embedding site, short cache."""
    filename = f"widget.{name}"  # the route is widget.<name>
    if filename not in ASSET_TYPES:
        raise Http404
    body = _asset_read(filename) if settings.DEBUG else _asset_cached(filename)
    response = HttpResponse(body, content_type=ASSET_TYPES[filename])
    response["Cache-Control"] = "public, max-age=300"
    # Loaded by other websites, including ones that isolate themselves (COEP).
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def demo_signing_allowed(slug: str) -> bool:
    """Signing any customer id lets whoever opens the page act as that customer, so it is
    only for the demo workspace, whose customers are made up, on a development machine."""
    return settings.DEBUG and slug == DEMO_SLUG


@require_GET
def widget_demo(request: HttpRequest) -> HttpResponse:
    """A fictional shop page with the widget embedded: `?workspace=<slug>&customer=<id>`.

    The demo workspace is open to anyone; other workspaces only to their members.
    """
    slug = request.GET.get("workspace", DEMO_SLUG)
    if slug != DEMO_SLUG:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        membership_get(user=request.user, workspace_slug=slug)  # 404 for outsiders
    workspace = workspace_get_by_slug(slug=slug)
    if workspace is None or workspace.is_scratch:
        raise Http404("workspace not found")
    customer_id = request.GET.get("customer", "").strip()[:120]
    customer_name = request.GET.get("name", "").strip()[:200]
    signing = demo_signing_allowed(slug)
    identity: dict[str, object] = {}
    if customer_id and signing:
        identity = customer_identity_signed(
            workspace=workspace, external_id=customer_id, name=customer_name
        )
    return render(
        request,
        "widget/demo.html",
        {
            "workspace": workspace,
            "widget_src": request.build_absolute_uri("/widget.js"),
            "customer_id": customer_id if identity else "",
            "customer_name": customer_name if identity else "",
            "identity": identity,
            "signing_refused": bool(customer_id and not signing),
            "signing_allowed": signing,
        },
    )
