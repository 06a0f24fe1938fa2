"""`make restore FILE=...`: bring back a backup made by `manage.py backup`."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from supportops.lib.backup import (
    BackupError,
    backup_read,
    backup_restore,
    database_tables_with_rows,
    media_has_files,
)
from supportops.lib.commands import fail, print_json


class Command(BaseCommand):
    help = (
        "Restore the database and files from a backup archive. A database that holds data is "
        "replaced only with --force, or after typing 'replace' when run interactively. Stop the "
        "web server, worker and beat first."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the archive written by `manage.py backup`")
        parser.add_argument(
            "--force", action="store_true", help="replace a database that holds data"
        )
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help="never ask (without --force, refuse to replace data)",
        )
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        path = Path(opts["file"])
        try:
            backup = backup_read(path)
            force = opts["force"] or self._confirmed(opts, backup.manifest["created_at"])
            restored = backup_restore(path=path, force=force)
        except BackupError as exc:
            fail(self, opts, str(exc))
            return
        summary = {
            "path": str(path),
            "created_at": backup.manifest["created_at"],
            "replaced_data": restored.replaced_data,
            "media_files": restored.media_files,
            "pending_migrations": restored.pending_migrations,
        }
        if opts["json"]:
            print_json(summary, self.stdout)
            return
        self.stdout.write(
            self.style.SUCCESS(f"Restored the backup of {summary['created_at']}.")
            + f" {restored.media_files} media file(s)."
        )
        if restored.pending_migrations:
            self.stdout.write(
                f"The backup predates {len(restored.pending_migrations)} migration(s) of this "
                "version: run `manage.py migrate` (make run does it) before starting the app."
            )

    def _confirmed(self, opts: dict, created_at: str) -> bool:
        """Ask before replacing data, only when a person is there to answer."""
        filled = database_tables_with_rows()
        if not filled and not media_has_files():
            return False  # nothing to replace: no question
        if not (opts["interactive"] and sys.stdin.isatty()):
            raise BackupError(
                f"the database holds data ({', '.join(filled[:4]) or 'media files'}); "
                "pass --force (make restore FILE=... FORCE=1) to replace it"
            )
        answer = input(
            f"The database holds data ({len(filled)} table(s) with rows). Replace everything "
            f"with the backup of {created_at}? Type 'replace' to go ahead: "
        )
        if answer.strip().lower() != "replace":
            raise CommandError("Restore cancelled; nothing changed.")
        return True
