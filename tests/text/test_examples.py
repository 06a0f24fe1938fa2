from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from supportops.text.examples import DATA_DIR, read_examples

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("sentiment_examples.csv", "high_stakes_intents.csv")


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
