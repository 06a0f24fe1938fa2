"""k-fold cross-validation of the shipped text models on their own training files.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/crossvalidate_text_models.py [--folds 5] [--grid]

Prints one JSON object. `sentiment`: accuracy, macro-F1 and negative recall of the sentiment
model (supportops/text/sentiment.py) over stratified folds of sentiment_examples.csv, and the
share of each true label flagged as frustration. `high_stakes`: per-class precision and recall
of the high-stakes classifier (supportops/text/intents.py, with its own cross-validated
out-of-scope threshold) over stratified folds of high_stakes_intents.csv, a label counting only
at or above the bot's HIGH_STAKES_CONFIDENCE, and the same at other cut-offs so that cut-off
can be chosen on training data. Each figure is given for all test rows and for the
hand-written test rows alone (templated rows have templated siblings in the training folds,
which flatters them). `--grid` adds the sentiment model's regularisation and negative weight
around the shipped values. Uses only the training files; never an evaluation set.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportops.settings")


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _written_keys() -> set[str]:
    import make_text_examples as made

    blocks = [
        made.NEGATIVE_WRITTEN,
        made.NEUTRAL_WRITTEN,
        made.POSITIVE_WRITTEN,
        made.BILLING_DISPUTE_WRITTEN,
        made.FRAUD_WRITTEN,
        made.LEGAL_WRITTEN,
        made.DELETION_WRITTEN,
        made.LOOK_ALIKES_WRITTEN,
    ]
    return {_key(line) for block in blocks for line in block}


def _folds(labels: list[str], k: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels))


def sentiment_cv(k: int, grid: bool, written: set[str]) -> dict:
    from sklearn.metrics import f1_score

    from supportops.integrations.embeddings import embed_texts
    from supportops.text import sentiment

    texts, labels = sentiment.load_examples()
    cleaned = [sentiment.normalise(t) for t in texts]
    vectors = embed_texts(cleaned)
    gold = np.array(labels)
    is_written = np.array([_key(t) in written for t in texts])
    folds = _folds(labels, k)

    def run(regularization: float, negative_weight: float) -> tuple[np.ndarray, np.ndarray]:
        shipped = dict(sentiment.CLASS_WEIGHT)
        sentiment.CLASS_WEIGHT.update(negative=negative_weight)
        predicted = np.empty(len(texts), dtype=object)
        frustrated = np.zeros(len(texts), dtype=bool)
        try:
            for train, test in folds:
                model = sentiment.SentimentModel(regularization=regularization)
                model.fit_vectors(vectors[train], [cleaned[i] for i in train], gold[train])
                scored = model.score_vectors(vectors[test], [cleaned[i] for i in test])
                predicted[test] = [s.label for s in scored]
                frustrated[test] = [s.frustration for s in scored]
        finally:
            sentiment.CLASS_WEIGHT.clear()
            sentiment.CLASS_WEIGHT.update(shipped)
        return predicted, frustrated

    def figures(predicted: np.ndarray, rows: np.ndarray) -> dict:
        g, p = gold[rows], predicted[rows]
        negative = g == "negative"
        return {
            "accuracy": round(float((p == g).mean()), 4),
            "macro_f1": round(
                float(f1_score(g, p, labels=list(sentiment.LABELS), average="macro")), 4
            ),
            "negative_recall": round(float((p[negative] == "negative").mean()), 4),
            "n": int(rows.sum()),
        }

    everything = np.ones(len(texts), dtype=bool)
    predicted, frustrated = run(sentiment.REGULARIZATION, sentiment.CLASS_WEIGHT["negative"])
    result = {
        "folds": k,
        "regularization": sentiment.REGULARIZATION,
        "negative_weight": sentiment.CLASS_WEIGHT["negative"],
        "all_rows": figures(predicted, everything),
        "written_rows": figures(predicted, is_written),
        "frustration_share_by_label": {
            label: round(float(frustrated[gold == label].mean()), 4) for label in sentiment.LABELS
        },
    }
    if grid:
        result["grid"] = []
        for regularization in (1.0, 3.0, 10.0):
            for negative_weight in (1.0, 1.5, 2.5):
                predicted, _ = run(regularization, negative_weight)
                result["grid"].append(
                    {
                        "regularization": regularization,
                        "negative_weight": negative_weight,
                        "all_rows": figures(predicted, everything),
                        "written_rows": figures(predicted, is_written),
                    }
                )
    return result


def high_stakes_cv(k: int, written: set[str]) -> dict:
    from sklearn.metrics import precision_recall_fscore_support

    from supportops.bot.turn import HIGH_STAKES_CONFIDENCE
    from supportops.integrations.embeddings import embed_texts
    from supportops.text.intents import (
        HIGH_STAKES_CATEGORIES,
        OUT_OF_SCOPE,
        IntentClassifier,
        load_high_stakes_examples,
    )

    texts, labels = load_high_stakes_examples()
    vectors = embed_texts(texts)
    gold = np.array(labels)
    is_written = np.array([_key(t) in written for t in texts])
    top = np.empty(len(texts), dtype=object)
    label = np.empty(len(texts), dtype=object)
    confidence = np.zeros(len(texts))
    thresholds = []
    for train, test in _folds(labels, k):
        classifier = IntentClassifier().fit_vectors(vectors[train], gold[train].tolist())
        thresholds.append(classifier.threshold)
        for i, prediction in zip(test, classifier.predict_vectors(vectors[test]), strict=True):
            top[i] = prediction.top_label
            label[i] = prediction.label or OUT_OF_SCOPE
            confidence[i] = prediction.confidence

    def figures(cutoff: float, rows: np.ndarray) -> dict:
        predicted = np.where((label != OUT_OF_SCOPE) & (confidence >= cutoff), label, OUT_OF_SCOPE)
        classes = [*HIGH_STAKES_CATEGORIES, OUT_OF_SCOPE]
        precision, recall, _, support = precision_recall_fscore_support(
            gold[rows], predicted[rows], labels=classes, zero_division=0
        )
        per_class = {
            name: {"precision": round(float(p), 4), "recall": round(float(r), 4), "n": int(n)}
            for name, p, r, n in zip(classes, precision, recall, support, strict=True)
        }
        high = np.isin(gold[rows], HIGH_STAKES_CATEGORIES)
        fired = predicted[rows] != OUT_OF_SCOPE
        return {
            "per_class": per_class,
            "accuracy": round(float((predicted[rows] == gold[rows]).mean()), 4),
            "high_stakes_recall": round(float(fired[high].mean()), 4),
            "ordinary_fired": round(float(fired[~high].mean()), 4),
        }

    everything = np.ones(len(texts), dtype=bool)
    return {
        "folds": k,
        "high_stakes_confidence": HIGH_STAKES_CONFIDENCE,
        "cv_thresholds": [round(t, 3) for t in thresholds],
        "all_rows": figures(HIGH_STAKES_CONFIDENCE, everything),
        "written_rows": figures(HIGH_STAKES_CONFIDENCE, is_written),
        "by_cutoff": {
            str(cutoff): {
                key: value
                for key, value in figures(cutoff, is_written).items()
                if key != "per_class"
            }
            for cutoff in (0.0, 0.3, 0.4, 0.5, 0.6, 0.7)
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--grid", action="store_true", help="also try other sentiment settings")
    args = parser.parse_args()

    import django

    django.setup()
    written = _written_keys()
    result = {
        "sentiment": sentiment_cv(args.folds, args.grid, written),
        "high_stakes": high_stakes_cv(args.folds, written),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
