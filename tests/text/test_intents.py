from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from supportops.bot.management.commands.intent_eval import k_fold_splits, score
from supportops.text.intents import (
    HIGH_STAKES_CATEGORIES,
    IntentClassifier,
    _balanced_threshold,
    high_stakes_classifier,
    load_high_stakes_examples,
)

EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval"
needs_eval = pytest.mark.skipif(
    not EVAL.exists(), reason="../shared/eval is absent (only CI and developers have it)"
)

SMALL_SET = {
    "track_order": [
        "Where is my order?",
        "Has my package shipped yet?",
        "I want to track my parcel",
        "When will my delivery arrive?",
        "My order hasn't arrived, where is it?",
        "Can you give me the tracking number for my order?",
        "How long until my package gets here?",
    ],
    "reset_password": [
        "I forgot my password",
        "How do I reset my password?",
        "I can't log in, my password doesn't work",
        "Send me a password reset link",
        "I need to change my password",
        "Locked out of my account, need a new password",
        "Your reset link hasn't shown up in my inbox",
    ],
    "opening_hours": [
        "What time do you open?",
        "Are you open on Sundays?",
        "What are your opening hours?",
        "When does the shop close today?",
        "Are you open on bank holidays?",
        "What time does the store open tomorrow morning?",
        "How late are you open tonight?",
    ],
    "cancel_subscription": [
        "I want to cancel my subscription",
        "How do I stop my monthly plan?",
        "Please cancel my membership",
        "Stop renewing my subscription",
        "I don't want to be charged every month anymore, cancel it",
        "How can I end my plan?",
        "Unsubscribe me from the paid plan",
    ],
}

# Paraphrases written for this test and kept out of supportops/text/data/.
HIGH_STAKES_PARAPHRASES = [
    ("You took money from me twice for one purchase, I want it back", "billing_dispute"),
    ("This month's bill is way higher than what I agreed to pay", "billing_dispute"),
    ("I never signed up for this charge on my statement", "billing_dispute"),
    ("Somebody else has been logging into my account", "fraud_account_security"),
    ("My account was hacked and they changed my email", "fraud_account_security"),
    ("There are purchases on my card from your shop that I didn't make", "fraud_account_security"),
    ("I'm speaking to my lawyer about this", "legal_threat"),
    ("I will be taking legal action against your company", "legal_threat"),
    ("Expect to hear from my attorney", "legal_threat"),
    ("Please erase all the personal information you hold about me", "data_deletion"),
    ("I want my account deleted along with my data", "data_deletion"),
    ("Remove my details from your records under GDPR", "data_deletion"),
    ("What time does your shop open on Saturday?", None),
    ("How do I change the colour of my order before it ships?", None),
]


def write_csv(path: Path, rows: list[tuple[str, str]], header=("text", "label")) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run_json(*args: str) -> dict:
    out = StringIO()
    call_command(*args, "--json", stdout=out, stderr=StringIO())
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1, "a --json command prints exactly one line on stdout"
    return json.loads(lines[0])


def small_set_rows() -> list[tuple[str, str]]:
    return [(text, label) for label, texts in SMALL_SET.items() for text in texts]


def test_it_learns_a_small_set_and_refuses_an_unrelated_sentence():
    texts, labels = zip(*small_set_rows(), strict=True)
    classifier = IntentClassifier().fit(texts, labels)
    predictions = classifier.predict(
        [
            "where's my parcel? it should have come by now",
            "i can't remember my password",
            "cancel my plan please",
            "What's a good recipe for banana bread?",
        ]
    )
    assert [p.label for p in predictions] == [
        "track_order",
        "reset_password",
        "cancel_subscription",
        None,
    ]
    refused = predictions[-1]
    assert refused.confidence < classifier.threshold
    assert refused.top_label in SMALL_SET, "the best guess is kept for the record"
    assert set(predictions[0].scores) <= set(SMALL_SET)


