"""`manage.py pii_eval`: the scoring rules, the JSON contract, bad files, and the dev targets."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from supportops.bot.management.commands.pii_eval import score_line
from supportops.text.redaction import Span

EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval"
TARGET_TYPES = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "IP_ADDRESS",
)


def run_json(*args: str) -> dict:
    out = StringIO()
    call_command("pii_eval", *args, "--json", stdout=out, stderr=StringIO())
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1, "a --json command prints exactly one line on stdout"
    return json.loads(lines[0])


def line(text: str, *spans: tuple[str, str]) -> str:
    """A JSONL row whose gold spans are given by their text, found in `text`."""
    gold = []
    for kind, value in spans:
        start = text.index(value)
        gold.append({"type": kind, "start": start, "end": start + len(value)})
    return json.dumps({"text": text, "spans": gold})


def test_it_reports_precision_recall_and_support_per_type(tmp_path):
    dataset = tmp_path / "pii.jsonl"
    rows = [
        line("Mail me at ann.lee@example.org", ("EMAIL_ADDRESS", "ann.lee@example.org")),
        line("Call 020 7946 0018 please", ("PHONE_NUMBER", "020 7946 0018")),
        line("Order 55512345 arrives on Monday"),
        "",  # blank lines are skipped, not counted
        line("Please ship it to Astrid", ("PERSON", "Astrid")),
        line("I work at Globex", ("ORGANIZATION", "Globex")),
    ]
    dataset.write_text("\n".join(rows) + "\n")
    result = run_json("--dataset", str(dataset))
    assert result["n"] == 5
    assert result["per_type"] == {
        "EMAIL_ADDRESS": {"precision": 1.0, "recall": 1.0, "support": 1},
        "PHONE_NUMBER": {"precision": 1.0, "recall": 1.0, "support": 1},
        "PERSON": {"precision": 1.0, "recall": 1.0, "support": 1},
        "ORGANIZATION": {"precision": None, "recall": 0.0, "support": 1},
    }
    assert result["micro"] == {"precision": 1.0, "recall": 0.75}
    # What was redacted, line by line in input order (the blank line is not a line).
    texts = result["texts"]
    assert len(texts) == 5
    email = json.loads(rows[0])["text"].index("ann.lee@example.org")
    assert texts[0]["spans"] == [
        {"type": "EMAIL_ADDRESS", "start": email, "end": email + len("ann.lee@example.org")}
    ]
    assert texts[2]["spans"] == [] and texts[4]["spans"] == []
    assert [s["type"] for s in texts[3]["spans"]] == ["PERSON"]


def test_a_false_alarm_lowers_precision_of_the_predicted_type(tmp_path):
    dataset = tmp_path / "pii.jsonl"
    dataset.write_text(line("Write to ann@example.org about it") + "\n")
    result = run_json("--dataset", str(dataset))
    assert result["per_type"] == {"EMAIL_ADDRESS": {"precision": 0.0, "recall": None, "support": 0}}
    assert result["micro"] == {"precision": 0.0, "recall": None}
    assert [s["type"] for s in result["texts"][0]["spans"]] == ["EMAIL_ADDRESS"]


def test_a_gold_span_is_found_when_predictions_of_its_type_cover_its_letters_and_digits():
    text = "12 Oak Street, Flat 3, Leeds"
    street = text.index("Leeds") + len("Leeds")
    gold = [Span("STREET_ADDRESS", 0, street)]
    in_two = [Span("STREET_ADDRESS", 0, 13), Span("STREET_ADDRESS", 15, street)]
    assert score_line(text, gold, in_two)["found"]["STREET_ADDRESS"] == 1  # ", " may stay
    part = [Span("STREET_ADDRESS", 0, 13)]
    assert score_line(text, gold, part)["found"]["STREET_ADDRESS"] == 0
    other_type = [Span("STREET_ADDRESS", 0, 13), Span("PERSON", 15, street)]
    assert score_line(text, gold, other_type)["found"]["STREET_ADDRESS"] == 0


def test_only_the_same_type_counts_no_families():
    text = "12 Oak Street, Leeds"
    gold = [Span("STREET_ADDRESS", 0, 13), Span("GPE", 15, 20)]
    predicted = [Span("STREET_ADDRESS", 0, 20)]
    counts = score_line(text, gold, predicted)
    assert counts["correct"]["STREET_ADDRESS"] == 1
    assert counts["found"]["STREET_ADDRESS"] == 1
    assert counts["found"]["GPE"] == 0  # an address does not cover a city labelled GPE
    city_only = score_line(text, [Span("GPE", 15, 20)], [Span("STREET_ADDRESS", 15, 20)])
    assert city_only["correct"]["STREET_ADDRESS"] == 0
    assert city_only["found"]["GPE"] == 0
    synonym = score_line("Ann Lee", [Span("NAME", 0, 7)], [Span("PERSON", 0, 7)])
    assert synonym["correct"]["PERSON"] == 0 and synonym["found"]["NAME"] == 0


def test_human_output_without_json(tmp_path):
    dataset = tmp_path / "pii.jsonl"
    dataset.write_text(line("Mail ann@example.org", ("EMAIL_ADDRESS", "ann@example.org")))
    out = StringIO()
    call_command("pii_eval", "--dataset", str(dataset), stdout=out, stderr=StringIO())
    assert "EMAIL_ADDRESS" in out.getvalue()
    assert "micro" in out.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"text": "a", "spans": []}\n{"text": "b", "spans": \n', "line 2: malformed JSON"),
        ('{"text": "a", "spans": []}\n\n{"text": "b"}\n', "line 3: missing spans"),
        ('{"text": "abc", "spans": [{"type": "PERSON", "start": 1, "end": 9}]}\n', "line 1:"),
        ('{"text": "abc", "spans": [{"type": "PERSON", "start": "1"}]}\n', "line 1: span 0"),
        ('{"text": 5, "spans": []}\n', "line 1: text must be a string"),
        ('{"text": "a", "spans": []}\n7\n', "line 2: expected a JSON object"),
    ],
)
def test_a_bad_file_is_refused_naming_the_file_and_the_line(tmp_path, content, message):
    dataset = tmp_path / "bad.jsonl"
    dataset.write_text(content)
    with pytest.raises(CommandError) as error:
        call_command("pii_eval", "--dataset", str(dataset), "--json", stdout=StringIO())
    assert str(dataset) in str(error.value)
    assert message in str(error.value)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("pii_eval", "--dataset", str(tmp_path / "nope.jsonl"), stdout=StringIO())


@pytest.mark.eval
@pytest.mark.skipif(
    not (EVAL / "pii" / "dev.jsonl").exists(),
    reason="../shared/eval is absent (only CI and developers have it)",
)
def test_dev_set_meets_the_redaction_targets():
    result = run_json("--dataset", str(EVAL / "pii" / "dev.jsonl"))
    for kind in TARGET_TYPES:
        row = result["per_type"].get(kind)
        if row is None:
            continue  # neither labelled in the dev set nor predicted anywhere in it
        if row["support"]:
            assert row["recall"] >= 0.95, (kind, row)
        if row["precision"] is not None:
            assert row["precision"] >= 0.90, (kind, row)
    assert any(result["per_type"].get(kind, {}).get("support") for kind in TARGET_TYPES)
