"""Side-by-side line diff of two texts, with the changed words inside changed lines marked.

Built on the standard library's `difflib.SequenceMatcher`. The rows carry plain text
segments, never HTML: templates escape them like any other text, so a diff of Markdown
that contains `<script>` shows the characters and runs nothing.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

CONTEXT_LINES = 3
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


@dataclass(frozen=True)
class Segment:
    text: str
    changed: bool = False


@dataclass(frozen=True)
class Row:
    """One line of the diff. `kind`: equal, change, delete, insert, or skip (unchanged lines
    left out, `skipped` of them)."""

    kind: str
    old_number: int | None = None
    old: tuple[Segment, ...] = ()
    new_number: int | None = None
    new: tuple[Segment, ...] = ()
    skipped: int = 0


@dataclass
class TextDiff:
    rows: list[Row] = field(default_factory=list)
    added: int = 0  # lines only in the new text (changed lines count once each way)
    removed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def _words(old: str, new: str) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """Mark the words that differ between two versions of one line."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    left: list[Segment] = []
    right: list[Segment] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if i2 > i1:
            left.append(Segment("".join(a[i1:i2]), tag != "equal"))
        if j2 > j1:
            right.append(Segment("".join(b[j1:j2]), tag != "equal"))
    return tuple(left), tuple(right)


def _whole(line: str, changed: bool) -> tuple[Segment, ...]:
    return (Segment(line, changed),)


def side_by_side(old: str, new: str, *, context: int = CONTEXT_LINES) -> TextDiff:
    """Rows pairing the old text's lines with the new text's; long unchanged runs are cut to
    `context` lines around each change."""
    a = (old or "").replace("\r\n", "\n").split("\n")
    b = (new or "").replace("\r\n", "\n").split("\n")
    diff = TextDiff()
    opcodes = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            diff.rows.extend(
                _equal_rows(
                    a,
                    i1,
                    i2,
                    j1,
                    context,
                    first=index == 0,
                    last=index == len(opcodes) - 1,
                )
            )
            continue
        pairs = max(i2 - i1, j2 - j1)
        for k in range(pairs):
            i, j = i1 + k, j1 + k
            has_old, has_new = i < i2, j < j2
            if has_old and has_new:
                left, right = _words(a[i], b[j])
                diff.rows.append(Row("change", i + 1, left, j + 1, right))
            elif has_old:
                diff.rows.append(Row("delete", old_number=i + 1, old=_whole(a[i], True)))
            else:
                diff.rows.append(Row("insert", new_number=j + 1, new=_whole(b[j], True)))
        diff.removed += i2 - i1
        diff.added += j2 - j1
    return diff


def _equal_rows(
    lines: list[str], i1: int, i2: int, j1: int, context: int, *, first: bool, last: bool
) -> list[Row]:
    def row(i: int) -> Row:
        return Row(
            "equal", i + 1, _whole(lines[i], False), j1 + (i - i1) + 1, _whole(lines[i], False)
        )

    head = 0 if first else context  # lines kept after the change above
    tail = 0 if last else context  # lines kept before the change below
    if i2 - i1 <= head + tail + 1:
        return [row(i) for i in range(i1, i2)]
    rows = [row(i) for i in range(i1, i1 + head)]
    rows.append(Row("skip", skipped=(i2 - tail) - (i1 + head)))
    rows.extend(row(i) for i in range(i2 - tail, i2))
    return rows
