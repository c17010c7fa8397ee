"""``ccmdesk import patients FILE.csv`` (SPEC §2.1).

Patients are matched by MRN.  A new MRN adds a patient; a known MRN updates
the fields the row fills in and adds the conditions, consent, visit and
complex months it does not have yet.  Nothing is ever removed or blanked by
an import: an empty cell means the file says nothing.  An imported consent is
taken as having covered the four points of SPEC §1.1.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccmdesk.domain.chronic import is_chronic_by_default
from ccmdesk.domain.icd10 import default_index, normalize_icd10
from ccmdesk.domain.identifiers import mbi_problem, normalize_mbi, normalize_npi, npi_problem
from ccmdesk.domain.vocabulary import CONSENT_METHODS
from ccmdesk.services import audit
from ccmdesk.services.access import Permission, require
from ccmdesk.services.imports.common import (
    CsvRow,
    ImportSummary,
    Problems,
    parse_date,
    parse_month_text,
    read_rows,
)
from ccmdesk.services.practice import practice_zone
from ccmdesk.storage.database import Database
from ccmdesk.storage.models import (
    ComplexMonth,
    Condition,
    ConsentRecord,
    InitiatingVisit,
    Patient,
    Staff,
)

COLUMNS = (
    "mrn",
    "first_name",
    "last_name",
    "dob",
    "sex",
    "mbi",
    "phone",
    "billing_npi",
    "part_b",
    "conditions",
    "consent_date",
    "consent_method",
    "initiating_visit_date",
    "care_plan_date",
    "opt_out_date",
    "complex_months",
)
REQUIRED = ("mrn", "first_name", "last_name", "dob")
DATE_COLUMNS = ("consent_date", "initiating_visit_date", "care_plan_date", "opt_out_date")


@dataclass
class PatientRow:
    line: int
    mrn: str
    fields: dict[str, object]  # Patient columns the row fills in
    conditions: list[str] = field(default_factory=list)
    consent_date: dt.date | None = None
    consent_method: str | None = None
    visit_date: dt.date | None = None
    opt_out_date: dt.date | None = None
    complex_months: list[str] = field(default_factory=list)


class _Validator:
    """Checks one row at a time, remembering what must be unique in the file."""

    def __init__(self, problems: Problems, today: dt.date, practitioners: dict[str, int]):
        self.problems = problems
        self.today = today
        self.practitioners = practitioners
        self.mrn_lines: dict[str, int] = {}
        self.mbi_lines: dict[str, int] = {}

    def row(self, row: CsvRow) -> PatientRow | None:
        before = len(self.problems.items)
        add = self.problems.add
        line = row.line
        mrn = row.get("mrn")
        if not mrn:
            add(line, "mrn", "is empty")
        elif len(mrn) > 40:
            add(line, "mrn", "is longer than 40 characters")
        elif mrn in self.mrn_lines:
            add(line, "mrn", f"{mrn} is also on line {self.mrn_lines[mrn]}")
        else:
            self.mrn_lines[mrn] = line
        fields: dict[str, object] = {}
        for column in ("first_name", "last_name"):
            value = row.get(column)
            if not value:
                add(line, column, "is empty")
            elif len(value) > 100:
                add(line, column, "is longer than 100 characters")
            fields[column] = value
        fields["dob"] = self._date(row, "dob")
        if isinstance(fields["dob"], dt.date) and fields["dob"].year < 1900:
            add(line, "dob", f"{row.get('dob')} is before 1900")
        sex = row.get("sex").upper()
        if sex not in ("", "F", "M", "X"):
            add(line, "sex", f"{row.get('sex')!r} is not F, M, X or empty")
        elif sex:
            fields["sex"] = sex
        self._mbi(row, fields)
        phone = row.get("phone")
        if len(phone) > 40:
            add(line, "phone", "is longer than 40 characters")
        elif phone:
            fields["phone"] = phone
        self._practitioner(row, fields)
        part_b = row.get("part_b").lower()
        if part_b not in ("", "y", "n"):
            add(line, "part_b", f"{row.get('part_b')!r} is not y or n")
        elif part_b:
            fields["part_b"] = part_b == "y"
        result = PatientRow(line, mrn, fields)
        result.conditions = self._conditions(row)
        dates = {column: self._date(row, column) for column in DATE_COLUMNS}
        result.consent_date = dates["consent_date"]
        result.visit_date = dates["initiating_visit_date"]
        result.opt_out_date = dates["opt_out_date"]
        if dates["care_plan_date"]:
            fields["care_plan_date"] = dates["care_plan_date"]
        self._consent(row, result)
        result.complex_months = self._months(row)
        return result if len(self.problems.items) == before else None

    def _date(self, row: CsvRow, column: str) -> dt.date | None:
        text = row.get(column)
        if not text:
            if column == "dob":
                self.problems.add(row.line, column, "is empty")
            return None
        try:
            value = parse_date(text)
        except ValueError as error:
            self.problems.add(row.line, column, str(error))
            return None
        if value > self.today:
            self.problems.add(row.line, column, f"{text} is in the future")
            return None
        return value

    def _mbi(self, row: CsvRow, fields: dict[str, object]) -> None:
        text = row.get("mbi")
        if not text:
            return
        mbi = normalize_mbi(text)
        problem = mbi_problem(mbi)
        if problem:
            self.problems.add(row.line, "mbi", f"{text!r} is not a valid MBI: {problem}")
        elif mbi in self.mbi_lines:
            self.problems.add(row.line, "mbi", f"{mbi} is also on line {self.mbi_lines[mbi]}")
        else:
            self.mbi_lines[mbi] = row.line
            fields["mbi"] = mbi

    def _practitioner(self, row: CsvRow, fields: dict[str, object]) -> None:
        text = row.get("billing_npi")
        if not text:
            return
        npi = normalize_npi(text)
        problem = npi_problem(npi)
        if problem:
            self.problems.add(row.line, "billing_npi", f"{text!r} is not a valid NPI: {problem}")
        elif npi not in self.practitioners:
            self.problems.add(
                row.line,
                "billing_npi",
                f"no practitioner with NPI {npi}; import the staff file first",
            )
        else:
            fields["billing_practitioner_id"] = self.practitioners[npi]

    def _conditions(self, row: CsvRow) -> list[str]:
        codes: list[str] = []
        index = default_index()
        for raw in row.get("conditions").split(";"):
            if not raw.strip():
                continue
            code = normalize_icd10(raw)
            if not index.is_valid(code):
                self.problems.add(
                    row.line, "conditions", f"{raw.strip()!r} is not an ICD-10-CM code"
                )
            elif code not in codes:
                codes.append(code)
        return codes

    def _consent(self, row: CsvRow, result: PatientRow) -> None:
        method = row.get("consent_method").lower()
        if method and method not in CONSENT_METHODS:
            self.problems.add(
                row.line,
                "consent_method",
                f"{row.get('consent_method')!r} is not verbal or written",
            )
        elif method and not row.get("consent_date"):
            self.problems.add(row.line, "consent_date", "is empty but consent_method is given")
        elif row.get("consent_date") and not method:
            self.problems.add(row.line, "consent_method", "is empty; say verbal or written")
        else:
            result.consent_method = method or None
        if (
            result.opt_out_date
            and result.consent_date
            and result.opt_out_date < result.consent_date
        ):
            self.problems.add(row.line, "opt_out_date", "is before the consent date")

    def _months(self, row: CsvRow) -> list[str]:
        months: list[str] = []
        for raw in row.get("complex_months").split(";"):
            text = raw.strip()
            if not text:
                continue
            try:
                month = parse_month_text(text)
            except ValueError as error:
                self.problems.add(row.line, "complex_months", str(error))
                continue
            if month not in months:
                months.append(month)
        return months


def import_patients(
    db: Database, path: Path, actor: audit.Actor, today: dt.date | None = None
) -> ImportSummary:
    problems = Problems()
    with db.transaction() as session:
        require(session, actor, Permission.EDIT_PATIENTS)
        zone = practice_zone(session)
        practitioners = {
            npi: staff_id
            for staff_id, npi in session.execute(
                select(Staff.id, Staff.npi).where(
                    Staff.role == "practitioner", Staff.npi.isnot(None)
                )
            )
        }
    today = today or dt.datetime.now(zone).date()
    validator = _Validator(problems, today, practitioners)
    rows = [
        r for r in (validator.row(row) for row in read_rows(path, COLUMNS, REQUIRED, problems)) if r
    ]
    problems.raise_if_any(str(path))
    summary = ImportSummary("patients", rows=len(rows))
    now = dt.datetime.now(dt.timezone.utc)
    with db.write() as session:
        writer = _Writer(session, actor, problems, now)
        for row in rows:
            writer.write(row, summary)
        problems.raise_if_any(str(path))  # rolls the transaction back
        audit.record(session, actor, "import", "patient", detail=summary.describe())
    return summary


class _Writer:
    def __init__(self, session: Session, actor: audit.Actor, problems: Problems, now: dt.datetime):
        self.session, self.actor, self.problems, self.now = session, actor, problems, now
        self.patients = {
            p.mrn: p for p in session.scalars(select(Patient).with_for_update(key_share=True))
        }
        self.mbi_owner = {p.mbi: p.mrn for p in self.patients.values() if p.mbi}
        index = default_index()
        self.describe = lambda code: index.description(code) or ""
        # Everything already on record, loaded once rather than once per row.
        self.codes: dict[int, set[str]] = defaultdict(set)
        for pid, code in session.execute(select(Condition.patient_id, Condition.code)):
            self.codes[pid].add(code)
        self.consents: dict[int, list[ConsentRecord]] = defaultdict(list)
        for consent in session.scalars(select(ConsentRecord)):
            self.consents[consent.patient_id].append(consent)
        self.visits: dict[int, set[dt.date]] = defaultdict(set)
        visits = select(InitiatingVisit.patient_id, InitiatingVisit.visit_date)
        for pid, day in session.execute(visits):
            self.visits[pid].add(day)
        self.flagged: dict[int, set[str]] = defaultdict(set)
        for pid, month in session.execute(select(ComplexMonth.patient_id, ComplexMonth.month)):
            self.flagged[pid].add(month)

    def write(self, row: PatientRow, summary: ImportSummary) -> None:
        mbi = row.fields.get("mbi")
        owner = self.mbi_owner.get(mbi) if mbi else None
        if owner is not None and owner != row.mrn:
            self.problems.add(row.line, "mbi", f"{mbi} already belongs to patient {owner}")
            return
        patient = self.patients.get(row.mrn)
        changed = False
        created = patient is None
        if patient is None:
            values = {"part_b": True, **row.fields}
            patient = Patient(mrn=row.mrn, created_at=self.now, updated_at=self.now, **values)
            self.session.add(patient)
            self.session.flush()
            self.patients[row.mrn] = patient
            audit.record(
                self.session,
                self.actor,
                "create",
                "patient",
                entity_id=patient.id,
                patient_id=patient.id,
                after={"mrn": row.mrn, **row.fields},
            )
            summary.created += 1
        else:
            before = {
                k: getattr(patient, k) for k, v in row.fields.items() if getattr(patient, k) != v
            }
            if before:
                for key in before:
                    setattr(patient, key, row.fields[key])
                patient.updated_at = self.now
                patient.row_version += 1
                audit.record(
                    self.session,
                    self.actor,
                    "update",
                    "patient",
                    entity_id=patient.id,
                    patient_id=patient.id,
                    before=before,
                    after={k: row.fields[k] for k in before},
                )
                changed = True
        if mbi:
            self.mbi_owner[mbi] = row.mrn
        changed |= self._children(patient, row)
        if not created:
            if changed:
                summary.updated += 1
            else:
                summary.unchanged += 1

    def _add(self, patient: Patient, entity: str, obj: object, values: dict) -> None:
        self.session.add(obj)
        self.session.flush()
        audit.record(
            self.session,
            self.actor,
            "create",
            entity,
            entity_id=obj.id,  # type: ignore[attr-defined]
            patient_id=patient.id,
            after=values,
        )

    def _children(self, patient: Patient, row: PatientRow) -> bool:
        """Add the conditions, consent, visit and complex months not yet on record."""
        pid = patient.id
        changed = False
        have = self.codes[pid]
        for code in row.conditions:
            if code not in have:
                have.add(code)
                values = {
                    "code": code,
                    "description": self.describe(code),
                    "chronic": is_chronic_by_default(code),
                }
                self._add(patient, "condition", Condition(patient_id=pid, **values), values)
                changed = True
        consents = self.consents[pid]
        if row.consent_date and not any(
            c.consent_date == row.consent_date and not c.declined for c in consents
        ):
            values = {"consent_date": row.consent_date, "method": row.consent_method}
            record = ConsentRecord(
                patient_id=pid,
                consent_date=row.consent_date,
                method=row.consent_method,
                practitioner_id=patient.billing_practitioner_id,
                told_availability=True,
                told_cost_sharing=True,
                told_stop_anytime=True,
                told_one_practitioner=True,
                declined=False,
                created_at=self.now,
            )
            self._add(patient, "consent_record", record, values)
            consents.append(record)
            changed = True
        if row.opt_out_date:
            changed |= self._opt_out(patient, row, consents)
        visits = self.visits[pid]
        if row.visit_date and row.visit_date not in visits:
            visits.add(row.visit_date)
            values = {"visit_date": row.visit_date, "visit_type": "unspecified"}
            visit = InitiatingVisit(
                patient_id=pid, practitioner_id=patient.billing_practitioner_id, **values
            )
            self._add(patient, "initiating_visit", visit, values)
            changed = True
        flagged = self.flagged[pid]
        for month in row.complex_months:
            if month not in flagged:
                flagged.add(month)
                flag = ComplexMonth(patient_id=pid, month=month, created_at=self.now)
                self._add(patient, "complex_month", flag, {"month": month})
                changed = True
        return changed

    def _opt_out(self, patient: Patient, row: PatientRow, consents: list[ConsentRecord]) -> bool:
        given = sorted((c for c in consents if not c.declined), key=lambda c: c.consent_date)
        target = [c for c in given if c.consent_date <= row.opt_out_date]
        if not target:
            self.problems.add(
                row.line, "opt_out_date", "no consent on or before this date is on record"
            )
            return False
        consent = target[-1]
        if consent.opt_out_date == row.opt_out_date:
            return False
        before = {"opt_out_date": consent.opt_out_date}
        consent.opt_out_date = row.opt_out_date
        audit.record(
            self.session,
            self.actor,
            "update",
            "consent_record",
            entity_id=consent.id,
            patient_id=patient.id,
            before=before,
            after={"opt_out_date": row.opt_out_date},
        )
        return True
