"""Reading one patient-month's time log from the database (see :mod:`.timelog`).

The entries come through :func:`~ccmdesk.services.time_log.month_log` and the
facts in a second transaction; if an entry changed in between, the facts are
read again so that the log and its total always agree.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ccmdesk.domain.billing import ConditionFact, evaluate
from ccmdesk.domain.icd10 import format_icd10
from ccmdesk.domain.time import Month
from ccmdesk.domain.vocabulary import ACTIVITY_LABELS
from ccmdesk.reports.practice import practice_name
from ccmdesk.reports.timelog import (
    REQUIREMENT_LABELS,
    CarePlanLine,
    ChangeLine,
    ConditionLine,
    ConsentLine,
    Requirement,
    TimeLog,
    TimeLogError,
    VisitLine,
    build_entries,
    person,
)
from ccmdesk.services.month_close import status_in
from ccmdesk.services.practice import fee_schedule, practice_zone
from ccmdesk.services.time_log import EntryView, month_log
from ccmdesk.storage.database import Database
from ccmdesk.storage.models import (
    AuditEvent,
    CarePlan,
    CarePlanCopy,
    CarePlanVersion,
    Condition,
    ConsentRecord,
    InitiatingVisit,
    Patient,
    Staff,
)
from ccmdesk.storage.month_facts import PatientMonthRecord, load_month

VISIT_LABELS = {
    "em_visit": "E/M office visit",
    "awv": "Annual Wellness Visit",
    "ippe": "Initial Preventive Physical Exam",
    "unspecified": "Qualifying visit (type not recorded; imported)",
}
FIELD_LABELS = {
    "staff_id": "staff",
    "start_at": "start",
    "end_at": "end",
    "activity": "activity",
    "note": "note",
}
ATTEMPTS = 3


def _conditions(session: Session, patient_id: int, month: Month) -> tuple[ConditionLine, ...]:
    rows = session.execute(
        select(
            Condition.code,
            Condition.description,
            Condition.chronic,
            Condition.onset,
            Condition.resolved,
        )
        .where(Condition.patient_id == patient_id)
        .order_by(Condition.chronic.desc(), Condition.code)
    ).all()
    return tuple(
        ConditionLine(
            format_icd10(code),
            description or "",
            chronic,
            onset,
            resolved,
            ConditionFact(chronic, onset, resolved).active_in(month),
        )
        for code, description, chronic, onset, resolved in rows
    )


def _consents(session: Session, patient_id: int) -> tuple[ConsentLine, ...]:
    rows = session.execute(
        select(ConsentRecord, Staff.name, Staff.credential)
        .outerjoin(Staff, Staff.id == ConsentRecord.obtained_by_id)
        .where(ConsentRecord.patient_id == patient_id)
        .order_by(ConsentRecord.consent_date, ConsentRecord.id)
    ).all()
    return tuple(
        ConsentLine(
            c.consent_date,
            c.method,
            person(name, credential) if name else "",
            (
                c.told_availability,
                c.told_cost_sharing,
                c.told_stop_anytime,
                c.told_one_practitioner,
            ),
            c.declined,
            c.opt_out_date,
        )
        for c, name, credential in rows
    )


def _visits(session: Session, patient_id: int) -> tuple[VisitLine, ...]:
    rows = session.execute(
        select(InitiatingVisit.visit_date, InitiatingVisit.visit_type, Staff.name, Staff.credential)
        .outerjoin(Staff, Staff.id == InitiatingVisit.practitioner_id)
        .where(InitiatingVisit.patient_id == patient_id)
        .order_by(InitiatingVisit.visit_date)
    ).all()
    return tuple(
        VisitLine(day, VISIT_LABELS.get(kind, kind), person(name, credential) if name else "")
        for day, kind, name, credential in rows
    )


def _care_plans(session: Session, patient_id: int, until: dt.datetime) -> tuple[CarePlanLine, ...]:
    signer = aliased(Staff)
    rows = session.execute(
        select(CarePlanVersion, signer.name)
        .join(CarePlan, CarePlan.id == CarePlanVersion.care_plan_id)
        .outerjoin(signer, signer.id == CarePlanVersion.signed_by_id)
        .where(CarePlan.patient_id == patient_id, CarePlanVersion.created_at < until)
        .order_by(CarePlanVersion.number)
    ).all()
    lines = []
    for version, signed_by in rows:
        copies = session.execute(
            select(CarePlanCopy.given_on, CarePlanCopy.method, CarePlanCopy.given_to)
            .where(CarePlanCopy.version_id == version.id)
            .order_by(CarePlanCopy.given_on)
        ).all()
        lines.append(
            CarePlanLine(
                version.number,
                version.created_at,
                signed_by or "",
                version.signed_at,
                tuple(
                    f"{day:%m/%d/%Y} ({method.replace('_', ' ')}"
                    + (f", to {to}" if to else "")
                    + ")"
                    for day, method, to in copies
                ),
            )
        )
    return tuple(lines)


def _describe_value(key: str, value: object, zone: dt.tzinfo, staff: dict[int, str]) -> str:
    if value is None:
        return "(none)"
    if key in ("start_at", "end_at"):
        moment = dt.datetime.fromisoformat(str(value)).astimezone(zone)
        return moment.strftime("%m/%d/%Y %H:%M:%S %Z")
    if key == "staff_id":
        return staff.get(int(value), f"staff #{value}")  # type: ignore[call-overload]
    if key == "activity":
        return ACTIVITY_LABELS.get(str(value), str(value))
    return f"\u201c{value}\u201d"


def _changes(session: Session, numbers: dict[int, int], zone: dt.tzinfo) -> tuple[ChangeLine, ...]:
    if not numbers:
        return ()
    events = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.entity == "time_entry",
            AuditEvent.entity_id.in_(list(numbers)),
            AuditEvent.action.in_(("update", "delete")),
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    staff = {sid: name for sid, name in session.execute(select(Staff.id, Staff.name))}
    lines = []
    for event in events:
        number = numbers[event.entity_id]  # type: ignore[index]
        if event.action == "delete":
            what = f"reason: {event.detail}" if event.detail else "no reason recorded"
            lines.append(ChangeLine(number, event.at, event.actor, "Deleted", what))
            continue
        before = json.loads(event.before or "{}")
        after = json.loads(event.after or "{}")
        parts = [
            f"{FIELD_LABELS.get(key, key)} {_describe_value(key, before.get(key), zone, staff)}"
            f" \u2192 {_describe_value(key, after.get(key), zone, staff)}"
            for key in sorted(
                after, key=lambda k: list(FIELD_LABELS).index(k) if k in FIELD_LABELS else 99
            )
        ]
        lines.append(ChangeLine(number, event.at, event.actor, "Edited", "; ".join(parts)))
    return tuple(lines)


def _applied(consents: Sequence[ConsentLine], record: PatientMonthRecord) -> ConsentLine | None:
    fact = record.facts.consent
    if fact is None:
        return None
    return next(
        (c for c in reversed(consents) if c.consent_date == fact.consent_date and not c.declined),
        None,
    )


def _patient_id(db: Database, mrn: str) -> int:
    with db.transaction() as session:
        patient_id = session.scalar(select(Patient.id).where(Patient.mrn == mrn.strip()))
    if patient_id is None:
        raise TimeLogError(f"no patient with MRN {mrn.strip()!r}")
    return patient_id


def load_time_log(db: Database, mrn: str, month: Month, now: dt.datetime | None = None) -> TimeLog:
    """Everything the time log shows for the patient with ``mrn`` in ``month``."""
    now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    patient_id = _patient_id(db, mrn)
    for _ in range(ATTEMPTS):
        views = month_log(db, patient_id, month)
        if not views:
            raise TimeLogError(f"no time is logged for MRN {mrn.strip()!r} in {month}")
        log = _read(db, patient_id, month, views, now)
        if log is not None:
            return log
    raise TimeLogError(f"the time log of {month} kept changing while it was read; try again")


def _read(
    db: Database, patient_id: int, month: Month, views: list[EntryView], now: dt.datetime
) -> TimeLog | None:
    with db.transaction() as session:
        zone = practice_zone(session)
        (record,) = load_month(session, month, zone, [patient_id], enrolled_only=False)
        listed = {view.id for view in views if not view.deleted and view.end is not None}
        if {entry.id for entry in record.facts.entries} != listed:
            return None  # an entry changed since month_log read them
        fees = fee_schedule(session, month.year)
        result = evaluate(record.facts, zone, fees)
        patient = session.get(Patient, patient_id)
        assert patient is not None
        practice = practice_name(session)
        entries, overlaps, merged = build_entries(views, record, result, zone)
        numbers = {entry.entry_id: entry.number for entry in entries}
        who = record.billing_practitioner
        consents = _consents(session, patient_id)
        return TimeLog(
            practice=practice,
            zone=zone,
            month=month,
            generated_at=now,
            status=status_in(session, month),
            month_over=now.astimezone(zone).date() > month.last_day,
            mrn=record.mrn,
            patient_name=record.patient_name,
            dob=record.dob,
            sex=patient.sex or "",
            mbi=record.mbi or "",
            part_b=record.facts.part_b,
            practitioner=person(who.name, who.credential) if who else "",
            practitioner_npi=(who.npi or "") if who else "",
            complex_month=record.facts.complex_month,
            conditions=_conditions(session, patient_id, month),
            consents=consents,
            consent_applied=_applied(consents, record),
            visits=_visits(session, patient_id),
            care_plan_date=record.facts.care_plan_date,
            care_plans=_care_plans(session, patient_id, month.bounds_utc(zone)[1]),
            requirements=tuple(
                Requirement(REQUIREMENT_LABELS[c.reason], c.passed, c.reason) for c in result.checks
            ),
            entries=entries,
            overlaps=overlaps,
            changes=_changes(session, numbers, zone),
            logged_seconds=sum(e.length_seconds for e in entries if not e.deleted),
            counted_seconds=sum(e.counted_seconds for e in entries),
            merged_seconds=merged,
            minutes=result.minutes,
            clinical_minutes=result.clinical_minutes,
            practitioner_minutes=result.practitioner_minutes,
            billable=result.billable,
            codes=result.codes,
            amount=result.amount,
            reasons=result.reasons,
            fee_note=result.fee_note,
        )
