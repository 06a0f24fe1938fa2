from __future__ import annotations

import csv
import time

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from sklearn.metrics import f1_score

from supportops.lib.commands import fail, logs_to_stderr, print_json
from supportops.text.intents import OUT_OF_SCOPE, IntentClassifier


def read_csv_rows(
    path: str,
    columns: tuple[str, ...],
    allowed: dict[str, tuple[str, ...]] | None = None,
    optional: tuple[str, ...] = (),
) -> list[dict[str, str]]:
    """Rows of a CSV file with a header; every named column must be there and non-empty,
    with one of the `allowed` values where given (compared in lower case). `optional`
    columns must be in the header but may be empty in a row."""
    rows = []
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [c for c in (*columns, *optional) if c not in header]
            if missing:
                raise CommandError(
                    f"{path}, line 1: missing column {', '.join(missing)} "
                    f"(the header has: {', '.join(header) or 'nothing'})"
                )
            for row in reader:
                empty = [c for c in columns if not (row.get(c) or "").strip()]
                if empty:
                    raise CommandError(f"{path}, line {reader.line_num}: empty {', '.join(empty)}")
                values = {c: (row[c] or "").strip() for c in (*columns, *optional)}
                for column, choices in (allowed or {}).items():
                    values[column] = values[column].lower()
                    if values[column] not in choices:
                        raise CommandError(
                            f"{path}, line {reader.line_num}: {column} {row[column]!r} "
                            f"is not one of {', '.join(choices)}"
                        )
                rows.append(values)
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CommandError(f"cannot read {path}: not a UTF-8 CSV file ({exc})") from None
    if not rows:
        raise CommandError(f"{path}: no rows")
    return rows


def _rate(hits: int, total: int) -> float:
    return hits / total if total else 0.0


class Command(BaseCommand):
    help = (
        "Train the intent classifier on one CSV (text,label) and measure it on another. "
        "Label out_of_scope means no category. When the test set has out_of_scope rows, the "
        "classifier's own out-of-scope decisions are scored; when it has none, the test is a "
        "closed-set one and each message is scored by its best label."
    )

    def add_arguments(self, parser):
        parser.add_argument("--train", required=True, help="CSV text,label")
        parser.add_argument("--test", required=True, help="CSV text,label")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **opts):
        with logs_to_stderr():
            try:
                train = read_csv_rows(opts["train"], ("text", "label"))
                test = read_csv_rows(opts["test"], ("text", "label"))
            except CommandError as exc:
                return fail(self, opts, str(exc))
            result = self._evaluate(train, test)
        if opts["json"]:
            print_json(result, self.stdout)
        else:
            self.stdout.write(" ".join(f"{key}={value}" for key, value in result.items()))

    def _evaluate(self, train: list[dict[str, str]], test: list[dict[str, str]]) -> dict:
        from supportops.integrations.embeddings import embed_texts

        started = time.perf_counter()
        train_vectors = embed_texts([row["text"] for row in train])
        test_vectors = embed_texts([row["text"] for row in test])
        embedded = time.perf_counter()
        classifier = IntentClassifier().fit_vectors(train_vectors, [r["label"] for r in train])
        trained = time.perf_counter()
        predictions = classifier.predict_vectors(test_vectors)
        gold = np.array([row["label"] for row in test])
        out = gold == OUT_OF_SCOPE
        rejected = np.array([p.label is None for p in predictions])
        if out.any():
            predicted = np.array([p.label or OUT_OF_SCOPE for p in predictions])
        else:
            predicted = np.array([p.top_label for p in predictions])
        self.stderr.write(
            f"intent_eval: {len(train)} training and {len(test)} test messages; embedding "
            f"{embedded - started:.1f} s, training {trained - embedded:.1f} s; knn weight "
            f"{classifier.knn_weight}, threshold {classifier.threshold:.3f}, "
            f"{rejected.mean():.1%} of the test refused as out of scope"
            + ("" if out.any() else " (not scored: the test set has no out_of_scope rows)")
        )
        right = predicted == gold
        return {
            "accuracy": float(right.mean()),
            "macro_f1": float(f1_score(gold, predicted, average="macro", zero_division=0)),
            "in_scope_accuracy": float(right[~out].mean()) if (~out).any() else None,
            "out_of_scope_precision": (
                _rate(int((out & rejected).sum()), int(rejected.sum())) if out.any() else None
            ),
            "out_of_scope_recall": _rate(int((out & rejected).sum()), int(out.sum()))
            if out.any()
            else None,
            "n": len(test),
        }
