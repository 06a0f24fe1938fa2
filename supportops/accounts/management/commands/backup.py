"""`make backup`: the database and the app's files in one archive under var/backups/."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from supportops.lib.backup import BackupError, backup_create
from supportops.lib.commands import fail, print_json


class Command(BaseCommand):
    help = (
        "Write a consistent dump of the database (pg_dump, custom format) and the uploaded "
        "files into one timestamped archive in BACKUP_DIR (var/backups/)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output-dir", help="folder for the archive (default BACKUP_DIR)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        try:
            backup = backup_create(
                directory=Path(opts["output_dir"]) if opts["output_dir"] else None
            )
        except BackupError as exc:
            fail(self, opts, str(exc))
            return
        files = backup.files
        summary = {
            "path": str(backup.path),
            "bytes": backup.path.stat().st_size,
            "created_at": backup.manifest["created_at"],
            "database": backup.manifest["database"]["name"],
            "media_files": sum(1 for name in files if name.startswith("media/")),
        }
        if opts["json"]:
            print_json(summary, self.stdout)
            return
        self.stdout.write(
            self.style.SUCCESS(f"Backup written: {summary['path']}")
            + f" ({summary['bytes']:,} bytes, database {summary['database']}, "
            f"{summary['media_files']} media file(s)).\n"
            "It holds customers' conversations and personal data: keep it somewhere safe."
        )
