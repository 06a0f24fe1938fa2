"""Who is on the other end of a request: the client's IP address behind trusted proxies."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

UNKNOWN_IP = "0.0.0.0"  # noqa: S104  (a placeholder, never bound)


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The client's address: with TRUSTED_PROXY_COUNT = n, the n-th X-Forwarded-For entry from
    the right (each trusted proxy appends the address it saw; entries further left are the
    client's to invent); otherwise, or when the header is shorter or malformed (a request
    that skipped the proxies), the connection's own address."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [p for p in request.headers.get("X-Forwarded-For", "").split(",") if p.strip()]
        if len(forwarded) >= count:
            ip = _valid_ip(forwarded[-count])
            if ip:
                return ip
    return _valid_ip(request.META.get("REMOTE_ADDR", "")) or UNKNOWN_IP
