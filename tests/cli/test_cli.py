"""The command line end to end, through a real subprocess (SPEC §2)."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services.csvfiles import (
    GOOD_PATIENTS,
    GOOD_STAFF,
    PATIENT_HEADER,
    STAFF_HEADER,
    TIME_HEADER,
    write_csv,
)

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, data: Path, check_ok: bool | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "CCMDESK_DATA_DIR": str(data),
        "TZ": "America/Chicago",
        "PYTHONPATH": str(REPO),
    }
    env.pop("CCMDESK_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-m", "ccmdesk", *args],
        capture_output=True,
        env=env,
        timeout=300,
        cwd=data.parent,
    )
    if check_ok is True:
        assert done.returncode == 0, done.stderr.decode()
    return done


def err(done) -> str:
    return done.stderr.decode()


@pytest.fixture
def data(tmp_path) -> Path:
    return tmp_path / "userdata"


def test_version(data):
    done = run("--version", data=data, check_ok=True)
    assert done.stdout.decode().strip().startswith("ccmdesk ")
    assert not data.exists()  # --version touches nothing


def test_import_then_billing_csv_to_stdout(data, tmp_path):
    db = f"sqlite:///{tmp_path / 'practice.sqlite3'}"
    staff = write_csv(tmp_path, "staff.csv", STAFF_HEADER, GOOD_STAFF)
    patients = write_csv(tmp_path, "patients.csv", PATIENT_HEADER, GOOD_PATIENTS)
    time = write_csv(
        tmp_path,
        "time.csv",
        TIME_HEADER,
        [
            "P-1,Nina Okafor,2026-02-03T09:00,,22,phone_call,Checked sugars",
            "P-1,Nina Okafor,2026-02-10T09:00,,20,care_coordination,",
            "P-2,Nina Okafor,2026-02-03T10:00,,25,,",
        ],
    )
    for kind, path in (("staff", staff), ("patients", patients), ("time", time)):
        done = run("--db", db, "import", kind, str(path), data=data, check_ok=True)
        assert "added" in err(done)
    again = run("--db", db, "import", "time", str(time), data=data, check_ok=True)
    assert "0 added" in err(again) and "3 already present" in err(again)

    done = run("--db", db, "billing", "--month", "2026-02", "--csv", "-", data=data, check_ok=True)
    rows = list(csv.reader(io.StringIO(done.stdout.decode())))
    assert rows[0] == [
        "month",
        "mrn",
        "patient_name",
        "billing_npi",
        "minutes",
        "clinical_minutes",
        "practitioner_minutes",
        "billable",
        "codes",
        "amount",
        "reasons",
    ]
    assert rows[1:] == [
        [
            "2026-02",
            "P-2",
            "Brummell, Bo",
            "1234567893",
            "25",
            "25",
            "0",
            "yes",
            "99490",
            "66.13",
            "",
        ],
        [
            "2026-02",
            "P-1",
            "Lovelace, Ada",
            "1234567893",
            "42",
            "42",
            "0",
            "yes",
            "99490 99439",
            "116.57",
            "",
        ],
    ]
    out = tmp_path / "feb.csv"
    run("--db", db, "billing", "--month", "2026-02", "--csv", str(out), data=data, check_ok=True)
    assert out.read_bytes() == done.stdout


def test_bad_import_reports_every_row_and_writes_nothing(data, tmp_path):
    db_path = tmp_path / "practice.sqlite3"
    db = f"sqlite:///{db_path}"
    bad = write_csv(
        tmp_path,
        "staff.csv",
        STAFF_HEADER,
        ["Good Person,RN,clinical_staff,", "Bad Npi,MD,practitioner,123", "No Role,RN,,"],
    )
    done = run("--db", db, "import", "staff", str(bad), data=data)
    assert done.returncode == 1
    lines = err(done).splitlines()
    assert lines[0].startswith(f"{bad}:3: npi: '123' is not a valid NPI")
    assert lines[1].startswith(f"{bad}:4: role: '' is not one of")
    assert lines[2] == f"ccmdesk: {bad}: nothing was imported (2 problems)"
    assert "Traceback" not in err(done)
    count = sqlite3.connect(db_path).execute("SELECT count(*) FROM staff").fetchone()[0]
    assert count == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("billing", "--month", "2026-13", "--csv", "-"), "--month: '2026-13' is not a month"),
        (("billing", "--month", "March", "--csv", "-"), "--month: 'March' is not a month"),
        (("billing", "--month", "2026-03"), "billing: say where to write it"),
        (("import", "time", "missing.csv"), "missing.csv: no such file"),
    ],
)
def test_usage_errors_are_one_clear_line(data, tmp_path, args, message):
    done = run("--db", f"sqlite:///{tmp_path / 'x.sqlite3'}", *args, data=data)
    assert done.returncode != 0
    (line,) = err(done).strip().splitlines()
    assert line.startswith(f"ccmdesk: {message}")
    assert done.stdout == b""


def test_foreign_file_is_refused_untouched(data, tmp_path):
    path = tmp_path / "taxes.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE receipts (id INTEGER PRIMARY KEY)")
    connection.commit()
    connection.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    done = run(
        "--db", f"sqlite:///{path}", "billing", "--month", "2026-03", "--csv", "-", data=data
    )
    assert done.returncode == 1
    assert len(err(done).strip().splitlines()) == 1
    assert "is not a database this ccmdesk can open" in err(done)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_backup_to_file_default_folder_and_stdout(data, tmp_path):
    staff = write_csv(tmp_path, "staff.csv", STAFF_HEADER, GOOD_STAFF)
    run("import", "staff", str(staff), data=data, check_ok=True)  # the default database
    assert (data / "ccmdesk.sqlite3").exists()

    target = tmp_path / "copy.sqlite3"
    run("backup", str(target), data=data, check_ok=True)
    names = [r[0] for r in sqlite3.connect(target).execute("SELECT name FROM staff ORDER BY name")]
    assert names == ["Dana Whitfield", "Nina Okafor", "Sam Front"]

    done = run("backup", data=data, check_ok=True)
    (copy,) = (data / "backups").iterdir()
    assert copy.name.startswith("ccmdesk-") and str(copy) in err(done)

    streamed = run("backup", "-", data=data, check_ok=True).stdout
    assert streamed.startswith(b"SQLite format 3\x00")
    out = tmp_path / "streamed.sqlite3"
    out.write_bytes(streamed)
    assert sqlite3.connect(out).execute("SELECT count(*) FROM staff").fetchone()[0] == 3


@pytest.mark.parametrize(
    "args", [("frobnicate",), ("billing", "--month"), ("demo", "--patients", "0")]
)
def test_argument_errors_are_one_line(data, args):
    done = run(*args, data=data)
    assert done.returncode == 2
    (line,) = err(done).strip().splitlines()
    assert line.startswith("ccmdesk: ") and "--help" in line


def test_demo_builds_beside_the_real_database_and_not_into_it(data, tmp_path):
    done = run("demo", "--no-gui", "--patients", "25", data=data, check_ok=True)
    assert "25 patients" in err(done)
    assert (data / "ccmdesk-demo.sqlite3").exists()
    assert not (data / "ccmdesk.sqlite3").exists()
    again = run("demo", "--no-gui", "--patients", "25", data=data, check_ok=True)
    assert "25 patients" in err(again)  # rebuilt, not refused
    named = f"sqlite:///{data / 'ccmdesk-demo.sqlite3'}"
    refused = run("--db", named, "demo", "--no-gui", data=data)
    assert refused.returncode == 1 and len(err(refused).strip().splitlines()) == 1
