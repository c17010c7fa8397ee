"""A real PostgreSQL server for the tests: an existing one, or a throwaway cluster.

``CCMDESK_TEST_POSTGRES_URL`` names an existing server (any database on it to
connect to first; the role must be allowed to create databases).  Without it,
PostgreSQL's own server programs (``initdb``, ``pg_ctl``; on PATH or in
``/usr/lib/postgresql/*/bin``) build a cluster in a temporary folder, serve it
on a free port of 127.0.0.1 and a socket in that folder, and delete it at the
end (a small watchdog process does that however the session ends, even
killed).  Either way the tests only ever touch databases they create
themselves, named ``ccmdesk_test_<pid>_<what>``, and drop them again.

The throwaway cluster trades durability for speed (``fsync=off`` and friends):
it lives for one test session.  ``initdb`` refuses to run as root, so under
root (CI containers) every server program runs as the ``postgres`` user.

Used by ``tests/conftest.py`` and by ``tests/benchmarks/postgres_billing_bench.py``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import NullPool

URL_VARIABLE = "CCMDESK_TEST_POSTGRES_URL"
SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
SPEED_OVER_SAFETY = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
#: Beside the test session, as the cluster's owner, in POSIX sh (which that user can surely
#: run): wait until the session's end of the pipe closes, however the session ends, then stop
#: the cluster and remove its folder.  ``$0``: pg_ctl, ``$1``: data folder, ``$2``: folder.
WATCHDOG = 'cat >/dev/null; "$0" -D "$1" -m immediate -w stop >/dev/null 2>&1; rm -rf "$2"'
#: UTF-8 like any real server; the C collation, which every machine has.
INITDB_OPTIONS = ("-E", "UTF8", "--no-locale", "--no-sync")


class PostgresUnavailable(Exception):
    """No server to test against; the message says what to install or set."""


def find_server_bin() -> Path | None:
    """The folder holding ``initdb``/``pg_ctl``/``postgres``, newest version first."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    patterns = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin")
    found = [Path(p) for pattern in patterns for p in glob.glob(pattern)]
    found = [p for p in found if all((p / name).is_file() for name in SERVER_PROGRAMS)]
    found.sort(key=lambda p: _version_key(p.parent.name), reverse=True)
    return found[0] if found else None


def _version_key(name: str) -> tuple[int, ...]:
    digits = "".join(c if c.isdigit() else " " for c in name).split()
    return tuple(int(d) for d in digits)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """A server the tests may create and drop their own databases on."""

    def __init__(self, url: URL, origin: str) -> None:
        self.url = url  # the maintenance database to connect to
        self.origin = origin  # where it came from, for messages
        self._prefix = f"ccmdesk_test_{os.getpid()}_"

    def database_url(self, name: str) -> str:
        """The SQLAlchemy URL (with password) of one of our databases."""
        return self.url.set(database=self._prefix + name).render_as_string(hide_password=False)

    def create_database(self, name: str) -> str:
        """A new, empty database (an older one of that name is dropped first)."""
        self.drop_database(name)
        with self._admin() as admin:
            admin.execute(text(f"CREATE DATABASE \"{self._prefix + name}\" ENCODING 'UTF8'"))
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        with self._admin() as admin:
            admin.execute(text(f'DROP DATABASE IF EXISTS "{self._prefix + name}" WITH (FORCE)'))

    def drop_all_ours(self) -> None:
        with self._admin() as admin:
            names = admin.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
                {"prefix": self._prefix.replace("_", r"\_") + "%"},
            ).scalars()
            for name in list(names):
                admin.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    @contextmanager
    def _admin(self) -> Iterator:  # -> Connection in autocommit (CREATE DATABASE needs it)
        engine: Engine = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            engine.dispose()


def _check(url: URL, origin: str) -> PostgresServer:
    server = PostgresServer(url, origin)
    try:
        with server._admin() as admin:
            admin.execute(text("SELECT 1"))
    except Exception as error:
        raise PostgresUnavailable(f"cannot connect to {origin}: {error}") from error
    return server


