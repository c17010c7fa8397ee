"""The billing summary as plain data: what the PDF (and the Reports screen) shows.

Built from the same :class:`~ccmdesk.services.billing.MonthReport` as the
billing CSV, and every per-patient figure is taken from the CSV's own record
(:func:`~ccmdesk.services.billing_csv.csv_record`), so the PDF cannot
disagree with the export.  Totals are sums of those same values.

Choices made here:

* Practitioner tables hold the billable patients; everyone else is under
  "Not billable", so each CSV row appears exactly once.
* "Close to the next code" lists patients whose only obstacle is time (or who
  are billable already) and who are at most :data:`CLOSE_TO_NEXT_MINUTES`
  minutes short of a code that pays more.  What it would add comes from the
  engine's own family ranking, with the extra minutes taken as clinical-staff
  minutes (as the engine's "minutes to next" assumes).
* Per-code amounts are the fee for the code times its units; they add up to
  the estimated total because every family amount is exactly that sum.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from ccmdesk.domain.billing import families, rank
from ccmdesk.domain.time import Month
from ccmdesk.domain.vocabulary import REASON_CODES, REASON_LABELS
from ccmdesk.reports.practice import practice_name
from ccmdesk.services.billing import BillingRow, MonthReport
from ccmdesk.services.billing_csv import CSV_COLUMNS, csv_record
from ccmdesk.services.month_close import MonthStatus, status_in
from ccmdesk.storage.database import Database

CLOSE_TO_NEXT_MINUTES = 5
HISTOGRAM_STEP = 5
HISTOGRAM_TOP = 90  # the last bin is "90 or more"
ZERO = Decimal("0.00")
NO_PRACTITIONER = "No billing practitioner assigned"

CODE_LABELS: dict[str, str] = {
    "99490": "CCM, first 20 minutes",
    "99439": "CCM, each additional 20 minutes",
    "99491": "CCM by the practitioner, first 30 minutes",
    "99437": "CCM by the practitioner, each additional 30 minutes",
    "99487": "Complex CCM, first 60 minutes",
    "99489": "Complex CCM, each additional 30 minutes",
}


@dataclass(frozen=True)
class PatientLine:
    """One row of the CSV, plus who the patient is; figures are the CSV's text."""

    mrn: str
    name: str
    dob: dt.date
    mbi: str
    npi: str
    practitioner: str
    minutes: str
    clinical_minutes: str
    practitioner_minutes: str
    billable: bool
    codes: str
    amount: str  # two decimals, as in the CSV
    reasons: tuple[str, ...]

    @property
    def reason_labels(self) -> tuple[str, ...]:
        return tuple(REASON_LABELS[reason] for reason in self.reasons)


@dataclass(frozen=True)
class CodeTotal:
    code: str
    label: str
    patients: int
    units: int
    amount: Decimal


@dataclass(frozen=True)
class PractitionerTotal:
    label: str
    npi: str
    listed: int
    billable: int
    amount: Decimal

    @property
    def not_billable(self) -> int:
        return self.listed - self.billable


@dataclass(frozen=True)
class PractitionerSection:
    """One billing practitioner's billable patients, with subtotals."""

    label: str
    npi: str
    lines: tuple[PatientLine, ...]
    codes: tuple[CodeTotal, ...]
    amount: Decimal


@dataclass(frozen=True)
class NearMiss:
    line: PatientLine
    minutes_short: int
    next_codes: str
    extra: Decimal


@dataclass(frozen=True)
class HistogramBin:
    low: int
    high: int | None  # None: "and more"
    billable: int
    not_billable: int

    @property
    def label(self) -> str:
        return f"{self.low}+" if self.high is None else f"{self.low}\u2013{self.high}"


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    label: str
    patients: int


@dataclass(frozen=True)
class BillingSummary:
    practice: str
    month: Month
    zone: dt.tzinfo
    generated_at: dt.datetime  # UTC
    status: MonthStatus
    month_over: bool
    fee_year: int
    fee_note: str
    fee_overridden: tuple[str, ...]
    listed: int
    billable: int
    total: Decimal
    codes: tuple[CodeTotal, ...]
    practitioners: tuple[PractitionerTotal, ...]
    sections: tuple[PractitionerSection, ...]
    not_billable_lines: tuple[PatientLine, ...]
    near_misses: tuple[NearMiss, ...]
    histogram: tuple[HistogramBin, ...]
    reasons: tuple[ReasonCount, ...]
    billable_without_mbi: int

    @property
    def not_billable(self) -> int:
        return self.listed - self.billable


def _practitioner_label(row: BillingRow) -> str:
    who = row.patient.billing_practitioner
    if who is None:
        return ""
    return f"{who.name}, {who.credential}" if who.credential else who.name


def patient_line(month: str, row: BillingRow) -> PatientLine:
    """The CSV record of ``row`` with the patient's DOB, MBI and practitioner."""
    record = dict(zip(CSV_COLUMNS, csv_record(month, row), strict=True))
    return PatientLine(
        mrn=record["mrn"],
        name=record["patient_name"],
        dob=row.patient.dob,
        mbi=row.patient.mbi or "",
        npi=record["billing_npi"],
        practitioner=_practitioner_label(row),
        minutes=record["minutes"],
        clinical_minutes=record["clinical_minutes"],
        practitioner_minutes=record["practitioner_minutes"],
        billable=record["billable"] == "yes",
        codes=record["codes"],
        amount=record["amount"],
        reasons=tuple(r for r in record["reasons"].split(";") if r),
    )


