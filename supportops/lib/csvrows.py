"""CSV records with the line each starts on, for imports that name the bad line."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator


def csv_records(
    text: str, *, error: Callable[[str, int], Exception]
) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line of the record, cells) for every record that is not blank.

    A quoted cell may span lines, so the line is where the record starts, counted from 1.
    Where the csv module cannot read on (an unclosed quote, a NUL byte) it raises
    `error(message, line)`, the caller's own exception.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise error(f"The CSV cannot be read here ({exc}).", line) from None
        if any(cell.strip() for cell in record):
            yield line, record
