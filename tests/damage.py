"""Real database files with enough in them to damage: helpers for backup and restore tests."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import sqlite3
from pathlib import Path

from ccmdesk.storage.database import Database
from ccmdesk.storage.models import Patient
from tests.factories import NOW, make_database

PAGE = 4096


def fill(db: Database, count: int, prefix: str = "F") -> None:
    """``count`` invented patients in one transaction (enough pages for damage to land on)."""
    with db.transaction() as session:
        session.add_all(
            Patient(
                mrn=f"{prefix}{index:05d}",
                first_name=f"Given{index}",
                last_name=f"Family{index}",
                dob=dt.date(1940, 1, 1) + dt.timedelta(days=index),
                part_b=True,
                address=f"{index} Long Address Road, Springfield" * 3,
                created_at=NOW,
                updated_at=NOW,
            )
            for index in range(count)
        )


def practice_file(path: Path, patients: int = 400, prefix: str = "F") -> Path:
    """A closed ccmdesk database file (everything checkpointed into the file itself)."""
    db = make_database(path)
    try:
        fill(db, patients, prefix)
    finally:
        db.close()
    return path


def corrupt_middle_page(path: Path, seed: int = 7) -> None:
    """Overwrite one whole page in the middle of the file with garbage, as a bad disk might."""
    size = path.stat().st_size
    assert size >= 8 * PAGE, "the file is too small to damage in the middle"
    offset = (size // 2) // PAGE * PAGE
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write(random.Random(seed).randbytes(PAGE))


def patients_in(path: Path) -> int:
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return connection.execute("SELECT count(*) FROM patient").fetchone()[0]
    finally:
        connection.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
