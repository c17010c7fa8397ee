"""Restoring a backup, and noticing at start-up that the database needs one.

The order makes a refusal change nothing and a success lose nothing:

1. the file offered is checked: a ccmdesk database, not newer than this
   program, that passes SQLite's full ``integrity_check``;
2. a signed-in person needs the administrator's permission (the command line
   and the start-up repair act for the operating-system account that owns the
   file, so they are trusted, as in services/access.py);
3. the current database is copied to ``<stem>-before-restore-<time>.sqlite3``
   (byte for byte when it is too damaged for SQLite to copy);
4. the backup is written *into* the live database with the backup API, which
   goes through SQLite's locks and WAL instead of replacing files under a
   connection that may have them open;
5. ``open_database`` migrates an older copy, and the restore is written into
   the restored database's audit trail.
"""

from __future__ import annotations

import datetime as dt
import getpass
import logging
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ccmdesk.files import atomic_target
from ccmdesk.services import audit
from ccmdesk.services.access import Permission, require
from ccmdesk.services.backup import (
    BackupError,
    BackupFile,
    backup_name,
    list_backups,
    write_checked_copy,
)
from ccmdesk.storage import migrate
from ccmdesk.storage.database import (
    DatabaseError,
    integrity_problems,
    open_database,
    restore_sqlite_file,
    sqlite_path,
)
from ccmdesk.storage.inspect import APPLICATION_ID, SQLITE_MAGIC, DatabaseState, inspect_sqlite_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Restored:
    """What a restore did, for the one line the command prints."""

    database: Path
    source: Path
    kept: Path | None  # the database as it was before, None when there was none
    migrated_from: str | None  # the copy's schema when it was older than this ccmdesk

    def describe(self) -> str:
        text = f"restored {self.source} into {self.database}"
        if self.migrated_from:
            text += f" (upgraded from schema {self.migrated_from})"
        if self.kept:
            text += f"; the database as it was is kept as {self.kept}"
        return text


@dataclass(frozen=True)
class Damage:
    """A database that failed its start-up check, and the newest sound backup of it."""

    database: Path
    problem: str
    backup: BackupFile | None
    backups: Path


