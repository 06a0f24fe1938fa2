"""The one HTTP request shape the OpenAI-compatible providers share."""

from __future__ import annotations

import json
import urllib.request
from typing import Any


def json_post(url: str, payload: dict[str, Any], api_key: str) -> urllib.request.Request:
    """A JSON POST with a bearer key, as OpenAI-compatible servers expect."""
    return urllib.request.Request(  # noqa: S310 - the URL is an operator setting
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {api_key}"},
        method="POST",
    )
