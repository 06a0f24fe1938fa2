from __future__ import annotations

import csv
import json
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from supportops.integrations.embeddings import embed_query
from supportops.text.sentiment import load_examples, normalise, score, score_many, valence

EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval"
AIRLINE = EVAL / "sentiment" / "airline-dev.csv"


def run_json(*args: str) -> dict:
    out = StringIO()
    call_command(*args, "--json", stdout=out, stderr=StringIO())
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1, "a --json command prints exactly one line on stdout"
    return json.loads(lines[0])


def test_it_flags_clear_frustration_as_negative():
    result = score("This is the THIRD time I'm asking, useless!!")
    assert result.label == "negative"
    assert result.frustration
    assert result.negative_probability > 0.5
    assert result.cues, "the handoff record says why"


def test_a_thank_you_is_positive_and_not_frustrated():
    result = score("Thank you so much, that sorted it out. Have a lovely day!")
    assert result.label == "positive"
    assert not result.frustration
    assert result.negative_probability < 0.35


def test_a_plain_question_is_neutral():
    assert score("Do you deliver to Ireland?").label == "neutral"


def test_a_calm_question_about_an_order_is_neutral_not_frustrated():
    for text in ("Where is my order?", "@tidewell can I move my delivery to tomorrow?"):
        result = score(text)
        assert result.label == "neutral", text
        assert not result.frustration, text


def test_shouting_that_it_is_the_third_time_is_frustrated():
    result = score("this is the third time I ask!!!")
    assert result.label == "negative"
    assert result.frustration
    assert "repeated or waiting" in result.cues


def test_negation_and_mixed_feelings():
    unhappy, mixed, emoji = score_many(
        [
            "Not happy at all with the service",
            "The parcel took ages but the driver was lovely, thank you",
            "@shopfast thanks so much, the parcel arrived early 😊",
        ]
    )
    assert unhappy.label == "negative"
    assert mixed.label == "positive"
    assert emoji.label == "positive"
    assert not emoji.frustration


def test_the_valence_lexicon_handles_negation_intensifiers_and_faces():
    assert valence("helpful") == (2.0, 0.0)
    positive, negative = valence("not helpful")
    assert positive == 0 and negative > 0
    assert valence("so happy")[0] > valence("happy")[0]
    assert valence("thanks :)")[0] > valence("thanks")[0]
    assert valence("great :(")[1] > 0
    assert valence("a question about my order") == (0.0, 0.0)


def test_sarcasm_and_a_polite_complaint_read_negative():
    sarcastic, polite = score_many(
        [
            "Oh great, my parcel is lost again. Fantastic service.",
            "I was told I would get a refund two weeks ago and it still hasn't arrived",
        ]
    )
    assert sarcastic.label == "negative"
    assert polite.label == "negative"


def test_handles_and_links_are_normalised():
    assert normalise("@acme_help see  https://t.co/x1 please") == "see please"
    assert normalise("@acme_help") == "@acme_help"


def _letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", normalise(text).lower()).strip()


def test_the_turns_vector_is_reused_only_for_the_text_the_model_reads():
    plain = "My  tent pole snapped on the first night, this is really disappointing"
    vector = embed_query(plain)
    assert score(plain, vector=vector) == score(plain)
    # A vector of something else shows whether it was used: for plain text it is (the
    # message is not embedded twice), for a text with a handle or link it is not.
    other = embed_query("Thank you so much, you are wonderful and I love it!")
    assert score(plain, vector=other).probabilities != score(plain).probabilities
    addressed = "@tidewell " + plain + " https://example.com/photo"
    assert score(addressed, vector=other) == score(addressed)


def test_the_training_examples_are_the_projects_own():
    texts, labels = load_examples()
    assert len(texts) >= 1500
    assert set(labels) == {"negative", "neutral", "positive"}
    if AIRLINE.exists():
        with AIRLINE.open(encoding="utf-8") as handle:
            evaluation = {_letters(row["text"]) for row in csv.DictReader(handle)}
        copied = evaluation & {_letters(t) for t in texts}
        assert not copied, "the evaluation set must never be training data"


def test_sentiment_eval_prints_the_contract_keys(tmp_path):
    dataset = tmp_path / "d.csv"
    dataset.write_text(
        "text,sentiment,theme\n"
        '"Still waiting for my refund, third email!!",negative,refund\n'
        "Thanks a lot for the quick help,positive,\n"
        "What are your opening hours?,neutral,\n"
    )
    result = run_json("sentiment_eval", "--dataset", str(dataset))
    assert set(result) == {"accuracy", "macro_f1", "negative_recall", "n"}
    assert result["n"] == 3
    assert result["negative_recall"] == 1.0


def test_sentiment_eval_names_the_file_and_line_of_a_bad_row(tmp_path, capsys):
    dataset = tmp_path / "d.csv"
    dataset.write_text("text,sentiment\nfine,neutral\nmeh,angry\n")
    with pytest.raises(SystemExit):
        call_command("sentiment_eval", "--dataset", str(dataset), "--json")
    error = json.loads(capsys.readouterr().out)["error"]
    assert error.startswith(f"{dataset}, line 3: sentiment 'angry' is not one of")

    dataset.write_text("message,label\nfine,neutral\n")
    with pytest.raises(SystemExit):
        call_command("sentiment_eval", "--dataset", str(dataset), "--json")
    error = json.loads(capsys.readouterr().out)["error"]
    assert error.startswith(f"{dataset}, line 1: missing column text, sentiment")


@pytest.mark.eval
@pytest.mark.skipif(
    not AIRLINE.exists(), reason="../shared/eval is absent (only CI and developers have it)"
)
def test_airline_tweets_meet_the_measured_figures():
    result = run_json("sentiment_eval", "--dataset", str(AIRLINE))
    assert result["n"] == 4328
    # Floors a little under the figures in docs/benchmarks.md, which says how they were made.
    assert result["accuracy"] >= 0.75
    assert result["negative_recall"] >= 0.85  # the target of 0.90 is not reached
    assert result["macro_f1"] >= 0.68
