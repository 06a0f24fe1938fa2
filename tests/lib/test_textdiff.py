from __future__ import annotations

from supportops.lib.textdiff import side_by_side


def _kinds(diff) -> list[str]:
    return [row.kind for row in diff.rows]


def test_identical_texts_have_no_changes():
    diff = side_by_side("one\ntwo", "one\ntwo")
    assert not diff.changed
    assert (diff.added, diff.removed) == (0, 0)


def test_a_changed_line_marks_only_the_words_that_differ():
    diff = side_by_side("Standard delivery takes 3 days.", "Standard delivery takes 5 days.")
    (row,) = diff.rows
    assert row.kind == "change" and (row.old_number, row.new_number) == (1, 1)
    assert [s.text for s in row.old if s.changed] == ["3"]
    assert [s.text for s in row.new if s.changed] == ["5"]
    assert "".join(s.text for s in row.new) == "Standard delivery takes 5 days."


def test_added_and_removed_lines_are_counted_and_numbered():
    diff = side_by_side("a\nb\nc", "a\nc\nd")
    assert _kinds(diff) == ["equal", "delete", "equal", "insert"]
    assert (diff.added, diff.removed) == (1, 1)
    assert diff.rows[1].old_number == 2 and diff.rows[3].new_number == 3


def test_long_unchanged_runs_are_cut_to_context():
    old = "\n".join(f"line {n}" for n in range(1, 21))
    new = old.replace("line 10", "line ten")
    diff = side_by_side(old, new, context=2)
    kinds = _kinds(diff)
    assert kinds == ["skip", "equal", "equal", "change", "equal", "equal", "skip"]
    assert diff.rows[0].skipped == 7 and diff.rows[-1].skipped == 8


def test_segments_are_plain_text_for_the_template_to_escape():
    diff = side_by_side("hello", "<script>alert(1)</script>")
    texts = "".join(s.text for row in diff.rows for s in row.new)
    assert texts == "<script>alert(1)</script>"  # raw characters; the template escapes them
