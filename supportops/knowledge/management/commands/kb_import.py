from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand

from supportops.accounts.selectors import workspace_get_by_slug
from supportops.knowledge.importing import (
    ImportFileError,
    items_default_category,
    items_write,
    parse_path,
)
from supportops.lib.commands import database_ready, fail, print_json


class Command(BaseCommand):
    help = (
        "Import articles from JSONL {id?, title, body, category?, url?}, a folder of Markdown "
        "files, or CSV question,answer. All or nothing: a bad file imports nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--workspace", required=True, help="slug of the target workspace")
        parser.add_argument(
            "--draft", action="store_true", help="import as drafts (not searchable)"
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="leave embedding to the Celery worker instead of doing it now",
        )
        parser.add_argument(
            "--category",
            default="",
            help="category for articles the file gives none (e.g. a CSV without that column)",
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        database_ready(self, opts)
        workspace = workspace_get_by_slug(slug=opts["workspace"])
        if workspace is None:
            return fail(self, opts, f"no workspace with slug {opts['workspace']!r}")
        started = time.perf_counter()
        try:
            items = parse_path(Path(opts["path"]))
        except ImportFileError as exc:
            return fail(self, opts, str(exc))
        items = items_default_category(items, opts["category"])
        report = items_write(
            workspace=workspace,
            items=items,
            publish=not opts["draft"],
            embed="queue" if opts["queue"] else "now",
        )
        result = {
            "workspace": workspace.slug,
            "articles": len(items),
            "created": report.created,
            "updated": report.updated,
            "published": not opts["draft"],
            "elapsed_s": time.perf_counter() - started,
        }
        if opts["json"]:
            print_json(result, self.stdout)
        else:
            self.stdout.write(
                f"Imported {len(items)} articles into {workspace.slug}: "
                f"{len(report.created)} created, {len(report.updated)} updated."
            )
