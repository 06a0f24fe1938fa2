import pytest

from supportops.lib.csvrows import csv_records


class LineError(Exception):
    def __init__(self, reason: str, line: int) -> None:
        super().__init__(reason)
        self.line = line


def test_records_carry_the_line_they_start_on_and_blank_lines_are_skipped():
    text = 'text,label\n\n"two\nlines",a\n , \nlast,b\n'
    assert list(csv_records(text, error=LineError)) == [
        (1, ["text", "label"]),
        (3, ["two\nlines", "a"]),
        (6, ["last", "b"]),
    ]


def test_an_unreadable_record_raises_the_callers_error_with_its_line():
    text = "text,label\nfine,a\n" + "x" * 200_000 + ",b\n"  # over the csv module's field limit
    records = csv_records(text, error=LineError)
    assert next(records) == (1, ["text", "label"])
    assert next(records) == (2, ["fine", "a"])
    with pytest.raises(LineError, match="cannot be read here") as caught:
        next(records)
    assert caught.value.line == 3
