"""The OpenAI-compatible chat provider against a local stand-in that speaks the real
`POST /v1/chat/completions` protocol (tests/standins/chat_completions.py)."""

from __future__ import annotations

import json
import math
import time
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from supportops.integrations.llm import (
    ChatError,
    OpenAIChatProvider,
    call_cost,
    get_chat_provider,
)
from supportops.integrations.modeltext import fixed
from supportops.text.clearing import for_model
from tests.standins import fixtures
from tests.standins.chat_completions import ChatCompletionsStandIn, Reply

chat_server = fixtures.chat_server  # bound here so pytest finds the shared fixture

MESSAGES = [
    {"role": "system", "content": fixed("You are a support assistant.")},
    {"role": "user", "content": for_model("Where is my parcel?")},
]


def provider_for(server: ChatCompletionsStandIn, **overrides: object) -> OpenAIChatProvider:
    options: dict = {
        "base_url": server.base_url,
        "model": "standin-chat-1",
        "api_key": server.api_key,
        "timeout": 5,
        "retry_backoff_s": 0.01,
    }
    options.update(overrides)
    return OpenAIChatProvider(**options)


def completion_body(text: str, **extra: object) -> bytes:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "standin-chat-1",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
    }
    body.update(extra)
    return json.dumps(body).encode()


def test_it_speaks_the_chat_completions_protocol(chat_server):
    chat_server.enqueue("It shipped yesterday [1].")
    call = provider_for(chat_server).complete(messages=MESSAGES, max_tokens=120)

    assert call.text == "It shipped yesterday [1]."
    assert call.model == "standin-chat-1"
    assert call.finish_reason == "stop"
    assert call.attempts == 1
    assert call.latency_ms > 0
    request = chat_server.last_request
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {chat_server.api_key}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == {
        "model": "standin-chat-1",
        "messages": MESSAGES,
        "max_tokens": 120,
        "temperature": 0.0,
    }


def test_it_prices_the_call_from_the_usage_the_server_reports(chat_server):
    usage = {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500}
    chat_server.enqueue(Reply(raw=completion_body("Hi", usage=usage)))
    provider = provider_for(chat_server, price_input_per_mtok=0.15, price_output_per_mtok=0.6)

    call = provider.complete(messages=MESSAGES)

    assert (call.prompt_tokens, call.completion_tokens) == (1200, 300)
    assert call.estimated_usage is False
    # 1200 * 0.15 / 1M + 300 * 0.60 / 1M, exactly, in Decimal.
    assert call.cost_usd == Decimal("0.00036")


def test_it_estimates_usage_at_four_characters_a_token_when_the_server_sends_none(chat_server):
    chat_server.enqueue(Reply(text="0123456789", usage=False))
    provider = provider_for(chat_server, price_input_per_mtok=1.0, price_output_per_mtok=2.0)

    call = provider.complete(messages=MESSAGES)

    prompt_chars = sum(len(message["content"]) for message in MESSAGES)
    assert call.estimated_usage is True
    assert call.prompt_tokens == math.ceil(prompt_chars / 4)
    assert call.completion_tokens == 3
    assert call.cost_usd == call_cost(
        prompt_tokens=call.prompt_tokens,
        completion_tokens=3,
        input_per_mtok=1.0,
        output_per_mtok=2.0,
    )
    assert call.cost_usd > 0


def test_a_free_self_hosted_model_costs_nothing(chat_server):
    chat_server.enqueue("Hello")
    call = provider_for(chat_server).complete(messages=MESSAGES)
    assert call.prompt_tokens > 0
    assert call.cost_usd == Decimal("0")


def test_it_retries_once_after_a_429_and_returns_the_second_answer(chat_server):
    chat_server.enqueue(Reply(status=429), "Second time lucky")

    call = provider_for(chat_server).complete(messages=MESSAGES)

    assert call.text == "Second time lucky"
    assert call.attempts == 2
    assert len(chat_server.requests) == 2


