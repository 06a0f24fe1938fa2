"""Test suites: import with line-level errors and nothing half-saved, a case from a real
conversation, runs through the real bot turn in rolled-back scratch conversations, and
promotion gated on the latest run."""

from __future__ import annotations

import json

import pytest

from supportops.conversations.models import Conversation, Customer, Message
from supportops.flows import do_suite_run
from supportops.inbox.models import Handoff
from supportops.rollout import suites
from supportops.rollout.models import Phase, SuiteCase, SuiteRun
from supportops.rollout.services import (
    RolloutError,
    phase_promote,
    phase_start_testing,
    suite_run_create,
    suite_threshold_set,
)

from .conftest import RETURN_QUESTION, RETURNS, SHIPPING, SHIPPING_QUESTION, make_phase


def jsonl(*rows) -> bytes:
    return "\n".join(json.dumps(r) for r in rows).encode()


@pytest.mark.django_db
def test_a_malformed_suite_file_is_refused_with_its_line_and_nothing_saved(
    workspace, owner, categories, help_centre
):
    good = {"messages": [RETURN_QUESTION], "expect": "answer", "article": "ret-1"}
    cases = [
        (b'{"messages": ["hi"], "expect": "answer", "article": "ret-1"}\n{not json', 2, "JSON"),
        (jsonl(good, {"message": "x", "expect": "answer", "article": "nope"}), 2, "No article"),
        (jsonl(good, good, {"message": "x", "expect": "handoff", "trigger": "sad"}), 3, "trigger"),
        (jsonl({"message": "x", "expect": "stay_out", "category": "pets"}), 1, "Unknown category"),
        (jsonl({"message": "x", "expect": "maybe"}), 1, "expectation"),
    ]
    for data, line, words in cases:
        with pytest.raises(suites.SuiteFileError, match=words) as caught:
            suites.suite_cases_import(
                workspace=workspace,
                actor=owner,
                filename="cases.jsonl",
                data=data,
                known_categories=categories,
            )
        assert caught.value.line == line
    csv_data = (
        b'messages,expect,article\n"How do I return it?\nAnd the label?",answer,ret-1\nx,answer\n'
    )
    with pytest.raises(suites.SuiteFileError) as caught:
        suites.suite_cases_import(
            workspace=workspace,
            actor=owner,
            filename="cases.csv",
            data=csv_data,
            known_categories=categories,
        )
    assert caught.value.line == 4  # the quoted cell spans lines 2-3
    assert not SuiteCase.objects.exists()


@pytest.mark.django_db
def test_a_suite_run_plays_the_real_turn_in_scratch_conversations_and_gates_promotion(
    workspace, owner, categories, help_centre
):
    created = suites.suite_cases_import(
        workspace=workspace,
        actor=owner,
        filename="cases.csv",
        data=(
            "messages,expect,article,trigger,category\n"
            f"{RETURN_QUESTION},answer,ret-1,,\n"
            f"{SHIPPING_QUESTION},handoff,,category_not_enabled,\n"
            f"{SHIPPING_QUESTION},stay_out,,,{SHIPPING}\n"
            "I want to talk to a person,handoff,,explicit_request,\n"
            f"{SHIPPING_QUESTION},answer,ship-1,,\n"
        ).encode(),
        known_categories=categories,
    )
    assert len(created) == 5
    phase = make_phase(workspace, owner, categories, live=False)
    phase_start_testing(phase=phase, actor=owner)
    with pytest.raises(RolloutError, match="Run the test suite"):
        phase_promote(phase=phase, actor=owner)
    conversations_before = Conversation.objects.count()

    run = suite_run_create(phase=phase, actor=owner)
    run = do_suite_run(run_id=run.pk)
    assert run.status == SuiteRun.Status.DONE and (run.done, run.total) == (5, 5)
    results = list(run.results.order_by("pk"))
    assert [r.passed for r in results] == [True, True, True, True, False]
    first = results[0].actual["turns"][0]
    assert first["action"] == "answer" and first["cited"] == ["ret-1"]
    assert first["category"] == RETURNS and first["retrieval"] > 0
    assert "category_not_enabled" in results[4].why  # the phase keeps the bot out of it
    # Nothing of the scratch conversations survives: no customer, message or hand-off.
    assert Conversation.objects.count() == conversations_before
    assert not Customer.objects.filter(visitor_id__startswith="suite-").exists()
    assert not Handoff.objects.exists() and not Message.objects.exists()

    with pytest.raises(RolloutError, match="4 of 5"):
        phase_promote(phase=phase, actor=owner)  # 80% < 95%
    suite_threshold_set(workspace=workspace, actor=owner, percent="80")
    phase_promote(phase=phase, actor=owner)
    phase.refresh_from_db()
    assert phase.status == Phase.Status.LIVE
    row = workspace.audit_logs.get(action="rollout.phase_live")
    assert row.details["suite_run_id"] == run.pk


@pytest.mark.django_db
def test_only_one_phase_is_live_at_a_time(workspace, owner, categories):
    make_phase(workspace, owner, categories)  # live
    second = make_phase(workspace, owner, categories, live=False)
    Phase.objects.filter(pk=second.pk).update(status=Phase.Status.PAUSED)
    second.refresh_from_db()
    from supportops.rollout.services import phase_resume

    with pytest.raises(RolloutError, match="only one phase can be live"):
        phase_resume(phase=second, actor=owner, reason="go")
    second.refresh_from_db()
    assert second.status == Phase.Status.PAUSED


@pytest.mark.django_db
def test_a_case_comes_from_a_real_conversation_with_what_a_person_judged(
    workspace, owner, categories, help_centre
):
    from supportops.flows import do_bot_turn, do_conversation_start, do_customer_message

    customer = Customer.objects.create(workspace=workspace, visitor_id="q" * 20)
    conversation = do_conversation_start(workspace=workspace, customer=customer).conversation
    message = do_customer_message(
        conversation=conversation, text="I want to talk to a person", queue_bot=False
    ).message
    do_bot_turn(message_id=message.pk)
    draft = suites.case_from_conversation(conversation=conversation)
    assert draft.messages == ["I want to talk to a person"]
    assert (draft.expect, draft.trigger) == ("handoff", "explicit_request")
    case = suites.suite_case_create(
        workspace=workspace,
        actor=owner,
        draft=draft,
        known_categories=categories,
        source_conversation=conversation,
    )
    assert case.source_conversation_id == conversation.pk
