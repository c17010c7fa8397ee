"""Open (create, check, migrate) the ccmdesk database.

``open_database(url)`` is the only way the rest of the application gets an
engine.  It refuses foreign and newer files untouched, copies an older file
into the backups folder before migrating it, and configures every SQLite
connection for durability (WAL, ``synchronous=FULL``, foreign keys, a busy
timeout).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ccmdesk.storage import migrate
from ccmdesk.storage.inspect import (
    APPLICATION_ID,
    DatabaseState,
    Inspection,
    classify,
    inspect_sqlite_file,
)

BUSY_TIMEOUT_MS = 10_000


class DatabaseError(Exception):
    """A database that ccmdesk cannot or will not open; the message says why."""


@dataclass
class Database:
    """An open ccmdesk database: the engine plus a session factory."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    path: Path | None  # the file, for SQLite

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()


def sqlite_path(url: str) -> Path | None:
    """The file behind an SQLite URL, or None for other databases and memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the driver, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN")


def _make_engine(url: str) -> Engine:
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _inspect_engine(engine: Engine, known: list[str]) -> Inspection:
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        revision = None
        if "alembic_version" in tables:
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return classify(tables, revision, known)


def backup_sqlite_file(source: Path, target: Path) -> Path:
    """Copy a live SQLite database consistently with the online backup API."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return target


def _timestamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def open_database(url: str, *, backups: Path | None = None) -> Database:
    """Open ``url``, creating or migrating the schema as needed.

    ``backups`` is the folder that receives a copy of an SQLite file before it
    is migrated (default: the user backups folder).
    """
    try:
        return _open(url, backups)
    except (OSError, sqlite3.Error, OperationalError) as error:
        where = sqlite_path(url) or make_url(url).render_as_string(hide_password=True)
        reason = getattr(error, "orig", None) or getattr(error, "strerror", None) or error
        raise DatabaseError(f"cannot open {where}: {reason}") from error


def _open(url: str, backups: Path | None) -> Database:
    known = migrate.known_revisions()
    path = sqlite_path(url)
    if path is not None:
        inspection = inspect_sqlite_file(path, known)
        _refuse_if_needed(inspection, str(path))
        if inspection.state is DatabaseState.NEW:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif inspection.state is DatabaseState.OLDER:
            if backups is None:
                from ccmdesk.paths import backups_dir

                backups = backups_dir()
            name = f"{path.stem}-before-{known[-1]}-{_timestamp()}.sqlite3"
            backup_sqlite_file(path, backups / name)
        engine = _make_engine(url)
    else:
        engine = _make_engine(url)
        try:
            inspection = _inspect_engine(engine, known)
        except Exception as error:  # connection refused, bad credentials ...
            engine.dispose()
            raise DatabaseError(f"cannot connect to the database: {error}") from error
        _refuse_if_needed(inspection, make_url(url).render_as_string(hide_password=True))

    if inspection.state is not DatabaseState.CURRENT:
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
            migrate.upgrade(connection)
    return Database(
        url=url,
        engine=engine,
        sessions=sessionmaker(engine, expire_on_commit=False),
        path=path,
    )


def _refuse_if_needed(inspection: Inspection, where: str) -> None:
    if inspection.state in (DatabaseState.FOREIGN, DatabaseState.NEWER):
        raise DatabaseError(f"{where} is not a database this ccmdesk can open: {inspection.why}")
