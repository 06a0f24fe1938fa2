"""`manage.py seed_volume --conversations N [--json]`: fill the volume scratch workspace
(`volume-scratch`) up to N conversations of a synthetic year (see analytics.volume)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from supportops.analytics.volume import volume_count, volume_seed, volume_workspace
from supportops.lib.commands import database_ready, print_json


class Command(BaseCommand):
    help = "Fill the volume scratch workspace with a synthetic year of conversations."

    def add_arguments(self, parser):
        parser.add_argument("--conversations", type=int, required=True)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **opts):
        if opts["conversations"] < 1:
            raise CommandError("--conversations must be at least 1")
        database_ready(self, opts)
        workspace, _ = volume_workspace()
        have = volume_count(workspace=workspace)
        started = time.perf_counter()
        added = (
            volume_seed(
                workspace=workspace,
                conversations=max(0, opts["conversations"] - have),
                seed=opts["seed"],
            )
            if opts["conversations"] > have
            else 0
        )
        result = {
            "workspace": workspace.slug,
            "conversations": have + added,
            "added": added,
            "seed_s": round(time.perf_counter() - started, 1),
        }
        if opts["json"]:
            print_json(result, self.stdout)
        else:
            for key, value in result.items():
                self.stdout.write(f"{key}: {value}")
