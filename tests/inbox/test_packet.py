"""The handoff packet against the real database, search index and models: what it holds
for each trigger, for a manual handoff, and how the conversation page shows it."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from supportops.bot.models import BotSettings, BotTurn
from supportops.conversations.models import Conversation, Message, Order
from supportops.conversations.services import conversation_feedback, customer_get_or_create_verified
from supportops.flows import do_bot_turn, do_conversation_start, do_customer_message, do_hand_off
from supportops.inbox import packet as packet_module
from supportops.inbox.models import Handoff
from supportops.inbox.packet import handoff_packet_build
from tests.bot.test_turn import help_centre, visitor_conversation
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

# The help centre and an anonymous visitor's conversation, as in the bot-turn tests.
help_centre = help_centre
visitor_conversation = visitor_conversation

XSS = '<script>alert("x")</script>'


@pytest.fixture
def verified(workspace):
    customer = customer_get_or_create_verified(
        workspace=workspace, external_id="cust-7", name="Ann Lee", email="ann@example.com"
    )
    customer.plan = "Gold"
    customer.save()
    return customer


def press_talk_to_a_person(conversation):
    """What the widget's "Talk to a person" button does."""
    return do_hand_off(
        conversation=conversation,
        trigger="explicit_request",
        reason="customer pressed Talk to a person",
    )


def say(conversation: Conversation, text: str) -> BotTurn:
    message = do_customer_message(conversation=conversation, text=text, queue_bot=False).message
    turn = do_bot_turn(message_id=message.pk)
    assert turn is not None
    conversation.refresh_from_db()
    return turn


def packet_of(conversation: Conversation) -> dict:
    packet = Handoff.objects.get(conversation=conversation).packet
    assert packet["version"] == 1
    json.dumps(packet)  # stored as JSON: nothing in it needs a custom encoder
    return packet


def order(customer, number: str, status: str, days_ago: int = 3) -> Order:
    return Order.objects.create(
        workspace=customer.workspace,
        customer=customer,
        number=number,
        status=status,
        placed_at=timezone.now() - timedelta(days=days_ago),
        total=Decimal("59.90"),
    )


def age(conversation: Conversation, days: int) -> None:
    then = timezone.now() - timedelta(days=days)
    Conversation.objects.filter(pk=conversation.pk).update(created_at=then)
    Message.objects.filter(conversation=conversation).update(created_at=then)


def talked_before(workspace, customer, text: str, days_ago: int) -> Conversation:
    conversation = do_conversation_start(workspace=workspace, customer=customer).conversation
    do_customer_message(conversation=conversation, text=text, queue_bot=False)
    age(conversation, days_ago)
    return conversation


# --- Each trigger --------------------------------------------------------------------------------


def test_an_explicit_request_packet_has_history_account_and_no_apology(
    workspace, help_centre, verified
):
    recent = talked_before(workspace, verified, "Do you ship to Norway?", days_ago=10)
    talked_before(workspace, verified, "An old question about gift cards", days_ago=40)
    order(verified, "TW-10421", Order.Status.SHIPPED)
    order(verified, "TW-10007", Order.Status.DELIVERED, days_ago=20)
    someone_else = customer_get_or_create_verified(workspace=workspace, external_id="cust-8")
    order(someone_else, "TW-99999", Order.Status.PROCESSING)
    conversation = do_conversation_start(workspace=workspace, customer=verified).conversation

    assert say(conversation, "How do I return an item?").action == BotTurn.Action.ANSWER
    assert say(conversation, "agent").trigger == "explicit_request"

    packet = packet_of(conversation)
    assert packet["trigger"]["name"] == "explicit_request"
    scores = packet["trigger"]["scores"]  # what decided it: a rule, or the classifier's score
    assert scores["rule"] or scores["score"] >= scores["threshold"]
    assert [f["name"] for f in packet["fired"]] == ["explicit_request"]
    texts = [m["text"] for m in packet["history"]["messages"]]
    assert "Do you ship to Norway?" in texts
    assert "An old question about gift cards" not in texts
    assert texts.index("Do you ship to Norway?") < texts.index("How do I return an item?")
    assert texts[-1] == "agent"
    assert packet["history"]["conversation_ids"] == [recent.pk]
    assert packet["history"]["omitted"] == 0
    assert {m["channel"] for m in packet["history"]["messages"]} == {"widget"}
    account = packet["account"]
    assert account["verified"] is True and account["plan"] == "Gold"
    assert account["external_id"] == "cust-7" and account["display_name"] == "Ann Lee"
    assert [o["number"] for o in account["orders"]] == ["TW-10421", "TW-10007"]
    assert account["orders"][0]["total"] == "59.90"
    assert [i["conversation_id"] for i in account["open_issues"]] == [recent.pk]
    passages = packet["bot_tried"]["passages"]
    assert passages[0]["title"] == "How do I return an item?"
    assert "30 days" in passages[0]["snippet"]
    assert passages[0]["score"] > 0.45
    assert packet["bot_tried"]["rejected"] == []
    assert "How do I return an item?" in packet["summary"]
    assert "asked for a person" in packet["summary"]
    reply = packet["suggested_reply"]
    assert reply["text"].startswith("Hi Ann,")
    assert [s["title"] for s in reply["sources"]] == ["How do I return an item?"]
    assert reply["sources"][0]["url"].endswith(f"/{help_centre['How do I return an item?'].pk}/")
    assert "prepaid label" in reply["text"]  # quoted from the article
    assert packet["recovery_ack"] is None


