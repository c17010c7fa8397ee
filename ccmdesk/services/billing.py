"""Billing use cases: a whole month for the practice, or one patient live."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ccmdesk.domain.billing import MonthResult, evaluate
from ccmdesk.domain.fees import FeeSchedule
from ccmdesk.domain.time import Month
from ccmdesk.services.practice import fee_schedule, practice_zone
from ccmdesk.storage.database import Database
from ccmdesk.storage.month_facts import PatientMonthRecord, load_month


@dataclass(frozen=True)
class BillingRow:
    patient: PatientMonthRecord
    result: MonthResult

    @property
    def billing_npi(self) -> str:
        practitioner = self.patient.billing_practitioner
        return practitioner.npi or "" if practitioner else ""


@dataclass(frozen=True)
class MonthReport:
    month: Month
    zone: dt.tzinfo
    fees: FeeSchedule
    rows: list[BillingRow]


def _sort_key(row: BillingRow) -> tuple:  # type: ignore[type-arg]
    practitioner = row.patient.billing_practitioner
    return (
        practitioner is None,
        practitioner.name.casefold() if practitioner else "",
        practitioner.id if practitioner else 0,
        row.patient.last_name.casefold(),
        row.patient.first_name.casefold(),
        row.patient.mrn,
    )


def compute_month(db: Database, month: Month) -> MonthReport:
    """Every patient on the month's list, evaluated, sorted by practitioner then name."""
    with no_gc_pauses(), db.transaction() as session:
        zone = practice_zone(session)
        fees = fee_schedule(session, month.year)
        records = load_month(session, month, zone)
        rows = [BillingRow(record, evaluate(record.facts, zone, fees)) for record in records]
    rows.sort(key=_sort_key)
    return MonthReport(month, zone, fees, rows)


@contextmanager
def no_gc_pauses() -> Iterator[None]:
    """Hold the cyclic garbage collector while a month builds ~100k acyclic objects.

    Without this, CPython runs dozens of collections over the growing heap,
    about a third of the month's time; reference counting still frees memory.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class LiveFigures:
    """What the nurse's screen shows for one patient while working."""

    month: Month
    minutes: int
    minutes_to_next: int | None
    next_codes: str | None
    days_left: int
    result: MonthResult


def live_figures(
    db: Database, patient_id: int, now: dt.datetime | None = None, month: Month | None = None
) -> LiveFigures:
    """One patient's month so far: minutes, minutes to the next code, days left."""
    now = now or dt.datetime.now(dt.timezone.utc)
    with db.transaction() as session:
        zone = practice_zone(session)
        today = now.astimezone(zone).date()
        month = month or Month.of(today)
        fees = fee_schedule(session, month.year)
        records = load_month(session, month, zone, [patient_id], enrolled_only=False)
    if not records:
        raise LookupError(f"no patient with id {patient_id}")
    result = evaluate(records[0].facts, zone, fees)
    return LiveFigures(
        month=month,
        minutes=result.minutes,
        minutes_to_next=result.minutes_to_next,
        next_codes=result.next_codes,
        days_left=month.days_left(today),
        result=result,
    )
