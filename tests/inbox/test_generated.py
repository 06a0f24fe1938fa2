"""With a chat model configured, the handoff packet's summary and suggested reply are written
by the model from redacted text, and used only if they pass the grounding check."""

from __future__ import annotations

import pytest

from supportops.analytics.costs import cost_lines_refresh
from supportops.analytics.models import CostLine
from supportops.celery import app as celery_app
from supportops.conversations.models import Message
from supportops.conversations.services import customer_get_or_create_verified, message_post_bot
from supportops.flows import do_conversation_start, do_customer_message, do_hand_off
from supportops.inbox.generated import handoff_packet_enrich
from supportops.inbox.models import CopilotCall, Handoff
from tests.conftest import PASSWORD
from tests.standins import fixtures
from tests.standins.chat_completions import Reply

pytestmark = pytest.mark.django_db

chat_server = fixtures.chat_server
llm = fixtures.llm
QUESTION = "My new stove arrived with a cracked valve, write to rosa.diaz@example.com"
ANSWER = (
    "Here is what our help centre says: a stove that arrives damaged is replaced free of "
    "charge. Start a return from your order page and choose arrived damaged."
)
GROUNDED_SUMMARY = (
    "The customer's new stove arrived with a cracked valve [2]. "
    "The assistant said a stove that arrives damaged is replaced free of charge [3]."
)
GROUNDED_REPLY = (
    "A stove that arrives damaged is replaced free of charge [1]. Start a return from your "
    "order page and choose arrived damaged [1]."
)


@pytest.fixture
def handoff(workspace, make_article) -> Handoff:
    make_article(
        title="Returning a stove",
        body="## Faulty stoves\n\nA stove that arrives damaged is replaced free of charge: "
        "start a return from your order page and choose arrived damaged.",
    )
    customer = customer_get_or_create_verified(
        workspace=workspace, external_id="gen-1", name="Rosa Diaz"
    )
    conversation = do_conversation_start(workspace=workspace, customer=customer).conversation
    do_customer_message(conversation=conversation, text=QUESTION, queue_bot=False)
    message_post_bot(conversation=conversation, text=ANSWER, kind=Message.Kind.ANSWER)
    return do_hand_off(
        conversation=conversation, trigger="explicit_request", reason="asked for a person"
    )


def test_grounded_summary_and_reply_replace_the_extractive_ones(llm, handoff):
    extractive = handoff.packet
    llm.enqueue(GROUNDED_SUMMARY, GROUNDED_REPLY)

    assert handoff_packet_enrich(handoff_id=handoff.pk) is True

    packet = Handoff.objects.get(pk=handoff.pk).packet
    assert packet["summary"].startswith("The customer's new stove arrived with a cracked valve.")
    assert "[2]" not in packet["summary"]
    assert packet["summary_extractive"] == extractive["summary"]
    assert packet["suggested_reply"]["text"].startswith("Hi Rosa, thanks for waiting. A stove")
    assert [s["title"] for s in packet["suggested_reply"]["sources"]] == ["Returning a stove"]
    generated = packet["generated"]
    assert generated["provider"] == "openai:standin-chat-1"
    assert generated["prompt_tokens"] > 0 and float(generated["cost_usd"]) > 0
    assert "summary_rejected" not in generated
    # The model's calls are the conversation's to pay: recorded for its cost lines.
    call = CopilotCall.objects.get(conversation=handoff.conversation)
    assert call.kind == CopilotCall.Kind.PACKET and call.provider == generated["provider"]
    assert (call.prompt_tokens, call.completion_tokens) == (
        generated["prompt_tokens"],
        generated["completion_tokens"],
    )
    cost_lines_refresh(conversation=handoff.conversation)
    line = CostLine.objects.get(conversation=handoff.conversation, kind=CostLine.Kind.COPILOT)
    assert (line.prompt_tokens, line.completion_tokens) == (
        call.prompt_tokens,
        call.completion_tokens,
    )


