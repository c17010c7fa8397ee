"""A process killed mid-transaction leaves nothing of it; one killed after a commit loses nothing.

Each test runs a real import in a child process and kills it with SIGKILL
(TerminateProcess on Windows) at a moment the child announces with a marker
file, so the timing is exact rather than a guess: inside the import's writing
transaction, or just after its commit returned.  SQLite's WAL with
``synchronous=FULL`` (storage/database.py) must then give a sound file with
all of the import or none of it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ccmdesk.storage.database import integrity_problems, open_database
from ccmdesk.storage.models import AuditEvent, Patient
from tests.factories import DOCTOR_NPI, add_staff, make_database
from tests.services.csvfiles import PATIENT_HEADER, write_csv

REPO = Path(__file__).resolve().parents[2]
ROWS = 400

# The child: an import of ROWS patients, held at the chosen moment until it is killed.
# A tiny page cache makes SQLite spill the open transaction's pages into the WAL
# before the commit, so the kill leaves uncommitted pages on disk, not just in memory.
DRIVER = """
import sys, time
from pathlib import Path
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from ccmdesk.services.audit import Actor
from ccmdesk.services.imports.patients import import_patients
from ccmdesk.storage.database import open_database
from ccmdesk.storage.models import Patient

database, csv_file, marker, moment = sys.argv[1:5]

@event.listens_for(Engine, "connect")
def small_cache(dbapi_connection, record):
    dbapi_connection.execute("PRAGMA cache_size = 8")

def hold(text):
    Path(marker).write_text(text)
    time.sleep(120)

if moment == "before_commit":
    @event.listens_for(Session, "before_commit")
    def before_commit(session):
        session.flush()
        written = session.scalar(select(func.count()).select_from(Patient))
        if written:  # the import's writing transaction, not its first read
            hold(str(written))

db = open_database(f"sqlite:///{database}", backups=Path(database).parent / "bk")
summary = import_patients(db, Path(csv_file), Actor.command_line())
hold(str(summary.created))
"""


def patient_rows(count: int) -> list[str]:
    return [
        f"C{i:04d},Given{i},Family{i},1950-01-01,F,,,{DOCTOR_NPI},y,E11.9;I10,2026-01-05,"
        "verbal,2025-12-10,2026-01-06,,"
        for i in range(count)
    ]


def run_until(moment: str, tmp_path: Path) -> tuple[Path, str, int]:
    """Start the import, wait for the marker, kill -9; return the database, marker, WAL size."""
    path = tmp_path / "ccmdesk.sqlite3"
    db = make_database(path)
    add_staff(db, "Dana Whitfield", "practitioner", "MD", npi=DOCTOR_NPI)
    db.close()
    csv_file = write_csv(tmp_path, "patients.csv", PATIENT_HEADER, patient_rows(ROWS))
    marker = tmp_path / "marker"
    env = {**os.environ, "PYTHONPATH": str(REPO), "CCMDESK_DATA_DIR": str(tmp_path / "data")}
    child = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(path), str(csv_file), str(marker), moment],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            if child.poll() is not None:
                pytest.fail(f"the child ended early: {child.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("the child never reached the moment to kill it")
            time.sleep(0.05)
        time.sleep(0.05)  # the marker's text is written
        wal = Path(f"{path}-wal")
        wal_size = wal.stat().st_size if wal.exists() else 0
        child.kill()
    finally:
        child.kill()
        child.wait(timeout=30)
        child.stderr.close()
    return path, marker.read_text(), wal_size


def counts(path: Path) -> tuple[int, int]:
    db = open_database(f"sqlite:///{path}", backups=path.parent / "bk")
    try:
        with db.transaction() as session:
            patients = session.scalar(select(func.count()).select_from(Patient))
            imports = session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "import")
            )
    finally:
        db.close()
    return patients, imports


def test_killed_inside_the_transaction_leaves_none_of_it(tmp_path):
    path, written, wal_size = run_until("before_commit", tmp_path)
    assert int(written) == ROWS  # every row was written inside the transaction ...
    assert wal_size > 0  # ... and pages of it had reached the WAL file
    assert integrity_problems(path, thorough=True) == []
    assert counts(path) == (0, 0)  # ... yet none of it is there: all or nothing


def test_killed_just_after_the_commit_keeps_all_of_it(tmp_path):
    path, created, wal_size = run_until("after_commit", tmp_path)
    assert int(created) == ROWS
    assert wal_size > 0  # committed into the WAL, not yet into the file itself
    assert integrity_problems(path, thorough=True) == []
    assert counts(path) == (ROWS, 1)