class ThrowawayCluster:
    """``initdb`` + ``pg_ctl start`` in a temporary folder; :meth:`stop` removes it all."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.folder = Path(tempfile.mkdtemp(prefix="ccmdesk-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = 0
        self._as_postgres: dict = {}  # subprocess options: who runs the server programs
        if os.name == "posix" and os.geteuid() == 0:
            self._run_as_postgres_user()
        self._watchdog = self._start_watchdog()

    def _run_as_postgres_user(self) -> None:
        import pwd

        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable(
                "running as root, and initdb refuses root, but there is no 'postgres' user"
            ) from None
        os.chown(self.folder, account.pw_uid, account.pw_gid)
        self._as_postgres = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}

    def _start_watchdog(self) -> subprocess.Popen | None:
        """Whatever ends this process (a finished session, Ctrl+C, a kill), the cluster goes."""
        if os.name != "posix":
            return None
        pg_ctl = str(self.bin_dir / "pg_ctl")
        return subprocess.Popen(
            ["sh", "-c", WATCHDOG, pg_ctl, str(self.data), str(self.folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # out of reach of the terminal's Ctrl+C, so it gets to work
            cwd="/",
            **self._as_postgres,
        )

    def _program(self, name: str, *args: str) -> subprocess.CompletedProcess:
        command = [str(self.bin_dir / name), *args]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.folder,
            **self._as_postgres,
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            output = done.stderr.strip() or done.stdout.strip()
            raise PostgresUnavailable(f"{name} failed ({done.returncode}): {output}\n{log}")
        return done

    def start(self) -> PostgresServer:
        data = str(self.data)
        self._program("initdb", "-D", data, "-A", "trust", "-U", "postgres", *INITDB_OPTIONS)
        settings = [f"-c {s}" for s in SPEED_OVER_SAFETY]
        for attempt in range(3):  # another process may take the free port first
            self.port = _free_port()
            options = " ".join(
                [
                    f"-p {self.port}",
                    f"-k {self.folder}",
                    "-c listen_addresses=127.0.0.1",
                    "-c max_connections=60",
                    # Far from UTC and not a whole hour: an instant that loses its
                    # offset on the way in or out shows up as a wrong answer.
                    "-c TimeZone=Asia/Kolkata",
                    *settings,
                ]
            )
            try:
                self._program(
                    "pg_ctl", "-D", data, "-l", str(self.log), "-o", options, "-w", "start"
                )
                break
            except PostgresUnavailable:
                if attempt == 2:
                    raise
        url = URL.create(
            "postgresql+psycopg",
            username="postgres",
            host="127.0.0.1",
            port=self.port,
            database="postgres",
        )
        return _check(url, f"the throwaway PostgreSQL cluster in {self.folder}")

    def stop(self) -> None:
        """Stop the server and remove the folder; returns once both are done."""
        if self._watchdog is not None:
            self._watchdog.stdin.close()  # type: ignore[union-attr]
            self._watchdog.wait(timeout=120)
            return
        # Already gone or not answering: the folder goes below either way.
        with suppress(PostgresUnavailable, subprocess.TimeoutExpired):
            self._program("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """The server named by ``CCMDESK_TEST_POSTGRES_URL``, else a throwaway cluster.

    Raises :class:`PostgresUnavailable` when there is neither.
    """
    named = os.environ.get(URL_VARIABLE)
    if named:
        url = make_url(named)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        server = _check(url, f"{URL_VARIABLE} ({url.render_as_string(hide_password=True)})")
        try:
            yield server
        finally:
            server.drop_all_ours()
        return
    bin_dir = find_server_bin()
    if bin_dir is None:
        raise PostgresUnavailable(
            "no PostgreSQL server programs (initdb, pg_ctl) on PATH or in "
            f"/usr/lib/postgresql/*/bin, and {URL_VARIABLE} is not set"
            " (Debian: apt-get install postgresql)"
        )
    cluster = ThrowawayCluster(bin_dir)
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def empty_ccmdesk_tables(engine: Engine) -> None:
    """Every table but ``alembic_version`` emptied, ids from 1 again: a fresh database, fast.

    Sessions a previous test left open would make TRUNCATE wait for their locks,
    so they are ended first.
    """
    with engine.begin() as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        tables = connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                " AND tablename <> 'alembic_version' ORDER BY tablename"
            )
        ).scalars()
        names = ", ".join(f'"{name}"' for name in tables)
        if names:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
