"""Backups of the SQLite database: by hand, daily, on exit and before a restore; rotation.

A backup is the practice's way back from a dead disk or a damaged file, so:

* copies use SQLite's online backup API (consistent while ccmdesk is in use);
* each copy is written under a temporary name, checked with ``PRAGMA
  quick_check`` and only then renamed into place, so a half-written or bad copy
  never carries a good backup's name;
* rotation runs only after the new copy passed its check, and deletes only the
  automatic copies (daily, exit); copies made by hand, before a migration or
  before a restore are never deleted.

Names say what each copy is, so rotation needs nothing but the folder:
``<stem>-<kind>-YYYYMMDD-HHMMSS.sqlite3`` in the computer's local time, where
``<stem>`` is the database file's (``ccmdesk``), ``<kind>`` is ``daily``,
``exit``, ``manual``, ``before-restore`` or ``before-<revision>`` (written by
storage/database.py before a migration); older hand copies have no kind.

Restoring lives in services/restore.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ccmdesk.files import atomic_target
from ccmdesk.services import audit
from ccmdesk.services.access import Permission, require
from ccmdesk.storage.database import Database, backup_sqlite_file, integrity_problems

log = logging.getLogger(__name__)

AUTOMATIC = ("daily", "exit")
KEEP_DAYS = 14
KEEP_MONTHS = 12
SUFFIX = ".sqlite3"
_STAMP = "%Y%m%d-%H%M%S"
_NAME = re.compile(
    r"^(?:(?P<kind>daily|exit|manual|before-[\w.]+)-)?(?P<stamp>\d{8}-\d{6})\.sqlite3$"
)
SERVER_MESSAGE = (
    "backup copies an SQLite database; back up a server database with its own tools"
    " (for PostgreSQL: pg_dump)"
)


class BackupError(Exception):
    """A backup or restore that was refused or failed; the message says why, in one line."""


@dataclass(frozen=True)
class BackupFile:
    """One copy in the backups folder, as its name describes it."""

    path: Path
    kind: str  # daily, exit, manual, before-restore, before-<revision>
    taken: dt.datetime  # local time of the computer that made it

    @property
    def automatic(self) -> bool:
        return self.kind in AUTOMATIC

    def describe(self) -> str:
        what = {
            "daily": "daily backup",
            "exit": "backup made on closing",
            "manual": "backup made by hand",
            "before-restore": "copy kept before a restore",
        }.get(self.kind, "copy kept before an upgrade")
        return f"{what} of {self.taken:%m/%d/%Y at %I:%M %p}"


def backup_name(stem: str, kind: str, when: dt.datetime) -> str:
    return f"{stem}-{kind}-{_local(when):{_STAMP}}{SUFFIX}"


def default_backup_name(now: dt.datetime | None = None, stem: str = "ccmdesk") -> str:
    """The name ``ccmdesk backup`` gives a copy made by hand into the backups folder."""
    return backup_name(stem, "manual", now or dt.datetime.now())


def _local(when: dt.datetime) -> dt.datetime:
    """Names and "today" are in the computer's local time, as people read the folder."""
    return when.astimezone().replace(tzinfo=None) if when.tzinfo else when


def list_backups(folder: Path, stem: str) -> list[BackupFile]:
    """The copies of database ``stem`` in ``folder``, newest first."""
    found: list[BackupFile] = []
    if not folder.is_dir():
        return found
    prefix = f"{stem}-"
    for path in folder.iterdir():
        if not path.name.startswith(prefix) or not path.is_file():
            continue
        match = _NAME.match(path.name[len(prefix) :])
        if match is None:
            continue
        try:
            taken = dt.datetime.strptime(match["stamp"], _STAMP)
        except ValueError:
            continue
        found.append(BackupFile(path, match["kind"] or "manual", taken))
    found.sort(key=lambda b: (b.taken, b.path.name), reverse=True)
    return found


def to_keep(
    backups: list[BackupFile], days: int = KEEP_DAYS, months: int = KEEP_MONTHS
) -> set[Path]:
    """Every copy rotation keeps: all but the automatic ones, plus the newest
    automatic copy of each of the ``days`` latest days and ``months`` latest months.

    "Latest" counts days and months that have a copy, not the calendar, so a
    practice closed for a month, or a clock set wrong for a day, never loses
    its older copies all at once.
    """
    keep = {b.path for b in backups if not b.automatic}
    automatic = sorted((b for b in backups if b.automatic), key=lambda b: b.taken, reverse=True)
    newest_of_day: dict[dt.date, Path] = {}
    newest_of_month: dict[tuple[int, int], Path] = {}
    for copy in automatic:  # newest first, so the first seen is the newest
        newest_of_day.setdefault(copy.taken.date(), copy.path)
        newest_of_month.setdefault((copy.taken.year, copy.taken.month), copy.path)
    keep.update(list(newest_of_day.values())[:days])
    keep.update(list(newest_of_month.values())[:months])
    return keep


