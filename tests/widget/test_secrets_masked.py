"""A customer who types a password, a card security code or a card number into the chat:
the transcript never keeps them in clear, and the widget shows what was stored."""

from __future__ import annotations

import pytest

from supportops.conversations.models import Message
from supportops.text.clearing import SECRET_MASK

pytestmark = pytest.mark.django_db


def test_secrets_are_masked_before_the_message_is_stored_and_the_widget_gets_the_mask(shop):
    started = shop.start()
    typed = (
        "I can't log in, my password is Brackenfold#19. I paid with 5425 2334 3010 9903, "
        "CVC 661. Reach me at tove@myrbo.example"
    )

    response = shop.say(started, typed)

    assert response.status_code == 201
    shown = response.json()["text"]
    stored = Message.objects.get(pk=response.json()["id"])
    for secret in ("Brackenfold#19", "5425 2334 3010 9903", "661"):
        assert secret not in stored.text and secret not in shown
        assert secret not in stored.redacted_text
    assert shown == stored.text
    assert f"password is {SECRET_MASK}" in shown and f"{SECRET_MASK} 9903" in shown
    assert "tove@myrbo.example" in shown  # the customer's own view keeps what is not a secret
    assert "[EMAIL]" in stored.redacted_text and "[PASSWORD]" in stored.redacted_text
    history = shop.get(f"/conversations/{started['id']}/messages", token=started["token"]).json()
    assert all("Brackenfold#19" not in m["text"] for m in history["messages"])
