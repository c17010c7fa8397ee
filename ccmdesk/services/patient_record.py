"""One patient's record: read it whole, change it piece by piece (each change audited).

Edits are validated here, whatever the screen: a bad value raises
:class:`RecordError` naming the field, and nothing is written.  Demographic
edits carry the ``row_version`` the screen loaded; if someone else saved the
patient since, the edit is refused rather than silently overwriting theirs, and
the refusal says who saved what and when (from the audit trail).  That holds
when two seats save at the same instant too: the write is conditional on the
version, and every change runs in a write transaction (``Database.write``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ccmdesk.domain.chronic import is_chronic_by_default
from ccmdesk.domain.icd10 import default_index, normalize_icd10
from ccmdesk.domain.identifiers import mbi_problem, normalize_mbi
from ccmdesk.domain.time import Month
from ccmdesk.domain.vocabulary import CONSENT_METHODS, VISIT_TYPES
from ccmdesk.services import audit, conflicts
from ccmdesk.services.access import Permission, require
from ccmdesk.services.changes import Changes
from ccmdesk.services.practice import practice_zone
from ccmdesk.storage.database import Database
from ccmdesk.storage.limits import too_long
from ccmdesk.storage.models import (
    ComplexMonth,
    Condition,
    ConsentRecord,
    InitiatingVisit,
    Patient,
    Staff,
)

UTC = dt.timezone.utc
#: ``SELECT … FOR NO KEY UPDATE`` of the patient (PostgreSQL; SQLite's BEGIN IMMEDIATE
#: already serializes): two seats adding the same code or flag queue instead of both
#: passing the "already there?" check, while time entries for the patient still insert.
PATIENT_LOCK = {"key_share": True}


class RecordError(ValueError):
    """A refused change; ``field`` names what was wrong."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


@dataclass(frozen=True)
class StaffChoice:
    id: int
    name: str
    credential: str
    role: str

    @property
    def label(self) -> str:
        return f"{self.name}, {self.credential}" if self.credential else self.name


@dataclass(frozen=True)
class ConditionView:
    id: int
    code: str
    description: str
    onset: dt.date | None
    resolved: dt.date | None
    chronic: bool
    chronic_overridden: bool


@dataclass(frozen=True)
class ConsentView:
    id: int
    consent_date: dt.date
    method: str
    declined: bool
    opt_out_date: dt.date | None
    told_all: bool
    obtained_by: str


@dataclass(frozen=True)
class VisitView:
    id: int
    visit_date: dt.date
    visit_type: str


@dataclass(frozen=True)
class PatientDetail:
    id: int
    row_version: int
    mrn: str
    first_name: str
    last_name: str
    dob: dt.date
    sex: str | None
    mbi: str | None
    phone: str
    address: str
    language: str
    caregiver: str
    part_b: bool
    billing_practitioner_id: int | None
    care_manager_id: int | None
    care_plan_date: dt.date | None
    conditions: tuple[ConditionView, ...] = ()
    consents: tuple[ConsentView, ...] = ()
    visits: tuple[VisitView, ...] = ()
    complex_months: frozenset[str] = field(default_factory=frozenset)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


#: Demographic fields a screen may change, with their plain names for messages.
EDITABLE = {
    "first_name": "First name",
    "last_name": "Last name",
    "dob": "Date of birth",
    "sex": "Sex",
    "mbi": "MBI",
    "phone": "Phone",
    "address": "Address",
    "language": "Language",
    "caregiver": "Caregiver",
    "part_b": "Medicare Part B",
    "billing_practitioner_id": "Billing practitioner",
    "care_manager_id": "Care manager",
}


def staff_choices(db: Database) -> list[StaffChoice]:
    with db.transaction() as session:
        rows = session.execute(
            select(Staff.id, Staff.name, Staff.credential, Staff.role)
            .where(Staff.active)
            .order_by(Staff.name)
        )
        return [StaffChoice(*row) for row in rows]


