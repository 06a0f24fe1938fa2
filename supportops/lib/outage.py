"""What the app answers while PostgreSQL cannot be reached (stopped, restarting, failing over).

The database is the source of truth, so nothing is accepted while it is away: the widget API
answers 503 with `Retry-After` and a JSON error (the widget keeps the customer's message and
sends it again with the same idempotency key), pages answer a plain 503 page instead of a
traceback, and Celery tasks retry (`DATABASE_UNAVAILABLE` is in their `autoretry_for`).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

# OperationalError: the server cannot be reached, closed the connection, is shutting down or
# cancelled the statement; InterfaceError: Django's connection object was already closed by an
# earlier failure. Both pass once the database is back; neither says the request was wrong.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError)

# For a task whose only transient failure is the database: `@shared_task(**DATABASE_RETRY, ...)`.
# Waits of up to 1, 2, 4, ... s (full jitter), at most 5 minutes apart, 8 times.
DATABASE_RETRY: dict[str, Any] = {
    "autoretry_for": DATABASE_UNAVAILABLE,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 8,
}

RETRY_AFTER_S = 5
API_PREFIX = "/api/"
UNAVAILABLE_DETAIL = (
    f"The service is briefly unavailable; nothing was stored. Try again in {RETRY_AFTER_S} s."
)


def unavailable_json() -> JsonResponse:
    response = JsonResponse({"detail": UNAVAILABLE_DETAIL}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


def unavailable_page() -> HttpResponse:
    # Rendered without the request: the context processors read the database.
    body = render_to_string("503.html", {"retry_after_s": RETRY_AFTER_S})
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_S)
    return response


def unavailable_response(request: HttpRequest) -> HttpResponse:
    return unavailable_json() if request.path.startswith(API_PREFIX) else unavailable_page()


class DatabaseUnavailableMiddleware:
    """Turns a database outage inside a view into a 503 (also with DEBUG on, where Django would
    show its traceback page)."""

    def __init__(self, get_response):  # type: ignore[no-untyped-def]
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)  # type: ignore[no-any-return]

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_UNAVAILABLE):
            return None
        logger.warning("database unavailable (%s): %s", request.path, exception)
        return unavailable_response(request)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an outage that surfaced outside a view (in a middleware) is still a 503;
    any other error gets Django's plain 500 page."""
    from django.views.defaults import server_error as django_server_error

    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_UNAVAILABLE):
        return unavailable_response(request)
    return django_server_error(request)
