"""Pytest fixtures for the stand-ins. Other test packages import them:

from tests.standins.fixtures import chat_server  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.standins.chat_completions import ChatCompletionsStandIn


@pytest.fixture
def chat_server() -> Iterator[ChatCompletionsStandIn]:
    """A running chat-completions stand-in; its `base_url` ends in /v1 like OpenAI's."""
    server = ChatCompletionsStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def llm(settings, chat_server: ChatCompletionsStandIn) -> ChatCompletionsStandIn:
    """The OpenAI-compatible provider configured against the stand-in, with prices."""
    settings.LLM_PROVIDER = "openai"
    settings.LLM_BASE_URL = chat_server.base_url
    settings.LLM_MODEL = "standin-chat-1"
    settings.LLM_API_KEY = "sk-standin"
    settings.LLM_PRICE_INPUT_PER_MTOK = 0.5
    settings.LLM_PRICE_OUTPUT_PER_MTOK = 1.5
    return chat_server
