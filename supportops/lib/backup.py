"""Backups: one archive with a consistent dump of the database and the files the app keeps.

The archive is a plain tar (the dump is PostgreSQL's compressed custom format already):

    manifest.json     what this is, when, from which database, and a SHA-256 for every member
    database.dump     `pg_dump --format=custom`: one snapshot, so every row is from one moment
    media/...         the uploaded files (MEDIA_ROOT), if there are any
    var/...           small files the app writes under VAR_DIR (the demo login)

A restore checks the archive first (a file that is not a backup, or a damaged one, changes
nothing), then replays the dump in one transaction: it either all lands or nothing changes.
The PostgreSQL programs come from the pgserver package (the same major version as the bundled
server and the compose file's), or from PG_BIN_DIR for a newer server.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

FORMAT = "supportops-backup"
VERSION = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA_PREFIX = "media/"
VAR_PREFIX = "var/"
# Files under VAR_DIR that belong in a backup (the rest is the servers' own data, the beat
# schedule and earlier backups).
VAR_FILES = ("demo-login.txt",)
# Tables that `migrate` fills by itself: a database holding only these is still empty.
BOOKKEEPING_TABLES = {"django_migrations", "django_content_type", "auth_permission"}
# Django's own connection options, which libpq does not know.
DJANGO_ONLY_OPTIONS = {"isolation_level", "server_side_binding", "pool", "assume_role"}
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass
class Backup:
    path: Path
    manifest: dict[str, Any]

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        return dict(self.manifest["files"])


@dataclass
class Restored:
    backup: Backup
    replaced_data: bool
    media_files: int
    pending_migrations: list[str] = field(default_factory=list)


# --- PostgreSQL programs and connection ------------------------------------------------------


def pg_program(name: str) -> Path:
    """pg_dump, pg_restore or psql: from PG_BIN_DIR if set, else the pgserver package's."""
    if settings.PG_BIN_DIR:
        directory = Path(settings.PG_BIN_DIR)
    else:
        import pgserver

        directory = Path(pgserver.__file__).parent / "pginstall" / "bin"
    program = directory / name
    if not os.access(program, os.X_OK):
        raise BackupError(f"{program} is missing or not executable (check PG_BIN_DIR)")
    return program


