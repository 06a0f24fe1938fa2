"""The OpenAI-compatible chat-completions stand-in lives in the product
(`supportops.lib.model_standin`), since `manage.py injection_eval` runs it too; tests import
it from here as before."""

from __future__ import annotations

from supportops.lib.model_standin import (
    CHAT_PATH,
    ChatCompletionsStandIn,
    ReceivedRequest,
    Reply,
    compliant_reply,
    count_tokens,
)

__all__ = [
    "CHAT_PATH",
    "ChatCompletionsStandIn",
    "ReceivedRequest",
    "Reply",
    "compliant_reply",
    "count_tokens",
]
