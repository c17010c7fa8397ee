"""Every command of SPEC §2 with ``--db postgresql+psycopg://…``.

One ``demo`` runs as a real ``python -m ccmdesk`` process; the rest run
``cli.main`` in this process (the same code, without a start-up each).
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from ccmdesk import cli
from tests.services.csvfiles import (
    GOOD_PATIENTS,
    GOOD_STAFF,
    PATIENT_HEADER,
    STAFF_HEADER,
    TIME_HEADER,
    write_csv,
)

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def server_url(postgres, request):
    name = request.node.name.removeprefix("test_")[:30]
    url = postgres.create_database(name)
    yield url
    postgres.drop_database(name)


def ccmdesk(capsysbinary, *args: str) -> tuple[int, bytes, str]:
    """Exit code, standard output and standard error of one command."""
    code = cli.main(list(args))
    out, err = capsysbinary.readouterr()
    return code, out, err.decode()


def test_import_billing_timelog_and_backup_on_a_server(
    server_url, tmp_path, capsysbinary, monkeypatch
):
    monkeypatch.setenv("TZ", "America/Chicago")  # no practice row yet: the zone comes from TZ
    files = {
        "staff": write_csv(tmp_path, "staff.csv", STAFF_HEADER, GOOD_STAFF),
        "patients": write_csv(tmp_path, "patients.csv", PATIENT_HEADER, GOOD_PATIENTS),
        "time": write_csv(
            tmp_path,
            "time.csv",
            TIME_HEADER,
            [
                "P-1,Nina Okafor,2026-02-03T09:00,,22,phone_call,Checked sugars",
                "P-1,Nina Okafor,2026-02-10T09:00,,20,care_coordination,",
                "P-2,Nina Okafor,2026-02-03T10:00,,25,,",
            ],
        ),
    }
    for kind, path in files.items():
        code, _, err = ccmdesk(capsysbinary, "--db", server_url, "import", kind, str(path))
        assert code == 0 and "added" in err, err
    code, _, err = ccmdesk(capsysbinary, "--db", server_url, "import", "time", str(files["time"]))
    assert code == 0 and "3 already present" in err

    pdf = tmp_path / "feb.pdf"
    billing = ("billing", "--month", "2026-02", "--csv", "-", "--pdf", str(pdf))
    code, out, err = ccmdesk(capsysbinary, "--db", server_url, *billing)
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out.decode())))
    assert [(r[1], r[4], r[8], r[9]) for r in rows[1:]] == [
        ("P-2", "25", "99490", "66.13"),
        ("P-1", "42", "99490 99439", "116.57"),
    ]
    assert "CCM billing summary" in PdfReader(pdf).pages[0].extract_text()

    code, out, err = ccmdesk(
        capsysbinary, "--db", server_url, "timelog", "P-1", "--month", "2026-02", "--pdf", "-"
    )
    assert code == 0 and out.startswith(b"%PDF") and "42 countable minutes" in err, err

    code, out, err = ccmdesk(capsysbinary, "--db", server_url, "backup")
    assert code == 1 and out == b""
    assert len(err.strip().splitlines()) == 1 and "pg_dump" in err


def test_demo_builds_and_rebuilds_on_a_server_then_prints_a_care_plan(
    server_url, tmp_path, capsysbinary
):
    code, _, err = ccmdesk(capsysbinary, "--db", server_url, "demo", "--no-gui", "--patients", "9")
    assert code == 0 and "9 patients" in err, err
    # Again, as a real process: the earlier demo is replaced instead of refused.
    env = {**os.environ, "CCMDESK_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(REPO)}
    env.pop("CCMDESK_DEBUG", None)
    command = [sys.executable, "-m", "ccmdesk", "--db", server_url, "demo", "--no-gui"]
    done = subprocess.run([*command, "--patients", "20"], capture_output=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-500:]
    assert "20 patients" in done.stderr.decode()
    assert not (tmp_path / "data" / "ccmdesk-demo.sqlite3").exists()

    from ccmdesk.services.care_plans import printable_plans
    from ccmdesk.storage.database import open_database

    db = open_database(server_url)
    try:
        mrn = printable_plans(db)[0].mrn
    finally:
        db.close()
    code, out, err = ccmdesk(capsysbinary, "--db", server_url, "careplan", mrn, "--pdf", "-")
    assert code == 0 and out.startswith(b"%PDF"), err
