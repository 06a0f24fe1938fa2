"""A stand-in for an OpenAI-compatible chat-completions server.

It listens on 127.0.0.1 (a free port), serves `POST /v1/chat/completions` the way the real
API does (bearer key, request validation, response and error bodies of the same shape) and
records every request so tests can assert on exactly what left the app.

What it answers is up to the test: queue scripted `Reply` objects (status codes, raw
malformed bodies, missing usage, delays) or set `rule`, a function from the request's
messages to the reply text. Queued replies are used first, then the rule.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"
ROLES = {"system", "developer", "user", "assistant", "tool"}


@dataclass
class Reply:
    """One scripted response. `raw` replaces the whole body (for malformed bodies)."""

    text: str = ""
    status: int = 200
    raw: bytes | None = None
    usage: bool = True
    delay_s: float = 0.0
    headers: dict[str, str] | None = None
    finish_reason: str | None = None


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, str]]:
        return self.body["messages"]

    def text(self) -> str:
        """Everything the model would read, for asserting what did or did not leave the app."""
        return "\n".join(message["content"] for message in self.messages)


def count_tokens(text: str) -> int:
    # Word pieces, not chars/4, so tests can tell reported usage from the client's estimate.
    return len(re.findall(r"\w+|[^\w\s]", text))


class ChatCompletionsStandIn:
    def __init__(self, *, api_key: str = "sk-standin", model: str = "standin-chat-1") -> None:
        self.api_key = api_key
        self.model = model
        self.rule: Callable[[list[dict[str, str]]], str] = lambda messages: "NO_ANSWER"
        self.requests: list[ReceivedRequest] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.standin = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_port}/v1"

    def start(self) -> ChatCompletionsStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def enqueue(self, *replies: Reply | str) -> None:
        with self._lock:
            for reply in replies:
                self._queue.append(Reply(text=reply) if isinstance(reply, str) else reply)

    def next_reply(self, messages: list[dict[str, str]]) -> Reply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        return Reply(text=self.rule(messages))

    def record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    @property
    def last_request(self) -> ReceivedRequest:
        return self.requests[-1]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    standin: ChatCompletionsStandIn

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that timed out and hung up is expected in tests; keep stderr quiet.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        standin = self.server.standin
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            body = {"unparsed": raw.decode(errors="replace")}
        standin.record(ReceivedRequest(self.path, dict(self.headers.items()), body))
        if self.path != CHAT_PATH:
            return self._error(404, f"Unknown request URL: POST {self.path}", "invalid_request")
        if self.headers.get("Authorization") != f"Bearer {standin.api_key}":
            return self._error(401, "Incorrect API key provided.", "invalid_api_key")
        problem = _shape_problem(body)
        if problem:
            return self._error(400, problem, None)
        reply = standin.next_reply(body["messages"])
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if reply.status != 200 or reply.raw is not None:
            return self._send(reply.status, reply.raw or _error_body(reply.status), reply.headers)
        return self._send(200, json.dumps(_completion(body, reply)).encode(), reply.headers)

    def _error(self, status: int, message: str, code: str | None) -> None:
        self._send(status, json.dumps(_error_payload(message, code)).encode(), None)

    def _send(self, status: int, raw: bytes, headers: dict[str, str] | None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        # A client that already gave up (a timeout test) is not an error here.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


def _shape_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "We could not parse the JSON body of your request."
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "you must provide a model parameter"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "'messages' must be a non-empty array"
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            return f"messages[{index}].role must be one of {sorted(ROLES)}"
        if not isinstance(message.get("content"), str):
            return f"messages[{index}].content must be a string"
    max_tokens = body.get("max_tokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        return "max_tokens must be a positive integer"
    return None


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    text, finish_reason = reply.text, reply.finish_reason or "stop"
    max_tokens = body.get("max_tokens")
    if max_tokens and count_tokens(text) > max_tokens:
        pieces = re.findall(r"\w+|[^\w\s]", text)[:max_tokens]
        text, finish_reason = " ".join(pieces), "length"
    payload: dict[str, Any] = {
        "id": f"chatcmpl-standin{int(time.time() * 1000)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
    }
    if reply.usage:
        prompt = sum(count_tokens(message["content"]) + 4 for message in body["messages"])
        completion = count_tokens(text)
        payload["usage"] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
    return payload


def _error_payload(message: str, code: str | None) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    }


def _error_body(status: int) -> bytes:
    message = {429: "Rate limit reached for requests", 500: "The server had an error"}.get(
        status, "Request failed"
    )
    return json.dumps(_error_payload(message, None)).encode()
