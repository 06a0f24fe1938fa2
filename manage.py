#!/usr/bin/env python
from __future__ import annotations

import os
import sys

DEVELOPMENT_COMMANDS = {
    "runstack",
    "demo_seed",
    "kb_import",
    "kb_eval",
    "bot_eval",
    "intent_eval",
    "sentiment_eval",
    "pii_eval",
    "outcome_eval",
    "theme_eval",
    "injection_eval",
    "rollout_simulate",
    "rollout_check",
    "seed_volume",
    "chaos_bot",
    "bench_retrieval",
    "bench_bot",
    "bench_inbox",
    "bench_delivery",
    "bench_dashboards",
}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportops.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if sys.argv[1:2] and sys.argv[1] in DEVELOPMENT_COMMANDS:
        # The local stack and the contract's evaluation and benchmark commands serve no
        # requests and sign nothing: they run with development settings unless told otherwise.
        # Everything else must be told (the settings refuse to start without DEBUG).
        os.environ.setdefault("DEBUG", "true")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
