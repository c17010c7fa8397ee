"""The report commands end to end, through a real subprocess (SPEC §2).

``billing --pdf`` and ``timelog`` on the exact March of ``tests/reports/month_data``:
files written whole, ``-`` for standard output with nothing else on it, one
line on standard error for every failure.
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

from tests.factories import make_database
from tests.reports.month_data import build_march
from tests.reports.pdfcheck import assert_agrees_with_csv, flat, page_texts

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def practice(tmp_path_factory) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp("cli_reports")
    db = make_database(folder / "practice.sqlite3", zone="America/New_York")
    build_march(db)
    db.close()
    return f"sqlite:///{folder / 'practice.sqlite3'}", folder


def run(url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CCMDESK_DATA_DIR": str(cwd / "userdata"), "PYTHONPATH": str(REPO)}
    env.pop("CCMDESK_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "ccmdesk", "--db", url, *args],
        capture_output=True,
        env=env,
        timeout=300,
        cwd=cwd,
    )


def one_line(done: subprocess.CompletedProcess) -> str:
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_billing_csv_and_pdf_agree(practice, tmp_path):
    url, _ = practice
    done = run(
        url, "billing", "--month", "2026-03", "--csv", "m.csv", "--pdf", "m.pdf", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr.decode()
    assert one_line(done) == "2026-03: 18 patients, 7 billable"
    assert done.stdout == b""
    rows = list(csv.DictReader(io.StringIO((tmp_path / "m.csv").read_text(encoding="utf-8"))))
    assert len(rows) == 18
    assert_agrees_with_csv(rows, (tmp_path / "m.pdf").read_bytes())
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["m.csv", "m.pdf"]


def test_billing_pdf_to_standard_output(practice, tmp_path):
    url, _ = practice
    done = run(url, "billing", "--month", "2026-03", "--pdf", "-", cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.startswith(b"%PDF-") and done.stdout.rstrip().endswith(b"%%EOF")
    first = page_texts(done.stdout)[0]
    assert "CCM billing summary \u2014 March 2026" in first and "$942.91" in first
    assert len(PdfReader(io.BytesIO(done.stdout)).pages) >= 4


def test_billing_refuses_two_outputs_on_stdout_and_unwritable_files(practice, tmp_path):
    url, _ = practice
    done = run(url, "billing", "--month", "2026-03", "--csv", "-", "--pdf", "-", cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == b""
    assert "only one of --csv and --pdf can be -" in one_line(done)
    missing = tmp_path / "no such folder" / "m.pdf"
    done = run(url, "billing", "--month", "2026-03", "--pdf", str(missing), cwd=tmp_path)
    assert done.returncode == 1
    assert one_line(done).startswith(f"ccmdesk: {missing}: cannot be written")
    assert not missing.parent.exists()


def test_timelog_to_file_and_to_standard_output(practice, tmp_path):
    url, _ = practice
    done = run(url, "timelog", "A-03", "--month", "2026-03", "--pdf", "clark.pdf", cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    assert one_line(done) == "2026-03: time log of 2 entries, 65 countable minutes"
    text = flat(" ".join(page_texts((tmp_path / "clark.pdf").read_bytes())))
    assert "Clark, Dee" in text and "MRN A-03" in text
    assert "Codes for the month 99490 99439x2" in text
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["clark.pdf"]
    done = run(url, "timelog", "A-03", "--month", "2026-03", "--pdf", "-", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith(b"%PDF-")


def test_timelog_failures_are_one_line(practice, tmp_path):
    url, _ = practice
    cases = [
        (("NOPE", "--month", "2026-03"), 1, "ccmdesk: timelog: no patient with MRN 'NOPE'"),
        (
            ("A-03", "--month", "2026-02"),
            1,
            "ccmdesk: timelog: no time is logged for MRN 'A-03' in 2026-02",
        ),
        (("A-03", "--month", "2026-13"), 1, "ccmdesk: --month: '2026-13' is not a month"),
    ]
    for args, code, message in cases:
        done = run(url, "timelog", *args, "--pdf", "x.pdf", cwd=tmp_path)
        assert done.returncode == code, args
        assert one_line(done).startswith(message), one_line(done)
        assert not (tmp_path / "x.pdf").exists()