def load_patient(db: Database, patient_id: int) -> PatientDetail:
    with db.transaction() as session:
        patient = session.get(Patient, patient_id)
        if patient is None:
            raise LookupError(f"no patient with id {patient_id}")
        names = dict(session.execute(select(Staff.id, Staff.name)).all())
        conditions = session.scalars(
            select(Condition).where(Condition.patient_id == patient_id).order_by(Condition.code)
        )
        consents = session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.patient_id == patient_id)
            .order_by(ConsentRecord.consent_date)
        )
        visits = session.scalars(
            select(InitiatingVisit)
            .where(InitiatingVisit.patient_id == patient_id)
            .order_by(InitiatingVisit.visit_date)
        )
        flagged = session.scalars(
            select(ComplexMonth.month).where(ComplexMonth.patient_id == patient_id)
        )
        return PatientDetail(
            id=patient.id,
            row_version=patient.row_version,
            mrn=patient.mrn,
            first_name=patient.first_name,
            last_name=patient.last_name,
            dob=patient.dob,
            sex=patient.sex,
            mbi=patient.mbi,
            phone=patient.phone,
            address=patient.address,
            language=patient.language,
            caregiver=patient.caregiver,
            part_b=patient.part_b,
            billing_practitioner_id=patient.billing_practitioner_id,
            care_manager_id=patient.care_manager_id,
            care_plan_date=patient.care_plan_date,
            conditions=tuple(
                ConditionView(
                    c.id,
                    c.code,
                    c.description,
                    c.onset,
                    c.resolved,
                    c.chronic,
                    c.chronic_overridden,
                )
                for c in conditions
            ),
            consents=tuple(
                ConsentView(
                    c.id,
                    c.consent_date,
                    c.method,
                    c.declined,
                    c.opt_out_date,
                    all(
                        (
                            c.told_availability,
                            c.told_cost_sharing,
                            c.told_stop_anytime,
                            c.told_one_practitioner,
                        )
                    ),
                    names.get(c.obtained_by_id, "") if c.obtained_by_id else "",
                )
                for c in consents
            ),
            visits=tuple(VisitView(v.id, v.visit_date, v.visit_type) for v in visits),
            complex_months=frozenset(flagged),
        )


def _clean(name: str, value: object, session: Session, today: dt.date) -> object:
    """Validate one demographic field; return the value to store."""
    label = EDITABLE[name]
    if name in ("first_name", "last_name"):
        text = str(value).strip()
        if not text:
            raise RecordError(name, f"{label} cannot be empty")
        if len(text) > 100:
            raise RecordError(name, f"{label} is longer than 100 characters")
        return text
    if name == "dob":
        if not isinstance(value, dt.date):
            raise RecordError(name, f"{label} must be a date")
        if value > today or value.year < 1900:
            raise RecordError(name, f"{label} {value:%m/%d/%Y} is not plausible")
        return value
    if name == "sex":
        text = (str(value or "")).strip().upper() or None
        if text not in (None, "F", "M", "X"):
            raise RecordError(name, "Sex must be F, M, X or empty")
        return text
    if name == "mbi":
        text = str(value or "").strip()
        if not text:
            return None
        problem = mbi_problem(text)
        if problem:
            raise RecordError(name, f"MBI {problem}")
        return normalize_mbi(text)
    if name == "part_b":
        return bool(value)
    if name in ("billing_practitioner_id", "care_manager_id"):
        if value is None:
            return None
        staff = session.get(Staff, int(value))  # type: ignore[call-overload]
        if staff is None:
            raise RecordError(name, f"{label}: no such staff member")
        if name == "billing_practitioner_id" and staff.role != "practitioner":
            raise RecordError(name, f"{staff.name} is not a billing practitioner")
        if name == "care_manager_id" and staff.role == "non_clinical":
            raise RecordError(name, f"{staff.name} is not clinical staff")
        return staff.id
    text = str(value or "")
    overlong = too_long(getattr(Patient, name), text)  # phone, language: PostgreSQL refuses
    if overlong:
        raise RecordError(name, f"{label} {overlong}")
    return text


