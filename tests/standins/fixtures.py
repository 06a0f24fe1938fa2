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
