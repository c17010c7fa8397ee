"""Benchmark: how long until one seat sees what another seat saved.

    python tests/benchmarks/live_refresh_bench.py [--writes 30] [--interval-ms 2000]
        [--patients 300] [--postgres | --db URL]

Seat B is the real main window (offscreen) with its live refresh polling
every ``--interval-ms``.  Seat A is another process on the same database
that, at random moments (0.3–2.5 s apart), adds a time entry for a random
patient and prints the instant its transaction committed.  For each write
the benchmark prints the delay until seat B's feed reported the patient
("feed") and until seat B's patient list showed the new minutes ("on
screen"), then the median and maximum of both, and what one idle poll costs.

The database is an SQLite file in a temporary folder (two processes on one
file), a throwaway PostgreSQL cluster (``--postgres``, as the tests start
one), or ``--db URL`` (which must not already hold patients).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # for tests.postgres when run as a script

SEAT_A = r"""
import datetime as dt, random, sys, time
from ccmdesk.services import time_log
from ccmdesk.services.audit import Actor
from ccmdesk.storage.database import open_database
url, staff, writes, patients = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ids = [int(p) for p in patients.split(",")]
db = open_database(url)
who = Actor(staff, "Seat A")
rng = random.Random(7)
print("ready", flush=True)
for n in range(writes):
    time.sleep(rng.uniform(0.3, 2.5))
    patient = rng.choice(ids)
    now = dt.datetime.now(dt.timezone.utc)
    end = now - dt.timedelta(minutes=2 * n + 1)  # exactly one more minute, no overlap
    time_log.add_manual(db, patient, staff, end - dt.timedelta(minutes=1), end, who, now=now)
    print(f"wrote {patient} {time.time():.6f}", flush=True)
db.close()
"""


def _build(url: str, patients: int) -> None:
    from ccmdesk.services.demo import build_demo
    from ccmdesk.storage.database import open_database

    db = open_database(url)
    try:
        build_demo(db, patients=patients)
    finally:
        db.close()


def _pick(url: str) -> tuple[int, list[int]]:
    """A clinical staff member to log as, and the patients to write for."""
    from sqlalchemy import select

    from ccmdesk.storage.database import open_database
    from ccmdesk.storage.models import Patient, Staff

    db = open_database(url)
    try:
        with db.transaction() as session:
            staff = session.scalar(
                select(Staff.id).where(Staff.role == "clinical_staff", Staff.active).limit(1)
            )
            ids = list(session.scalars(select(Patient.id).order_by(Patient.id).limit(60)))
    finally:
        db.close()
    return staff, ids


def _idle_poll_ms(db) -> float:  # type: ignore[no-untyped-def]
    from ccmdesk.services.change_feed import read_changes, start_cursor

    cursor = start_cursor(db)
    times = []
    for _ in range(200):
        t0 = time.perf_counter()
        read_changes(db, cursor, time.monotonic())
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def run(url: str, writes: int, interval_ms: int, settings: str) -> None:
    from PySide6.QtWidgets import QApplication

    from ccmdesk import app as ccapp
    from ccmdesk.storage.database import open_database

    staff, ids = _pick(url)
    qt = QApplication.instance() or QApplication([])
    db = open_database(url)
    window = ccapp.build_window(db, settings)
    window.live.timer.setInterval(interval_ms)
    window.start()
    while not window.loaded:
        qt.processEvents()
        time.sleep(0.005)
    minutes = {p: window.rows[p].minutes for p in ids if p in window.rows}

    feed_seen: dict[int, float] = {}
    window.live.arrived.connect(
        lambda batch: [feed_seen.setdefault(p, time.time()) for p in batch.patient_ids]
    )
    lines: queue.Queue[str] = queue.Queue()
    seat_a = subprocess.Popen(
        [sys.executable, "-c", SEAT_A, url, str(staff), str(writes), ",".join(map(str, ids))],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert seat_a.stdout is not None
    threading.Thread(target=lambda: [lines.put(x) for x in seat_a.stdout], daemon=True).start()

    feed_delays, screen_delays = [], []
    waiting: list[tuple[int, float, int]] = []  # patient, written at, minutes to show
    done_writing = False
    deadline = None
    while True:
        qt.processEvents()
        with contextlib.suppress(queue.Empty):
            while True:
                line = lines.get_nowait().split()
                if line[0] == "wrote":
                    patient, at = int(line[1]), float(line[2])
                    minutes[patient] = minutes.get(patient, 0) + 1
                    feed_seen.pop(patient, None)
                    waiting.append((patient, at, minutes[patient]))
        for item in list(waiting):
            patient, at, wanted = item
            row = window.rows.get(patient)
            if row is not None and row.minutes >= wanted:
                feed_delays.append(feed_seen.get(patient, time.time()) - at)
                screen_delays.append(time.time() - at)
                waiting.remove(item)
                print(
                    f"patient {patient:5d}: feed {feed_delays[-1] * 1000:6.0f} ms,"
                    f" on screen {screen_delays[-1] * 1000:6.0f} ms"
                )
        if not done_writing and seat_a.poll() is not None:
            done_writing, deadline = True, time.time() + 3 * interval_ms / 1000 + 5
        if done_writing and (not waiting or time.time() > deadline):
            break
        time.sleep(0.002)
    backend = db.engine.dialect.name
    print(f"\n{backend}, poll every {interval_ms} ms, {len(screen_delays)} of {writes} writes seen")
    for name, values in (("feed", feed_delays), ("on screen", screen_delays)):
        if values:
            print(
                f"{name:>9}: median {statistics.median(values) * 1000:5.0f} ms,"
                f" max {max(values) * 1000:5.0f} ms"
            )
    print(f"one idle poll (nothing new): {_idle_poll_ms(db):.2f} ms median")
    window.live.stop()
    window.ctx.tasks.wait()
    db.close()
    if waiting:
        sys.exit(f"{len(waiting)} writes were never seen")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=30)
    parser.add_argument("--interval-ms", type=int, default=2000)
    parser.add_argument("--patients", type=int, default=300)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL cluster")
    where.add_argument("--db", metavar="URL", help="an empty database to build the demo into")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("CCMDESK_DATA_DIR", folder)
        settings = str(Path(folder) / "settings.ini")
        if args.postgres:
            from tests.postgres import postgres_server

            with postgres_server() as server:
                url = server.create_database("live_refresh_bench")
                _build(url, args.patients)
                run(url, args.writes, args.interval_ms, settings)
            return
        url = args.db or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        _build(url, args.patients)
        run(url, args.writes, args.interval_ms, settings)


if __name__ == "__main__":
    main()