def test_a_frustration_packet_has_the_score_a_rising_trend_and_an_apology(visitor_conversation):
    say(visitor_conversation, "How do I reset my password?")
    turn = say(
        visitor_conversation,
        "Unbelievable!!! Fourth message about this and still nobody has fixed it. Terrible service",
    )
    assert turn.trigger == "frustration"

    packet = packet_of(visitor_conversation)
    assert packet["trigger"]["name"] == "frustration"
    assert packet["trigger"]["scores"]["negative"] >= 0.9
    assert packet["trigger"]["scores"]["threshold"] == 0.9
    trend = packet["sentiment_trend"]
    assert len(trend["points"]) == 2
    assert trend["points"][1]["negative"] == pytest.approx(turn.negative_probability)
    assert trend["points"][1]["label"] == "negative"
    assert trend["direction"] == "rising"
    assert packet["account"]["verified"] is False
    assert packet["account"]["orders"] == []
    assert "How do I reset my password?" in packet["recovery_ack"]
    assert "sorry" in packet["recovery_ack"].lower()
    assert "frustration" in packet["summary"]


def test_a_high_stakes_packet_names_the_category_and_has_no_apology(visitor_conversation):
    text = "You billed me two times for one purchase, please refund the extra payment."
    turn = say(visitor_conversation, text)
    assert turn.trigger == "high_stakes"

    packet = packet_of(visitor_conversation)
    assert packet["trigger"]["name"] == "high_stakes"
    assert packet["trigger"]["scores"]["category"] == "billing_dispute"
    assert packet["category"] == "billing_dispute"
    assert packet["category_confidence"] >= 0.5
    assert packet["category_confidence"] == pytest.approx(turn.category_confidence)
    assert text in packet["summary"]
    assert packet["bot_tried"]["passages"] == []
    assert packet["recovery_ack"] is None


def test_a_turn_limit_packet_lists_the_rejected_answer_and_apologises(
    visitor_conversation, help_centre
):
    say(visitor_conversation, "How do I reset my password?")
    say(visitor_conversation, "Nope, not working")
    assert (
        say(visitor_conversation, "Still broken, I get the identical message").trigger
        == "turn_limit"
    )

    packet = packet_of(visitor_conversation)
    assert packet["trigger"]["name"] == "turn_limit"
    assert packet["trigger"]["scores"] == {"rejections": 2, "limit": 2}
    [rejected] = packet["bot_tried"]["rejected"]
    assert rejected["sources"][0]["title"] == "How do I reset my password?"
    assert "Forgot password" in rejected["text"]
    assert rejected["customer_replies"] == [
        "Nope, not working",
        "Still broken, I get the identical message",
    ]
    assert "said 2 times that it did not help" in packet["summary"]
    # The real question is searched, not "still broken".
    reply = packet["suggested_reply"]
    assert [s["title"] for s in reply["sources"]] == ["How do I reset my password?"]
    assert "didn't solve it" in reply["text"]
    assert "How do I reset my password?" in packet["recovery_ack"]


def test_a_repeated_question_packet_has_the_similarity_and_apologises(visitor_conversation):
    say(visitor_conversation, "Which payment methods do you accept?")
    assert say(visitor_conversation, "Which payment methods do you accept??").trigger == (
        "turn_limit"
    )

    packet = packet_of(visitor_conversation)
    assert packet["trigger"]["scores"]["similarity"] >= 0.9
    assert "same question again" in packet["summary"]
    assert packet["suggested_reply"]["sources"][0]["title"] == (
        "Which payment methods do you accept?"
    )
    assert packet["recovery_ack"] is not None


