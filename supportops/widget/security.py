"""The widget API's gatekeeping: which websites may call it (CORS), who the visitor is (HMAC),
which conversation a browser may open (token), and how often (rate limits in Redis)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.core.signing import TimestampSigner
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from limits import RateLimitItem, RateLimitItemPerMinute, parse_many
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import SlidingWindowCounterRateLimiter
from ninja.security import APIKeyHeader

from supportops.accounts.models import Workspace
from supportops.accounts.selectors import workspace_secrets_valid
from supportops.conversations.models import Conversation
from supportops.conversations.selectors import conversation_get_for_token
from supportops.lib.client import client_ip
from supportops.lib.outage import DATABASE_UNAVAILABLE, unavailable_json

from .selectors import WidgetContext, widget_context_get

logger = logging.getLogger(__name__)

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


# --- Pending chat ------------------------------------------------------------------------
# Starting a chat stores nothing: the browser gets a signed, expiring "pending chat" token
# holding what the start decided (who the visitor is, the rollout plan, the first message it
# was shown). Its first message (or "Talk to a person") brings the token back and creates
# the customer and the conversation then. The conversation's own token is derived from the
# pending token's random nonce, so a retry of that first request finds the conversation it
# created (token hashes are unique) instead of creating a second one.

PENDING_SALT = "supportops.widget.pending-chat"
CONVERSATION_TOKEN_SALT = "supportops.widget.pending-chat.conversation-token"  # noqa: S105


class PendingChatRefused(Exception):
    """A pending chat token that cannot open a chat; `status` 404 (not ours) or 410 (expired)."""

    def __init__(self, message: str, status: int) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class PendingChat:
    """What a chat's start decided, carried by its token until the first message."""

    workspace_id: int
    nonce: str
    visitor_id: str = ""  # an anonymous visitor
    external_id: str = ""  # a customer the host site signed, with the signed name and email
    name: str = ""
    email: str = ""
    arm: str = ""
    bucket: float = 0.0
    start: str = ""  # rollout.Assignment.Start
    phase_id: int | None = None
    reason: str = ""
    author: str = ""  # the first message the customer was shown (greeting or notice)
    kind: str = ""
    text: str = ""

    @property
    def identity(self) -> str:
        """Who the per-visitor rate limits count (`rollout.services.customer_identity`, the
        same before and after the customer row exists)."""
        if self.external_id:
            return f"customer:{self.external_id}"
        return f"visitor:{self.visitor_id}"

    @property
    def conversation_token(self) -> str:
        """The token of the conversation this pending chat becomes (the same on a retry)."""
        return salted_hmac(CONVERSATION_TOKEN_SALT, self.nonce, algorithm="sha256").hexdigest()


def pending_chat_sign(chat: PendingChat) -> str:
    return TimestampSigner(salt=PENDING_SALT).sign_object(asdict(chat), compress=True)


def pending_chat_expires_at() -> datetime:
    return timezone.now() + timedelta(minutes=settings.WIDGET_PENDING_CHAT_TTL_MINUTES)


def pending_chat_read(
    *, token: str, workspace: Workspace, expired_ok: Callable[[PendingChat], bool] | None = None
) -> PendingChat:
    """The pending chat a token carries, for this workspace only; PendingChatRefused if it is
    forged, from another workspace or older than WIDGET_PENDING_CHAT_TTL_MINUTES. An expired
    token still counts when `expired_ok(chat)` says so (its chat already exists: a retry of
    the first message whose answer was lost)."""
    signer = TimestampSigner(salt=PENDING_SALT)
    not_found = PendingChatRefused("This chat was not found; start a new one.", 404)
    token = (token or "").strip()
    if not token or len(token) > 8000 or not token.isascii():
        raise not_found
    max_age = timedelta(minutes=settings.WIDGET_PENDING_CHAT_TTL_MINUTES)
    expired = False
    try:
        data = signer.unsign_object(token, max_age=max_age)
    except signing.SignatureExpired:
        expired = True
        data = signer.unsign_object(token)
    except (signing.BadSignature, ValueError):
        raise not_found from None
    try:
        chat = PendingChat(**data)
    except TypeError:
        raise not_found from None
    if chat.workspace_id != workspace.pk:
        raise not_found
    if expired and not (expired_ok and expired_ok(chat)):
        raise PendingChatRefused(
            "This chat expired before its first message; start a new one.", 410
        )
    return chat


# --- Rate limits ---------------------------------------------------------------------------
# Counted in Redis by the `limits` library (sliding-window counters, atomic across web
# processes). Per client IP first: one anonymous client sending starts by the hundred is
# refused at its own limit, cheaply (before any identity check or database write), and its
# refused requests never count against the workspace; the workspace-wide limit on writes is
# the last resort against many addresses at once. While Redis is briefly unreachable (a
# restart) the limits let requests through rather than turn the chat off: the database
# still takes the message, and nothing else depends on the counters.