def startup_actor() -> audit.Actor:
    """Who restores from the start-up dialog: whoever runs ccmdesk on this computer account."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some service environments
        user = "unknown"
    return audit.Actor(None, f"start-up repair ({user})", trusted=True)


def bears_our_mark(path: Path) -> bool:
    """The file says SQLite and carries ccmdesk's application id.

    The raw header answers even when the rest of the file is damaged; SQLite
    is asked only when it does not, since a database in use may hold its
    newest first page in the WAL rather than in the file.
    """
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError:
        return False
    if header[:16] != SQLITE_MAGIC:
        return False
    if int.from_bytes(header[68:72], "big") == APPLICATION_ID:
        return True
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return connection.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        finally:
            connection.close()
    except sqlite3.Error:
        return False


def check_restorable(source: Path) -> str | None:
    """Refuse anything but a sound ccmdesk database this program can open; return its schema
    revision when it is older (it will be migrated), else None."""
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    inspection = inspect_sqlite_file(source, migrate.known_revisions())
    if inspection.state is DatabaseState.NEW:
        raise BackupError(f"{source} holds no ccmdesk data; nothing was restored")
    if inspection.state in (DatabaseState.FOREIGN, DatabaseState.NEWER):
        raise BackupError(f"{source} cannot be restored: {inspection.why}")
    problems = integrity_problems(source, thorough=True)
    if problems:
        raise BackupError(f"{source} is damaged ({problems[0]}); nothing was restored")
    return inspection.revision if inspection.state is DatabaseState.OLDER else None


def restore(
    url: str,
    source: Path,
    backups: Path,
    actor: audit.Actor,
    now: dt.datetime | None = None,
) -> Restored:
    """Replace the database at ``url`` with the backup ``source`` (see the module's steps)."""
    live = sqlite_path(url)
    if live is None:
        raise BackupError(
            "restore replaces an SQLite database; restore a server database with its own"
            " tools (for PostgreSQL: pg_restore, or psql for a pg_dump file)"
        )
    source = Path(source)
    if source.exists() and live.exists() and source.resolve() == live.resolve():
        raise BackupError(f"{source} is the database itself; choose a backup")
    older = check_restorable(source)
    if live.exists() and live.stat().st_size and not bears_our_mark(live):
        raise BackupError(
            f"{live} is not a ccmdesk database; restore will not overwrite it"
            " (move it elsewhere first if it is to be replaced)"
        )
    if not actor.trusted:
        _require_permission(url, actor, backups)
    now = now or dt.datetime.now()
    kept = _keep_current(live, backups, now)
    try:
        _write_into(source, live)
    except (OSError, sqlite3.Error) as error:
        raise BackupError(f"restore failed, nothing was changed: {error}") from error
    problems = integrity_problems(live)
    if problems:  # not expected: the copy was checked; say where the old database is
        raise BackupError(f"the restored database failed its check ({problems[0]}); kept: {kept}")
    try:
        db = open_database(f"sqlite:///{live}", backups=backups)
    except DatabaseError as error:
        raise BackupError(str(error)) from error
    try:
        with db.transaction() as session:
            audit.record(
                session,
                actor,
                "restore",
                "database",
                after={"source": source.name, "schema": older or migrate.head_revision()},
                detail=f"restored from {source}"
                + (f"; the database before it is kept as {kept.name}" if kept else ""),
            )
    finally:
        db.close()
    log.info("database restored from a backup (schema %s)", older or "current")
    return Restored(live, source, kept, older)


def _require_permission(url: str, actor: audit.Actor, backups: Path) -> None:
    try:
        db = open_database(url, backups=backups)
    except DatabaseError as error:
        raise BackupError(f"cannot check who may restore: {error}") from error
    try:
        with db.transaction() as session:
            require(session, actor, Permission.MANAGE_BACKUPS, BackupError)
    finally:
        db.close()


def _keep_current(live: Path, backups: Path, now: dt.datetime) -> Path | None:
    """Copy the database about to be replaced into the backups folder (never rotated)."""
    if not live.exists() or live.stat().st_size == 0:
        return None
    target = backups / backup_name(live.stem, "before-restore", now)
    try:
        return write_checked_copy(live, target)
    except (BackupError, sqlite3.Error):
        log.warning("the database to be replaced is damaged; keeping its bytes as they are")
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", ""):  # the log first, so the main file's rename comes last
        part = Path(f"{live}{suffix}")
        if part.exists():
            with atomic_target(Path(f"{target}{suffix}")) as partial:
                shutil.copyfile(part, partial)
    return target


def _write_into(source: Path, live: Path) -> None:
    """Write ``source`` into the live database; a file too damaged for that is replaced."""
    try:
        restore_sqlite_file(source, live)
        return
    except sqlite3.Error:
        if not live.exists() or not integrity_problems(live):
            raise  # a sound database refused it (locked, say): leave it as it is
    log.warning("the live database cannot be written into; replacing the damaged file")
    staged = write_checked_copy(source, live.with_name(live.name + ".restoring"))
    for suffix in ("-wal", "-shm"):  # they belong to the damaged file, not to the copy
        Path(f"{live}{suffix}").unlink(missing_ok=True)
    os.replace(staged, live)


def latest_good_backup(backups: Path, stem: str) -> BackupFile | None:
    """The newest copy of database ``stem`` that is a ccmdesk database and passes the check."""
    known = migrate.known_revisions()
    for copy in list_backups(backups, stem):
        state = inspect_sqlite_file(copy.path, known).state
        if state in (DatabaseState.CURRENT, DatabaseState.OLDER) and not integrity_problems(
            copy.path
        ):
            return copy
    return None


def find_damage(url: str, backups: Path | None = None) -> Damage | None:
    """Check the database file before it is opened; None when it is sound (or not ours to check).

    Only a file bearing ccmdesk's mark is checked: anything else is for
    ``open_database`` to refuse with its own message.
    """
    path = sqlite_path(url)
    if path is None or not path.is_file() or path.stat().st_size == 0 or not bears_our_mark(path):
        return None
    problems = integrity_problems(path)
    if not problems:
        return None
    if backups is None:
        from ccmdesk.paths import backups_dir

        backups = backups_dir()
    log.error("the database failed its start-up check: %s", problems[0])
    return Damage(path, problems[0], latest_good_backup(backups, path.stem), backups)
