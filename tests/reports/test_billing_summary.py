"""The billing summary's data: the CSV's figures, totals that add up, the right lists."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from ccmdesk.domain.vocabulary import REASON_CODES, REASON_LABELS
from ccmdesk.reports.billing_summary import CODE_LABELS, NO_PRACTITIONER, load_billing_summary
from ccmdesk.services.billing import compute_month
from ccmdesk.services.billing_csv import write_billing_csv
from ccmdesk.services.month_close import month_status
from tests.reports.month_data import APRIL_2, EXPECTED, MARCH, NEAR_MISSES, build_march


@pytest.fixture
def march(db):
    practice = build_march(db)
    report = compute_month(db, MARCH)
    return practice, report, load_billing_summary(db, report, now=APRIL_2)


def csv_rows(report) -> list[dict[str, str]]:
    buffer = io.StringIO()
    write_billing_csv(report, buffer)
    return list(csv.DictReader(io.StringIO(buffer.getvalue())))


def test_the_month_has_every_code_family_and_every_reason(march):
    _, report, _ = march
    rows = {row["mrn"]: row for row in csv_rows(report)}
    assert set(rows) == set(EXPECTED)
    for mrn, expect in EXPECTED.items():
        assert rows[mrn]["codes"] == expect.codes, mrn
        assert tuple(filter(None, rows[mrn]["reasons"].split(";"))) == expect.reasons, mrn
    codes = {code.split("x")[0] for row in rows.values() for code in row["codes"].split()}
    assert codes == set(CODE_LABELS)
    reasons = {r for row in rows.values() for r in row["reasons"].split(";") if r}
    assert reasons == set(REASON_CODES)


def test_every_patient_line_is_its_csv_row(march):
    _, report, summary = march
    lines = [line for section in summary.sections for line in section.lines]
    lines += summary.not_billable_lines
    assert len(lines) == summary.listed == len(report.rows)
    by_mrn = {line.mrn: line for line in lines}
    for row in csv_rows(report):
        line = by_mrn[row["mrn"]]
        assert line.name == row["patient_name"]
        assert line.npi == row["billing_npi"]
        assert (line.minutes, line.clinical_minutes, line.practitioner_minutes) == (
            row["minutes"],
            row["clinical_minutes"],
            row["practitioner_minutes"],
        )
        assert line.billable == (row["billable"] == "yes")
        assert line.codes == row["codes"]
        assert line.amount == row["amount"]
        assert ";".join(line.reasons) == row["reasons"]
        assert line.reason_labels == tuple(REASON_LABELS[r] for r in line.reasons)


def test_totals_add_up(march):
    _, report, summary = march
    rows = csv_rows(report)
    csv_total = sum((Decimal(row["amount"]) for row in rows), Decimal("0.00"))
    assert (
        summary.total == csv_total == Decimal("942.91")
    )  # 66.13+116.57+167.01+89.18+215.44+222.45+66.13
    assert summary.billable == sum(row["billable"] == "yes" for row in rows) == 7
    assert summary.billable + summary.not_billable == summary.listed == len(rows)
    assert sum(code.amount for code in summary.codes) == summary.total
    assert sum(who.amount for who in summary.practitioners) == summary.total
    assert sum(who.listed for who in summary.practitioners) == summary.listed
    assert sum(who.billable for who in summary.practitioners) == summary.billable
    for section in summary.sections:
        assert section.amount == sum(Decimal(line.amount) for line in section.lines)
        assert sum(code.amount for code in section.codes) == section.amount
    assert sum(b.billable + b.not_billable for b in summary.histogram) == summary.listed
    assert sum(b.billable for b in summary.histogram) == summary.billable
    units = {code.code: (code.patients, code.units) for code in summary.codes}
    assert units == {
        "99490": (4, 4),
        "99439": (2, 3),
        "99491": (2, 2),
        "99437": (1, 2),
        "99487": (1, 1),
        "99489": (1, 1),
    }


def test_practitioners_sections_and_lists(march):
    _, _, summary = march
    labels = [(who.label, who.listed, who.billable) for who in summary.practitioners]
    # CSV order: practitioners by name, the patient without one last.
    assert labels == [("Amy Adams, NP", 3, 1), ("Zoe Zimmer, MD", 14, 6), (NO_PRACTITIONER, 1, 0)]
    assert [s.label for s in summary.sections] == ["Amy Adams, NP", "Zoe Zimmer, MD"]
    assert all(line.billable for s in summary.sections for line in s.lines)
    assert not any(line.billable for line in summary.not_billable_lines)
    near = [(m.line.mrn, m.minutes_short, m.next_codes) for m in summary.near_misses]
    assert near == NEAR_MISSES
    extra = {m.line.mrn: m.extra for m in summary.near_misses}
    assert extra == {
        "A-17": Decimal("66.13"),
        "A-04": Decimal("27.39"),  # 116.57 - 89.18
        "A-14": Decimal("66.13"),
    }
    reasons = {r.reason: r.patients for r in summary.reasons}
    assert reasons["under_threshold"] == 4 and reasons["no_consent"] == 2
    assert summary.billable_without_mbi == 0


def test_open_closed_and_unfinished_months(march, db):
    _, report, summary = march
    assert summary.month_over and not summary.status.closed
    assert summary.status == month_status(db, MARCH)
    during = load_billing_summary(db, report, now=APRIL_2.replace(month=3, day=20))
    assert not during.month_over
