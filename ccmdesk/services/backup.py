"""Backups of the SQLite database with the online backup API (consistent while in use)."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path

from ccmdesk.files import atomic_target
from ccmdesk.storage.database import Database, backup_sqlite_file


class BackupError(Exception):
    pass


def default_backup_name(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now()
    return f"ccmdesk-{now:%Y%m%d-%H%M%S}.sqlite3"


def backup(db: Database, target: Path | str, backups: Path) -> Path | None:
    """Copy the database to ``target`` (``-`` for standard output).

    Returns the file written, or None when the copy went to standard output.
    """
    if db.path is None:
        raise BackupError(
            "backup copies an SQLite database; back up a server database with its own tools"
            " (for PostgreSQL: pg_dump)"
        )
    if str(target) == "-":
        with tempfile.TemporaryDirectory() as folder:
            copy = backup_sqlite_file(db.path, Path(folder) / "backup.sqlite3")
            with copy.open("rb") as handle:
                shutil.copyfileobj(handle, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        return None
    path = Path(target) if target else backups / default_backup_name()
    if path.exists() and path.is_dir():
        path = path / default_backup_name()
    if path.resolve() == db.path.resolve():
        raise BackupError(f"{path} is the database itself; choose another file")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_target(path) as partial:
        backup_sqlite_file(db.path, partial)
    return path
