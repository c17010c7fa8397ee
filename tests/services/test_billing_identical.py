"""One practice, two backends, the same bill to the byte.

The demo builder (fixed seed and dates) writes the same 200 patients into an
SQLite file and into a PostgreSQL database; every month's billing CSV, the
billing summary PDF, the patient list, time logs and care plans must then
come out identical, in process and through the ``ccmdesk`` command.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ccmdesk.domain.time import Month
from ccmdesk.reports.billing_pdf import render_billing_summary
from ccmdesk.reports.billing_summary import load_billing_summary
from ccmdesk.reports.care_plan_pdf import render_care_plan
from ccmdesk.reports.timelog_load import load_time_log
from ccmdesk.reports.timelog_pdf import render_time_log
from ccmdesk.services.billing import compute_month
from ccmdesk.services.billing_csv import write_billing_csv
from ccmdesk.services.care_plans import printable_plans
from ccmdesk.services.demo import build_demo
from ccmdesk.services.patient_list import patient_list
from ccmdesk.storage.database import Database, open_database

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]
UTC = dt.timezone.utc
TODAY = dt.date(2026, 11, 15)
NOW = dt.datetime(2026, 11, 16, 18, 0, tzinfo=UTC)
MONTHS = ("2026-08", "2026-09", "2026-10", "2026-11")
BILLING_OCTOBER = ("billing", "--month", "2026-10", "--csv", "-")


@pytest.fixture(scope="module")
def twins(postgres, tmp_path_factory):
    """(SQLite, PostgreSQL) holding the same demo practice."""
    folder = tmp_path_factory.mktemp("twins")
    sqlite = open_database(f"sqlite:///{folder / 'demo.sqlite3'}", backups=folder / "bk")
    server = open_database(postgres.create_database("twins"))
    for db in (sqlite, server):
        build_demo(db, patients=200, months=4, today=TODAY, seed=4242, now=NOW)
    yield sqlite, server
    sqlite.close()
    server.close()
    postgres.drop_database("twins")


def billing_csv(db: Database, month: str) -> bytes:
    handle = io.StringIO(newline="")
    write_billing_csv(compute_month(db, Month.parse(month)), handle)
    return handle.getvalue().encode()


@pytest.mark.parametrize("month", MONTHS)
def test_the_billing_csv_is_byte_identical(twins, month):
    sqlite, server = twins
    expected = billing_csv(sqlite, month)
    assert billing_csv(server, month) == expected
    assert expected.count(b",yes,") > 20  # a real month, with codes to agree on


def test_the_billing_summary_pdf_is_byte_identical(twins):
    pdfs = []
    for db in twins:
        report = compute_month(db, Month.parse("2026-10"))
        pdfs.append(render_billing_summary(load_billing_summary(db, report, NOW), invariant=True))
    assert pdfs[0] == pdfs[1]


def test_the_patient_list_is_identical(twins):
    sqlite, server = twins
    month = Month.parse("2026-11")
    expected = patient_list(sqlite, month, NOW)
    assert patient_list(server, month, NOW) == expected
    assert any(row.last_contact for row in expected)  # an aggregate instant, like the rest


def test_care_plans_and_time_logs_are_identical(twins):
    sqlite, server = twins
    plans = printable_plans(sqlite, now=NOW)
    assert len(plans) > 100
    assert printable_plans(server, now=NOW) == plans  # every field of every printed plan
    october = Month.parse("2026-10")
    report = compute_month(sqlite, october)
    timed = [row.patient.mrn for row in report.rows if row.result.minutes][:10]
    logs = [[load_time_log(db, mrn, october, NOW) for mrn in timed] for db in twins]
    assert logs[1] == logs[0]
    # The PDFs are made from that data alone; one of each shows the bytes agree as well.
    first = [render_time_log(log[0], invariant=True) for log in logs]
    assert first[1] == first[0]
    assert render_care_plan(printable_plans(server, now=NOW)[0]) == render_care_plan(plans[0])


def test_the_command_line_bills_a_server_like_a_file(twins, tmp_path):
    sqlite, server = twins
    outputs = []
    for db in twins:
        done = subprocess.run(
            [sys.executable, "-m", "ccmdesk", "--db", db.url, *BILLING_OCTOBER],
            capture_output=True,
            env={**os.environ, "CCMDESK_DATA_DIR": str(tmp_path), "PYTHONPATH": str(REPO)},
            timeout=300,
        )
        assert done.returncode == 0, done.stderr.decode()[-500:]
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] == billing_csv(sqlite, "2026-10")