def test_an_invented_summary_or_reply_is_not_used(llm, handoff):
    extractive = handoff.packet
    llm.enqueue(
        "The customer was promised a refund of 80 euros [2].",
        "We will refund you twice the price and add a free tent [1].",
    )

    handoff_packet_enrich(handoff_id=handoff.pk)

    packet = Handoff.objects.get(pk=handoff.pk).packet
    assert packet["summary"] == extractive["summary"]
    assert packet["suggested_reply"] == extractive["suggested_reply"]
    assert packet["generated"]["summary_rejected"] == "number_not_in_sources"
    assert packet["generated"]["suggested_reply_rejected"]


def test_personal_details_never_reach_the_model(llm, handoff):
    llm.enqueue(GROUNDED_SUMMARY, GROUNDED_REPLY)

    handoff_packet_enrich(handoff_id=handoff.pk)

    sent = "\n".join(request.text() for request in llm.requests)
    assert "cracked valve" in sent
    assert "rosa.diaz@example.com" not in sent


def test_a_model_that_is_down_leaves_the_extractive_packet(llm, handoff):
    extractive = handoff.packet
    llm.enqueue(*[Reply(status=503)] * 6)

    handoff_packet_enrich(handoff_id=handoff.pk)

    packet = Handoff.objects.get(pk=handoff.pk).packet
    assert packet["summary"] == extractive["summary"]
    assert packet["generated"]["error"]  # why, for the agent and the logs
    assert not CopilotCall.objects.filter(conversation=handoff.conversation).exists()


def test_it_runs_once_per_handoff(llm, handoff):
    llm.enqueue(GROUNDED_SUMMARY, GROUNDED_REPLY)
    assert handoff_packet_enrich(handoff_id=handoff.pk) is True
    calls = len(llm.requests)

    assert handoff_packet_enrich(handoff_id=handoff.pk) is False
    assert len(llm.requests) == calls
    assert CopilotCall.objects.filter(conversation=handoff.conversation).count() == 1


def test_without_a_chat_model_nothing_is_queued(workspace, django_capture_on_commit_callbacks):
    customer = customer_get_or_create_verified(
        workspace=workspace, external_id="gen-2", name="Rosa Diaz"
    )
    conversation = do_conversation_start(workspace=workspace, customer=customer).conversation
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        handoff = do_hand_off(conversation=conversation, trigger="vip", reason="vip")

    assert "generated" not in Handoff.objects.get(pk=handoff.pk).packet
    assert not any("enrich" in repr(callback) for callback in callbacks)


def test_a_handoff_queues_the_model_after_commit(
    llm, workspace, django_capture_on_commit_callbacks
):
    customer = customer_get_or_create_verified(
        workspace=workspace, external_id="gen-3", name="Rosa Diaz"
    )
    conversation = do_conversation_start(workspace=workspace, customer=customer).conversation
    do_customer_message(conversation=conversation, text=QUESTION, queue_bot=False)
    llm.enqueue("The customer's new stove arrived with a cracked valve [2].")
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            handoff = do_hand_off(
                conversation=conversation, trigger="explicit_request", reason="asked"
            )
    finally:
        celery_app.conf.task_always_eager = False

    packet = Handoff.objects.get(pk=handoff.pk).packet
    assert packet["generated"]["provider"] == "openai:standin-chat-1"


def test_the_page_says_which_summary_the_model_wrote(llm, handoff, owner, client):
    llm.enqueue(GROUNDED_SUMMARY, GROUNDED_REPLY)
    handoff_packet_enrich(handoff_id=handoff.pk)
    assert client.login(username=owner.username, password=PASSWORD)

    html = client.get(f"/w/acme/inbox/{handoff.conversation_id}/").content.decode()

    assert "Summary written by openai:standin-chat-1" in html
    assert "arrived with a cracked valve." in html
