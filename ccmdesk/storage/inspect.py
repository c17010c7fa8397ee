"""Decide what a database file is *before* anything writes to it.

A file that is not a ccmdesk database, or that a newer ccmdesk wrote, must be
refused and left byte-for-byte as it was.  For SQLite that means looking at
the header and opening the file read-only with the standard ``sqlite3``
module: connecting through the application's engine would already switch the
journal mode and so change the file.
"""

from __future__ import annotations

import enum
import sqlite3
from dataclasses import dataclass
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"
#: ``PRAGMA application_id`` written into every ccmdesk SQLite file ("CCMD").
APPLICATION_ID = 0x43434D44


class DatabaseState(enum.Enum):
    NEW = "new"  # no file, an empty file, or a database with no tables
    CURRENT = "current"
    OLDER = "older"  # a ccmdesk database that needs migrating
    NEWER = "newer"  # written by a newer ccmdesk
    FOREIGN = "foreign"  # something else entirely


@dataclass(frozen=True)
class Inspection:
    state: DatabaseState
    revision: str | None = None
    why: str = ""


def classify(
    tables: set[str],
    revision: str | None,
    known: list[str],
    application_id: int | None = None,
) -> Inspection:
    """Classify a database from its table names and Alembic revision."""
    ours_by_id = application_id == APPLICATION_ID
    if not tables:
        return Inspection(DatabaseState.NEW)
    if "alembic_version" not in tables or revision is None:
        return Inspection(DatabaseState.FOREIGN, why="it holds tables that ccmdesk did not create")
    if revision in known:
        if revision == known[-1]:
            return Inspection(DatabaseState.CURRENT, revision)
        return Inspection(DatabaseState.OLDER, revision)
    if ours_by_id or ("time_entry" in tables and "patient" in tables):
        return Inspection(
            DatabaseState.NEWER,
            revision,
            why=f"it was written by a newer version of ccmdesk (schema {revision})",
        )
    return Inspection(DatabaseState.FOREIGN, revision, why="it belongs to another application")


def inspect_sqlite_file(path: Path, known: list[str]) -> Inspection:
    """Look at an SQLite file without changing a byte of it."""
    if not path.exists() or path.stat().st_size == 0:
        return Inspection(DatabaseState.NEW)
    with path.open("rb") as handle:
        magic = handle.read(len(SQLITE_MAGIC))
    if magic != SQLITE_MAGIC:
        return Inspection(DatabaseState.FOREIGN, why="it is not an SQLite database file")
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True)
        try:
            application_id = connection.execute("PRAGMA application_id").fetchone()[0]
            tables = {
                row[0]
                for row in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                    " AND name NOT LIKE 'sqlite_%'"
                )
            }
            revision = None
            if "alembic_version" in tables:
                row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = row[0] if row else None
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        return Inspection(DatabaseState.FOREIGN, why=f"SQLite cannot read it ({error})")
    return classify(tables, revision, known, application_id)
