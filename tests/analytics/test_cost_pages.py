"""The costs page and the price table: finance reads costs but no message text; managers
and admins edit prices (audited); agents and outsiders see neither."""

from __future__ import annotations

from html import unescape

import pytest

from supportops.accounts.models import AuditLog
from supportops.analytics.costs import cost_lines_refresh
from supportops.analytics.models import HandlingRate, ModelPrice
from supportops.analytics.selectors import COST_PER_RESOLUTION_BASIS
from supportops.analytics.services import handling_rate_set
from tests.analytics.conftest import DAY0, EMAIL_Q, handled_by_a_person
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
COSTS = "/w/acme/analytics/costs/"
PRICES = "/w/acme/analytics/prices/"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def signed_in(client, user):
    client.login(username=user.email, password=PASSWORD)
    return client


def test_finance_sees_the_costs_but_no_message_text(client, play, workspace, manager, finance):
    handling_rate_set(workspace=workspace, actor=manager, hourly_cost="36", effective_from=DAY0)
    c = handled_by_a_person(play)
    cost_lines_refresh(conversation=c)
    client = signed_in(client, finance)
    response = client.get(COSTS)
    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert "$9.00" in html and "900 s" in html  # 15 minutes at $36 an hour
    assert COST_PER_RESOLUTION_BASIS in html
    for text in (EMAIL_Q, "Open Profile, then Email.", "I sent a new link."):
        assert text not in html
    assert f"/inbox/{c.pk}/" not in html  # no link to a page finance may not open
    assert client.get(f"/w/acme/inbox/{c.pk}/").status_code == 403


def test_a_manager_gets_a_link_to_the_conversation(client, play, workspace, manager):
    c = handled_by_a_person(play)
    cost_lines_refresh(conversation=c)
    html = signed_in(client, manager).get(COSTS).content.decode()
    assert f'href="/w/acme/inbox/{c.pk}/"' in html


def test_a_bad_period_is_a_clear_400_not_a_crash(client, finance):
    response = signed_in(client, finance).get(COSTS, {"since": "yesterday", "group_by": "x"})
    assert response.status_code == 400
    assert "Enter a valid date" in response.content.decode()


def test_agents_get_403_and_outsiders_404(client, teammate, outsider):
    for url in (COSTS, PRICES):
        assert signed_in(client, teammate).get(url).status_code == 403
    client.logout()
    for url in (COSTS, PRICES):
        assert signed_in(client, outsider).get(url).status_code == 404


def test_a_manager_sets_a_price_from_a_date_and_it_is_audited(client, manager):
    response = signed_in(client, manager).post(
        PRICES,
        {
            "action": "price",
            "provider": "openai",
            "model": "gpt-test",
            "input_per_mtok": "0.15",
            "output_per_mtok": "0.60",
            "per_thousand_turns": "0",
            "effective_from": "2025-05-05",
        },
    )
    assert response.status_code == 302
    price = ModelPrice.objects.get()
    assert (price.key, str(price.input_per_mtok), str(price.effective_from)) == (
        "openai:gpt-test",
        "0.150000",
        "2025-05-05",
    )
    assert AuditLog.objects.filter(action="analytics.model_price", actor=manager).exists()
    html = client.get(PRICES).content.decode()
    assert "openai:gpt-test" in html and "in effect" in html


def test_a_manager_sets_a_team_rate(client, play, workspace, manager):
    from supportops.inbox.models import Routing

    c = handled_by_a_person(play)
    team = Routing.objects.get(handoff__conversation=c).queue
    response = signed_in(client, manager).post(
        PRICES,
        {
            "action": "rate",
            "applies_to": f"queue:{team.pk}",
            "hourly_cost": "42.50",
            "effective_from": "2025-05-05",
        },
    )
    assert response.status_code == 302
    rate = HandlingRate.objects.get()
    assert (rate.queue_id, rate.agent_id, str(rate.hourly_cost)) == (team.pk, None, "42.50")


def test_a_bad_price_keeps_the_form_and_says_why(client, manager):
    response = signed_in(client, manager).post(
        PRICES,
        {
            "action": "price",
            "provider": "openai",
            "model": "",
            "input_per_mtok": "0.15",
            "output_per_mtok": "0.60",
            "per_thousand_turns": "0",
            "effective_from": "2025-05-05",
        },
    )
    assert response.status_code == 400
    assert "model&#x27;s name" in response.content.decode()
    assert not ModelPrice.objects.exists()
    negative = client.post(
        PRICES, {"action": "rate", "hourly_cost": "-5", "effective_from": "2025-05-05"}
    )
    assert negative.status_code == 400 and not HandlingRate.objects.exists()


def test_finance_reads_the_price_table_but_may_not_change_it(client, finance):
    client = signed_in(client, finance)
    html = client.get(PRICES).content.decode()
    assert "Only managers and admins change prices." in html and 'id="price-new"' not in html
    response = client.post(
        PRICES, {"action": "price", "provider": "extractive", "effective_from": "2025-05-05"}
    )
    assert response.status_code == 403 and not ModelPrice.objects.exists()
