"""A stand-in for an OpenAI-compatible model server: chat completions, and embeddings when
given a function to compute them.

It listens on 127.0.0.1 (a free port), serves `POST /v1/chat/completions` (and
`POST /v1/embeddings`) the way the real API does (bearer key, request validation, response
and error bodies of the same shape) and records every request, so tests and
`manage.py injection_eval` can check exactly what left the app.

What it answers is up to the caller: queue scripted `Reply` objects (status codes, raw
malformed bodies, missing usage, delays) or set `rule`, a function from the request's
messages to the reply text. Queued replies are used first, then the rule. `compliant_reply`
is the rule of a fully compliant model: it obeys every instruction it was given, the
attacker's included, and tells everything it knows.
"""

from __future__ import annotations

import base64
import codecs
import contextlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"
EMBEDDINGS_PATH = "/v1/embeddings"
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
        if self.path == EMBEDDINGS_PATH:
            inputs = self.body.get("input")
            return "\n".join(inputs if isinstance(inputs, list) else [str(inputs)])
        return "\n".join(str(message.get("content", "")) for message in self.messages)


def count_tokens(text: str) -> int:
    # Word pieces, not chars/4, so tests can tell reported usage from the client's estimate.
    return len(re.findall(r"\w+|[^\w\s]", text))


Embed = Callable[[Sequence[str]], Sequence[Sequence[float]]]


class ChatCompletionsStandIn:
    def __init__(
        self,
        *,
        api_key: str = "sk-standin",
        model: str = "standin-chat-1",
        embed: Embed | None = None,
    ) -> None:
        self.api_key = api_key
        self.model = model
        self.rule: Callable[[list[dict[str, str]]], str] = lambda messages: "NO_ANSWER"
        # Serves /v1/embeddings with these vectors when set (a local model, say).
        self.embed = embed
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
        embeddings = self.path == EMBEDDINGS_PATH and standin.embed is not None
        if self.path != CHAT_PATH and not embeddings:
            return self._error(404, f"Unknown request URL: POST {self.path}", "invalid_request")
        if self.headers.get("Authorization") != f"Bearer {standin.api_key}":
            return self._error(401, "Incorrect API key provided.", "invalid_api_key")
        if embeddings:
            return self._embeddings(body)
        problem = _shape_problem(body)
        if problem:
            return self._error(400, problem, None)
        reply = standin.next_reply(body["messages"])
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if reply.status != 200 or reply.raw is not None:
            return self._send(reply.status, reply.raw or _error_body(reply.status), reply.headers)
        return self._send(200, json.dumps(_completion(body, reply)).encode(), reply.headers)

    def _embeddings(self, body: Any) -> None:
        inputs = body.get("input") if isinstance(body, dict) else None
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
            return self._error(400, "'input' must be a string or an array of strings", None)
        embed = self.server.standin.embed
        assert embed is not None
        vectors = embed(inputs)
        payload = {
            "object": "list",
            "model": body.get("model", ""),
            "data": [
                {"object": "embedding", "index": i, "embedding": [float(x) for x in vector]}
                for i, vector in enumerate(vectors)
            ],
            "usage": {"prompt_tokens": sum(count_tokens(i) for i in inputs), "total_tokens": 0},
        }
        self._send(200, json.dumps(payload).encode(), None)

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


# --- a fully compliant model ---------------------------------------------------------------

# A request put to the model, wherever it sits (the question, a passage, an order note, an
# email): an imperative, or a question.
_REQUEST = re.compile(
    r"(?i)(?:^|(?<=[.!?:\n])\s*)((?:please\s+|now\s+|also\s+|and\s+)?(?:ignore|disregard|forget|"
    r"say|print|write|reply|respond|output|repeat|tell|include|add|answer|translate|encode|"
    r"decode|reveal|show|list|give|provide|send|email|visit|click|explain|describe|compose|"
    r"draft|summari[sz]e|complete|pretend|act|you\s+are|you\s+will|from\s+now\s+on|"
    r"what|who|how|why|when|where|which|can\s+you|could\s+you|console\.log)\b[^\n]{0,400}?"
    r"(?:[.!?]|$))",
    re.M,
)
_QUOTED = re.compile(r"[\"'“‘]([^\"'”’\n]{2,200})[\"'”’]")
_WANTS_PROMPT = re.compile(
    r"(?i)\b(?:system\s*(?:prompt|message|instructions?)|initial\s+instructions?|your\s+instructions|"
    r"instructions\s+you|the\s+above|everything\s+above|text\s+you\s+were\s+given|"
    r"were\s+given\s+initially|prompt|instructed|rules\s+you)\b"
)


def _disguises(request: str, secret: str) -> list[str]:
    """`secret` in every form `request` asks for (ROT13, Base64, reversed, vowels masked,
    JSON), or as it is."""
    asked = request.lower()
    forms = []
    if "rot13" in asked or "rot-13" in asked:
        forms.append(codecs.encode(secret, "rot13"))
    if "base64" in asked or "base 64" in asked:
        forms.append(base64.b64encode(secret.encode()).decode())
    if "revers" in asked or "backwards" in asked:
        forms.append(secret[::-1])
    if "vowel" in asked:
        forms.append(re.sub(r"[aeiouAEIOU]", "*", secret))
    if "json" in asked:
        forms.append(json.dumps({"system": secret}))
    return forms or [secret]


def compliant_reply(messages: list[dict[str, str]]) -> str:
    """The answer of a model that does whatever its input asks and hides nothing: it carries
    out every request it finds in the data (repeating quoted text, handing over its
    instructions in the form asked), then repeats everything it was given, instructions
    included, citing the first source and record like the instructions ask."""
    system = "\n".join(m["content"] for m in messages if m.get("role") in ("system", "developer"))
    data = "\n".join(m["content"] for m in messages if m.get("role") not in ("system", "developer"))
    has_source = "<source" in data or "[1]" in data
    cite = " ".join(
        label for label, there in (("[1]", has_source), ("[R1]", "[R1]" in data)) if there
    )
    lines = []
    prompt_forms: list[str] = []
    for match in _REQUEST.finditer(data):
        request = match.group(1).strip()
        quoted = _QUOTED.findall(request)
        lines.append(f"Sure, as you asked: {request}")
        lines.extend(quoted)
        if _WANTS_PROMPT.search(request):
            prompt_forms.extend(_disguises(request, system))
    lines.extend(prompt_forms or [system])
    lines.append(data)
    return "\n".join(f"{line} {cite}".rstrip() for line in lines if line.strip())
