from __future__ import annotations

import time

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from sklearn.metrics import f1_score

from supportops.bot.management.commands.intent_eval import read_csv_rows
from supportops.lib.commands import fail, logs_to_stderr, print_json
from supportops.text.sentiment import LABELS, default_model


class Command(BaseCommand):
    help = (
        "Measure the sentiment model (trained on the project's own examples) on a CSV "
        "text,sentiment with negative/neutral/positive; other columns are ignored."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="CSV text,sentiment")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **opts):
        with logs_to_stderr():
            try:
                rows = read_csv_rows(
                    opts["dataset"], ("text", "sentiment"), allowed={"sentiment": LABELS}
                )
            except CommandError as exc:
                return fail(self, opts, str(exc))
            started = time.perf_counter()
            results = default_model().score_many([row["text"] for row in rows])
            predicted = np.array([r.label for r in results])
            gold = np.array([row["sentiment"] for row in rows])
            self.stderr.write(
                f"sentiment_eval: {len(rows)} messages in {time.perf_counter() - started:.1f} s"
                f" (including training on first use)"
            )
        negative = gold == "negative"
        result = {
            "accuracy": float((predicted == gold).mean()),
            "macro_f1": float(
                f1_score(gold, predicted, labels=list(LABELS), average="macro", zero_division=0)
            ),
            "negative_recall": float((predicted[negative] == "negative").mean())
            if negative.any()
            else None,
            "n": len(rows),
        }
        if opts["json"]:
            print_json(result, self.stdout)
        else:
            self.stdout.write(" ".join(f"{key}={value}" for key, value in result.items()))
