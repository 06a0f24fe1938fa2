"""The widget API's gatekeeping: which websites may call it (CORS), who the visitor is (HMAC),
which conversation a browser may open (token), and how often (rate limits in Redis)."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils import timezone
from ninja.security import APIKeyHeader

from supportops.accounts.models import Workspace
from supportops.accounts.selectors import workspace_secrets_valid
from supportops.conversations.models import Conversation
from supportops.conversations.selectors import conversation_get_for_token
from supportops.lib.outage import DATABASE_UNAVAILABLE, unavailable_json

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
        origin = request.headers.get("Origin")
        try:
            context = widget_context_get(public_key=str(key))
        except DATABASE_UNAVAILABLE:
            # No allowed origins to check against. The answer holds no data, so any page may
            # read it: the widget then sees the 503 and its Retry-After and waits, instead of
            # an opaque network error. The preflight passes (uncached) for the same reason;
            # the request after it meets the origin check once the database is back.
            if request.method == "OPTIONS":
                return _cors_headers(_preflight(cache=False), origin)
            return _cors_headers(unavailable_json(), origin)
        if context is None:
            return _vary(JsonResponse({"detail": "Unknown workspace key."}, status=404))
        if not origin_allowed(request=request, origin=origin, allowed=context.allowed_origins):
            return _vary(
                JsonResponse(
                    {"detail": "This website is not allowed to use this workspace's chat widget."},
                    status=403,
                )
            )
        if request.method == "OPTIONS":
            return _cors_headers(_preflight(cache=True), origin)
        request.widget = context  # type: ignore[attr-defined]
        return _cors_headers(view(request, *args, **kwargs), origin)

    wrapper.csrf_exempt = True  # type: ignore[attr-defined]  # no cookies: nothing to forge
    return wrapper


def _preflight(*, cache: bool) -> HttpResponse:
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = ", ".join(ALLOWED_METHODS)
    response["Access-Control-Allow-Headers"] = ", ".join(ALLOWED_HEADERS)
    if cache:
        response["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE_S)
    return response


def _vary(response: HttpResponseBase) -> HttpResponseBase:
    response["Vary"] = "Origin"
    return response


def widget_context(request: HttpRequest) -> WidgetContext:
    """The workspace resolved by `widget_cors` for this request."""
    return request.widget  # type: ignore[attr-defined,no-any-return]


# --- Identity ------------------------------------------------------------------------------
# The host site's server signs who the customer is and until when: hex HMAC-SHA256, with the
# workspace secret, of the customer id, email, name and expiry (Unix seconds), joined by
# newlines (none of the four may contain one). The README shows the host-side code.

SIGNATURE_RE = re.compile(r"[0-9a-f]{64}")


class SignatureRefused(Exception):
    """Why a customer signature was refused (said to the audit log, never to the caller)."""


def signature_message(*, external_id: str, email: str, name: str, expires: int) -> bytes:
    return "\n".join((external_id, email, name, str(expires))).encode("utf-8")


def customer_signature(
    *, secret: str, external_id: str, email: str = "", name: str = "", expires: int
) -> str:
    """What the host site's server computes."""
    message = signature_message(external_id=external_id, email=email, name=name, expires=expires)
    return hmac.new(secret.encode(), message, digestmod=hashlib.sha256).hexdigest()


def customer_identity_signed(
    *, workspace: Workspace, external_id: str, email: str = "", name: str = "", ttl_s: int = 3600
) -> dict[str, Any]:
    """The signed-customer fields of a conversation start, signed with the current secret (the
    demo page and tests; a real host site computes this on its own server)."""
    expires = int(time.time()) + ttl_s
    return {
        "customer_id": external_id,
        "customer_email": email,
        "customer_name": name,
        "signature_expires": expires,
        "signature": customer_signature(
            secret=workspace.secret,
            external_id=external_id,
            email=email,
            name=name,
            expires=expires,
        ),
    }


def customer_signature_check(
    *,
    workspace: Workspace,
    external_id: str,
    email: str,
    name: str,
    expires: int | None,
    signature: str,
    now: float | None = None,
) -> None:
    """Raise SignatureRefused unless `signature` vouches for exactly these fields, now."""
    now = time.time() if now is None else now
    signature = (signature or "").strip().lower()
    # Checked before any comparison: compare_digest raises on non-ASCII text (a 500).
    if not SIGNATURE_RE.fullmatch(signature):
        raise SignatureRefused("malformed")
    if any(ch in value for value in (external_id, email, name) for ch in "\r\n\x00"):
        raise SignatureRefused("line break in a signed field")
    if expires is None:
        raise SignatureRefused("no expiry")
    if expires <= now:
        raise SignatureRefused("expired")
    if expires > now + settings.WIDGET_SIGNATURE_MAX_AGE_HOURS * 3600:
        raise SignatureRefused("expiry too far ahead")
    given = signature.encode("ascii")
    for secret in workspace_secrets_valid(workspace=workspace):
        expected = customer_signature(
            secret=secret, external_id=external_id, email=email, name=name, expires=expires
        )
        if hmac.compare_digest(expected.encode("ascii"), given):
            return
    raise SignatureRefused("does not match")


# --- Conversation token --------------------------------------------------------------------


def token_usable(
    *, conversation: Conversation, after_end: bool, now: datetime | None = None
) -> bool:
    """A token opens its chat for WIDGET_TOKEN_TTL_HOURS after the start. Once the chat has
    ended, only what the ended chat still shows (the transcript, the rating, a message that
    reopens it) works, for WIDGET_TOKEN_ENDED_GRACE_MINUTES; then nothing (a new chat starts)."""
    now = now or timezone.now()
    if conversation.created_at + timedelta(hours=settings.WIDGET_TOKEN_TTL_HOURS) <= now:
        return False
    if conversation.status != Conversation.Status.RESOLVED:
        return True
    if not after_end or conversation.resolved_at is None:
        return False
    grace = timedelta(minutes=settings.WIDGET_TOKEN_ENDED_GRACE_MINUTES)
    return conversation.resolved_at + grace > now


class ConversationToken(APIKeyHeader):
    """The secret the browser got when it started the conversation; the id alone opens nothing.

    Any failure (missing, wrong, someone else's, unknown id, expired) is the same 404.
    `after_end`: the endpoint serves an ended chat too, within the grace period.
    """

    param_name = TOKEN_HEADER

    def __init__(self, *, after_end: bool = False) -> None:
        super().__init__()
        self.after_end = after_end

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
        conversation = conversation_get_for_token(
            workspace=context.workspace, conversation_id=conversation_id, token=key
        )
        if conversation is None:
            return None
        return (
            conversation
            if token_usable(conversation=conversation, after_end=self.after_end)
            else None
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
