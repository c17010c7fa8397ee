"""The log file: where it is, that it rotates, and that no patient data ever reaches it."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

import pytest

from ccmdesk import logs, paths
from ccmdesk.services.audit import Actor
from ccmdesk.services.backup import backup, backup_if_due
from ccmdesk.services.imports import ImportRejected
from ccmdesk.services.imports.patients import import_patients
from ccmdesk.services.imports.staff import import_staff
from ccmdesk.services.imports.time_entries import import_time
from ccmdesk.services.restore import find_damage, restore
from tests.factories import make_database
from tests.services.csvfiles import (
    GOOD_STAFF,
    PATIENT_HEADER,
    STAFF_HEADER,
    TIME_HEADER,
    write_csv,
)

#: Invented, but unlike anything a log line could hold by chance.
NAMES = ("Quintessa", "Zebulon-Ashcroft", "Ottoline", "Vandersteen")
MRNS = ("MRQ7731", "MRQ7732")
MBI = "1EG4-TE5-MK73"
PATIENTS = [
    f"{MRNS[0]},Quintessa,Zebulon-Ashcroft,1944-02-10,F,{MBI},555-0100,1234567893,y,"
    "E11.9;I10,2026-01-05,verbal,2025-12-10,2026-01-06,,2026-02",
    f"{MRNS[1]},Ottoline,Vandersteen,1950-07-30,M,,,1234567893,,J44.9;F32.A,2026-01-20,"
    "written,2026-01-02,2026-01-20,,",
]


@pytest.fixture
def log_file(tmp_path):
    path = logs.setup_logging(tmp_path / "logs")
    yield path
    logs.stop_logging()


def logged(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_the_log_folder_follows_the_data_folder_override(tmp_path, monkeypatch):
    monkeypatch.setenv("CCMDESK_DATA_DIR", str(tmp_path / "portable"))
    assert paths.log_dir() == tmp_path / "portable" / "logs"
    monkeypatch.delenv("CCMDESK_DATA_DIR")
    import appdirs

    assert paths.log_dir() == Path(appdirs.user_log_dir("ccmdesk", "ccmdesk"))


def test_the_log_rotates_at_a_megabyte_keeping_five(log_file):
    assert log_file is not None and log_file.parent.name == "logs"
    handler = next(
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.handlers.RotatingFileHandler)
        and Path(h.baseFilename) == log_file.resolve()
    )
    assert (handler.maxBytes, handler.backupCount) == (1_000_000, 5)
    for _ in range(1_300):
        logging.getLogger("ccmdesk.test").info("x" * 1000)
    assert Path(f"{log_file}.1").exists() and log_file.stat().st_size < 1_000_000


def test_setting_up_twice_keeps_one_handler(log_file, tmp_path):
    assert logs.setup_logging(tmp_path / "logs") == log_file
    ours = [h for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler)]
    assert len([h for h in ours if Path(h.baseFilename) == log_file.resolve()]) == 1


def test_a_folder_that_cannot_be_written_gives_no_log_rather_than_an_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert logs.setup_logging(blocker / "logs") is None


def test_a_traceback_keeps_where_but_not_what(log_file):
    def check(name: str) -> None:
        try:
            {}[name]
        except KeyError as missing:
            raise ValueError(f"{name} has no consent") from missing

    try:
        check(NAMES[0])
    except ValueError:
        logging.getLogger("ccmdesk.test").exception("saving failed")
    text = logged(log_file)
    assert "saving failed" in text and "in check" in text
    assert "builtins.KeyError" in text and "builtins.ValueError" in text
    assert NAMES[0] not in text


def test_services_at_work_write_no_patient_data_into_the_log(log_file, tmp_path):
    """Imports (good and refused), billing, backup, restore and the damage check, logged."""
    from ccmdesk.domain.time import Month
    from ccmdesk.services.billing import compute_month

    db = make_database(tmp_path / "ccmdesk.sqlite3")
    actor = Actor.command_line()
    import_staff(db, write_csv(tmp_path, "staff.csv", STAFF_HEADER, GOOD_STAFF), actor)
    import_patients(db, write_csv(tmp_path, "patients.csv", PATIENT_HEADER, PATIENTS), actor)
    times = [f"{MRNS[0]},Nina Okafor,2026-02-03T09:00,,25,phone_call,{NAMES[1]} called back"]
    import_time(db, write_csv(tmp_path, "time.csv", TIME_HEADER, times), actor)
    bad = [PATIENTS[0].replace("1944-02-10", "1944-13-10")]
    with pytest.raises(ImportRejected):
        import_patients(db, write_csv(tmp_path, "bad.csv", PATIENT_HEADER, bad), actor)
    compute_month(db, Month(2026, 2))
    copy = backup(db, "", tmp_path / "bk", actor)
    import datetime as dt

    backup_if_due(db, dt.datetime(2026, 2, 4, 9), tmp_path / "bk")
    db.close()
    assert copy is not None
    restore(f"sqlite:///{db.path}", copy, tmp_path / "bk", actor)
    find_damage(f"sqlite:///{db.path}", tmp_path / "bk")

    text = logged(log_file)
    assert "backup written" in text and "restored" in text  # the log did get written
    for secret in (*NAMES, *MRNS, MBI, "555-0100"):
        assert secret not in text, f"patient data in the log: {secret[:2]}…"
