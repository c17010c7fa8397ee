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
from sqlalchemy.exc import DBAPIError
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
#: Execution option of a connection whose transaction will write (see Database.write).
WRITE_OPTION = "ccmdesk_write"


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

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work that writes: on SQLite it takes the write lock at ``BEGIN``.

        In WAL mode a deferred ``BEGIN`` that reads, then writes after another seat
        wrote, fails at once with "database is locked" (its snapshot is stale and
        waiting cannot help).  ``BEGIN IMMEDIATE`` waits its turn on the busy timeout
        instead, and everything it reads is current.  PostgreSQL needs nothing here:
        the services lock the rows they change.
        """
        with self.sessions() as session, session.begin():
            session.connection(execution_options={WRITE_OPTION: True})
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
        writes = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


#: libpq settings for a server database, unless the URL gives its own: give up on an
#: unreachable server in seconds rather than minutes, and name ccmdesk's sessions in
#: ``pg_stat_activity`` so the practice's IT person can tell whose they are.
SERVER_CONNECT_ARGS = {"connect_timeout": 5, "application_name": "ccmdesk"}


def _make_engine(url: str) -> Engine:
    """An engine whose error messages never quote the values of a statement.

    ``hide_parameters``: a refused statement's parameters can be a patient's name
    or note, and error text reaches the log and the screen.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        engine = create_engine(parsed, hide_parameters=True)
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine)
        return engine
    if parsed.drivername == "postgresql":  # SQLAlchemy would look for psycopg2; we ship psycopg
        parsed = parsed.set(drivername="postgresql+psycopg")
    defaults = {k: v for k, v in SERVER_CONNECT_ARGS.items() if k not in parsed.query}
    # pool_pre_ping: a seat left open overnight finds its pooled connections cut by the
    # server's restart or a firewall; a quick ping replaces them instead of failing a click.
    return create_engine(parsed, pool_pre_ping=True, connect_args=defaults, hide_parameters=True)


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
            # A copy is one self-contained file: reading it (a check, a restore) then
            # leaves no -wal/-shm files beside it. ccmdesk turns WAL back on when it opens one.
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    return target


def integrity_problems(path: Path, *, thorough: bool = False) -> list[str]:
    """What SQLite finds wrong with a database file; an empty list means it is sound.

    ``PRAGMA quick_check`` reads every page and b-tree (a fifth of a second for
    5,000 patients) but does not match indexes against rows, which
    ``thorough`` (``integrity_check``, about five times slower) adds.  Opened
    read-only so that checking never changes the file.
    """
    pragma = "integrity_check(20)" if thorough else "quick_check(20)"
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            rows = [str(row[0]) for row in connection.execute(f"PRAGMA {pragma}")]
        finally:
            connection.close()
    except sqlite3.Error as error:
        return [str(error)]
    return [] if rows == ["ok"] else rows


def restore_sqlite_file(source: Path, target: Path) -> Path:
    """Replace the content of ``target`` with ``source`` through the backup API.

    Writing *into* the target database (rather than copying a file over it)
    goes through SQLite's own locking and WAL, so a connection that has the
    target open never sees half of each.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target, timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            src.backup(dst)
            dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
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
    except (OSError, sqlite3.Error, DBAPIError) as error:
        where = sqlite_path(url) or make_url(url).render_as_string(hide_password=True)
        reason = getattr(error, "orig", None) or getattr(error, "strerror", None) or error
        raise DatabaseError(f"cannot open {where}: {_one_line(reason)}") from error


def _one_line(reason: object) -> str:
    """The first line of a driver's message (libpq adds hints and SQLAlchemy a link)."""
    lines = str(reason).strip().splitlines()
    return lines[0] if lines else type(reason).__name__


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
            where = make_url(url).render_as_string(hide_password=True)
            reason = getattr(error, "orig", None) or error
            raise DatabaseError(f"cannot connect to {where}: {_one_line(reason)}") from error
        _refuse_if_needed(inspection, make_url(url).render_as_string(hide_password=True))

    if inspection.state is not DatabaseState.CURRENT:
        with _disposed_on_error(engine), engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
            elif engine.dialect.name == "postgresql":
                # Seats started together after an upgrade queue here; the later ones then
                # find the schema current (Alembic reads the revision after the lock).
                connection.execute(text(f"SELECT pg_advisory_xact_lock({APPLICATION_ID})"))
            migrate.upgrade(connection)
    return Database(
        url=url,
        engine=engine,
        sessions=sessionmaker(engine, expire_on_commit=False),
        path=path,
    )


@contextmanager
def _disposed_on_error(engine: Engine) -> Iterator[None]:
    """A failed migration (say, a role not allowed to create tables) leaves no pool behind."""
    try:
        yield
    except BaseException:
        engine.dispose()
        raise


def _refuse_if_needed(inspection: Inspection, where: str) -> None:
    if inspection.state in (DatabaseState.FOREIGN, DatabaseState.NEWER):
        raise DatabaseError(f"{where} is not a database this ccmdesk can open: {inspection.why}")
