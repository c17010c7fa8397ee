"""Shared fixtures: every test gets its own user data folder and database.

The storage, service, care-plan and report tests that take ``db`` run twice:
on an SQLite file (``[sqlite]``) and on a real PostgreSQL server
(``[postgresql]``, see tests/postgres.py), since a multi-seat practice keeps
everything there.  A test that needs the SQLite file itself (``db.path``,
backups, old files) is marked ``sqlite_only``.  The GUI tests stay on SQLite.

Without a PostgreSQL server the ``[postgresql]`` variants are skipped on a
developer's machine and are errors under CI (``CI`` set): CI must test both.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import pytest

from tests.factories import make_database, make_postgres_database
from tests.postgres import PostgresServer, PostgresUnavailable, postgres_server

TESTS = Path(__file__).resolve().parent
#: Test folders whose ``db`` tests also run on PostgreSQL.
POSTGRES_FOLDERS = ("storage", "services", "careplans", "reports")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: uses the SQLite file itself; db is never PostgreSQL"
    )
    config.addinivalue_line("markers", "postgres: runs against the PostgreSQL test server")
    config.addinivalue_line(
        "markers", "postgres_only: about PostgreSQL's own behaviour; db is only PostgreSQL"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_backend" not in metafunc.fixturenames or not _on_both_backends(metafunc):
        return
    backends = [pytest.param("postgresql", marks=pytest.mark.postgres)]
    if not metafunc.definition.get_closest_marker("postgres_only"):
        backends.insert(0, "sqlite")
    metafunc.parametrize("db_backend", backends, indirect=True)


def _on_both_backends(metafunc: pytest.Metafunc) -> bool:
    if metafunc.definition.get_closest_marker("sqlite_only"):
        return False
    try:
        folder = Path(metafunc.definition.path).resolve().relative_to(TESTS).parts[0]
    except ValueError:
        return False
    return folder in POSTGRES_FOLDERS


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(autouse=True)
def user_data(tmp_path, monkeypatch):
    """Point ccmdesk's user data folder at a temporary one (never the real one)."""
    folder = tmp_path / "userdata"
    monkeypatch.setenv("CCMDESK_DATA_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The PostgreSQL server for this session (skipped, or under CI failed, without one)."""
    context = postgres_server()
    try:
        server = context.__enter__()
    except PostgresUnavailable as missing:
        why = str(missing)
    else:
        why = ""
    if why and in_ci():
        pytest.fail(f"CI must test PostgreSQL too, but: {why}", pytrace=False)
    if why:
        pytest.skip(f"no PostgreSQL server to test against: {why}")
    try:
        yield server
    finally:
        context.__exit__(None, None, None)


@pytest.fixture(scope="session")
def postgres_url(postgres: PostgresServer) -> str:
    """One database for the whole session, migrated once; each ``db`` empties it."""
    from ccmdesk.storage.database import open_database

    url = postgres.create_database("main")
    open_database(url).close()
    return url


@pytest.fixture
def db_backend(request) -> str:
    """``sqlite``, or ``postgresql`` for the tests parametrized over both."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def db(db_backend, tmp_path, request):
    """A fresh ccmdesk database holding only the practice (New York time)."""
    if db_backend == "postgresql":
        database = make_postgres_database(
            request.getfixturevalue("postgres_url"), zone="America/New_York"
        )
    else:
        database = make_database(tmp_path / "ccmdesk.sqlite3", zone="America/New_York")
    yield database
    database.close()
