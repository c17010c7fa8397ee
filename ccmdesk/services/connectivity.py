"""Reaching the database: is it there, is an error "the server is gone", what is at a URL.

Qt-free, so the window's probe, the Database dialog's "Test connection" and
the command line share one set of rules and one set of plain-word messages.
Passwords never appear in a message (:func:`hide_password`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from ccmdesk.storage import migrate
from ccmdesk.storage.database import Database, sqlite_path
from ccmdesk.storage.inspect import DatabaseState, Inspection, classify, inspect_sqlite_file

#: Seconds to wait for a server before saying it does not answer.
CONNECT_TIMEOUT_S = 5
DEFAULT_PORT = 5432
DRIVER = "postgresql+psycopg"


def hide_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database address)"


def is_connection_error(error: BaseException) -> bool:
    """True when ``error`` means the database could not be reached (not a refused change)."""
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated) or isinstance(error, OperationalError)
    return False


def server_url(host: str, port: int, database: str, user: str, password: str = "") -> str:
    """A PostgreSQL URL for the psycopg driver (its connect timeout is the engine's default)."""
    url = URL.create(
        DRIVER,
        username=user.strip() or None,
        password=password or None,
        host=host.strip() or None,
        port=port or None,
        database=database.strip() or None,
    )
    return url.render_as_string(hide_password=False)


@dataclass(frozen=True)
class ServerFields:
    """A server URL taken apart for a form."""

    host: str
    port: int
    database: str
    user: str
    password: str


def server_fields(url: str) -> ServerFields | None:
    """The parts of a PostgreSQL URL, or None for anything else (an SQLite file)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "postgresql":
        return None
    return ServerFields(
        parsed.host or "",
        parsed.port or DEFAULT_PORT,
        parsed.database or "",
        parsed.username or "",
        parsed.password or "",
    )


def describe(url: str) -> str:
    """Where a URL points, in words (no password)."""
    fields = server_fields(url)
    if fields is None:
        return f"the file {sqlite_path(url) or hide_password(url)}"
    where = f"{fields.host or 'this computer'}:{fields.port}"
    return f"the practice server {where}, database “{fields.database}”, user {fields.user}"


def without_password(url: str) -> str:
    return make_url(url)._replace(password=None).render_as_string(hide_password=False)


def needs_password(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "postgresql" and not parsed.password


def with_password(url: str, password: str) -> str:
    parsed = make_url(url)._replace(password=password or None)
    return parsed.render_as_string(hide_password=False)


def _timeout_args(url: str, timeout: float) -> dict[str, object]:
    return {"connect_timeout": max(1, int(timeout))} if url.startswith("postgresql") else {}


def ping(db: Database, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Raise unless the database answers now.

    A server first gets a fresh connection with a timeout (a network that is
    gone must not hold a worker for minutes); then the application's own pool
    is tried, twice, in case the first meets a connection the server dropped.
    """
    if db.engine.dialect.name != "sqlite":
        probe = create_engine(  # the engine's URL: with the driver the application uses
            db.engine.url, poolclass=NullPool, connect_args=_timeout_args(db.url, timeout)
        )
        try:
            with probe.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        finally:
            probe.dispose()
    for attempt in (1, 2):
        try:
            with db.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
            return
        except DBAPIError as error:
            if attempt == 2 or not error.connection_invalidated:
                raise


@dataclass(frozen=True)
class ConnectionReport:
    """The answer to "Test connection", in words for the person who asked."""

    ok: bool
    message: str
    state: DatabaseState | None = None


def check_connection(url: str, timeout: float = CONNECT_TIMEOUT_S) -> ConnectionReport:
    """Connect to ``url`` (never changing anything) and say what is there."""
    try:
        path = sqlite_path(url)
        if path is not None:
            return _check_file(path)
        parsed = make_url(url)
        if parsed.drivername == "postgresql":  # as the application opens it: with psycopg
            parsed = parsed.set(drivername=DRIVER)
        engine = create_engine(parsed, poolclass=NullPool, connect_args=_timeout_args(url, timeout))
    except (ArgumentError, ImportError, ValueError) as error:
        return ConnectionReport(False, f"That is not a database address ccmdesk can use ({error}).")
    try:
        with engine.connect() as connection:
            version = _server_version(connection)
            tables = set(inspect(connection).get_table_names())
            revision = practice = None
            if "alembic_version" in tables:
                revision = connection.execute(
                    text("SELECT version_num FROM alembic_version")
                ).scalar()
            if "practice" in tables:
                practice = connection.execute(
                    text("SELECT name FROM practice ORDER BY id")
                ).scalar()
    except DBAPIError as error:
        return ConnectionReport(False, explain(error, url))
    finally:
        engine.dispose()
    inspection = classify(tables, revision, migrate.known_revisions())
    name = make_url(url).database or ""
    where = f"Connected to {version}. The database “{name}”"
    return ConnectionReport(
        inspection.state not in (DatabaseState.FOREIGN, DatabaseState.NEWER),
        f"{where} {_contents(inspection, practice)}",
        inspection.state,
    )


def _server_version(connection) -> str:  # type: ignore[no-untyped-def]
    if connection.dialect.name == "postgresql":
        number = connection.execute(text("SHOW server_version")).scalar() or ""
        return f"PostgreSQL {str(number).split(' ')[0]}"
    return connection.dialect.name


def _contents(inspection: Inspection, practice: str | None) -> str:
    held = f"holds the ccmdesk practice “{practice}”" if practice else "holds a ccmdesk database"
    state, revision = inspection.state, inspection.revision
    if state is DatabaseState.NEW:
        return "is empty: ccmdesk will set it up the first time it opens it."
    if state is DatabaseState.CURRENT:
        return f"{held} (schema {revision}, this version's)."
    if state is DatabaseState.OLDER:
        return f"{held} from an older version (schema {revision}); it will be upgraded when opened."
    if state is DatabaseState.NEWER:
        return f"was written by a newer ccmdesk (schema {revision}): update ccmdesk here first."
    return f"cannot be used: {inspection.why}."


def _check_file(path: Path) -> ConnectionReport:
    inspection = inspect_sqlite_file(path, migrate.known_revisions())
    where = f"The file {path}"
    if inspection.state is DatabaseState.NEW:
        return ConnectionReport(
            True, f"{where} is new or empty: ccmdesk will set it up.", inspection.state
        )
    ok = inspection.state not in (DatabaseState.FOREIGN, DatabaseState.NEWER)
    return ConnectionReport(ok, f"{where} {_contents(inspection, None)}", inspection.state)


def explain(error: BaseException, url: str) -> str:
    """A connection failure in plain words (the driver's first line when nothing fits)."""
    parsed = make_url(url)
    host = parsed.host or "this computer"
    where = f"{host}:{parsed.port or DEFAULT_PORT}"
    detail = str(getattr(error, "orig", None) or error)
    lowered = detail.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return f"The server at {where} refused the user name or password."
    if "does not exist" in lowered and "database" in lowered:
        return (
            f"The server at {where} has no database “{parsed.database}”: check the name, or"
            " ask whoever runs the server to create it."
        )
    if "role" in lowered and "does not exist" in lowered:
        return f"The server at {where} has no user “{parsed.username}”."
    if "resolve host" in lowered or "translate host name" in lowered:
        return f"The computer name “{host}” is not known: check the spelling and the network."
    if "connection refused" in lowered:
        return (
            f"Nothing answers at {where}: check that the server is running and that the"
            " address and port are right."
        )
    if "timeout" in lowered or "timed out" in lowered:
        return f"No answer from {where} within {CONNECT_TIMEOUT_S} seconds."
    if "pg_hba.conf" in lowered:
        return f"The server at {where} does not accept connections from this computer."
    first = detail.strip().splitlines()[0] if detail.strip() else type(error).__name__
    if parsed.password:
        first = first.replace(parsed.password, "***")
    return f"Cannot connect to {where}: {first}"