def test_labelled_out_of_scope_examples_are_never_predicted_as_a_label():
    rows = small_set_rows() + [
        (text, "out_of_scope")
        for text in ["hello", "what's the weather like", "tell me a joke", "ok thanks"]
    ]
    texts, labels = zip(*rows, strict=True)
    classifier = IntentClassifier().fit(texts, labels)
    assert classifier.labels == sorted(SMALL_SET)
    assert all(p.label != "out_of_scope" for p in classifier.predict(["tell me a joke"]))


def test_the_default_high_stakes_data_has_enough_varied_examples():
    texts, labels = load_high_stakes_examples()
    for category in HIGH_STAKES_CATEGORIES:
        examples = [t for t, label in zip(texts, labels, strict=True) if label == category]
        assert len(set(examples)) >= 25, category
    held_back = {text for text, _ in HIGH_STAKES_PARAPHRASES}
    assert not held_back & set(texts), "the test paraphrases must stay out of the data"


def test_default_high_stakes_categories_classify_held_back_paraphrases():
    classifier = high_stakes_classifier()
    predictions = classifier.predict([text for text, _ in HIGH_STAKES_PARAPHRASES])
    wrong = [
        (text, expected, p.label, p.confidence)
        for (text, expected), p in zip(HIGH_STAKES_PARAPHRASES, predictions, strict=True)
        if p.label != expected
    ]
    assert not wrong


def test_intent_eval_prints_the_contract_keys(tmp_path):
    train = write_csv(tmp_path / "train.csv", small_set_rows())
    test = write_csv(
        tmp_path / "test.csv",
        [
            ("where is my package", "track_order"),
            ("what time do you close", "opening_hours"),
            ("who won the football last night", "out_of_scope"),
        ],
    )
    result = run_json("intent_eval", "--train", str(train), "--test", str(test))
    assert set(result) == {
        "accuracy",
        "macro_f1",
        "in_scope_accuracy",
        "out_of_scope_precision",
        "out_of_scope_recall",
        "n",
    }
    assert result["n"] == 3
    assert 0 <= result["accuracy"] <= 1
    assert result["out_of_scope_recall"] is not None

    closed = write_csv(tmp_path / "closed.csv", [("where is my package", "track_order")])
    result = run_json("intent_eval", "--train", str(train), "--test", str(closed))
    assert result["out_of_scope_precision"] is None
    assert result["out_of_scope_recall"] is None


def test_out_of_scope_is_a_class_and_a_refusal_of_an_in_scope_message_is_an_error():
    result = score(
        ["track_order", "reset_password", "out_of_scope", "out_of_scope"],
        ["track_order", "out_of_scope", "out_of_scope", "reset_password"],
    )
    assert result["accuracy"] == 0.5
    assert result["in_scope_accuracy"] == 0.5  # the refusal counts against it
    assert result["out_of_scope_recall"] == 0.5
    assert result["out_of_scope_precision"] == 0.5
    closed = score(["track_order", "reset_password"], ["track_order", "out_of_scope"])
    assert closed["accuracy"] == closed["in_scope_accuracy"] == 0.5
    assert closed["out_of_scope_recall"] is None


def test_the_threshold_balances_in_scope_accuracy_and_out_of_scope_recall():
    right = np.array([True, True, True, True, False])
    in_confidence = np.array([0.9, 0.8, 0.7, 0.4, 0.6])
    out_confidence = np.array([0.2, 0.3, 0.5, 0.75])
    threshold, figures = _balanced_threshold(
        right=right, in_confidence=in_confidence, out_confidence=out_confidence, out_weight=0.5
    )
    # At 0.7: 3 of 5 in-scope right and kept, 3 of 4 refused (mean 0.675); at 0.8: 2 of 5
    # and 4 of 4 (0.7), the best; at 0.9: 1 of 5 and 4 of 4 (0.6).
    assert threshold == pytest.approx(0.8)
    assert figures == {"in_scope_accuracy": 0.4, "out_of_scope_recall": 1.0}
    only_refusals, _ = _balanced_threshold(
        right=right, in_confidence=in_confidence, out_confidence=out_confidence, out_weight=1.0
    )
    assert only_refusals > 0.75


