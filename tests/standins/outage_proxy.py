"""A reverse proxy in front of the app that can play a database outage to the browser.

While `down` is set it answers every widget API request (not the CORS preflight, which the app
also lets through during an outage) the way the app does while PostgreSQL is away: 503, a
`Retry-After` header and a JSON error, with the caller's origin allowed to read it. Otherwise
it forwards the request to the app unchanged. It logs each API request it sees.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from supportops.lib.commands import http_server
from supportops.lib.outage import UNAVAILABLE_DETAIL

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host"}


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    status: int
    at: float


@dataclass
class OutageProxy:
    upstream: str
    retry_after_s: int = 1
    down: bool = False
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    origin: str = ""

    def requests(self, method: str, path_part: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.method == method and path_part in s.path]


def _handler(proxy: OutageProxy) -> type[BaseHTTPRequestHandler]:
    upstream = urlsplit(proxy.upstream)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            is_api = self.path.startswith("/api/")
            if is_api and proxy.down and self.command != "OPTIONS":
                status, headers, payload = self._outage()
            else:
                status, headers, payload = self._upstream(body)
            if is_api:
                with proxy.lock:
                    proxy.seen.append(
                        Seen(self.command, self.path, dict(self.headers), status, time.monotonic())
                    )
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _outage(self) -> tuple[int, list[tuple[str, str]], bytes]:
            origin = self.headers.get("Origin", "")
            headers = [
                ("Content-Type", "application/json"),
                ("Retry-After", str(proxy.retry_after_s)),
                ("Vary", "Origin"),
                ("Access-Control-Allow-Origin", origin),
                ("Access-Control-Expose-Headers", "Retry-After"),
            ]
            return 503, headers, json.dumps({"detail": UNAVAILABLE_DETAIL}).encode()

        def _upstream(self, body: bytes | None) -> tuple[int, list[tuple[str, str]], bytes]:
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Host"] = upstream.netloc
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            conn.close()
            return response.status, response.getheaders(), payload

        do_GET = do_POST = do_OPTIONS = _forward

    return Handler


@contextmanager
def outage_proxy(upstream: str) -> Iterator[OutageProxy]:
    proxy = OutageProxy(upstream=upstream)
    with http_server(_handler(proxy)) as origin:
        proxy.origin = origin
        yield proxy
