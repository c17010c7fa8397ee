"""The billing summary PDF read back with pypdf: the CSV's numbers, totals, every page framed."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from ccmdesk.domain.time import Month
from ccmdesk.reports.billing_pdf import render_billing_summary
from ccmdesk.reports.billing_summary import load_billing_summary
from ccmdesk.services.audit import Actor
from ccmdesk.services.billing import compute_month
from ccmdesk.services.demo import build_demo
from ccmdesk.services.month_close import close_month, reopen_month
from ccmdesk.storage.database import open_database
from ccmdesk.storage.models import Staff
from tests.factories import add_entry, add_patient, add_staff, practitioner_npi
from tests.reports.month_data import APRIL_2, MARCH, NEAR_MISSES, build_march
from tests.reports.pdfcheck import (
    assert_agrees_with_csv,
    assert_framed,
    flat,
    page_lines,
    page_texts,
    render,
)


@pytest.fixture
def march(db):
    return build_march(db)


def test_pdf_agrees_with_the_csv_and_frames_every_page(db, march):
    rows, pdf = render(db, MARCH, APRIL_2)
    assert pdf.startswith(b"%PDF-")
    assert_agrees_with_csv(rows, pdf)
    assert_framed(
        pdf,
        "Test Practice",
        "CCM billing summary \u2014 March 2026",
        "Generated 04/02/2026 11:00 AM EDT",
        "Month open \u2014 figures can still change",
    )


def test_first_page_totals_codes_and_practitioners(db, march):
    _, pdf = render(db, MARCH, APRIL_2)
    first = page_lines(pdf)[0]
    codes = first[first.index("Amount") + 1 : first.index("Estimated total")]
    assert codes == [
        *("99490", "CCM, first 20 minutes", "4", "4", "$264.52"),
        *("99439", "CCM, each additional 20 minutes", "2", "3", "$151.32"),
        *("99491", "CCM by the practitioner, first 30 minutes", "2", "2", "$178.36"),
        *("99437", "CCM by the practitioner, each additional 30 minutes", "1", "2", "$126.26"),
        *("99487", "Complex CCM, first 60 minutes", "1", "1", "$144.29"),
        *("99489", "Complex CCM, each additional 30 minutes", "1", "1", "$78.16"),
    ]
    assert sum(Decimal(c[1:]) for c in codes if c.startswith("$")) == Decimal("942.91")
    start = first.index("By billing practitioner")
    table = first[start + 7 : first.index("Minutes per patient")]
    assert table == [
        *("Amy Adams, NP", practitioner_npi(1), "3", "1", "2", "$66.13"),
        *("Zoe Zimmer, MD", practitioner_npi(2), "14", "6", "8", "$876.78"),
        *("No billing practitioner assigned", "\u2014", "1", "0", "1", "$0.00"),
        *("All practitioners", "18", "7", "11", "$942.91"),
    ]
    text = "\n".join(first)
    assert "2026 national non-facility fee schedule" in text
    assert "Not enough minutes\n4" in text and "No consent on file\n2" in text


def test_practitioner_pages_subtotals_and_near_misses(db, march):
    _, pdf = render(db, MARCH, APRIL_2)
    pages = page_lines(pdf)
    zoe = next(page for page in pages if page[0] == "Zoe Zimmer, MD")
    assert f"NPI {practitioner_npi(2)} \u00b7 6 billable patients \u00b7 $876.78" in zoe
    subtotal = zoe.index("Subtotal: 6 patients")
    # minutes of Baker 25 + 45, Clark 65, Doe 35, Evans 90, Fox 95
    assert zoe[subtotal + 1 : subtotal + 5] == ["355", "230", "125", "$876.78"]
    near = next(page for page in pages if page[0] == "Close to the next code")
    found = [
        (line, near[i + 4], near[i + 5]) for i, line in enumerate(near) if line.startswith("A-")
    ]
    assert [(m, f"{short} min", codes) for m, short, codes in NEAR_MISSES] == [
        (mrn, short, codes) for mrn, short, codes in found
    ]
    unbilled = next(page for page in pages if page[0] == "Not billable")
    hale = unbilled.index("A-08")
    assert unbilled[hale + 1] == "(none assigned)"


def test_closed_month_says_so_on_every_page(db, march):
    manager = add_staff(db, "Lisa Manager", "non_clinical", office_manager=True)
    close_month(db, MARCH, Actor(manager, "Lisa Manager"), now=APRIL_2)
    _, pdf = render(db, MARCH, APRIL_2 + dt.timedelta(hours=1))
    closed = "Month closed 04/02/2026 11:00 AM EDT by Lisa Manager"
    assert_framed(pdf, "Test Practice", "March 2026", "Generated 04/02/2026 12:00 PM EDT", closed)
    first = flat(page_texts(pdf)[0])
    assert "March 2026 is closed: closed on 04/02/2026 11:00 AM EDT by Lisa Manager" in first
    reopen_month(db, MARCH, "late fax from cardiology", Actor(manager, "Lisa Manager"))
    _, pdf = render(db, MARCH, APRIL_2 + dt.timedelta(days=1))
    text = flat(page_texts(pdf)[0])
    assert "Month closed" not in text and "Month open" in text
    assert "reopened on" in text and "by Lisa Manager (reason: late fax from cardiology)" in text


def test_unfinished_month_says_figures_will_change(db, march):
    _, pdf = render(db, MARCH, dt.datetime(2026, 3, 20, 16, tzinfo=dt.timezone.utc))
    texts = page_texts(pdf)
    assert all("Month in progress \u2014 figures will change" in text for text in texts)
    assert "March 2026 is not over yet" in texts[0]


def test_invariant_pdf_is_byte_stable(db, march):
    report = compute_month(db, MARCH)
    summary = load_billing_summary(db, report, now=APRIL_2)
    first = render_billing_summary(summary, invariant=True)
    assert render_billing_summary(summary, invariant=True) == first
    assert render_billing_summary(summary) != first  # a real creation date otherwise


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    db = open_database(f"sqlite:///{folder / 'demo.sqlite3'}", backups=folder / "bk")
    build_demo(db, patients=120, months=3, today=dt.date(2026, 11, 15))
    # The demo always assigns a practitioner; add the one reason it never shows.
    with db.transaction() as session:
        nurse = session.query(Staff).filter_by(role="clinical_staff").first().id
    orphan = add_patient(db, "DEMO-ORPHAN", last="Nobody", first="Noah", practitioner_id=None)
    add_entry(db, orphan, nurse, dt.datetime(2026, 10, 14, 15, tzinfo=dt.timezone.utc), 31)
    yield db
    db.close()


def test_demo_month_agrees_with_the_csv_on_every_page(demo_db):
    now = dt.datetime(2026, 11, 15, 18, tzinfo=dt.timezone.utc)
    rows, pdf = render(demo_db, Month(2026, 10), now)
    assert len(rows) > 80
    assert {r for row in rows for r in row["reasons"].split(";") if r} >= {
        "no_billing_practitioner",
        "under_threshold",
    }
    assert_agrees_with_csv(rows, pdf)
    assert_framed(
        pdf,
        "Prairie View Family Medicine",
        "CCM billing summary \u2014 October 2026",
        "Generated 11/15/2026 12:00 PM CST",
        "Month open",
    )
    # A practitioner's pages all name the practitioner, continuation pages included.
    pages = page_lines(pdf)
    sections = [page[-5] for page in pages[1:]]
    assert all(
        re.fullmatch(r"Billable patients of .+ \u00b7 NPI \d{10}", s)
        or s in ("Not billable", "Close to the next code")
        for s in sections
    ), sections
    assert len(sections) > len(set(sections))  # at least one section runs over pages
