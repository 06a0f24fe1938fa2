"""OpenAI-compatible chat-completions provider (OpenAI, vLLM, Ollama, llama.cpp server, ...).

Plain HTTP: one POST to `{base}/chat/completions`. Every call comes back as a `ChatCall`
with the tokens, latency and cost that the caller stores next to the message.
"""

from __future__ import annotations

import http.client
import json
import math
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypedDict, TypeGuard

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .http import json_post
from .modeltext import ModelText, require

# Money is kept to a hundred-millionth of a dollar: one token at $0.10 per 1M is $0.0000001.
COST_QUANTUM = Decimal("0.00000001")
MAX_BACKOFF_S = 2.0
_MILLION = Decimal(1_000_000)


class ChatMessage(TypedDict):
    role: str
    content: ModelText  # only what passed the redaction function (modeltext)


class ChatError(RuntimeError):
    """The chat provider failed or answered something unusable; callers may retry."""


class _RetryableError(ChatError):
    def __init__(self, message: str, wait_s: float | None) -> None:
        super().__init__(message)
        self.wait_s = wait_s


@dataclass(frozen=True)
class ChatCall:
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    cost_usd: Decimal
    # True when the server sent no `usage` and the token counts are chars/4 estimates.
    estimated_usage: bool = False
    finish_reason: str = ""
    attempts: int = 1


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def call_cost(
    *, prompt_tokens: int, completion_tokens: int, input_per_mtok: float, output_per_mtok: float
) -> Decimal:
    # str() first so a price of 0.15 becomes exactly Decimal("0.15"), not its binary float.
    cost = (
        Decimal(prompt_tokens) * Decimal(str(input_per_mtok))
        + Decimal(completion_tokens) * Decimal(str(output_per_mtok))
    ) / _MILLION
    return cost.quantize(COST_QUANTUM)


class OpenAIChatProvider:
    """Any server that speaks POST {base}/chat/completions in the OpenAI format."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str,
        timeout: float,
        price_input_per_mtok: float = 0.0,
        price_output_per_mtok: float = 0.0,
        retry_backoff_s: float = 0.5,
    ) -> None:
        if not model:
            raise ImproperlyConfigured("LLM_PROVIDER=openai needs LLM_MODEL")
        if price_input_per_mtok < 0 or price_output_per_mtok < 0:
            raise ImproperlyConfigured("LLM_PRICE_*_PER_MTOK must not be negative")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.price_input_per_mtok = price_input_per_mtok
        self.price_output_per_mtok = price_output_per_mtok
        self.retry_backoff_s = retry_backoff_s
        self.name = f"openai:{model}"

    def complete(
        self,
        *,
        messages: Sequence[ChatMessage],
        max_tokens: int = 400,
        temperature: float = 0.0,
    ) -> ChatCall:
        # The one gate for personal data (modeltext): content that did not pass the
        # redaction function is refused here, before anything is sent.
        for index, message in enumerate(messages):
            require(message.get("content"), f"messages[{index}].content")
        payload = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        started = time.perf_counter()
        body, attempts = self._post_with_retry(payload)
        latency_ms = (time.perf_counter() - started) * 1000
        text, finish_reason = _read_choice(body)
        prompt_tokens, completion_tokens, estimated = _read_usage(body, messages, text)
        return ChatCall(
            text=text,
            model=str(body.get("model") or self.model),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_ms=latency_ms,
            cost_usd=call_cost(
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                input_per_mtok=self.price_input_per_mtok,
                output_per_mtok=self.price_output_per_mtok,
            ),
            estimated_usage=estimated,
            finish_reason=finish_reason,
            attempts=attempts,
        )

    def _post_with_retry(self, payload: dict[str, Any]) -> tuple[dict[str, Any], int]:
        try:
            return self._post(payload), 1
        except _RetryableError as exc:
            # One retry only: a customer is waiting, and a second failure means a handoff.
            time.sleep(exc.wait_s if exc.wait_s is not None else self.retry_backoff_s)
        try:
            return self._post(payload), 2
        except _RetryableError as exc:
            raise ChatError(f"{exc} (after one retry)") from exc

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        request = json_post(f"{self.base_url}/chat/completions", payload, self.api_key)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise _http_error(exc) from exc
        except (OSError, http.client.HTTPException) as exc:
            # URLError, timeouts and dropped connections all land here.
            raise ChatError(f"chat endpoint {self.base_url} failed: {_reason(exc)}") from exc
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ChatError(f"chat endpoint sent a body that is not JSON: {raw[:200]!r}") from exc
        if not isinstance(body, dict):
            raise ChatError(f"chat endpoint sent a JSON {type(body).__name__}, not an object")
        return body


def _http_error(exc: urllib.error.HTTPError) -> ChatError:
    try:
        detail = exc.read()[:300]
    except OSError:
        detail = b""
    message = f"chat endpoint answered {exc.code}: {detail!r}"
    if exc.code == 429 or exc.code >= 500:
        return _RetryableError(message, _retry_after(exc))
    return ChatError(message)


def _retry_after(exc: urllib.error.HTTPError) -> float | None:
    raw = exc.headers.get("Retry-After") if exc.headers else None
    try:
        seconds = float(raw) if raw is not None else None
    except ValueError:
        return None
    # A server asking for a long pause gets the capped wait; the retry will then likely fail
    # too, which is better than keeping the customer waiting.
    return None if seconds is None else min(max(seconds, 0.0), MAX_BACKOFF_S)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def _read_choice(body: dict[str, Any]) -> tuple[str, str]:
    try:
        choice = body["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise ChatError(f"chat endpoint sent an unexpected body: missing {exc}") from exc
    if not isinstance(content, str):
        # A refusal or a tool call comes with `content: null`; there is no answer to show.
        raise ChatError(
            "chat endpoint sent no text content "
            f"(finish_reason {choice.get('finish_reason')!r}, content {content!r:.100})"
        )
    return content, str(choice.get("finish_reason") or "")


def _read_usage(
    body: dict[str, Any], messages: Sequence[ChatMessage], text: str
) -> tuple[int, int, bool]:
    usage = body.get("usage")
    if isinstance(usage, dict):
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if _is_count(prompt) and _is_count(completion):
            return prompt, completion, False
    prompt_chars = sum(len(str(message.get("content", ""))) for message in messages)
    return math.ceil(prompt_chars / 4), estimate_tokens(text), True


def _is_count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def get_chat_provider() -> OpenAIChatProvider | None:
    """The configured generation provider, or None for the built-in extractive answers."""
    if settings.LLM_PROVIDER == "extractive":
        return None
    return OpenAIChatProvider(
        base_url=settings.LLM_BASE_URL,
        model=settings.LLM_MODEL,
        api_key=settings.LLM_API_KEY,
        timeout=settings.LLM_TIMEOUT_S,
        price_input_per_mtok=settings.LLM_PRICE_INPUT_PER_MTOK,
        price_output_per_mtok=settings.LLM_PRICE_OUTPUT_PER_MTOK,
    )
