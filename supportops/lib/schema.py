"""Is the database schema current, before a command of the command-line contract uses it.

`make install` alone leaves a new bundled database empty; the evaluation and benchmark
commands are meant to run straight after it, so on the bundled database they apply what is
missing (logging to stderr). A database named by DATABASE_URL is someone's own: there a
missing migration is a clear error that says what to run, and nothing is changed.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


def schema_ensure(*, stderr: Any) -> None:
    """Apply the pending migrations on the bundled database, or raise CommandError naming
    them on a database of one's own."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return
    pending = [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]
    if not settings.DATABASE_EMBEDDED:
        shown = ", ".join(pending[:3]) + (", ..." if len(pending) > 3 else "")
        raise CommandError(
            f"the database is not ready: {len(pending)} migration(s) not applied ({shown}). "
            "Run `manage.py migrate` first."
        )
    stderr.write(f"applying {len(pending)} migration(s) to the bundled database\n")
    call_command("migrate", interactive=False, verbosity=0, stdout=stderr)
