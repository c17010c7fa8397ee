"""``ccmdesk careplan MRN --pdf FILE`` end to end, through a real subprocess (SPEC §2)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from ccmdesk.services import care_plans as cp
from tests.careplans.helpers import NOW, complete, setup_practice
from tests.factories import add_patient, make_database

REPO = Path(__file__).resolve().parents[2]


def run(*args: str, data: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CCMDESK_DATA_DIR": str(data), "PYTHONPATH": str(REPO)}
    env.pop("CCMDESK_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "ccmdesk", *args],
        capture_output=True,
        env=env,
        timeout=120,
        cwd=data.parent,
    )


def text_of(data: bytes) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def practice_db(tmp_path) -> str:
    """MRN-1 has a signed plan, MRN-2 only a draft, MRN-3 no plan."""
    path = tmp_path / "practice.sqlite3"
    db = make_database(path)
    try:
        practice = setup_practice(db)
        version = cp.start_plan(db, practice.patient_id, practice.nurse, now=NOW).created_id
        content = complete(cp.load_version(db, version).content)
        cp.save_draft(db, version, content, practice.nurse, now=NOW)
        cp.sign(db, version, practice.doctor, now=NOW)
        second = add_patient(db, "MRN-2", first="Bea", practitioner_id=practice.doctor.id)
        cp.start_plan(db, second, practice.nurse, now=NOW)
        add_patient(db, "MRN-3", first="Cy", practitioner_id=practice.doctor.id)
    finally:
        db.close()
    return f"sqlite:///{path}"


def test_prints_the_signed_plan(practice_db, tmp_path):
    out = tmp_path / "plan.pdf"
    done = run("--db", practice_db, "careplan", "MRN-1", "--pdf", str(out), data=tmp_path / "u")
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr.decode().strip() == (
        "MRN-1: care plan version 1, signed 2026-11-16 by Grace Hopper, MD"
    )
    assert done.stdout == b""
    text = text_of(out.read_bytes())
    assert "Edith Clarke" in text and "Signed by: Grace Hopper, MD" in text
    assert "DRAFT" not in text


def test_a_plan_never_signed_prints_marked_draft_to_standard_output(practice_db, tmp_path):
    done = run("--db", practice_db, "careplan", "MRN-2", "--pdf", "-", data=tmp_path / "u")
    assert done.returncode == 0, done.stderr.decode()
    assert "not signed yet; printed marked DRAFT" in done.stderr.decode()
    assert done.stdout.startswith(b"%PDF") and done.stdout.rstrip().endswith(b"%%EOF")
    assert "DRAFT - not yet signed by your doctor" in text_of(done.stdout)


@pytest.mark.parametrize(
    ("mrn", "message"),
    [
        ("MRN-3", "ccmdesk: careplan: MRN-3 has no care plan yet"),
        ("MRN-404", "ccmdesk: careplan: no patient has MRN MRN-404"),
    ],
)
def test_no_plan_or_no_patient_is_one_line_and_writes_nothing(practice_db, tmp_path, mrn, message):
    out = tmp_path / "plan.pdf"
    done = run("--db", practice_db, "careplan", mrn, "--pdf", str(out), data=tmp_path / "u")
    assert done.returncode == 1
    assert done.stderr.decode().splitlines() == [message]
    assert not out.exists() and not list(tmp_path.glob("*.partial"))