def rotate(folder: Path, stem: str) -> list[Path]:
    """Delete the automatic copies :func:`to_keep` does not keep; return what was deleted."""
    backups = list_backups(folder, stem)
    keep = to_keep(backups)
    deleted = []
    for copy in backups:
        if copy.path not in keep:
            try:
                copy.path.unlink()
            except OSError as error:  # open in another program (Windows); next time
                log.warning("could not delete old backup %s: %s", copy.path.name, error)
                continue
            deleted.append(copy.path)
    if deleted:
        log.info("rotation deleted %d old automatic backups of %s", len(deleted), stem)
    return deleted


def write_checked_copy(source: Path, target: Path) -> Path:
    """Copy ``source`` to ``target`` whole and checked, or leave ``target`` as it was."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_target(target) as partial:
        partial.unlink(missing_ok=True)  # left by a copy that was killed half-way
        backup_sqlite_file(source, partial)
        problems = integrity_problems(partial)
        if problems:
            raise BackupError(f"the copy of {source.name} failed its check: {problems[0]}")
        _sync(partial)
    _sync(target.parent)
    return target


def _sync(path: Path) -> None:
    """Flush a file (or a folder's entry for a renamed file) to the disk itself."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # folders cannot be opened on Windows; NTFS journals the rename
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def backup(
    db: Database,
    target: Path | str,
    backups: Path,
    actor: audit.Actor,
) -> Path | None:
    """A copy made by a person: to ``target`` (``-`` for standard output), or into ``backups``.

    Needs the administrator's permission (the command line has it) and is in
    the audit trail.  Returns the file written, or None for standard output.
    """
    if db.path is None:
        raise BackupError(SERVER_MESSAGE)
    with db.transaction() as session:
        require(session, actor, Permission.MANAGE_BACKUPS, BackupError)
    if str(target) == "-":
        with tempfile.TemporaryDirectory() as folder:
            copy = write_checked_copy(db.path, Path(folder) / "backup.sqlite3")
            with copy.open("rb") as handle:
                shutil.copyfileobj(handle, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        _audit_backup(db, actor, "to standard output")
        return None
    default = default_backup_name(stem=db.path.stem)
    path = Path(target) if target else backups / default
    if path.exists() and path.is_dir():
        path = path / default
    if path.resolve() == db.path.resolve():
        raise BackupError(f"{path} is the database itself; choose another file")
    write_checked_copy(db.path, path)
    log.info("backup by hand written: %s (%d bytes)", path.name, path.stat().st_size)
    _audit_backup(db, actor, f"to {path}")
    return path


def _audit_backup(db: Database, actor: audit.Actor, where: str) -> None:
    """A copy of every record leaves ccmdesk: the trail says who made it and where."""
    with db.transaction() as session:
        audit.record(session, actor, "backup", "database", detail=f"backup written {where}")


def automatic_backup(db: Database, kind: str, now: dt.datetime, backups: Path) -> Path | None:
    """The app's own copy (no permission needed): write, check, then rotate the old ones."""
    if db.path is None:
        return None  # a server database is backed up by its own tools
    if not db.path.exists():
        return None
    target = backups / backup_name(db.path.stem, kind, now)
    write_checked_copy(db.path, target)
    log.info("%s backup written: %s (%d bytes)", kind, target.name, target.stat().st_size)
    rotate(backups, db.path.stem)
    return target


def backup_due(db: Database, now: dt.datetime, backups: Path) -> bool:
    """True when no automatic copy of this database was made today (local time)."""
    if db.path is None:
        return False
    today = _local(now).date()
    return not any(
        b.automatic and b.taken.date() == today for b in list_backups(backups, db.path.stem)
    )


def backup_if_due(db: Database, now: dt.datetime, backups: Path | None = None) -> Path | None:
    """Make today's daily backup unless one exists; the window calls this at start and hourly."""
    backups = backups or _default_folder()
    if not backup_due(db, now, backups):
        return None
    return automatic_backup(db, "daily", now, backups)


def backup_on_exit(
    db: Database, now: dt.datetime | None = None, backups: Path | None = None
) -> Path | None:
    """The copy made as the window closes; a failure is logged, never stops the exit."""
    try:
        return automatic_backup(db, "exit", now or dt.datetime.now(), backups or _default_folder())
    except Exception as error:  # the window is already gone: log it and let ccmdesk close
        log.error("backup on exit failed: %s", _reason(error))
        return None


def _reason(error: Exception) -> str:
    """Backup errors name files and SQLite's reason, never a record's content."""
    if isinstance(error, (BackupError, OSError)):
        return str(error)
    return type(error).__name__


def _default_folder() -> Path:
    from ccmdesk.paths import backups_dir

    return backups_dir()
