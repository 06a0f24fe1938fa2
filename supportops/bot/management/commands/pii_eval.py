"""`manage.py pii_eval --dataset D.jsonl --json`: how much labelled PII the redaction covers.

Scoring is strict, by type (per line, then summed):
- recall, per gold type: a gold span is found when the predicted spans of that same type
  cover every letter and digit in it (what leaks is letters and digits; a missed "+" or
  trailing "." is not a leak). A city labelled GPE inside a redacted street address is not
  found: the product has no GPE type;
- precision, per predicted type: a predicted span is correct when it overlaps a gold span of
  the same type;
- micro: the same counts over all types, gold types the redactor does not handle included.
A rate with nothing to count (no gold span, or no prediction, of that type) is null.

`texts` lists what the product redacted in each input line, in input order, so that anyone
can score the output another way.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from supportops.lib.commands import logs_to_stderr, print_json, read_jsonl
from supportops.text.redaction import Span, redact


def score_line(text: str, gold: list[Span], predicted: list[Span]) -> dict[str, Counter]:
    """Counts for one line: gold spans found, by gold type; correct predictions, by type."""
    covered: dict[str, bytearray] = {}
    for span in predicted:
        mask = covered.setdefault(span.type, bytearray(len(text)))
        mask[span.start : span.end] = b"\x01" * (span.end - span.start)
    counts: dict[str, Counter] = {
        "support": Counter(),
        "found": Counter(),
        "predicted": Counter(),
        "correct": Counter(),
    }
    for span in gold:
        counts["support"][span.type] += 1
        same_type = covered.get(span.type)
        if same_type is not None and all(
            same_type[i] for i in range(span.start, span.end) if text[i].isalnum()
        ):
            counts["found"][span.type] += 1
    for span in predicted:
        counts["predicted"][span.type] += 1
        if any(g.start < span.end and span.start < g.end and g.type == span.type for g in gold):
            counts["correct"][span.type] += 1
    return counts


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def evaluate(rows: list[tuple[str, list[Span]]]) -> dict[str, Any]:
    totals: dict[str, Counter] = {
        "support": Counter(),
        "found": Counter(),
        "predicted": Counter(),
        "correct": Counter(),
    }
    texts = []
    for text, gold in rows:
        spans = redact(text).spans
        texts.append({"spans": [{"type": s.type, "start": s.start, "end": s.end} for s in spans]})
        for key, counter in score_line(text, gold, spans).items():
            totals[key].update(counter)
    types = sorted(set(totals["support"]) | set(totals["predicted"]))
    per_type = {
        t: {
            "precision": _rate(totals["correct"][t], totals["predicted"][t]),
            "recall": _rate(totals["found"][t], totals["support"][t]),
            "support": totals["support"][t],
        }
        for t in types
    }
    micro = {
        "precision": _rate(sum(totals["correct"].values()), sum(totals["predicted"].values())),
        "recall": _rate(sum(totals["found"].values()), sum(totals["support"].values())),
    }
    return {"per_type": per_type, "micro": micro, "n": len(rows), "texts": texts}


def parse_rows(path: str) -> list[tuple[str, list[Span]]]:
    """The dataset as (text, gold spans); any malformed line is a CommandError naming it."""
    try:
        raw: list[Any] | None = read_jsonl(path, ("text", "spans"))
    except TypeError:  # a line that is JSON but not an object, such as a bare number
        raw = None
    except UnicodeDecodeError:
        raise CommandError(f"{path}: not UTF-8 text") from None
    # read_jsonl skips blank lines; pair each row with its line number again for messages.
    with open(path, encoding="utf-8") as handle:
        lines = [(n, line) for n, line in enumerate(handle, start=1) if line.strip()]
    if raw is None:
        raw = [json.loads(line) for _, line in lines]
    rows = []
    for (number, _), row in zip(lines, raw, strict=True):
        try:
            rows.append(_parse_row(row))
        except ValueError as exc:
            raise CommandError(f"{path}, line {number}: {exc}") from None
    return rows


def _parse_row(row: Any) -> tuple[str, list[Span]]:
    if not isinstance(row, dict):
        raise ValueError("expected a JSON object with text and spans")
    text, spans = row["text"], row["spans"]
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not isinstance(spans, list):
        raise ValueError("spans must be a list")
    gold = []
    for index, span in enumerate(spans):
        if not isinstance(span, dict) or not {"type", "start", "end"} <= span.keys():
            raise ValueError(f"span {index} needs type, start and end")
        start, end, kind = span["start"], span["end"], span["type"]
        if not (isinstance(start, int) and isinstance(end, int) and isinstance(kind, str)):
            raise ValueError(f"span {index}: start and end must be integers, type a string")
        if not 0 <= start <= end <= len(text):
            raise ValueError(f"span {index}: offsets {start}..{end} outside the text")
        gold.append(Span(kind, start, end))
    return text, gold


class Command(BaseCommand):
    help = "Measure PII redaction against labelled spans: per-type precision and recall."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="JSONL {text, spans: [...]}")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **opts):
        with logs_to_stderr():
            rows = parse_rows(opts["dataset"])
            started = time.perf_counter()
            result = evaluate(rows)
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.stderr.write(f"pii_eval: {len(rows)} lines redacted in {elapsed_ms:.0f} ms")
        if opts["json"]:
            print_json(result, self.stdout)
            return
        for kind, row in result["per_type"].items():
            self.stdout.write(
                f"{kind:16s} precision={_show(row['precision'])} "
                f"recall={_show(row['recall'])} support={row['support']}"
            )
        micro = result["micro"]
        self.stdout.write(
            f"{'micro':16s} precision={_show(micro['precision'])} "
            f"recall={_show(micro['recall'])} n={result['n']}"
        )


def _show(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
