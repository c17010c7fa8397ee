"""The billing export (SPEC §2.2): exactly these columns, in this order."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TextIO

from ccmdesk.services.billing import BillingRow, MonthReport

CSV_COLUMNS = (
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
)


def csv_record(month: str, row: BillingRow) -> list[str]:
    result = row.result
    return [
        month,
        row.patient.mrn,
        row.patient.patient_name,
        row.billing_npi,
        str(result.minutes),
        str(result.clinical_minutes),
        str(result.practitioner_minutes),
        "yes" if result.billable else "no",
        result.codes,
        f"{result.amount:.2f}",
        ";".join(result.reasons),
    ]


def csv_records(report: MonthReport) -> Iterator[list[str]]:
    yield list(CSV_COLUMNS)
    month = str(report.month)
    for row in report.rows:
        yield csv_record(month, row)


def write_billing_csv(report: MonthReport, handle: TextIO) -> None:
    """Write the export; ``handle`` should be opened with ``newline=""``."""
    writer = csv.writer(handle, lineterminator="\r\n")
    writer.writerows(csv_records(report))