def test_k_fold_holds_out_intents_only_when_the_file_has_no_out_of_scope_rows():
    labels = [label for label in SMALL_SET for _ in range(7)]
    splits = k_fold_splits(labels, 3)
    assert len(splits) == 3
    tested = set()
    for train, test, held in splits:
        assert held and not {labels[i] for i in train} & held
        assert not set(train) & set(test)
        tested |= set(test.tolist())
    assert tested == set(range(len(labels)))
    with_negatives = labels + ["out_of_scope"] * 6
    assert all(not held for _, _, held in k_fold_splits(with_negatives, 3))


def test_intent_eval_cross_validates_on_the_training_file(tmp_path, capsys):
    train = write_csv(tmp_path / "train.csv", small_set_rows())
    result = run_json("intent_eval", "--train", str(train), "--folds", "3")
    assert result["folds"] == 3
    assert result["n"] >= len(small_set_rows())
    assert result["out_of_scope_recall"] is not None  # intents held out stand in for it
    assert 0 <= result["in_scope_accuracy"] <= 1
    with pytest.raises(SystemExit):
        call_command("intent_eval", "--train", str(train), "--json")
    assert "either --test S.csv or --folds K" in capsys.readouterr().out


def test_intent_eval_names_the_file_and_line_of_a_bad_row(tmp_path, capsys):
    train = write_csv(tmp_path / "train.csv", small_set_rows())
    test = tmp_path / "test.csv"
    test.write_text("text,label\nwhere is my parcel,track_order\nno label here,\n")
    with pytest.raises(SystemExit):
        call_command("intent_eval", "--train", str(train), "--test", str(test), "--json")
    error = json.loads(capsys.readouterr().out)["error"]
    assert error == f"{test}, line 3: empty label"

    headless = write_csv(tmp_path / "headless.csv", [("hi", "x")], header=("message", "intent"))
    with pytest.raises(SystemExit):
        call_command("intent_eval", "--train", str(headless), "--test", str(test), "--json")
    assert f"{headless}, line 1: missing column text, label" in capsys.readouterr().out

    missing = tmp_path / "nope.csv"
    with pytest.raises(CommandError, match=f"cannot read {missing}: No such file"):
        call_command("intent_eval", "--train", str(missing), "--test", str(test))


@pytest.mark.eval
@needs_eval
def test_banking77_held_out_split_keeps_its_measured_figure(tmp_path):
    """80/20 stratified split (seed 0) of banking77/train.csv; the official test is held out.
    The out-of-scope threshold comes from the training file alone (intents held out), so a
    refused in-scope message counts as an error: measured 0.7786 on 2026-12-04, under the
    0.935 target (docs/benchmarks.md). The floor guards against a regression."""
    from sklearn.model_selection import train_test_split

    with (EVAL / "intents" / "banking77" / "train.csv").open(encoding="utf-8") as handle:
        rows = [(r["text"], r["label"]) for r in csv.DictReader(handle)]
    train, test = train_test_split(
        rows, test_size=0.2, stratify=[label for _, label in rows], random_state=0
    )
    result = run_json(
        "intent_eval",
        "--train",
        str(write_csv(tmp_path / "train.csv", train)),
        "--test",
        str(write_csv(tmp_path / "test.csv", test)),
    )
    assert result["n"] == 2001
    assert result["accuracy"] >= 0.76


@pytest.mark.eval
@needs_eval
def test_clinc150_dev_keeps_its_measured_figures():
    """Configured from the training file only: measured in-scope accuracy 0.9027 (target 0.95,
    not met) and out-of-scope recall 0.97 on 2026-12-04; floors guard against a regression."""
    clinc = EVAL / "intents" / "clinc150"
    result = run_json(
        "intent_eval", "--train", str(clinc / "train.csv"), "--test", str(clinc / "dev.csv")
    )
    assert result["in_scope_accuracy"] >= 0.89
    assert result["out_of_scope_recall"] >= 0.90