def test_a_low_confidence_packet_suggests_no_reply(visitor_conversation):
    turn = say(visitor_conversation, "What is the airspeed velocity of an unladen swallow in Peru?")
    assert turn.trigger == "low_confidence"

    packet = packet_of(visitor_conversation)
    assert packet["trigger"]["name"] == "low_confidence"
    assert packet["trigger"]["scores"]["retrieval"] < 0.3
    assert packet["trigger"]["scores"]["threshold"] == 0.3
    # Nothing in the help centre answers it: no reply rather than an empty opener.
    assert packet["suggested_reply"] == {
        "text": "",
        "sources": [],
        "withheld": "no complete answer in the help centre: write the reply yourself",
    }
    assert packet["recovery_ack"] is None


def test_a_vip_packet_shows_the_tier(workspace, help_centre, verified):
    verified.is_vip = True
    verified.save()
    BotSettings.objects.update_or_create(workspace=workspace, defaults={"vip_enabled": True})
    conversation = do_conversation_start(workspace=workspace, customer=verified).conversation
    assert say(conversation, "How do I return an item?").trigger == "vip"

    packet = packet_of(conversation)
    assert packet["trigger"] == {
        "name": "vip",
        "reason": "VIP customers go to a person",
        "scores": {"vip": True},
        "label": "VIP customer",
    }
    assert packet["account"]["vip"] is True and packet["account"]["plan"] == "Gold"


# --- Without the bot ----------------------------------------------------------------------------


def test_talk_to_a_person_without_bot_turns_still_gets_a_full_packet(visitor_conversation):
    do_customer_message(
        conversation=visitor_conversation,
        text="My parcel has not arrived yet, where is my order?",
        queue_bot=False,
    )
    press_talk_to_a_person(visitor_conversation)
    assert not BotTurn.objects.filter(conversation=visitor_conversation).exists()

    packet = packet_of(visitor_conversation)
    assert packet["trigger"]["name"] == "explicit_request"
    assert packet["trigger"]["reason"] == "customer pressed Talk to a person"
    assert "where is my order?" in packet["summary"]
    assert packet["sentiment_trend"] == {"points": [], "direction": None}
    assert packet["bot_tried"] == {"passages": [], "records": [], "rejected": []}
    assert packet["suggested_reply"]["sources"][0]["title"] == "Where is my order?"
    assert packet["recovery_ack"] is None


def test_talk_to_a_person_before_writing_anything_suggests_a_neutral_opener(visitor_conversation):
    press_talk_to_a_person(visitor_conversation)

    packet = packet_of(visitor_conversation)
    assert "has not written anything" in packet["summary"]
    assert packet["history"]["messages"][0]["author"] == "bot"  # the greeting
    assert packet["suggested_reply"]["sources"] == []
    assert packet["category"] == "" and packet["category_confidence"] is None


def test_no_to_did_that_solve_it_counts_as_a_rejected_answer(visitor_conversation):
    say(visitor_conversation, "Which payment methods do you accept?")
    conversation_feedback(conversation=visitor_conversation, solved=False)
    press_talk_to_a_person(visitor_conversation)

    packet = packet_of(visitor_conversation)
    [rejected] = packet["bot_tried"]["rejected"]
    assert rejected["sources"][0]["title"] == "Which payment methods do you accept?"
    assert "Did that solve it?" in rejected["customer_replies"][0]
    assert packet["recovery_ack"] is not None


def test_the_history_is_capped_and_says_how_much_was_left_out(
    monkeypatch, workspace, visitor_conversation
):
    monkeypatch.setattr(packet_module, "HISTORY_LIMIT", 3)
    for n in range(4):
        do_customer_message(conversation=visitor_conversation, text=f"note {n}", queue_bot=False)

    packet = handoff_packet_build(conversation=visitor_conversation, trigger="explicit_request")
    assert [m["text"] for m in packet["history"]["messages"]] == ["note 1", "note 2", "note 3"]
    assert packet["history"]["omitted"] == 2  # the greeting and "note 0"


# --- The conversation page ---------------------------------------------------------------------


