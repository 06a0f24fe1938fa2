"""403 and 404 as pages of the product: in its layout, saying what happened, with a way back.

Views raise `Http404` or `PermissionDenied` as usual. `ErrorPageMiddleware` turns those
into these pages (also with DEBUG on, where Django would show its technical 404 page);
`handler403`/`handler404` in the URL conf cover what is raised outside views (an unknown
address). An htmx request gets a small fragment, not a whole page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

TITLES = {403: "You don’t have access to this page", 404: "Page not found"}


def _back_url(request: HttpRequest) -> str:
    """Where the person came from, if that was a page of this site."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return ""


def error_page(request: HttpRequest, status: int) -> HttpResponse:
    membership = getattr(request, "membership", None)
    context: dict[str, Any] = {
        "status": status,
        "title": TITLES[status],
        "back_url": _back_url(request),
        "role": membership.get_role_display() if membership is not None else "",
    }
    if getattr(request, "htmx", False):
        return render(request, "errors/fragment.html", context, status=status)
    return render(request, "errors/error.html", context, status=status)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(request, 404)


class ErrorPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, PermissionDenied):
            return error_page(request, 403)
        if isinstance(exception, Http404):
            return error_page(request, 404)
        return None
