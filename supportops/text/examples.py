"""The shipped training files in supportops/text/data/."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def read_examples(path: Path, *, label_column: str) -> tuple[list[str], list[str]]:
    """(texts, labels) of a CSV with `text` and `label_column` columns. The `#` lines before
    the header say how the file was made; they are not examples."""
    texts, labels = [], []
    with path.open(encoding="utf-8", newline="") as handle:
        lines = itertools.dropwhile(lambda line: line.startswith("#"), handle)
        for row in csv.DictReader(lines):
            texts.append(row["text"])
            labels.append(row[label_column])
    return texts, labels