def _conninfo(database: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A libpq connection string for `database` (Django's settings), and the environment
    that carries the password, so that it never shows in a process list."""
    params: dict[str, str] = {"dbname": str(database["NAME"])}
    for key, name in (("HOST", "host"), ("PORT", "port"), ("USER", "user")):
        if database.get(key):
            params[name] = str(database[key])
    for key, value in (database.get("OPTIONS") or {}).items():
        if key not in DJANGO_ONLY_OPTIONS and isinstance(value, str | int):
            params[key] = str(value)

    def quoted(value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    conninfo = " ".join(f"{key}={quoted(value)}" for key, value in params.items())
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    env.pop("PGPASSWORD", None)
    if database.get("PASSWORD"):
        env["PGPASSWORD"] = str(database["PASSWORD"])
    return conninfo, env


def _run(args: list[str], *, env: dict[str, str], what: str) -> str:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip() or result.returncode}")
    return result.stdout


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- Backup -----------------------------------------------------------------------------------


def _media_files(media_root: Path) -> Iterator[tuple[Path, str]]:
    """Regular files under MEDIA_ROOT (links are not followed: they may point anywhere)."""
    if not media_root.is_dir():
        return
    for path in sorted(media_root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path, MEDIA_PREFIX + path.relative_to(media_root).as_posix()


def _archive_name(directory: Path, now: datetime) -> Path:
    stem = f"supportops-{now.strftime('%Y%m%dT%H%M%SZ')}"
    path, n = directory / f"{stem}.tar", 1
    while path.exists():
        n += 1
        path = directory / f"{stem}-{n}.tar"
    return path


def _applied_migrations(connection: BaseDatabaseWrapper) -> int:
    if "django_migrations" not in connection.introspection.table_names():
        return 0  # never migrated
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def backup_create(*, directory: Path | None = None, using: str = "default") -> Backup:
    """Dump the database and the app's files into a new archive in `directory`
    (BACKUP_DIR by default), readable by its owner only; the archive appears under its
    final name only when complete."""
    directory = Path(directory or settings.BACKUP_DIR)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    connection = connections[using]
    database = connection.settings_dict
    conninfo, env = _conninfo(database)
    now = datetime.now(UTC)
    final = _archive_name(directory, now)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".backup-") as scratch:
        dump = Path(scratch) / DUMP
        _run(
            [str(pg_program("pg_dump")), "--format=custom", f"--file={dump}", "--dbname", conninfo],
            env=env,
            what="pg_dump",
        )
        members: list[tuple[Path, str]] = [(dump, DUMP)]
        members += list(_media_files(Path(settings.MEDIA_ROOT)))
        for name in VAR_FILES:
            path = Path(settings.VAR_DIR) / name
            if path.is_file():
                members.append((path, VAR_PREFIX + name))
        files = {
            arcname: {"sha256": _sha256(p), "size": p.stat().st_size} for p, arcname in members
        }
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": now.isoformat(),
            "database": {
                "name": database["NAME"],
                "server_version": getattr(connection, "pg_version", None),
                "applied_migrations": _applied_migrations(connection),
            },
            "files": files,
        }
        partial = Path(scratch) / (final.name + ".partial")
        with tarfile.open(partial, "w") as archive:
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
            for path, arcname in members:
                archive.add(str(path), arcname=arcname, recursive=False)
        partial.chmod(0o600)
        os.replace(partial, final)
    return Backup(path=final, manifest=manifest)


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(datetime.now(UTC).timestamp())
    archive.addfile(info, io.BytesIO(data))


# --- Reading and checking an archive ---------------------------------------------------------


def backup_read(path: Path) -> Backup:
    """The archive's manifest, once every member is checked against it: a file that is not a
    SupportOps backup, or one that was cut short or changed, raises BackupError."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist or is not a file")
    try:
        with tarfile.open(path, "r:") as archive:
            return Backup(path=path, manifest=_checked_manifest(archive, path))
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(
            f"{path} is not a SupportOps backup (not a readable archive: {exc})"
        ) from None


def _checked_manifest(archive: tarfile.TarFile, path: Path) -> dict[str, Any]:
    not_backup = f"{path} is not a SupportOps backup"
    try:
        handle = archive.extractfile(MANIFEST)
    except KeyError:
        raise BackupError(f"{not_backup} (no {MANIFEST})") from None
    if handle is None:
        raise BackupError(f"{not_backup} ({MANIFEST} is not a file)")
    try:
        manifest = json.loads(handle.read())
    except (ValueError, UnicodeDecodeError):
        raise BackupError(f"{not_backup} ({MANIFEST} is not JSON)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(not_backup)
    if manifest.get("version") != VERSION:
        raise BackupError(
            f"{path} is a backup in format version {manifest.get('version')!r}; this version "
            f"of SupportOps reads version {VERSION}"
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or DUMP not in files:
        raise BackupError(f"{not_backup} (the manifest lists no {DUMP})")
    members = {m.name: m for m in archive.getmembers() if m.name != MANIFEST}
    unexpected = sorted(set(members) - set(files))
    if unexpected:
        raise BackupError(f"{path} holds files its manifest does not list: {unexpected[:3]}")
    for name, meta in files.items():
        _check_name(name, path)
        member = members.get(name)
        if member is None or not member.isfile():
            raise BackupError(f"{path} is incomplete: {name} is missing")
        digest = hashlib.sha256()
        stream = archive.extractfile(member)
        assert stream is not None  # a regular file
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
        if not isinstance(meta, dict) or digest.hexdigest() != meta.get("sha256"):
            raise BackupError(f"{path} is damaged: {name} does not match its checksum")
    return manifest


def _check_name(name: str, path: Path) -> None:
    parts = PurePosixPath(name).parts
    safe = (
        name == DUMP
        or (name.startswith(MEDIA_PREFIX) and len(parts) > 1)
        or name in {VAR_PREFIX + f for f in VAR_FILES}
    )
    if not safe or PurePosixPath(name).is_absolute() or ".." in parts:
        raise BackupError(f"{path} lists a file outside the backup's folders: {name!r}")


# --- Restore ----------------------------------------------------------------------------------


def database_tables_with_rows(*, using: str = "default") -> list[str]:
    """Tables of the database's schema that hold rows, other than what `migrate` writes."""
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        tables = sorted(row[0] for row in cursor.fetchall())
        filled = []
        for table in tables:
            if table in BOOKKEEPING_TABLES:
                continue
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(table)})")  # noqa: S608
            row = cursor.fetchone()
            if row and row[0]:
                filled.append(table)
    return filled


def _schema_has_objects(using: str) -> bool:
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema())"
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def media_has_files() -> bool:
    return any(True for _ in _media_files(Path(settings.MEDIA_ROOT)))