class RateLimited(Exception):
    def __init__(self, what: str, retry_after: int, scope: str = "") -> None:
        self.what = what
        self.retry_after = retry_after
        self.scope = scope  # "ip", "visitor" or "workspace": for the audit row
        super().__init__(f"Too many {what}; try again in {retry_after} s.")


@functools.cache
def _limiter() -> SlidingWindowCounterRateLimiter:
    # The cache's Redis: `unix:///path?db=N` is spelled `redis+unix://` for `limits`.
    uri = settings.CACHE_URL
    if uri.startswith("unix://"):
        uri = "redis+unix://" + uri.removeprefix("unix://")
    storage = RedisStorage(uri, key_prefix="supportops:widget-rate", wrap_exceptions=True)
    return SlidingWindowCounterRateLimiter(storage)


def rate_limits_parse(value: str, name: str) -> list[RateLimitItem]:
    """`"20/minute;200/hour"` (limits' notation) as rate items; ImproperlyConfigured if bad."""
    try:
        items = parse_many(value)
    except ValueError:
        items = []
    if not items:
        raise ImproperlyConfigured(
            f"{name} must be limits like '20/minute' or '20/minute;200/hour', got {value!r}"
        )
    return items


def _take(items: list[RateLimitItem], bucket: str, what: str, scope: str) -> None:
    limiter = _limiter()
    try:
        for item in items:
            if not limiter.hit(item, bucket):
                reset = limiter.get_window_stats(item, bucket).reset_time
                retry_after = max(1, math.ceil(reset - time.time()))
                raise RateLimited(what, min(retry_after, item.get_expiry()), scope)
    except StorageError as exc:
        logger.warning("rate limits not counted, Redis unavailable: %s", exc)


def rate_limit_take(*, bucket: str, limit: int, what: str, scope: str = "") -> None:
    """Count one event for `bucket`; raise RateLimited past `limit` a minute."""
    _take([RateLimitItemPerMinute(limit)], bucket, what, scope)


def client_network(request: HttpRequest) -> str:
    """The client's address as limits count it: an IPv4 address, or the /64 network of an
    IPv6 one (one subscriber gets a whole /64 and can use any address in it)."""
    ip = ipaddress.ip_address(client_ip(request))
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def widget_ip_limit(*, request: HttpRequest, context: WidgetContext, start: bool = False) -> None:
    """Per client IP (behind TRUSTED_PROXY_COUNT proxies): conversation starts
    (WIDGET_RATE_STARTS_PER_IP) and writes of any kind (WIDGET_RATE_WRITES_PER_IP)."""
    key = f"{context.workspace.public_key}:{client_network(request)}"
    if start:
        _take(
            rate_limits_parse(settings.WIDGET_RATE_STARTS_PER_IP, "WIDGET_RATE_STARTS_PER_IP"),
            f"ip-starts:{key}",
            "new chats from your network",
            "ip",
        )
    _take(
        rate_limits_parse(settings.WIDGET_RATE_WRITES_PER_IP, "WIDGET_RATE_WRITES_PER_IP"),
        f"ip-writes:{key}",
        "requests from your network",
        "ip",
    )


def widget_rate_limit(
    *,
    context: WidgetContext,
    visitor: int | str | None = None,
    write: bool = False,
    message: bool = False,
    request: HttpRequest | None = None,
) -> None:
    """Apply the widget's limits: writes (starts, messages, actions) per client IP first, then
    every request per visitor, customer messages per visitor, and last writes per workspace.
    Polls are not writes, so a busy site's open chats do not use up the workspace's budget.
    `visitor`: the customer's id, or a pending chat's identity before the customer exists."""
    key = context.workspace.public_key
    if request is not None and (write or message):
        widget_ip_limit(request=request, context=context)
    if visitor is not None:
        rate_limit_take(
            bucket=f"visitor:{key}:{visitor}",
            limit=settings.WIDGET_RATE_PER_VISITOR_PER_MIN,
            what="requests",
            scope="visitor",
        )
        if message:
            rate_limit_take(
                bucket=f"messages:{key}:{visitor}",
                limit=settings.WIDGET_RATE_MESSAGES_PER_VISITOR_PER_MIN,
                what="messages",
                scope="visitor",
            )
    if write or message:
        rate_limit_take(
            bucket=f"ws:{key}",
            limit=settings.WIDGET_RATE_PER_WORKSPACE_PER_MIN,
            what="requests to this workspace",
            scope="workspace",
        )
