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


def pending_migrations(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """The migrations not yet applied to the database, as "app.name", in the order they run."""
    executor = MigrationExecutor(connections[using])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def schema_ensure(
    *, stderr: Any, using: str = DEFAULT_DB_ALIAS, apply: bool | None = None
) -> list[str]:
    """Apply the pending migrations (`apply`, by default on the bundled database only) or
    raise CommandError naming them; returns what was applied."""
    pending = pending_migrations(using=using)
    if not pending:
        return []
    if apply is None:
        apply = settings.DATABASE_EMBEDDED
    if not apply:
        shown = ", ".join(pending[:3]) + (", ..." if len(pending) > 3 else "")
        raise CommandError(
            f"the database is not ready: {len(pending)} migration(s) not applied ({shown}). "
            "Run `manage.py migrate` first."
        )
    stderr.write(f"applying {len(pending)} migration(s) to the bundled database\n")
    call_command("migrate", database=using, interactive=False, verbosity=0, stdout=stderr)
    return pending