def page(client: Client, user, conversation: Conversation) -> str:
    assert client.login(username=user.username, password=PASSWORD)
    url = reverse("inbox:conversation", args=["acme", conversation.pk])
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_conversation_page_shows_the_packet_and_escapes_the_customer(
    client, owner, visitor_conversation
):
    do_customer_message(
        conversation=visitor_conversation,
        text=f"How do I return an item? {XSS}",
        queue_bot=False,
    )
    press_talk_to_a_person(visitor_conversation)

    html = page(client, owner, visitor_conversation)
    assert 'id="handoff-packet"' in html
    assert "The customer asked: \u201cHow do I return an item? &lt;script&gt;" in html
    assert XSS not in html
    assert ">How do I return an item?</a>" in html  # the suggested reply's source link
    assert "customer pressed Talk to a person" in html


def test_the_page_copes_with_a_packet_stored_before_version_1(client, owner, visitor_conversation):
    do_customer_message(conversation=visitor_conversation, text="agent", queue_bot=False)
    Handoff.objects.create(
        workspace_id=visitor_conversation.workspace_id,
        conversation=visitor_conversation,
        trigger="explicit_request",
        reason="the customer asked for a person",
        packet={
            "category": "",
            "category_confidence": None,
            "sentiment": "neutral",
            "negative_probability": 0.12,
            "triggers": [{"name": "explicit_request", "reason": XSS, "scores": {}}],
            "retrieved": [],
            "records": [],
        },
    )
    html = page(client, owner, visitor_conversation)
    assert 'id="handoff-packet"' in html
    assert "Asked for a person</strong>: &lt;script&gt;" in html
    assert XSS not in html


def test_an_outsider_does_not_see_the_packet(client, outsider, visitor_conversation):
    press_talk_to_a_person(visitor_conversation)
    assert client.login(username=outsider.username, password=PASSWORD)
    url = reverse("inbox:conversation", args=["acme", visitor_conversation.pk])
    assert client.get(url).status_code == 404


def test_building_the_packet_takes_a_few_queries_whatever_the_history(
    workspace, verified, help_centre
):
    for days_ago in (1, 2, 3):
        talked_before(workspace, verified, "How do I return an item?", days_ago=days_ago)
    for n in range(3):
        order(verified, f"TW-2000{n}", Order.Status.DELIVERED)
    conversation = do_conversation_start(workspace=workspace, customer=verified).conversation
    say(conversation, "How do I return an item?")
    say(conversation, "Nope, not working")
    do_customer_message(conversation=conversation, text="agent", queue_bot=False)

    # As the handoff loads it: workspace and customer come with the locked conversation.
    conversation = Conversation.objects.select_related("workspace", "customer").get(
        pk=conversation.pk
    )
    with CaptureQueriesContext(connection) as queries:
        packet = handoff_packet_build(conversation=conversation, trigger="explicit_request")
    assert packet["bot_tried"]["rejected"]
    assert len(packet["history"]["conversation_ids"]) == 3
    assert len(queries) <= 16  # seven of its own and the search's (about eight)


def test_the_suggested_reply_quotes_the_passage_the_bot_quoted(visitor_conversation, make_article):
    from tests.bot.test_answers import DELIVERY

    make_article(title="How long does delivery take?", body=DELIVERY)
    answered = say(visitor_conversation, "How long does delivery take to Germany?")
    assert "3–5 working days" in answered.reply.text  # the opening with the table
    assert answered.retrieved[0]["title_similarity"] > answered.retrieved[0]["passage_similarity"]
    say(visitor_conversation, "agent please")

    reply = packet_of(visitor_conversation)["suggested_reply"]
    assert "3–5 working days" in reply["text"]
    assert "Busy periods" not in reply["text"] and "During big sales" not in reply["text"]


def test_a_packet_answers_the_need_the_customer_moved_on_to(visitor_conversation):
    for text in ("How do I return an item?", "Which payment methods do you accept?"):
        do_customer_message(conversation=visitor_conversation, text=text, queue_bot=False)
    press_talk_to_a_person(visitor_conversation)

    packet = packet_of(visitor_conversation)

    assert "asked: \u201cHow do I return an item?\u201d" in packet["summary"]
    assert "Open need now: \u201cWhich payment methods do you accept?\u201d" in packet["summary"]
    reply = packet["suggested_reply"]
    assert [s["title"] for s in reply["sources"]] == ["Which payment methods do you accept?"]
    assert "Mastercard" in reply["text"]