def update_patient(
    db: Database,
    patient_id: int,
    row_version: int,
    values: dict[str, object],
    actor: audit.Actor,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Changes:
    """Save demographic changes made on a copy loaded at ``row_version``.

    The write itself is conditional on ``row_version`` (see :func:`_claim`), so
    of two seats saving the same copy at once exactly one wins, on SQLite and
    on PostgreSQL alike; the other is told who saved what.
    """
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise RecordError(sorted(unknown)[0], "this field cannot be edited here")
    today = today or dt.date.today()
    now = (now or dt.datetime.now(UTC)).astimezone(UTC)
    with db.write() as session:
        require(session, actor, Permission.EDIT_PATIENTS, lambda message: RecordError("", message))
        patient = session.get(Patient, patient_id)
        if patient is None:
            raise LookupError(f"no patient with id {patient_id}")
        if patient.row_version != row_version:
            raise _stale(session, patient_id, row_version, patient.row_version, actor, now)
        cleaned = {name: _clean(name, value, session, today) for name, value in values.items()}
        if cleaned.get("mbi"):
            owner = session.scalar(
                select(Patient.mrn).where(Patient.mbi == cleaned["mbi"], Patient.id != patient_id)
            )
            if owner:
                raise RecordError("mbi", f"MBI {cleaned['mbi']} already belongs to patient {owner}")
        before = {k: getattr(patient, k) for k, v in cleaned.items() if getattr(patient, k) != v}
        if not before:
            return Changes()
        after = {k: cleaned[k] for k in before}
        if not _claim(session, patient_id, row_version, after, now):
            current = session.scalar(select(Patient.row_version).where(Patient.id == patient_id))
            raise _stale(session, patient_id, row_version, current or 0, actor, now)
        audit.record(
            session,
            actor,
            "update",
            "patient",
            entity_id=patient_id,
            patient_id=patient_id,
            before=before,
            after=after,
            at=now,
        )
        return Changes(frozenset({patient_id}))


def _claim(
    session: Session, patient_id: int, seen: int, values: dict[str, object], now: dt.datetime
) -> bool:
    """``UPDATE … WHERE row_version = seen``: False when another save got there first.

    On PostgreSQL (READ COMMITTED) a second save waits for the first one's row
    lock, then finds the version moved on and updates nothing: no lost update,
    even though both read version ``seen``.
    """
    result = session.execute(
        update(Patient)
        .where(Patient.id == patient_id, Patient.row_version == seen)
        .values(**values, row_version=seen + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _stale(
    session: Session,
    patient_id: int,
    seen: int,
    current: int,
    actor: audit.Actor,
    now: dt.datetime,
) -> RecordError:
    """The refusal of a save over a newer one, saying who changed what meanwhile."""
    saves = conflicts.saves_since(session, seen, current, entity="patient", entity_id=patient_id)
    staff = conflicts.staff_names(session)
    zone = practice_zone(session)
    said = conflicts.describe(
        saves,
        actor,
        zone,
        lambda s: conflicts.field_changes(s, EDITABLE, zone, staff),
        now,
    )
    return RecordError(
        "row_version",
        "someone else saved this patient since you opened it"
        + (f": {said}" if said else "")
        + ". Undo changes (or reopen the patient) to see their changes, then make yours again",
    )


def add_condition(
    db: Database,
    patient_id: int,
    code: str,
    actor: audit.Actor,
    onset: dt.date | None = None,
) -> Changes:
    """Add a coded condition; chronic by default from the shipped list."""
    code = normalize_icd10(code)
    description = default_index().description(code)
    if description is None:
        raise RecordError("code", f"{code} is not an ICD-10-CM code")
    with db.write() as session:
        require(session, actor, Permission.EDIT_PATIENTS, lambda message: RecordError("", message))
        if session.get(Patient, patient_id, with_for_update=PATIENT_LOCK) is None:
            raise LookupError(f"no patient with id {patient_id}")
        present = session.scalar(
            select(Condition.id).where(
                Condition.patient_id == patient_id,
                Condition.code == code,
                Condition.resolved.is_(None),
            )
        )
        if present:
            raise RecordError("code", f"{code} is already on the problem list")
        condition = Condition(
            patient_id=patient_id,
            code=code,
            description=description,
            onset=onset,
            chronic=is_chronic_by_default(code),
            chronic_overridden=False,
        )
        session.add(condition)
        session.flush()
        audit.record(
            session,
            actor,
            "create",
            "condition",
            entity_id=condition.id,
            patient_id=patient_id,
            after={"code": code, "chronic": condition.chronic, "onset": onset},
        )
        return Changes(frozenset({patient_id}))


def update_condition(
    db: Database,
    condition_id: int,
    actor: audit.Actor,
    *,
    chronic: bool | None = None,
    onset: dt.date | None = None,
    resolved: dt.date | None = None,
) -> Changes:
    """Override the chronic flag, or set onset / resolution dates."""
    with db.write() as session:
        require(session, actor, Permission.EDIT_PATIENTS, lambda message: RecordError("", message))
        condition = session.get(Condition, condition_id, with_for_update=True)
        if condition is None:
            raise LookupError(f"no condition with id {condition_id}")
        before = {
            "chronic": condition.chronic,
            "onset": condition.onset,
            "resolved": condition.resolved,
        }
        if chronic is not None and chronic != condition.chronic:
            condition.chronic = chronic
            condition.chronic_overridden = chronic != is_chronic_by_default(condition.code)
        condition.onset = onset if onset is not None else condition.onset
        condition.resolved = resolved if resolved is not None else condition.resolved
        if condition.onset and condition.resolved and condition.resolved < condition.onset:
            raise RecordError("resolved", "the resolution date is before the onset")
        after = {
            "chronic": condition.chronic,
            "onset": condition.onset,
            "resolved": condition.resolved,
        }
        changed = {k for k in after if after[k] != before[k]}
        if not changed:
            return Changes()
        audit.record(
            session,
            actor,
            "update",
            "condition",
            entity_id=condition_id,
            patient_id=condition.patient_id,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
        return Changes(frozenset({condition.patient_id}))


def record_consent(
    db: Database,
    patient_id: int,
    consent_date: dt.date,
    method: str,
    actor: audit.Actor,
    *,
    told: tuple[bool, bool, bool, bool],
    declined: bool = False,
    obtained_by_id: int | None = None,
    today: dt.date | None = None,
) -> Changes:
    """Record consent (all four points told) or the patient's refusal."""
    today = today or dt.date.today()
    if method not in CONSENT_METHODS:
        raise RecordError("method", "say whether consent was verbal or written")
    if consent_date > today:
        raise RecordError("consent_date", "the consent date is in the future")
    if not declined and not all(told):
        raise RecordError(
            "told",
            "consent needs all four points told: CCM is available, cost sharing applies,"
            " the patient may stop at any time, only one practitioner bills CCM a month",
        )
    with db.write() as session:
        require(session, actor, Permission.EDIT_PATIENTS, lambda message: RecordError("", message))
        patient = session.get(Patient, patient_id)
        if patient is None:
            raise LookupError(f"no patient with id {patient_id}")
        record = ConsentRecord(
            patient_id=patient_id,
            consent_date=consent_date,
            method=method,
            obtained_by_id=obtained_by_id or actor.id,
            practitioner_id=patient.billing_practitioner_id,
            told_availability=told[0],
            told_cost_sharing=told[1],
            told_stop_anytime=told[2],
            told_one_practitioner=told[3],
            declined=declined,
            created_at=dt.datetime.now(UTC),
        )
        session.add(record)
        session.flush()
        audit.record(
            session,
            actor,
            "create",
            "consent_record",
            entity_id=record.id,
            patient_id=patient_id,
            after={"consent_date": consent_date, "method": method, "declined": declined},
        )
        return Changes(frozenset({patient_id}))


def record_opt_out(
    db: Database,
    consent_id: int,
    opt_out_date: dt.date,
    actor: audit.Actor,
    today: dt.date | None = None,
) -> Changes:
    """The patient stops CCM; effective at the end of that calendar month."""
    today = today or dt.date.today()
    if opt_out_date > today:
        raise RecordError("opt_out_date", "the opt-out date is in the future")
    with db.write() as session:
        require(session, actor, Permission.EDIT_PATIENTS, lambda message: RecordError("", message))
        consent = session.get(ConsentRecord, consent_id, with_for_update=True)
        if consent is None or consent.declined:
            raise RecordError("consent", "choose the consent the patient is withdrawing")
        if opt_out_date < consent.consent_date:
            raise RecordError("opt_out_date", "the opt-out is before the consent date")
        before = {"opt_out_date": consent.opt_out_date}
        consent.opt_out_date = opt_out_date
        audit.record(
            session,
            actor,
            "update",
            "consent_record",
            entity_id=consent_id,
            patient_id=consent.patient_id,
            before=before,
            after={"opt_out_date": opt_out_date},
        )
        return Changes(frozenset({consent.patient_id}))


def add_initiating_visit(
    db: Database,
    patient_id: int,
    visit_date: dt.date,
    visit_type: str,
    actor: audit.Actor,
    today: dt.date | None = None,
) -> Changes:
    today = today or dt.date.today()
    if visit_type not in VISIT_TYPES:
        raise RecordError("visit_type", f"{visit_type!r} is not a visit type")
    if visit_date > today:
        raise RecordError("visit_date", "the visit date is in the future")
    with db.write() as session:
        require(session, actor, Permission.EDIT_PATIENTS, lambda message: RecordError("", message))
        patient = session.get(Patient, patient_id)
        if patient is None:
            raise LookupError(f"no patient with id {patient_id}")
        visit = InitiatingVisit(
            patient_id=patient_id,
            visit_date=visit_date,
            visit_type=visit_type,
            practitioner_id=patient.billing_practitioner_id,
        )
        session.add(visit)
        session.flush()
        audit.record(
            session,
            actor,
            "create",
            "initiating_visit",
            entity_id=visit.id,
            patient_id=patient_id,
            after={"visit_date": visit_date, "visit_type": visit_type},
        )
        return Changes(frozenset({patient_id}))


def set_complex_month(
    db: Database, patient_id: int, month: Month, flagged: bool, actor: audit.Actor
) -> Changes:
    """Flag (or unflag) a month as complex CCM (moderate or high medical decision making)."""
    with db.write() as session:
        require(session, actor, Permission.FLAG_COMPLEX, lambda message: RecordError("", message))
        if session.get(Patient, patient_id, with_for_update=PATIENT_LOCK) is None:
            raise LookupError(f"no patient with id {patient_id}")
        row = session.scalar(
            select(ComplexMonth).where(
                ComplexMonth.patient_id == patient_id, ComplexMonth.month == str(month)
            )
        )
        if flagged == (row is not None):
            return Changes()
        if flagged:
            session.add(
                ComplexMonth(
                    patient_id=patient_id,
                    month=str(month),
                    flagged_by_id=actor.id,
                    created_at=dt.datetime.now(UTC),
                )
            )
        else:
            session.delete(row)
        audit.record(
            session,
            actor,
            "update",
            "complex_month",
            patient_id=patient_id,
            before={"month": str(month), "complex": not flagged},
            after={"month": str(month), "complex": flagged},
        )
        return Changes(frozenset({patient_id}), frozenset({month}))
