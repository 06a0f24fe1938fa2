"""Theme clustering (issue 13, post-interaction analysis) and the theme_eval command."""

from __future__ import annotations

import csv
import json
from collections import Counter
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from sklearn.metrics import normalized_mutual_info_score

from supportops.analytics.themes import MAX_THEMES, theme_text, theme_vectors, themes_find

DATA = Path(__file__).parent / "data" / "support_themes.csv"
EVAL = Path(__file__).resolve().parents[3] / "shared" / "eval"
AIRLINE = EVAL / "sentiment" / "airline-dev.csv"

# Words a reader would expect in the label of each written topic.
TOPIC_WORDS = {
    "login": {"password", "login", "log", "sign", "account", "locked", "reset", "code"},
    "delivery": {"parcel", "package", "delivery", "delivered", "tracking", "courier", "arrived"},
    "billing": {"charged", "charge", "invoice", "billed", "payment", "bill", "statement"},
    "app_crash": {"app", "crashes", "crash", "crashing", "freezes", "update"},
    "flight": {"flight", "cancelled", "delayed", "airline", "rebooking", "departure"},
    "internet": {"internet", "wifi", "connection", "broadband", "router", "speed", "network"},
    "food_order": {"food", "order", "missing", "meal", "cold", "ordered", "restaurant"},
    "refund": {"refund", "return", "returned", "money", "item"},
}


def written_messages() -> tuple[list[str], list[str]]:
    with DATA.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["sentiment"] == "negative"]
    return [row["text"] for row in rows], [row["complaint_theme"] for row in rows]


@pytest.fixture(scope="module")
def written():
    texts, topics = written_messages()
    vectors = theme_vectors(texts)
    return texts, topics, vectors, themes_find(texts=texts, vectors=vectors)


def test_the_written_topics_come_back_as_themes(written):
    texts, topics, _, found = written
    # Eight topics that share no subject (sign-in, parcels, bills, crashes, flights, internet,
    # takeaway food, refunds), twelve messages each. A clustering that reads topics should
    # match them almost one to one; 0.8 still allows two topics to be merged or one split
    # (merging two of eight scores about 0.93, a random split of the same sizes about 0.1).
    assert 4 <= len(found.themes) <= 16
    assert normalized_mutual_info_score(topics, found.assignments) >= 0.8


def test_each_theme_is_labelled_with_its_topics_distinctive_words(written):
    texts, topics, _, found = written
    for topic, expected in TOPIC_WORDS.items():
        members = [i for i, t in enumerate(topics) if t == topic]
        theme_id, held = Counter(int(found.assignments[i]) for i in members).most_common(1)[0]
        theme = found.themes[theme_id]
        assert held >= len(members) * 0.75, f"{topic} is spread over several themes"
        assert set(theme.words[:3]) & expected, f"{topic}: label {theme.label!r}"
        assert theme.label == ", ".join(theme.words[:3])
        assert theme.article_title is None


def test_examples_are_the_themes_own_messages_and_sizes_add_up(written):
    texts, _, _, found = written
    assert sum(theme.size for theme in found.themes) == len(texts)
    assert [theme.id for theme in found.themes] == list(range(len(found.themes)))
    assert [theme.size for theme in found.themes] == sorted(
        (theme.size for theme in found.themes), reverse=True
    )
    for theme in found.themes:
        assert theme.size == int((found.assignments == theme.id).sum())
        assert 1 <= len(theme.examples) <= 3
        assert len(set(theme.examples)) == len(theme.examples)
        for index, text in zip(theme.examples, theme.example_texts, strict=True):
            assert found.assignments[index] == theme.id
            assert texts[index] == text


def test_the_same_input_gives_the_same_themes(written):
    texts, _, vectors, found = written
    again = themes_find(texts=list(texts), vectors=vectors.copy())
    assert np.array_equal(again.assignments, found.assignments)
    assert [(t.label, t.size, t.examples) for t in again.themes] == [
        (t.label, t.size, t.examples) for t in found.themes
    ]


def test_another_periods_messages_map_onto_the_themes(written):
    texts, topics, vectors, found = written
    # The period's own messages land in their own themes.
    assert (found.assign(vectors) == found.assignments).mean() >= 0.95
    later = {
        "delivery": "The parcel you shipped last Tuesday still has not reached me",
        "login": "I cannot sign in, it says my password is wrong although I just reset it",
        "refund": "I sent the coat back weeks ago and I am still waiting for my money",
    }
    assigned = found.assign(theme_vectors(list(later.values())))
    for (topic, _), theme_id in zip(later.items(), assigned, strict=True):
        members = [i for i, t in enumerate(topics) if t == topic]
        home = Counter(int(found.assignments[i]) for i in members).most_common(1)[0][0]
        assert theme_id == home, topic


def test_a_help_centre_title_inside_a_theme_becomes_its_label(written):
    texts, topics, vectors, _ = written
    titles = [
        "Resetting your password and unlocking your account",
        "Where is my parcel? Tracking a late delivery",
        "The history of our company",
    ]
    found = themes_find(
        texts=texts, vectors=vectors, article_titles=titles, article_vectors=theme_vectors(titles)
    )
    by_title = {theme.article_title: theme for theme in found.themes if theme.article_title}
    assert "The history of our company" not in by_title
    assert titles[0] in by_title and titles[1] in by_title
    login = by_title[titles[0]]
    assert login.label == titles[0]
    assert login.words, "the distinctive words are kept beside the title"
    held = Counter(t for t, a in zip(topics, found.assignments, strict=True) if a == login.id)
    assert held.most_common(1)[0][0] == "login"


