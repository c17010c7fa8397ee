"""Builders for storage-level tests: a practice, staff, patients, entries."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ccmdesk.domain.identifiers import make_npi
from ccmdesk.storage.database import Database, open_database
from ccmdesk.storage.models import (
    ComplexMonth,
    Condition,
    ConsentRecord,
    InitiatingVisit,
    Patient,
    Practice,
    Staff,
    TimeEntry,
)

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DOCTOR_NPI = "1234567893"


def make_database(path: Path, zone: str | None = "America/New_York") -> Database:
    """A new ccmdesk SQLite file holding only the practice."""
    database = open_database(f"sqlite:///{path}", backups=path.parent / "backups")
    _add_practice(database, zone)
    return database


def make_postgres_database(url: str, zone: str | None = "America/New_York") -> Database:
    """:func:`make_database` on a migrated PostgreSQL database, emptied first."""
    from tests.postgres import empty_ccmdesk_tables

    database = open_database(url)
    empty_ccmdesk_tables(database.engine)
    _add_practice(database, zone)
    return database


def _add_practice(database: Database, zone: str | None) -> None:
    with database.transaction() as session:
        session.add(Practice(id=1, name="Test Practice", time_zone=zone))


def add_staff(
    db: Database,
    name: str,
    role: str,
    credential: str = "",
    npi: str | None = None,
    *,
    office_manager: bool = False,
    administrator: bool = False,
):
    with db.transaction() as session:
        member = Staff(
            name=name,
            credential=credential,
            role=role,
            npi=npi,
            active=True,
            office_manager=office_manager,
            administrator=administrator,
            created_at=NOW,
        )
        session.add(member)
        session.flush()
        return member.id


def add_patient(
    db: Database,
    mrn: str,
    *,
    first: str = "Ada",
    last: str = "Testpatient",
    practitioner_id: int | None = None,
    chronic_codes: tuple[str, ...] = ("E119", "I10"),
    consent: dt.date | None = dt.date(2025, 1, 10),
    visit: dt.date | None = dt.date(2025, 1, 2),
    care_plan: dt.date | None = dt.date(2025, 1, 10),
    complex_months: tuple[str, ...] = (),
    part_b: bool = True,
) -> int:
    with db.transaction() as session:
        patient = Patient(
            mrn=mrn,
            first_name=first,
            last_name=last,
            dob=dt.date(1948, 5, 17),
            part_b=part_b,
            billing_practitioner_id=practitioner_id,
            care_plan_date=care_plan,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(patient)
        session.flush()
        for code in chronic_codes:
            session.add(Condition(patient_id=patient.id, code=code, chronic=True))
        if consent:
            session.add(
                ConsentRecord(
                    patient_id=patient.id, consent_date=consent, method="verbal", created_at=NOW
                )
            )
        if visit:
            session.add(
                InitiatingVisit(patient_id=patient.id, visit_date=visit, visit_type="em_visit")
            )
        for month in complex_months:
            session.add(ComplexMonth(patient_id=patient.id, month=month, created_at=NOW))
        return patient.id


def add_entry(
    db: Database,
    patient_id: int,
    staff_id: int,
    start: dt.datetime,
    minutes: float,
    activity: str = "phone_call",
    deleted: bool = False,
) -> int:
    with db.transaction() as session:
        entry = TimeEntry(
            patient_id=patient_id,
            staff_id=staff_id,
            start_at=start,
            end_at=start + dt.timedelta(minutes=minutes),
            activity=activity,
            source="manual",
            created_at=NOW,
            deleted_at=NOW if deleted else None,
            delete_reason="entered twice" if deleted else None,
        )
        session.add(entry)
        session.flush()
        return entry.id


def practitioner_npi(index: int) -> str:
    return make_npi(f"{123456780 + index:09d}")
