"""The conversations page: every conversation a member may see, full-text search over the
redacted messages, filters in the URL, who sees what, and bad values answered with a message."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from supportops.analytics.models import ConversationCost, CostLine
from supportops.conversations.models import Conversation, CsatResponse, Message
from supportops.conversations.services import customer_get_or_create_verified, message_add
from supportops.flows import do_agent_reply, do_conversation_start, do_customer_message, do_resolve
from tests.analytics.ledger_rows import PERIOD, known_ledger
from tests.inbox.test_routing import hand_off

pytestmark = pytest.mark.django_db

AI = Conversation.Arm.AI_FIRST


def list_url(slug: str = "acme") -> str:
    return reverse("conversations:list", args=[slug])


def listed(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'data-conversation="(\d+)"', html)}


def bot_only(workspace, text: str, answer: str, n: int = 1) -> Conversation:
    """A conversation the assistant handled alone: a question and its answer, resolved."""
    customer = customer_get_or_create_verified(
        workspace=workspace, external_id=f"bot-only-{n}", name="Robin"
    )
    conversation = do_conversation_start(workspace=workspace, customer=customer, arm=AI)
    conversation = conversation.conversation
    do_customer_message(conversation=conversation, text=text, queue_bot=False)
    message_add(conversation=conversation, author=Message.Author.BOT, text=answer, kind="answer")
    return conversation


@pytest.fixture
def conversations(workspace, owner):
    """A bot-only conversation about a lost parcel (with the customer's email address), and a
    handed-off one about a refund that a person answered and resolved."""
    parcel = bot_only(
        workspace,
        "My parcel never arrived, write to jane.doe@example.com please",
        "Parcels that have not arrived after ten days are resent for free.",
    )
    refund = hand_off(workspace, text="I want a refund for the broken kettle").conversation
    do_agent_reply(conversation=refund, agent=owner, text="The refund is on its way.")
    do_resolve(conversation=refund, actor=owner)
    return {"parcel": parcel, "refund": refund}


def test_the_message_table_has_a_gin_index_on_its_search_vector(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'conversations_message'"
            " AND indexname = 'message_search_gin'"
        )
        (definition,) = cursor.fetchone()
    assert "USING gin (search_vector)" in definition


def test_a_manager_finds_a_bot_only_conversation_by_a_word_it_contained(
    client, manager, conversations
):
    client.force_login(manager)
    response = client.get(list_url(), {"q": "parcel"})
    html = response.content.decode()
    assert response.status_code == 200
    assert listed(html) == {conversations["parcel"].pk}
    # The snippet marks the match, and the page links to the conversation.
    assert "<mark>parcel</mark>" in html
    assert reverse("inbox:conversation", args=["acme", conversations["parcel"].pk]) in html
    # Stemmed: "refunds" finds the conversation that said "refund"; a word nobody wrote, none.
    assert listed(client.get(list_url(), {"q": "refunds"}).content.decode()) == {
        conversations["refund"].pk
    }
    assert listed(client.get(list_url(), {"q": "weather"}).content.decode()) == set()


def test_search_reads_only_the_redacted_text(client, manager, conversations):
    """The customer's email address was redacted: searching for it finds nothing, and no
    snippet shows it."""
    client.force_login(manager)
    html = client.get(list_url(), {"q": "jane.doe@example.com"}).content.decode()
    assert listed(html) == set()
    html = client.get(list_url(), {"q": "write please"}).content.decode()
    assert listed(html) == {conversations["parcel"].pk}
    assert "jane.doe" not in html


def test_without_a_search_every_conversation_of_any_status_is_listed(
    client, manager, workspace, conversations
):
    waiting = hand_off(workspace, text="Still waiting for someone").conversation
    client.force_login(manager)
    html = client.get(list_url()).content.decode()
    assert listed(html) == {conversations["parcel"].pk, conversations["refund"].pk, waiting.pk}
    assert "Resolved" in html and "Waiting for a person" in html


def test_filters_narrow_the_list_and_stay_in_the_links(
    client, manager, owner, workspace, conversations
):
    parcel, refund = conversations["parcel"], conversations["refund"]
    CsatResponse.objects.create(workspace=workspace, conversation=refund, score=2, comment="Slow")
    client.force_login(manager)

    def ids(**params):
        return listed(client.get(list_url(), params).content.decode())

    assert ids(bot_only="1") == {parcel.pk}
    assert ids(trigger="explicit_request") == {refund.pk}
    assert ids(agent=str(owner.pk)) == {refund.pk}
    assert ids(csat="2") == {refund.pk}
    assert ids(csat="low") == {refund.pk}
    assert ids(csat="unrated") == {parcel.pk}
    assert ids(status="resolved") == {refund.pk}
    assert ids(q="refund", bot_only="1") == set()
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert ids(**{"from": tomorrow, "to": tomorrow}) == set()
    # The filters stay in the page's links (the next page keeps them).
    for n in range(2, 53):
        bot_only(workspace, f"Question number {n} about a parcel", "An answer.", n=n)
    html = client.get(list_url(), {"q": "parcel", "bot_only": "1"}).content.decode()
    assert "<span data-count>52</span>" in html
    nxt = re.search(r'href="(\?[^"]*page=2[^"]*)"', html).group(1).replace("&amp;", "&")
    assert "q=parcel" in nxt and "bot_only=1" in nxt
    assert len(listed(client.get(list_url() + nxt).content.decode())) == 2


def test_the_outcome_filter_and_a_dashboard_figure_list_the_ledger_rows(client, manager, workspace):
    ledger = known_ledger(workspace)
    client.force_login(manager)
    html = client.get(list_url(), {**PERIOD, "figure": "gap"}).content.decode()
    assert listed(html) == {ledger[i].conversation_id for i in (1, 3, 4)}
    abandoned = {row.conversation_id for row in ledger if row.outcome == "abandoned"}
    html = client.get(list_url(), {**PERIOD, "outcome": "abandoned"}).content.decode()
    assert abandoned and listed(html) == abandoned


@pytest.mark.parametrize(
    "params, message",
    [
        ({"outcome": "happy"}, "'outcome' must be one of"),
        ({"trigger": "moon"}, "'trigger' must be one of"),
        ({"csat": "7"}, "'csat' must be one of"),
        ({"agent": "bob"}, "'agent' must be a member of this workspace"),
        ({"agent": "999999"}, "'agent' must be a member of this workspace"),
        ({"bot_only": "maybe"}, "'bot_only' must be 1 or empty"),
        ({"status": "sleeping"}, "'status' must be one of"),
        ({"from": "last week"}, "'from' must be a date"),
        ({"figure": "nonsense"}, "There is no figure called"),
        ({"q": "x" * 201}, "A search may be at most 200 characters"),
    ],
)
def test_bad_filter_values_get_a_clear_message_not_a_500(client, manager, params, message):
    client.force_login(manager)
    response = client.get(list_url(), params)
    assert response.status_code == 400
    assert message in unescape(response.content.decode())


def test_an_agent_sees_only_what_their_queues_allow(client, teammate, workspace, conversations):
    client.force_login(teammate)
    html = client.get(list_url()).content.decode()
    # The refund was handed off to the default queue, the teammate's; the bot-only one never
    # reached a person, so it is not in any queue of theirs.
    assert listed(html) == {conversations["refund"].pk}
    assert listed(client.get(list_url(), {"q": "parcel"}).content.decode()) == set()


def test_finance_sees_the_list_without_text_and_may_not_search(client, finance, conversations):
    client.force_login(finance)
    response = client.get(list_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert listed(html) == {conversations["parcel"].pk, conversations["refund"].pk}
    assert "/inbox/" not in html and 'name="q"' not in html and "parcel" not in html
    response = client.get(list_url(), {"q": "parcel"})
    assert response.status_code == 403
    assert "cannot search it" in response.content.decode()


def test_outsiders_get_404(client, outsider, conversations):
    client.force_login(outsider)
    assert client.get(list_url(), {"q": "parcel"}).status_code == 404
    # Their own workspace's list does not show Acme's conversations.
    assert listed(client.get(list_url("other"), {"q": "parcel"}).content.decode()) == set()


def test_the_htmx_request_gets_only_the_list(client, manager, conversations):
    client.force_login(manager)
    response = client.get(list_url(), {"q": "parcel"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="conversation-list"') and "<html" not in html


def test_the_navigation_links_to_the_page(client, teammate, finance):
    for user in (teammate, finance):
        client.force_login(user)
        html = client.get(reverse("inbox:index", args=["acme"]) if user == teammate else list_url())
        assert f'href="{list_url()}"' in html.content.decode()


def test_the_conversation_page_shows_outcome_csat_and_cost_lines(
    client, manager, owner, workspace, conversations
):
    refund = conversations["refund"]
    CsatResponse.objects.create(
        workspace=workspace, conversation=refund, score=4, comment="Quick and kind"
    )
    now = timezone.now()
    ConversationCost.objects.create(
        workspace=workspace,
        conversation=refund,
        model_usd="0.00120000",
        agent_usd="1.50000000",
        total_usd="1.50120000",
        handling_seconds=180,
        computed_at=now,
    )
    CostLine.objects.create(
        workspace=workspace,
        conversation=refund,
        kind=CostLine.Kind.AGENT,
        key=f"agent:{owner.pk}",
        agent=owner,
        seconds=180,
        amount_usd="1.50000000",
        started_at=refund.created_at,
        channel=refund.channel,
        arm=refund.arm,
        computed_at=now,
    )
    client.force_login(manager)
    html = client.get(reverse("inbox:conversation", args=["acme", refund.pk])).content.decode()
    assert 'id="outcome"' in html
    assert re.search(r'id="csat-score">4 / 5<', html)
    assert "Quick and kind" in html
    assert 'id="cost-total">$1.5012<' in html
    assert 'data-cost-line="agent"' in html and owner.email in html
    # A conversation without a rating or cost lines says so.
    html = client.get(
        reverse("inbox:conversation", args=["acme", conversations["parcel"].pk])
    ).content.decode()
    assert "Not rated." in html and "No cost lines yet" in html


def count_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("SELECT COUNT(*)")]


def test_a_figures_list_says_the_figures_number_without_counting_its_rows_again(
    client, manager, workspace
):
    from django.test.utils import CaptureQueriesContext

    from supportops.analytics.rollups import rollups_build

    ledger = known_ledger(workspace)
    rollups_build(workspace=workspace)
    client.force_login(manager)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(list_url(), {**PERIOD, "figure": "gap"}).content.decode()
    # The number is the figure's (3 of the known ledger), read from the rollups: no count of
    # the listed rows was run.
    assert re.search(r"<span data-count>3</span> conversations", html)
    assert listed(html) == {ledger[i].conversation_id for i in (1, 3, 4)}
    assert count_queries(queries.captured_queries) == []
    # A filter of the list's own narrows the rows beyond the figure: they are counted.
    with CaptureQueriesContext(connection) as queries:
        html = client.get(list_url(), {**PERIOD, "figure": "gap", "status": "resolved"})
    assert len(count_queries(queries.captured_queries)) == 1
    shown = re.search(r"<span data-count>(\d+)</span>", html.content.decode())
    assert shown and int(shown.group(1)) == len(listed(html.content.decode()))