def test_the_number_of_themes_never_exceeds_the_cap():
    # Forty tight, well separated groups of messages: more topics than a theme list shows.
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((40, 384))
    vectors = np.repeat(centres, 8, axis=0) + 0.05 * rng.standard_normal((320, 384))
    texts = [f"message about subject{i // 8} number {i}" for i in range(320)]
    found = themes_find(texts=texts, vectors=vectors)
    assert len(found.themes) == MAX_THEMES
    assert max(found.scores) <= MAX_THEMES


def test_structureless_messages_still_get_a_bounded_theme_list():
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((600, 384))
    found = themes_find(texts=[f"note {i}" for i in range(600)], vectors=vectors)
    assert 1 <= len(found.themes) <= MAX_THEMES
    assert sum(theme.size for theme in found.themes) == 600


def test_tiny_and_degenerate_periods():
    empty = themes_find(texts=[], vectors=np.zeros((0, 384)))
    assert empty.themes == [] and len(empty.assignments) == 0
    assert len(empty.assign(np.ones((2, 384)))) == 2

    one = themes_find(texts=["my parcel is late"], vectors=np.ones((1, 384)))
    assert [(t.size, t.examples) for t in one.themes] == [(1, (0,))]

    same = themes_find(texts=["refund please"] * 5, vectors=np.ones((5, 384)))
    assert len(same.themes) == 1
    assert same.themes[0].examples == (0,), "one example per distinct text"

    with pytest.raises(ValueError, match="2 texts but 3 vectors"):
        themes_find(texts=["a", "b"], vectors=np.ones((3, 384)))
    with pytest.raises(ValueError, match="one vector per article title"):
        themes_find(texts=["a"], vectors=np.ones((1, 384)), article_titles=["Returns"])


def test_theme_text_drops_handles_links_and_redaction_placeholders():
    assert theme_text("@AcmeHelp my order [EMAIL] never came https://t.co/x") == (
        "my order never came"
    )
    assert theme_text("@AcmeHelp") == "@AcmeHelp", "nothing else left: the text stays"


def run_theme_eval(path: Path) -> tuple[int, dict, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("theme_eval", "--dataset", str(path), "--json", stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = int(exc.code or 0)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1, "a --json command prints exactly one line on stdout"
    return status, json.loads(lines[0]), err.getvalue()


def test_theme_eval_scores_the_negative_rows(tmp_path):
    status, result, log = run_theme_eval(DATA)
    assert status == 0
    assert set(result) == {"nmi", "clusters", "n", "method"}
    assert result["n"] == 96, "only the negative rows are clustered"
    assert 2 <= result["clusters"] <= MAX_THEMES
    assert result["nmi"] >= 0.8
    assert "kmeans" in result["method"]
    assert "themes:" in log


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text,label\nhello,x\n", "line 1: missing column sentiment"),
        ("text,sentiment\nlate again,negative\n", "line 1: missing column complaint_theme"),
        (
            "text,sentiment,complaint_theme\nlovely,positive,\nok,neutral,\n",
            "no rows with sentiment negative",
        ),
        (
            "text,sentiment,complaint_theme\nlate,negative,Late\nlost bag,negative,\n",
            "1 of 2 negative rows have an empty complaint_theme",
        ),
        ("text,sentiment,complaint_theme\nlate,furious,Late\n", "line 2: sentiment 'furious'"),
        ("text,sentiment,complaint_theme\n", "no rows"),
    ],
)
def test_theme_eval_rejects_bad_files_with_one_json_error(tmp_path, content, message):
    dataset = tmp_path / "d.csv"
    dataset.write_text(content, encoding="utf-8")
    status, result, log = run_theme_eval(dataset)
    assert status == 1
    assert list(result) == ["error"]
    assert message in result["error"]
    assert message in log


def test_theme_eval_names_a_missing_file(tmp_path):
    status, result, _ = run_theme_eval(tmp_path / "nope.csv")
    assert status == 1
    assert result == {"error": f"cannot read {tmp_path / 'nope.csv'}: No such file or directory"}


@pytest.mark.eval
@pytest.mark.skipif(
    not AIRLINE.exists(), reason="../shared/eval is absent (only CI and developers have it)"
)
def test_airline_complaints_keep_the_measured_figure():
    status, result, _ = run_theme_eval(AIRLINE)
    assert status == 0
    assert result["n"] == 2735
    assert 2 <= result["clusters"] <= MAX_THEMES
    # Measured NMI 0.257 with 10 themes (docs/benchmarks.md). The target of 0.30 is
    # NOT reached: no k in 2..30 reaches it with k-means on these embeddings (best 0.26).
    # This is the measured figure minus a margin, so a regression (a collapse to 2 themes
    # scored 0.07) shows.
    assert result["nmi"] >= 0.23
