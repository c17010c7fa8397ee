"""Benchmark: ``ccmdesk import time`` of 100,000 rows, and ``ccmdesk --version``.

    python tests/benchmarks/bench_import.py [--rows 100000]

Runs the real command in a subprocess and reports wall time and the peak
resident memory of that process (``ru_maxrss`` of the child).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from ccmdesk.services.demo import build_demo
from ccmdesk.storage.database import open_database
from ccmdesk.storage.models import Patient, Staff


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ccmdesk", *args], env=env, capture_output=True)
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(done.stderr.decode())
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        url = f"sqlite:///{path}"
        db = open_database(url, backups=Path(folder) / "bk")
        build_demo(db, patients=2000, months=1)
        with db.transaction() as session:
            mrns = list(session.scalars(select(Patient.mrn)))
            staff = list(session.scalars(select(Staff.name).where(Staff.role == "clinical_staff")))
        db.close()
        rng = random.Random(7)
        source = Path(folder) / "time.csv"
        start_day = dt.datetime(2024, 1, 1, 8, 0)
        with source.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["mrn", "staff", "start", "end", "minutes", "activity", "note"])
            for index in range(args.rows):
                when = start_day + dt.timedelta(days=index // 150, minutes=3 * (index % 150))
                writer.writerow(
                    [
                        rng.choice(mrns),
                        rng.choice(staff),
                        when.strftime("%Y-%m-%dT%H:%M"),
                        "",
                        rng.randint(3, 25),
                        "phone_call",
                        "Follow-up call about medications",
                    ]
                )
        env = {**os.environ, "CCMDESK_DATA_DIR": folder, "TZ": "America/Chicago"}
        elapsed, peak = _run(["--db", url, "import", "time", str(source)], env)
        print(f"import time: {args.rows} rows in {elapsed:.1f} s, peak RSS {peak:.0f} MB")
        elapsed, _ = _run(["--db", url, "import", "time", str(source)], env)
        print(f"re-import of the same file (nothing added): {elapsed:.1f} s")
    versions = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ccmdesk", "--version"], capture_output=True)
        versions.append(time.perf_counter() - started)
    print(f"ccmdesk --version: best {min(versions):.3f} s, worst {max(versions):.3f} s")


if __name__ == "__main__":
    main()