def test_it_waits_as_long_as_retry_after_asks_within_its_cap(chat_server):
    chat_server.enqueue(Reply(status=429, headers={"Retry-After": "0.3"}), "ok")

    started = time.perf_counter()
    call = provider_for(chat_server, retry_backoff_s=0.0).complete(messages=MESSAGES)

    assert call.text == "ok"
    assert time.perf_counter() - started >= 0.3


def test_it_gives_up_after_a_second_server_error(chat_server):
    chat_server.enqueue(Reply(status=500), Reply(status=500), "never reached")

    with pytest.raises(ChatError, match=r"500.*after one retry"):
        provider_for(chat_server).complete(messages=MESSAGES)

    assert len(chat_server.requests) == 2


def test_a_wrong_key_fails_at_once_without_a_retry(chat_server):
    with pytest.raises(ChatError, match="401") as failure:
        provider_for(chat_server, api_key="sk-wrong").complete(messages=MESSAGES)

    assert "sk-wrong" not in str(failure.value)
    assert len(chat_server.requests) == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<html>502 Bad Gateway</html>", "not JSON"),
        (b'["a", "list"]', "not an object"),
        (json.dumps({"id": "x", "object": "chat.completion"}).encode(), "unexpected body"),
        (json.dumps({"choices": []}).encode(), "unexpected body"),
        (completion_body(None), "no text content"),  # type: ignore[arg-type]
    ],
)
def test_it_rejects_a_malformed_body_with_a_clear_error(chat_server, raw, message):
    chat_server.enqueue(Reply(raw=raw))
    with pytest.raises(ChatError, match=message):
        provider_for(chat_server).complete(messages=MESSAGES)


def test_a_slow_server_times_out_as_a_chat_error_without_a_retry(chat_server):
    chat_server.enqueue(Reply(text="too late", delay_s=1.5))

    started = time.perf_counter()
    with pytest.raises(ChatError, match="timed out"):
        provider_for(chat_server, timeout=0.3).complete(messages=MESSAGES)

    assert time.perf_counter() - started < 1.2
    assert len(chat_server.requests) == 1


def test_an_unreachable_server_is_a_chat_error():
    provider = OpenAIChatProvider(
        base_url="http://127.0.0.1:9/v1", model="m", api_key="k", timeout=2
    )
    with pytest.raises(ChatError, match="127.0.0.1:9"):
        provider.complete(messages=MESSAGES)


def test_it_reports_an_answer_cut_off_at_max_tokens(chat_server):
    chat_server.enqueue("one two three four five six seven eight")
    call = provider_for(chat_server).complete(messages=MESSAGES, max_tokens=3)
    assert call.finish_reason == "length"
    assert call.completion_tokens == 3


def test_the_extractive_setting_means_no_chat_provider(settings):
    settings.LLM_PROVIDER = "extractive"
    assert get_chat_provider() is None


def test_the_openai_setting_builds_the_provider_from_settings(settings, chat_server):
    settings.LLM_PROVIDER = "openai"
    settings.LLM_BASE_URL = chat_server.base_url + "/"
    settings.LLM_MODEL = "standin-chat-1"
    settings.LLM_API_KEY = chat_server.api_key
    settings.LLM_TIMEOUT_S = 5.0
    settings.LLM_PRICE_INPUT_PER_MTOK = 3.0
    settings.LLM_PRICE_OUTPUT_PER_MTOK = 15.0
    chat_server.enqueue("Hello")

    provider = get_chat_provider()
    assert provider is not None
    call = provider.complete(messages=MESSAGES)

    assert provider.base_url == chat_server.base_url
    assert call.cost_usd == call_cost(
        prompt_tokens=call.prompt_tokens,
        completion_tokens=call.completion_tokens,
        input_per_mtok=3.0,
        output_per_mtok=15.0,
    )


def test_the_openai_setting_without_a_model_is_a_configuration_error(settings):
    settings.LLM_PROVIDER = "openai"
    settings.LLM_MODEL = ""
    with pytest.raises(ImproperlyConfigured, match="LLM_MODEL"):
        get_chat_provider()


def test_a_negative_price_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="PRICE"):
        OpenAIChatProvider(
            base_url="http://x/v1", model="m", api_key="k", timeout=1, price_input_per_mtok=-1
        )
