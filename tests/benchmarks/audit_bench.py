"""Benchmark: the audit-trail browser's first page, filtered pages, and the whole-trail CSV.

    CCMDESK_DATA_DIR=/tmp/au ccmdesk --db sqlite:////tmp/au/big.sqlite3 \\
        demo --patients 5000 --no-gui
    python tests/benchmarks/audit_bench.py [--db sqlite:////tmp/au/big.sqlite3]

The demo writes a single audit event, so a year of use is added first: for
every time entry the events the services write (start and stop, or create),
an edit for one entry in 20 and a deletion for one in 100, and a sign-in per
staff member per working day.  This happens in a copy of the SQLite file (the
demo database is left as it is), or in a temporary demo when no ``--db`` is
given.  Then it times, as an administrator sees them: the first page, a
patient's, a month's and an action's pages, the last page, the filter
choices, the CSV export of the whole trail, and the browser window opened
offscreen until its first page shows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from ccmdesk.services.audit import Actor
from ccmdesk.services.audit_trail import AuditFilter, audit_page, export_csv, filter_choices
from ccmdesk.services.demo import build_demo
from ccmdesk.services.practice import practice_zone
from ccmdesk.storage.database import Database, backup_sqlite_file, open_database, sqlite_path
from ccmdesk.storage.models import AuditEvent, Patient, Staff, TimeEntry

UTC = dt.timezone.utc
CHUNK = 5000


def _entry_events(db: Database) -> Iterator[dict[str, Any]]:
    rng = random.Random(7)
    names = {}
    with db.transaction() as session:
        names = {row.id: row.name for row in session.execute(select(Staff.id, Staff.name))}
        query = select(
            TimeEntry.id,
            TimeEntry.patient_id,
            TimeEntry.staff_id,
            TimeEntry.start_at,
            TimeEntry.end_at,
            TimeEntry.activity,
            TimeEntry.note,
            TimeEntry.source,
        ).execution_options(yield_per=CHUNK)
        for row in session.execute(query):
            values = {
                "staff_id": row.staff_id,
                "start_at": row.start_at.isoformat(),
                "end_at": row.end_at.isoformat() if row.end_at else None,
                "activity": row.activity,
                "note": row.note,
            }
            common = {
                "actor_id": row.staff_id,
                "actor": names.get(row.staff_id, "unknown"),
                "entity": "time_entry",
                "entity_id": row.id,
                "patient_id": row.patient_id,
                "detail": "",
            }
            end = row.end_at or row.start_at
            if row.source == "timer":
                yield {
                    **common,
                    "at": row.start_at,
                    "action": "start",
                    "before": None,
                    "after": json.dumps({**values, "end_at": None}, sort_keys=True),
                }
                yield {
                    **common,
                    "at": end,
                    "action": "stop",
                    "before": None,
                    "after": json.dumps(values, sort_keys=True),
                }
            else:
                yield {
                    **common,
                    "at": end,
                    "action": "create",
                    "before": None,
                    "after": json.dumps(values, sort_keys=True),
                }
            if rng.random() < 0.05:
                yield {
                    **common,
                    "at": end + dt.timedelta(hours=2),
                    "action": "update",
                    "before": json.dumps({"note": row.note}),
                    "after": json.dumps({"note": (row.note + " (called back)").strip()}),
                }
            elif rng.random() < 0.01:
                yield {
                    **common,
                    "at": end + dt.timedelta(days=1),
                    "action": "delete",
                    "before": json.dumps(values, sort_keys=True),
                    "after": None,
                    "detail": "logged for the wrong patient",
                }


def _sign_ins(db: Database) -> Iterator[dict[str, Any]]:
    with db.transaction() as session:
        staff = list(session.execute(select(Staff.id, Staff.name)))
        first, last = session.execute(
            select(func.min(TimeEntry.start_at), func.max(TimeEntry.start_at))
        ).one()
    day = first.date()
    while day <= last.date():
        if day.weekday() < 5:
            for member in staff:
                at = dt.datetime.combine(day, dt.time(13, member.id % 60), tzinfo=UTC)
                yield {
                    "at": at,
                    "actor_id": member.id,
                    "actor": member.name,
                    "action": "sign_in",
                    "entity": "user",
                    "entity_id": member.id,
                    "patient_id": None,
                    "before": None,
                    "after": None,
                    "detail": "",
                }
        day += dt.timedelta(days=1)


def fill_trail(db: Database) -> int:
    """Add a year's worth of audit events; returns how many."""
    added, chunk = 0, []
    for source in (_entry_events, _sign_ins):
        for row in source(db):
            chunk.append(row)
            if len(chunk) >= CHUNK:
                with db.transaction() as session:
                    session.execute(insert(AuditEvent.__table__), chunk)
                added, chunk = added + len(chunk), []
    if chunk:
        with db.transaction() as session:
            session.execute(insert(AuditEvent.__table__), chunk)
        added += len(chunk)
    return added


