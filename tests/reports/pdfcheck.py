"""Reading the PDFs back as text (pypdf) and judging them against the billing CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from pypdf import PdfReader

from ccmdesk.domain.time import Month
from ccmdesk.domain.vocabulary import REASON_LABELS
from ccmdesk.reports.billing_pdf import render_billing_summary
from ccmdesk.reports.billing_summary import load_billing_summary
from ccmdesk.services.billing import compute_month
from ccmdesk.services.billing_csv import write_billing_csv


def page_texts(pdf: bytes) -> list[str]:
    """The text of every page, in page order."""
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def page_lines(pdf: bytes) -> list[list[str]]:
    """Every page's text as stripped, non-empty lines (one table cell per line)."""
    return [
        [line.strip() for line in text.splitlines() if line.strip()] for text in page_texts(pdf)
    ]


PHI = "Confidential \u2014 contains protected health information"


def flat(text: str) -> str:
    """Text with line breaks and runs of spaces as single spaces (paragraphs wrap)."""
    return " ".join(text.split())


def csv_rows(report) -> list[dict[str, str]]:
    """The billing CSV of ``report``, as dicts."""
    buffer = io.StringIO()
    write_billing_csv(report, buffer)
    return list(csv.DictReader(io.StringIO(buffer.getvalue())))


def render(db, month: Month, now: dt.datetime) -> tuple[list[dict[str, str]], bytes]:
    """The month's CSV rows and its billing summary PDF, from one computation."""
    report = compute_month(db, month)
    return csv_rows(report), render_billing_summary(load_billing_summary(db, report, now=now))


def row_cells(lines: list[str], name: str, mrn: str, count: int) -> list[str]:
    """The ``count`` cells after the patient's name and MRN (one cell per extracted line)."""
    for index in range(1, len(lines)):
        if lines[index] == mrn and lines[index - 1] == name:
            return lines[index + 1 : index + 1 + count]
    raise AssertionError(f"{name} / {mrn} not found")


def assert_agrees_with_csv(rows: list[dict[str, str]], pdf: bytes) -> None:
    """Each CSV row appears once, in its section, with exactly the CSV's figures."""
    pages = page_lines(pdf)
    billed = [line for page in pages if "Billable patients of" in page[-5] for line in page]
    unbilled = [line for page in pages if page[-5] == "Not billable" for line in page]
    practitioner = {}
    for row in rows:
        minutes = [row["minutes"], row["clinical_minutes"], row["practitioner_minutes"]]
        if row["billable"] == "yes":
            cells = row_cells(billed, row["patient_name"], row["mrn"], 7)
            assert cells[2:] == [*minutes, row["codes"], row["amount"]], row["mrn"]
            assert row["mrn"] not in unbilled
        else:
            reasons = [REASON_LABELS[r] for r in row["reasons"].split(";")]
            cells = row_cells(unbilled, row["patient_name"], row["mrn"], 4 + len(reasons))
            practitioner[row["mrn"]] = cells[0]
            assert cells[1:4] == minutes, row["mrn"]
            assert cells[4:] == reasons, row["mrn"]
            assert row["mrn"] not in billed
    total = sum((Decimal(row["amount"]) for row in rows), Decimal("0.00"))
    first = pages[0]
    assert f"${total:,.2f}" in first
    assert first[first.index("Estimated total") + 1] == f"${total:,.2f}"
    billable = sum(row["billable"] == "yes" for row in rows)
    assert first[first.index("$" + f"{total:,.2f}") - 3 : first.index(f"${total:,.2f}")] == [
        f"{len(rows):,}",
        f"{billable:,}",
        f"{len(rows) - billable:,}",
    ]


def assert_framed(pdf: bytes, practice: str, title: str, generated: str, status: str) -> None:
    """Every page carries the header and footer, and "Page X of Y" counts right."""
    texts = page_texts(pdf)
    assert len(texts) > 1
    for number, text in enumerate(texts, start=1):
        for expected in (practice, title, generated, PHI, status, f"Page {number} of {len(texts)}"):
            assert expected in text, (number, expected)
