from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from supportops.text.examples import DATA_DIR, read_examples

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {"sentiment_examples.csv": "sentiment", "high_stakes_intents.csv": "label"}
EVAL = ROOT.parent / "shared" / "eval"


def test_comment_lines_before_the_header_are_not_examples(tmp_path):
    path = tmp_path / "examples.csv"
    path.write_text(
        "# made by hand\n# licence: ours\ntext,label\n"
        '"#1 fan, thanks",positive\n"two\nlines",neutral\n',
        encoding="utf-8",
    )
    texts, labels = read_examples(path, label_column="label")
    assert texts == ["#1 fan, thanks", "two\nlines"]
    assert labels == ["positive", "neutral"]


def test_each_shipped_file_says_how_it_was_made():
    for name in SHIPPED:
        header = (DATA_DIR / name).read_text(encoding="utf-8").split("\ntext,", 1)[0]
        assert header.startswith("# Written for SupportOps by the project"), name
        assert "scripts/make_text_examples.py" in header
        assert "Nothing is derived from any evaluation set" in header


def test_the_shipped_files_are_what_the_script_makes(tmp_path):
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_text_examples.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for name in SHIPPED:
        made = (tmp_path / name).read_bytes()
        assert made == (DATA_DIR / name).read_bytes(), f"{name}: run the script, not an editor"


def _letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


@pytest.mark.skipif(
    not EVAL.exists(), reason="../shared/eval is absent (only CI and developers have it)"
)
def test_no_shipped_example_is_a_message_of_the_evaluation_sets():
    evaluation: set[str] = set()
    for path in EVAL.rglob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                evaluation.update(_letters(s) for s in _strings(json.loads(line)))
    for path in EVAL.rglob("*.csv"):
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            evaluation.update(_letters(cell) for row in csv.reader(handle) for cell in row)
    for name, label_column in SHIPPED.items():
        texts, _ = read_examples(DATA_DIR / name, label_column=label_column)
        copied = {_letters(t) for t in texts} & evaluation
        assert not copied, name
