"""Benchmark: whole-month billing on PostgreSQL against SQLite, same practice.

    python tests/benchmarks/postgres_billing_bench.py [--patients 5000] [--runs 5]
        [--sqlite FILE] [--postgres URL]

Builds the same demo practice (fixed seed, 12 months) into an SQLite file and
a PostgreSQL database, or reuses them when ``--sqlite``/``--postgres`` name
ones that already hold patients.  Without ``--postgres`` it starts a
throwaway cluster the way the tests do (tests/postgres.py: local TCP, fsync
off, which does not matter for reading).  Then, for the last full month, it
prints ``compute_month`` (median and best of ``--runs``) and the wall time of
``ccmdesk billing --month M --csv FILE`` as a new process (median of 3), and
checks that both backends wrote the same CSV.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # for tests.postgres when run as a script

from sqlalchemy import func, select  # noqa: E402

from ccmdesk.domain.time import Month  # noqa: E402
from ccmdesk.services.billing import compute_month  # noqa: E402
from ccmdesk.services.demo import build_demo  # noqa: E402
from ccmdesk.storage.database import Database, open_database  # noqa: E402
from ccmdesk.storage.models import Patient, TimeEntry  # noqa: E402
from tests.postgres import postgres_server  # noqa: E402

SEED = 2026


def prepared(url: str, patients: int, folder: Path, name: str) -> Database:
    """The database at ``url``, with the demo built into it unless it holds patients."""
    db = open_database(url, backups=folder / "bk")
    with db.transaction() as session:
        present = session.scalar(select(func.count()).select_from(Patient))
    if present:
        print(f"{name}: reusing {present} patients")
        return db
    started = time.perf_counter()
    build_demo(db, patients=patients, months=12, seed=SEED)
    print(f"{name}: built the demo in {time.perf_counter() - started:.1f} s")
    return db


def time_month(db: Database, month: Month, runs: int) -> tuple[list[float], int]:
    timings = []
    rows = 0
    for _ in range(runs):
        started = time.perf_counter()
        rows = len(compute_month(db, month).rows)
        timings.append(time.perf_counter() - started)
    return timings, rows


def time_cli(url: str, month: Month, folder: Path) -> tuple[list[float], bytes]:
    out = folder / "billing.csv"
    env = {**os.environ, "CCMDESK_DATA_DIR": str(folder / "data"), "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "ccmdesk", "--db", url, "billing", "--month", str(month)]
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([*command, "--csv", str(out)], check=True, env=env, capture_output=True)
        timings.append(time.perf_counter() - started)
    return timings, out.read_bytes()


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.0f} ms, best {min(values) * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sqlite", type=Path, help="SQLite file to build into or reuse")
    parser.add_argument("--postgres", metavar="URL", help="PostgreSQL database to use")
    args = parser.parse_args()
    month = Month.of(dt.date.today()).previous()
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        pg_url = args.postgres
        if pg_url is None:
            server = stack.enter_context(postgres_server())
            pg_url = server.create_database("bench")
            print(f"PostgreSQL: {server.origin}")
        sqlite_url = f"sqlite:///{args.sqlite or folder / 'bench.sqlite3'}"
        results = {}
        for name, url in (("SQLite", sqlite_url), ("PostgreSQL", pg_url)):
            db = prepared(url, args.patients, folder, name)
            with db.transaction() as session:
                entries = session.scalar(select(func.count()).select_from(TimeEntry))
            timings, rows = time_month(db, month, args.runs)
            db.close()
            cli, csv_bytes = time_cli(url, month, folder)
            results[name] = csv_bytes
            print(
                f"{name}: {entries} entries; compute_month {month} ({rows} on the list): "
                f"{ms(timings)}; 'ccmdesk billing --csv' process: {ms(cli)}"
            )
        same = results["SQLite"] == results["PostgreSQL"]
        print(f"billing CSVs identical: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