def backup_restore(*, path: Path, force: bool, using: str = "default") -> Restored:
    """Replace the database and files with the backup's. Without `force`, a database that
    holds data (or media files that exist) is never overwritten."""
    backup = backup_read(path)
    filled = database_tables_with_rows(using=using)
    if (filled or media_has_files()) and not force:
        what = f"the database holds data ({', '.join(filled[:4])})" if filled else "media exists"
        raise BackupError(f"{what}; restoring would replace it (force it to go ahead)")
    replace_schema = _schema_has_objects(using)
    database = connections[using].settings_dict
    connections[using].close()  # our own connection must not hold locks on what is dropped
    with (
        tempfile.TemporaryDirectory(prefix="supportops-restore-") as scratch,
        tarfile.open(path, "r:") as archive,
    ):
        archive.extract(DUMP, scratch, filter="data")
        dump = Path(scratch) / DUMP
        _database_replace(dump=dump, database=database, replace_schema=replace_schema)
        media = _media_replace(archive, backup)
        _var_files_restore(archive, backup, force=force)
    return Restored(
        backup=backup,
        replaced_data=bool(filled),
        media_files=media,
        pending_migrations=_pending_migrations(using),
    )


def _database_replace(*, dump: Path, database: dict[str, Any], replace_schema: bool) -> None:
    """Replay the dump with psql in one transaction, after emptying the schema if needed; a
    failure anywhere rolls everything back."""
    conninfo, env = _conninfo(database)
    # The dump is read as SQL, so it restores into any database name, owned by any user.
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        restore = subprocess.Popen(
            [str(pg_program("pg_restore")), "--no-owner", "--no-privileges", "--file=-", str(dump)],
            stdout=subprocess.PIPE,
            stderr=restore_errors,
            env=env,
        )
        psql = subprocess.Popen(
            [
                str(pg_program("psql")),
                "--no-psqlrc",
                "--quiet",
                "--single-transaction",
                "--set=ON_ERROR_STOP=1",
                "--dbname",
                conninfo,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_errors,
            env=env,
        )
        assert psql.stdin is not None and restore.stdout is not None
        # Connections still open elsewhere (a running web process or worker) would make the
        # drop wait for ever: give up after a while instead, with nothing changed.
        prefix = "SET lock_timeout = '15s';\n"
        if replace_schema:
            prefix += "DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n"
        try:
            psql.stdin.write(prefix.encode())
            shutil.copyfileobj(restore.stdout, psql.stdin, _CHUNK)
        except BrokenPipeError:  # psql stopped at an error; its message says which
            pass
        restore.stdout.close()
        if restore.wait() != 0:
            # psql would commit what it got at the end of its input: stop it before that.
            psql.kill()
            psql.wait()
            raise BackupError(f"pg_restore could not read the dump: {_text(restore_errors)}")
        with contextlib.suppress(BrokenPipeError):
            psql.stdin.close()  # the end of the script: psql commits
        if psql.wait() != 0:
            raise BackupError(f"the restore was rolled back, nothing changed: {_text(psql_errors)}")


def _text(handle: Any) -> str:
    handle.seek(0)
    return str(handle.read().decode(errors="replace").strip())


def _media_replace(archive: tarfile.TarFile, backup: Backup) -> int:
    """Put the backup's media in place of MEDIA_ROOT's: unpacked beside it, then swapped."""
    names = [n for n in backup.files if n.startswith(MEDIA_PREFIX)]
    media_root = Path(settings.MEDIA_ROOT)
    if not names and not media_root.exists():
        return 0
    media_root.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=media_root.parent, prefix=".media-restore-") as scratch:
        staging = Path(scratch)
        for name in names:
            archive.extract(name, staging, filter="data")
        unpacked = staging / MEDIA_PREFIX.rstrip("/")
        unpacked.mkdir(exist_ok=True)
        old = staging / "replaced"
        if media_root.exists():
            os.replace(media_root, old)
        os.replace(unpacked, media_root)
    return len(names)


def _var_files_restore(archive: tarfile.TarFile, backup: Backup, *, force: bool) -> None:
    for name in VAR_FILES:
        arcname = VAR_PREFIX + name
        target = Path(settings.VAR_DIR) / name
        if arcname not in backup.files or (target.exists() and not force):
            continue
        source = archive.extractfile(arcname)
        assert source is not None
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read())
        target.chmod(0o600)


def _pending_migrations(using: str) -> list[str]:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[using])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
