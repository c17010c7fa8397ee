"""Gather the billing engine's facts for a month in a handful of bulk queries.

One query per table for the whole month (never one per patient or entry), so
that a 5,000-patient month costs the same dozen round trips as one patient.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ccmdesk.domain.billing import (
    ConditionFact,
    ConsentFact,
    EntryFact,
    PatientMonth,
    applicable_consent,
    opted_out_before,
)
from ccmdesk.domain.time import Month
from ccmdesk.storage.models import (
    CarePlan,
    CarePlanVersion,
    ComplexMonth,
    Condition,
    ConsentRecord,
    InitiatingVisit,
    Patient,
    Staff,
    TimeEntry,
)

#: No entry may be longer than this (the services refuse longer ones), which
#: lets the month query use the index on ``start_at``.
MAX_ENTRY = dt.timedelta(hours=24)


@dataclass(frozen=True)
class StaffInfo:
    id: int
    name: str
    credential: str
    role: str
    npi: str | None


@dataclass(frozen=True)
class PatientMonthRecord:
    """Who the patient is (for reports) plus the facts the engine evaluates."""

    patient_id: int
    mrn: str
    first_name: str
    last_name: str
    dob: dt.date
    mbi: str | None
    billing_practitioner: StaffInfo | None
    facts: PatientMonth
    #: Any non-deleted entry overlaps the month, countable or not.
    has_time: bool

    @property
    def patient_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"


def _only(query: Select, column, ids: Collection[int] | None) -> Select:  # type: ignore[type-arg]
    return query if ids is None else query.where(column.in_(ids))


def load_staff(session: Session) -> dict[int, StaffInfo]:
    rows = session.execute(
        select(Staff.id, Staff.name, Staff.credential, Staff.role, Staff.npi)
    ).all()
    return {row.id: StaffInfo(*row) for row in rows}


def month_entries(
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    patient_ids: Collection[int] | None,
) -> list:  # list of Row
    """Finished, non-deleted entries overlapping ``[start, end)``."""
    query = select(
        TimeEntry.id,
        TimeEntry.patient_id,
        TimeEntry.staff_id,
        TimeEntry.start_at,
        TimeEntry.end_at,
        TimeEntry.activity,
    ).where(
        TimeEntry.start_at >= start - MAX_ENTRY,
        TimeEntry.start_at < end,
        TimeEntry.end_at > start,
        TimeEntry.deleted_at.is_(None),
    )
    return session.execute(_only(query, TimeEntry.patient_id, patient_ids)).all()


def load_month(
    session: Session,
    month: Month,
    zone: dt.tzinfo,
    patient_ids: Collection[int] | None = None,
    *,
    enrolled_only: bool = True,
) -> list[PatientMonthRecord]:
    """Facts for the month's list (SPEC §1.1), or for ``patient_ids``.

    The month's list is every patient with consent on record who had not opted
    out before the month began, plus every patient with time logged in it.
    With ``enrolled_only=False`` every requested patient is returned.
    """
    staff = load_staff(session)
    start, end = month.bounds_utc(zone)

    conditions: dict[int, list[ConditionFact]] = defaultdict(list)
    query = select(Condition.patient_id, Condition.chronic, Condition.onset, Condition.resolved)
    for row in session.execute(_only(query, Condition.patient_id, patient_ids)):
        conditions[row.patient_id].append(ConditionFact(row.chronic, row.onset, row.resolved))

    consents: dict[int, list[ConsentFact]] = defaultdict(list)
    query = select(
        ConsentRecord.patient_id,
        ConsentRecord.consent_date,
        ConsentRecord.declined,
        ConsentRecord.opt_out_date,
    )
    for row in session.execute(_only(query, ConsentRecord.patient_id, patient_ids)):
        consents[row.patient_id].append(
            ConsentFact(row.consent_date, row.declined, row.opt_out_date)
        )

    visits: dict[int, list[dt.date]] = defaultdict(list)
    query = select(InitiatingVisit.patient_id, InitiatingVisit.visit_date)
    for row in session.execute(_only(query, InitiatingVisit.patient_id, patient_ids)):
        visits[row.patient_id].append(row.visit_date)

    first_version: dict[int, dt.date] = {}
    query = (
        select(CarePlan.patient_id, func.min(CarePlanVersion.created_at).label("first"))
        .join(CarePlanVersion, CarePlanVersion.care_plan_id == CarePlan.id)
        .group_by(CarePlan.patient_id)
    )
    for row in session.execute(_only(query, CarePlan.patient_id, patient_ids)):
        first_version[row.patient_id] = _as_utc(row.first).astimezone(zone).date()

    query = select(ComplexMonth.patient_id).where(ComplexMonth.month == str(month))
    complex_ids = set(session.scalars(_only(query, ComplexMonth.patient_id, patient_ids)))

    entries: dict[int, list[EntryFact]] = defaultdict(list)
    for row in month_entries(session, start, end, patient_ids):
        role = staff[row.staff_id].role
        entries[row.patient_id].append(
            EntryFact(row.id, row.start_at, row.end_at, row.staff_id, role, row.activity)
        )

    query = select(
        Patient.id,
        Patient.mrn,
        Patient.first_name,
        Patient.last_name,
        Patient.dob,
        Patient.mbi,
        Patient.part_b,
        Patient.billing_practitioner_id,
        Patient.care_plan_date,
    )
    records = []
    for row in session.execute(_only(query, Patient.id, patient_ids)):
        consent = applicable_consent(consents.get(row.id, ()), month)
        has_time = row.id in entries
        enrolled = (
            consent is not None
            and consent.consent_date <= month.last_day
            and not opted_out_before(consent, month)
        )
        if enrolled_only and not (enrolled or has_time):
            continue
        plan_dates = [d for d in (row.care_plan_date, first_version.get(row.id)) if d]
        facts = PatientMonth(
            month=month,
            part_b=row.part_b,
            billing_practitioner_id=row.billing_practitioner_id,
            conditions=tuple(conditions.get(row.id, ())),
            consent=consent,
            initiating_visits=tuple(visits.get(row.id, ())),
            care_plan_date=min(plan_dates) if plan_dates else None,
            complex_month=row.id in complex_ids,
            entries=tuple(entries.get(row.id, ())),
        )
        records.append(
            PatientMonthRecord(
                patient_id=row.id,
                mrn=row.mrn,
                first_name=row.first_name,
                last_name=row.last_name,
                dob=row.dob,
                mbi=row.mbi,
                billing_practitioner=staff.get(row.billing_practitioner_id)
                if row.billing_practitioner_id
                else None,
                facts=facts,
                has_time=has_time,
            )
        )
    return records


def _as_utc(value: dt.datetime) -> dt.datetime:
    # Aggregates bypass the column type, so SQLite hands back a naive value or text.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
