"""The widget API's gatekeeping: which websites may call it (CORS), who the visitor is (HMAC),
which conversation a browser may open (token), and how often (rate limits in Redis)."""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from ninja.security import APIKeyHeader

from supportops.accounts.models import Workspace
from supportops.conversations.models import Conversation
from supportops.conversations.selectors import conversation_get_for_token

from .selectors import WidgetContext, widget_context_get

TOKEN_HEADER = "X-Conversation-Token"  # noqa: S105 (a header name)
IDEMPOTENCY_HEADER = "Idempotency-Key"
ALLOWED_HEADERS = ("Content-Type", TOKEN_HEADER, IDEMPOTENCY_HEADER)
ALLOWED_METHODS = ("GET", "POST", "OPTIONS")
PREFLIGHT_MAX_AGE_S = 600


# --- Origins -------------------------------------------------------------------------------


def origin_normalize(value: str) -> str | None:
    """`scheme://host[:port]` in canonical form, or None if `value` is not a bare web origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    default_port = 443 if parts.scheme == "https" else 80
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default_port else "")


def app_origins(request: HttpRequest) -> set[str]:
    """Origins of the app itself: the host the request came to, and the configured SITE_URL."""
    origins = {f"{request.scheme}://{request.get_host()}"}
    site = origin_normalize(settings.SITE_URL)
    if site:
        origins.add(site)
    return {o for o in (origin_normalize(o) for o in origins) if o}


def origin_allowed(*, request: HttpRequest, origin: str | None, allowed: list[str]) -> bool:
    """No Origin header (not a cross-site browser call) or the app's own pages, or a listed site."""
    if origin is None:
        return True
    normalized = origin_normalize(origin)
    if normalized is None:  # "null" (sandboxed frames, file://) and anything malformed
        return False
    if normalized in app_origins(request):
        return True
    return normalized in {origin_normalize(o) for o in allowed}


def _cors_headers(response: HttpResponseBase, origin: str | None) -> HttpResponseBase:
    response["Vary"] = "Origin"
    if origin is not None:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Expose-Headers"] = "Retry-After"
    return response


def widget_cors(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Wrap a widget API view whose URL holds the workspace's public `key`.

    The workspace's allowed origins decide: a refused origin gets 403 and no CORS headers, so
    the browser also hides the answer from the page; an allowed one gets its origin echoed back.
    Preflight requests are answered here and never reach the API.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        key = kwargs.get("key")
        if key is None:  # the schema and docs pages
            return view(request, *args, **kwargs)
        context = widget_context_get(public_key=str(key))
        if context is None:
            return _vary(JsonResponse({"detail": "Unknown workspace key."}, status=404))
        origin = request.headers.get("Origin")
        if not origin_allowed(request=request, origin=origin, allowed=context.allowed_origins):
            return _vary(
                JsonResponse(
                    {"detail": "This website is not allowed to use this workspace's chat widget."},
                    status=403,
                )
            )
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = ", ".join(ALLOWED_METHODS)
            response["Access-Control-Allow-Headers"] = ", ".join(ALLOWED_HEADERS)
            response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_S)
            return _cors_headers(response, origin)
        request.widget = context  # type: ignore[attr-defined]
        return _cors_headers(view(request, *args, **kwargs), origin)

    wrapper.csrf_exempt = True  # type: ignore[attr-defined]  # no cookies: nothing to forge
    return wrapper


def _vary(response: HttpResponseBase) -> HttpResponseBase:
    response["Vary"] = "Origin"
    return response


def widget_context(request: HttpRequest) -> WidgetContext:
    """The workspace resolved by `widget_cors` for this request."""
    return request.widget  # type: ignore[attr-defined,no-any-return]


# --- Identity ------------------------------------------------------------------------------


def customer_signature(*, workspace: Workspace, external_id: str) -> str:
    """What the host site's server computes: hex HMAC-SHA256 of the external id."""
    return hmac.new(
        workspace.secret.encode(), external_id.encode(), digestmod=hashlib.sha256
    ).hexdigest()


def customer_signature_valid(*, workspace: Workspace, external_id: str, signature: str) -> bool:
    expected = customer_signature(workspace=workspace, external_id=external_id)
    return hmac.compare_digest(expected, (signature or "").strip().lower())


# --- Conversation token --------------------------------------------------------------------


class ConversationToken(APIKeyHeader):
    """The secret the browser got when it started the conversation; the id alone opens nothing.

    Any failure (missing, wrong, someone else's, unknown id) is the same 404.
    """

    param_name = TOKEN_HEADER

    def authenticate(self, request: HttpRequest, key: str | None) -> Conversation | None:
        context: WidgetContext | None = getattr(request, "widget", None)
        match = request.resolver_match
        if not key or context is None or match is None:
            return None
        try:
            conversation_id = int(match.kwargs.get("conversation_id", ""))
        except (TypeError, ValueError):
            return None
        if not 0 < conversation_id < 2**63:
            return None
        return conversation_get_for_token(
            workspace=context.workspace, conversation_id=conversation_id, token=key
        )


# --- Rate limits ---------------------------------------------------------------------------


class RateLimited(Exception):
    def __init__(self, what: str, retry_after: int) -> None:
        self.what = what
        self.retry_after = retry_after
        super().__init__(f"Too many {what}; try again in {retry_after} s.")


WINDOW_S = 60


def rate_limit_take(*, bucket: str, limit: int, what: str) -> None:
    """Count one event in this minute's window for `bucket`; raise RateLimited past `limit`.

    A fixed one-minute window per key: `add` creates the counter with an expiry (past the end
    of its window, so it cannot vanish mid-window), `incr` is atomic in Redis, so concurrent
    web processes share one count.
    """
    now = time.time()
    window = int(now // WINDOW_S)
    key = f"widget:rate:{bucket}:{window}"
    cache.add(key, 0, timeout=WINDOW_S + 30)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=WINDOW_S + 30)
        count = 1
    if count > limit:
        retry_after = max(1, math.ceil((window + 1) * WINDOW_S - now))
        raise RateLimited(what, retry_after)


def widget_rate_limit(
    *,
    context: WidgetContext,
    customer_id: int | None = None,
    write: bool = False,
    message: bool = False,
) -> None:
    """Apply the widget's limits: every request per visitor, customer messages per visitor,
    and writes (starts, messages, actions) per workspace. Polls are not writes, so a busy
    site's open chats do not use up the workspace's budget."""
    key = context.workspace.public_key
    if write or message:
        rate_limit_take(
            bucket=f"ws:{key}",
            limit=settings.WIDGET_RATE_PER_WORKSPACE_PER_MIN,
            what="requests to this workspace",
        )
    if customer_id is not None:
        rate_limit_take(
            bucket=f"visitor:{key}:{customer_id}",
            limit=settings.WIDGET_RATE_PER_VISITOR_PER_MIN,
            what="requests",
        )
        if message:
            rate_limit_take(
                bucket=f"messages:{key}:{customer_id}",
                limit=settings.WIDGET_RATE_MESSAGES_PER_VISITOR_PER_MIN,
                what="messages",
            )
