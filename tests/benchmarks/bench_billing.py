"""Benchmark: whole-month billing and one patient's live figures.

    python tests/benchmarks/bench_billing.py [--patients 5000] [--db URL]

Builds a demo practice (12 months, ~30 entries per patient) in a temporary
file unless ``--db`` names an existing one, then times ``compute_month`` for
the last full month and ``live_figures`` for a sample of patients.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from ccmdesk.domain.time import Month
from ccmdesk.services.billing import compute_month, live_figures
from ccmdesk.services.demo import build_demo
from ccmdesk.storage.database import open_database
from ccmdesk.storage.models import Patient, TimeEntry


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--db")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        db = open_database(url, backups=Path(folder) / "bk")
        if not args.db:
            started = time.perf_counter()
            build_demo(db, patients=args.patients, months=12)
            print(f"built demo: {time.perf_counter() - started:.1f} s")
        with db.transaction() as session:
            patients = session.scalar(select(func.count()).select_from(Patient))
            entries = session.scalar(select(func.count()).select_from(TimeEntry))
            ids = list(session.scalars(select(Patient.id).limit(200)))
        month = Month.of(dt.date.today()).previous()
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            report = compute_month(db, month)
            timings.append(time.perf_counter() - started)
        print(
            f"whole month {month}: {patients} patients, {entries} entries in the database, "
            f"{len(report.rows)} on the list: best {min(timings) * 1000:.0f} ms, "
            f"median {statistics.median(timings) * 1000:.0f} ms"
        )
        live = []
        for patient_id in ids:
            started = time.perf_counter()
            live_figures(db, patient_id)
            live.append(time.perf_counter() - started)
        live.sort()
        p95 = live[int(len(live) * 0.95)]
        print(
            f"live figures, one patient ({len(live)} patients): median "
            f"{statistics.median(live) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"
        )
        db.close()


if __name__ == "__main__":
    main()
