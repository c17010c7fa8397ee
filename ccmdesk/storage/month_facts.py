"""Gather the billing engine's facts for a month in a handful of bulk queries.

One query per table for the whole month (never one per patient or entry), so
that a 5,000-patient month costs the same dozen round trips as one patient.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ccmdesk.domain.billing import (
    ConditionFact,
    ConsentFact,
    EntryFact,
    PatientMonth,
    applicable_consent,
    covered_since,
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
from ccmdesk.storage.types import UTCDateTime

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


class _Query:
    """A statement built once, for all patients or for a list of them.

    Building SQLAlchemy expressions costs more than running these small
    queries, so the one-patient live figures reuse prebuilt statements.
    """

    def __init__(self, statement: Select, patient_column) -> None:  # type: ignore[type-arg]
        self.all = statement
        self.some = statement.where(patient_column.in_(bindparam("ids", expanding=True)))

    def run(self, connection: Connection, ids: Collection[int] | None, **params: object) -> list:
        if ids is None:
            return connection.execute(self.all, params).all()
        return connection.execute(self.some, {"ids": list(ids), **params}).all()


_STAFF = select(Staff.id, Staff.name, Staff.credential, Staff.role, Staff.npi)
_CONDITIONS = _Query(
    select(Condition.patient_id, Condition.chronic, Condition.onset, Condition.resolved),
    Condition.patient_id,
)
_CONSENTS = _Query(
    select(
        ConsentRecord.patient_id,
        ConsentRecord.consent_date,
        ConsentRecord.declined,
        ConsentRecord.opt_out_date,
    ),
    ConsentRecord.patient_id,
)
_VISITS = _Query(
    select(InitiatingVisit.patient_id, InitiatingVisit.visit_date), InitiatingVisit.patient_id
)
_FIRST_PLAN_VERSION = _Query(
    select(CarePlan.patient_id, func.min(CarePlanVersion.created_at))
    .join(CarePlanVersion, CarePlanVersion.care_plan_id == CarePlan.id)
    .group_by(CarePlan.patient_id),
    CarePlan.patient_id,
)
_COMPLEX = _Query(
    select(ComplexMonth.patient_id).where(ComplexMonth.month == bindparam("month")),
    ComplexMonth.patient_id,
)
_ENTRIES = _Query(
    select(
        TimeEntry.id,
        TimeEntry.patient_id,
        TimeEntry.staff_id,
        TimeEntry.start_at,
        TimeEntry.end_at,
        TimeEntry.activity,
    ).where(
        TimeEntry.start_at >= bindparam("earliest", type_=UTCDateTime()),
        TimeEntry.start_at < bindparam("end", type_=UTCDateTime()),
        TimeEntry.end_at > bindparam("start", type_=UTCDateTime()),
        TimeEntry.deleted_at.is_(None),
    ),
    TimeEntry.patient_id,
)
_PATIENTS = _Query(
    select(
        Patient.id,
        Patient.mrn,
        Patient.first_name,
        Patient.last_name,
        Patient.dob,
        Patient.mbi,
        Patient.part_b,
        Patient.billing_practitioner_id,
        Patient.care_plan_date,
    ),
    Patient.id,
)


def load_staff(session: Session) -> dict[int, StaffInfo]:
    rows = session.connection().execute(_STAFF).all()
    return {row.id: StaffInfo(*row) for row in rows}


def month_entries(
    session: Session,
    start: dt.datetime,
    end: dt.datetime,
    patient_ids: Collection[int] | None,
) -> list:  # list of Row
    """Finished, non-deleted entries overlapping ``[start, end)``."""
    return _ENTRIES.run(
        session.connection(), patient_ids, earliest=start - MAX_ENTRY, end=end, start=start
    )


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
    connection = session.connection()  # plain Core rows: no ORM identity work needed
    ids = patient_ids

    conditions: dict[int, list[ConditionFact]] = defaultdict(list)
    for pid, chronic, onset, resolved in _CONDITIONS.run(connection, ids):
        conditions[pid].append(ConditionFact(chronic, onset, resolved))
    consents: dict[int, list[ConsentFact]] = defaultdict(list)
    for pid, consent_date, declined, opt_out in _CONSENTS.run(connection, ids):
        consents[pid].append(ConsentFact(consent_date, declined, opt_out))
    visits: dict[int, list[dt.date]] = defaultdict(list)
    for pid, visit_date in _VISITS.run(connection, ids):
        visits[pid].append(visit_date)
    first_version = {
        pid: _as_utc(first).astimezone(zone).date()
        for pid, first in _FIRST_PLAN_VERSION.run(connection, ids)
    }
    complex_ids = {pid for (pid,) in _COMPLEX.run(connection, ids, month=str(month))}
    entries: dict[int, list[EntryFact]] = defaultdict(list)
    roles = {staff_id: info.role for staff_id, info in staff.items()}
    for entry_id, pid, staff_id, start_at, end_at, activity in month_entries(
        session, start, end, ids
    ):
        entries[pid].append(
            EntryFact(entry_id, start_at, end_at, staff_id, roles[staff_id], activity)
        )

    records = []
    for row in _PATIENTS.run(connection, ids):
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
            covered_from=covered_since(consents.get(row.id, ()), consent),
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
