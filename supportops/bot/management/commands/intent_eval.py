from __future__ import annotations

import csv
import time
from typing import Any

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


def score(gold: list[str], predicted: list[str]) -> dict[str, Any]:
    """The contract's figures; `out_of_scope` is a class like any other."""
    gold_a, predicted_a = np.array(gold), np.array(predicted)
    out = gold_a == OUT_OF_SCOPE
    refused = predicted_a == OUT_OF_SCOPE
    right = predicted_a == gold_a
    return {
        "accuracy": float(right.mean()),
        "macro_f1": float(f1_score(gold_a, predicted_a, average="macro", zero_division=0)),
        "in_scope_accuracy": float(right[~out].mean()) if (~out).any() else None,
        "out_of_scope_precision": (
            _rate(int((out & refused).sum()), int(refused.sum())) if out.any() else None
        ),
        "out_of_scope_recall": (
            _rate(int((out & refused).sum()), int(out.sum())) if out.any() else None
        ),
        "n": len(gold),
    }


def k_fold_splits(
    labels: list[str], folds: int, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray, set[str]]]:
    """(train rows, test rows, intents held out) per fold: rows stratified by label; when the
    file has no out_of_scope rows, each fold also leaves a share of the intents out of
    training, and their messages are tested as out_of_scope (what the model was never
    taught). Intents with fewer rows than folds stay in training in every fold."""
    rng = np.random.default_rng(seed)
    targets = np.array(labels)
    fold = np.full(len(targets), -1)
    for label in np.unique(targets):
        members = rng.permutation(np.flatnonzero(targets == label))
        if len(members) >= folds:
            fold[members] = np.arange(len(members)) % folds
    intents = [label for label in np.unique(targets) if label != OUT_OF_SCOPE]
    group: dict[str, int] = {}
    if OUT_OF_SCOPE not in set(labels):
        eligible = [i for i in intents if (targets == i).sum() >= folds]
        group = {
            intent: int(g)
            for intent, g in zip(
                rng.permutation(eligible), np.arange(len(eligible)) % folds, strict=True
            )
        }
    row_group = np.array([group.get(label, -1) for label in labels])
    splits = []
    for f in range(folds):
        held = {intent for intent, g in group.items() if g == f}
        train = np.flatnonzero((fold != f) & (row_group != f))
        test = np.flatnonzero((fold == f) | (row_group == f))
        splits.append((train, test, held))
    return splits


class Command(BaseCommand):
    help = (
        "Train the intent classifier on one CSV (text,label) and measure it on another, or "
        "with --folds K by K-fold cross-validation on the training file alone. Label "
        "out_of_scope means no category and counts as a class. The classifier configures "
        "itself from the training data only (the product's method: the out-of-scope "
        "threshold is cross-validated there); the test labels are read only to score."
    )

    def add_arguments(self, parser):
        parser.add_argument("--train", required=True, help="CSV text,label")
        parser.add_argument("--test", help="CSV text,label")
        parser.add_argument(
            "--folds",
            type=int,
            help="K-fold cross-validation on --train instead of a test file (K >= 2); "
            "without out_of_scope rows a share of the intents is held out in each fold",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **opts):
        with logs_to_stderr():
            try:
                if (opts["test"] is None) == (opts["folds"] is None):
                    raise CommandError("give either --test S.csv or --folds K")
                if opts["folds"] is not None and opts["folds"] < 2:
                    raise CommandError("--folds must be at least 2")
                train = read_csv_rows(opts["train"], ("text", "label"))
                test = read_csv_rows(opts["test"], ("text", "label")) if opts["test"] else None
            except CommandError as exc:
                return fail(self, opts, str(exc))
            if test is not None:
                result = self._evaluate(train, test)
            else:
                result = self._cross_validate(train, opts["folds"])
        if opts["json"]:
            print_json(result, self.stdout)
        else:
            self.stdout.write(" ".join(f"{key}={value}" for key, value in result.items()))

    def _predict(
        self, train_vectors: np.ndarray, train_labels: list[str], test_vectors: np.ndarray
    ) -> tuple[list[str], IntentClassifier]:
        classifier = IntentClassifier().fit_vectors(train_vectors, train_labels)
        predictions = classifier.predict_vectors(test_vectors)
        return [p.label or OUT_OF_SCOPE for p in predictions], classifier

    def _evaluate(self, train: list[dict[str, str]], test: list[dict[str, str]]) -> dict:
        from supportops.integrations.embeddings import embed_texts

        started = time.perf_counter()
        train_vectors = embed_texts([row["text"] for row in train])
        test_vectors = embed_texts([row["text"] for row in test])
        embedded = time.perf_counter()
        predicted, classifier = self._predict(
            train_vectors, [r["label"] for r in train], test_vectors
        )
        trained = time.perf_counter()
        refused = sum(p == OUT_OF_SCOPE for p in predicted) / len(predicted)
        self.stderr.write(
            f"intent_eval: {len(train)} training and {len(test)} test messages; embedding "
            f"{embedded - started:.1f} s, training and predicting {trained - embedded:.1f} s; "
            f"knn weight {classifier.knn_weight}, threshold {classifier.threshold:.3f} "
            f"(cross-validated on the training file: {classifier.cv}), {refused:.1%} of the "
            "test refused as out of scope"
        )
        return score([row["label"] for row in test], predicted)

    def _cross_validate(self, rows: list[dict[str, str]], folds: int) -> dict:
        from supportops.integrations.embeddings import embed_texts

        vectors = embed_texts([row["text"] for row in rows])
        labels = [row["label"] for row in rows]
        gold: list[str] = []
        predicted: list[str] = []
        for f, (train, test, held) in enumerate(k_fold_splits(labels, folds)):
            fold_predicted, classifier = self._predict(
                vectors[train], [labels[i] for i in train], vectors[test]
            )
            predicted += fold_predicted
            gold += [OUT_OF_SCOPE if labels[i] in held else labels[i] for i in test]
            self.stderr.write(
                f"intent_eval: fold {f + 1}/{folds}: {len(train)} training, {len(test)} test "
                f"messages, {len(held)} intents held out as out of scope, threshold "
                f"{classifier.threshold:.3f}"
            )
        result = score(gold, predicted)
        result["folds"] = folds
        return result