def _code_totals(rows: list[BillingRow], report: MonthReport) -> tuple[CodeTotal, ...]:
    patients: Counter[str] = Counter()
    units: Counter[str] = Counter()
    for row in rows:
        chosen = row.result.chosen
        if row.result.billable and chosen is not None:
            for line in chosen.lines:
                patients[line.code] += 1
                units[line.code] += line.units
    return tuple(
        CodeTotal(
            code,
            label,
            patients[code],
            units[code],
            (report.fees.amount(code) * units[code]).quantize(ZERO),
        )
        for code, label in CODE_LABELS.items()
    )


def _near_miss(row: BillingRow, line: PatientLine, report: MonthReport) -> NearMiss | None:
    result = row.result
    short = result.minutes_to_next
    if short is None or short > CLOSE_TO_NEXT_MINUTES or not result.next_codes:
        return None
    if any(reason != "under_threshold" for reason in result.reasons):
        return None
    ranked = rank(
        families(
            result.minutes + short,
            result.practitioner_minutes,
            row.patient.facts.complex_month,
            report.fees,
        )
    )
    if not ranked:
        return None
    return NearMiss(line, short, result.next_codes, ranked[0].amount - result.amount)


def _histogram(rows: list[BillingRow]) -> tuple[HistogramBin, ...]:
    top = HISTOGRAM_TOP // HISTOGRAM_STEP
    billable, other = [0] * (top + 1), [0] * (top + 1)
    for row in rows:
        index = min(row.result.minutes // HISTOGRAM_STEP, top)
        (billable if row.result.billable else other)[index] += 1
    return tuple(
        HistogramBin(
            i * HISTOGRAM_STEP,
            None if i == top else i * HISTOGRAM_STEP + HISTOGRAM_STEP - 1,
            billable[i],
            other[i],
        )
        for i in range(top + 1)
    )


def build_billing_summary(
    report: MonthReport,
    practice: str,
    status: MonthStatus,
    generated_at: dt.datetime,
) -> BillingSummary:
    """Everything the billing summary shows, from the month the CSV is made of."""
    month = str(report.month)
    lines = [patient_line(month, row) for row in report.rows]
    # Keyed by staff id: two practitioners may share a name. Rows are in CSV order.
    by_practitioner: dict[int | None, list[tuple[BillingRow, PatientLine]]] = defaultdict(list)
    for row, line in zip(report.rows, lines, strict=True):
        who = row.patient.billing_practitioner
        by_practitioner[who.id if who else None].append((row, line))

    practitioners, sections = [], []
    for group in by_practitioner.values():
        label, npi = group[0][1].practitioner or NO_PRACTITIONER, group[0][1].npi
        billed = [(row, line) for row, line in group if line.billable]
        amount = sum((Decimal(line.amount) for _, line in billed), ZERO)
        practitioners.append(PractitionerTotal(label, npi, len(group), len(billed), amount))
        if billed:
            sections.append(
                PractitionerSection(
                    label,
                    npi,
                    tuple(line for _, line in billed),
                    _code_totals([row for row, _ in billed], report),
                    amount,
                )
            )

    near = [
        miss
        for row, line in zip(report.rows, lines, strict=True)
        if (miss := _near_miss(row, line, report)) is not None
    ]
    near.sort(key=lambda m: (m.minutes_short, m.line.name.casefold(), m.line.mrn))
    reason_counts = Counter(reason for line in lines for reason in line.reasons)
    zone = report.zone
    return BillingSummary(
        practice=practice,
        month=report.month,
        zone=zone,
        generated_at=generated_at.astimezone(dt.timezone.utc),
        status=status,
        month_over=generated_at.astimezone(zone).date() > report.month.last_day,
        fee_year=report.fees.year,
        fee_note=report.fees.note,
        fee_overridden=tuple(sorted(report.fees.overridden)),
        listed=len(lines),
        billable=sum(1 for line in lines if line.billable),
        total=sum((Decimal(line.amount) for line in lines), ZERO),
        codes=_code_totals(report.rows, report),
        practitioners=tuple(practitioners),
        sections=tuple(sections),
        not_billable_lines=tuple(line for line in lines if not line.billable),
        near_misses=tuple(near),
        histogram=_histogram(report.rows),
        reasons=tuple(
            ReasonCount(reason, REASON_LABELS[reason], reason_counts[reason])
            for reason in REASON_CODES
            if reason_counts[reason]
        ),
        billable_without_mbi=sum(1 for line in lines if line.billable and not line.mbi),
    )


def load_billing_summary(
    db: Database, report: MonthReport, now: dt.datetime | None = None
) -> BillingSummary:
    """The summary of ``report`` with the practice's name and the month's close status."""
    now = now or dt.datetime.now(dt.timezone.utc)
    with db.transaction() as session:
        practice = practice_name(session)
        status = status_in(session, report.month)
    return build_billing_summary(report, practice, status, now)
