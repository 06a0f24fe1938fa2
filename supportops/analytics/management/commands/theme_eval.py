from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from sklearn.metrics import normalized_mutual_info_score

from supportops.analytics.themes import METHOD, theme_vectors, themes_find
from supportops.bot.management.commands.intent_eval import read_csv_rows
from supportops.lib.commands import fail, logs_to_stderr, print_json
from supportops.text.redaction import redact
from supportops.text.sentiment import LABELS

THEME = "complaint_theme"


class Command(BaseCommand):
    help = (
        "Measure the theme clustering on the negative rows of a CSV "
        "text,sentiment,complaint_theme: the messages are redacted and clustered as the "
        "product does (it chooses the number of themes), then scored by normalised mutual "
        "information against complaint_theme, which is read only after clustering."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True, help="CSV text,sentiment,complaint_theme")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **opts):
        with logs_to_stderr():
            try:
                negative = _negative_rows(opts["dataset"])
            except CommandError as exc:
                return fail(self, opts, str(exc))
            started = time.perf_counter()
            texts = [redact(row["text"]).text for row in negative]
            vectors = theme_vectors(texts)
            embedded = time.perf_counter()
            found = themes_find(texts=texts, vectors=vectors)
            clustered = time.perf_counter()
            self.stderr.write(
                f"theme_eval: {len(texts)} negative messages; embedding {embedded - started:.1f}"
                f" s, clustering {clustered - embedded:.1f} s; {len(found.themes)} themes: "
                + "; ".join(f"{t.label} ({t.size})" for t in found.themes)
            )
        gold = [row["complaint_theme"] for row in negative]
        result = {
            "nmi": float(normalized_mutual_info_score(gold, found.assignments)),
            "clusters": len(found.themes),
            "n": len(texts),
            "method": METHOD,
        }
        if opts["json"]:
            print_json(result, self.stdout)
        else:
            self.stdout.write(" ".join(f"{key}={value}" for key, value in result.items()))


def _negative_rows(path: str) -> list[dict[str, str]]:
    rows = read_csv_rows(
        path, ("text", "sentiment"), allowed={"sentiment": LABELS}, optional=(THEME,)
    )
    negative = [row for row in rows if row["sentiment"] == "negative"]
    if not negative:
        raise CommandError(f"{path}: no rows with sentiment negative, nothing to cluster")
    unlabelled = sum(1 for row in negative if not row[THEME])
    if unlabelled:
        raise CommandError(
            f"{path}: {unlabelled} of {len(negative)} negative rows have an empty {THEME}"
        )
    return negative