def timed(work: Callable[[], Any], repeat: int = 5) -> tuple[float, float, Any]:
    """(first run, median of the rest, result), in milliseconds."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - started) * 1000)
    return times[0], statistics.median(times[1:] or times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", help="an SQLite demo database (copied, never changed)")
    parser.add_argument("--patients", type=int, default=5000, help="without --db")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder) / "audit-bench.sqlite3"
        if args.db:
            source = sqlite_path(args.db)
            if source is None:
                parser.error("--db must name an SQLite file (it is copied first)")
            backup_sqlite_file(source, work)
            db = open_database(f"sqlite:///{work}", backups=Path(folder) / "bk")
        else:
            db = open_database(f"sqlite:///{work}", backups=Path(folder) / "bk")
            build_demo(db, patients=args.patients, months=12)
        started = time.perf_counter()
        added = fill_trail(db)
        print(f"added {added:,} audit events in {time.perf_counter() - started:.1f} s")
        actor = Actor.command_line()
        with db.transaction() as session:
            total = session.scalar(select(func.count()).select_from(AuditEvent))
            patients = session.scalar(select(func.count()).select_from(Patient))
            patient_id = session.scalar(select(TimeEntry.patient_id).limit(1))
            latest = session.scalar(select(func.max(AuditEvent.at)))
            zone = practice_zone(session)
        month_end = latest.astimezone(zone).date().replace(day=1) - dt.timedelta(days=1)
        print(f"{patients:,} patients, {total:,} audit events")
        cases = [
            ("first page (newest 200)", AuditFilter(), 0),
            ("one patient's events", AuditFilter(patient_id=patient_id), 0),
            ("one month", AuditFilter(first_day=month_end.replace(day=1), last_day=month_end), 0),
            ("edits only (action=update)", AuditFilter(action="update"), 0),
            ("last page", AuditFilter(), total - 1),
        ]
        for title, filters, offset in cases:
            first, median, page = timed(lambda f=filters, o=offset: audit_page(db, actor, f, o))
            print(
                f"{title}: {len(page.rows)} rows of {page.total:,}: first {first:.0f} ms,"
                f" then median {median:.0f} ms"
            )
        first, median, _ = timed(lambda: filter_choices(db, actor))
        print(
            f"filter choices (users, patients, actions): first {first:.0f} ms,"
            f" then median {median:.0f} ms"
        )
        target = Path(folder) / "trail.csv"
        started = time.perf_counter()
        count = export_csv(db, actor, AuditFilter(), target)
        seconds = time.perf_counter() - started
        size = target.stat().st_size / 1e6
        print(f"CSV export of the whole trail: {count:,} events, {size:.0f} MB in {seconds:.1f} s")
        print(f"the browser window, opened to its first page: {window_ms(db, folder):.0f} ms")
        db.close()


def window_ms(db: Database, folder: str) -> float:
    """Open the audit window as an administrator, offscreen, until its first page shows."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    from sqlalchemy import update

    from ccmdesk.services import users
    from ccmdesk.ui.audit_window import AuditWindow
    from ccmdesk.ui.context import AppContext
    from ccmdesk.ui.tasks import TaskRunner

    app = QApplication.instance() or QApplication([])
    with db.transaction() as session:
        admin_id = session.scalar(select(Staff.id).order_by(Staff.id).limit(1))
        session.execute(update(Staff).where(Staff.id == admin_id).values(administrator=True))
        zone = practice_zone(session)
    ctx = AppContext(
        db=db,
        zone=zone,
        settings=QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat),
        tasks=TaskRunner(),
        user=users.current_user(db, admin_id),
    )
    started = time.perf_counter()
    window = AuditWindow(ctx)
    window.show()
    while not (window.loaded and window.model.rowCount()):
        app.processEvents()
        time.sleep(0.001)
    elapsed = (time.perf_counter() - started) * 1000
    ctx.tasks.wait()
    window.close()
    return elapsed


if __name__ == "__main__":
    main()
