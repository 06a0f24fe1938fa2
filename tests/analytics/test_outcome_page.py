"""The outcome on a conversation's inbox page (as a manager: agents open only their queues'
conversations): final or provisional, why in words, and the
link to the later conversation of a repeat contact; who may see it."""

from __future__ import annotations

import pytest

from supportops.analytics.models import Outcome
from tests.analytics.conftest import PASSWORD_AGAIN, PASSWORD_Q
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def page(client, user, conversation):
    client.login(username=user.email, password=PASSWORD)
    return client.get(f"/w/acme/inbox/{conversation.pk}/")


# A conversation the bot resolved on its own is in no agent's queue: managers open it (an
# agent may open only conversations in their queues, assigned to them or that they took part in).
def test_the_page_shows_a_repeat_contact_with_the_link(client, play, manager):
    a = play.chat(0, PASSWORD_Q)
    play.feedback(0.05, a, solved=True)
    b = play.chat(20, PASSWORD_AGAIN)
    assert play.outcome(a, 100).outcome == Outcome.Kind.REPEAT_CONTACT
    html = page(client, manager, a).content.decode()
    assert "Repeat contact" in html and "final" in html
    assert f'href="/w/acme/inbox/{b.pk}/"' in html
    assert "Was: resolved by the bot, confirmed" in html


def test_the_page_says_provisional_and_why(client, play, manager):
    a = play.chat(0, PASSWORD_Q)
    play.outcome(a, 1)
    html = page(client, manager, a).content.decode()
    assert "Resolved by the bot, unconfirmed" in html and "provisional" in html
    assert "silence is never counted as a confirmation" in html


def test_finance_sees_no_conversation_and_outsiders_get_404(client, play, finance, outsider):
    a = play.chat(0, PASSWORD_Q)
    play.outcome(a, 1)
    response = page(client, finance, a)
    assert response.status_code == 403 and PASSWORD_Q.encode() not in response.content
    client.logout()
    assert page(client, outsider, a).status_code == 404
