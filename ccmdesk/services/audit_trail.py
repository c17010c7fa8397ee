"""Reading the audit trail: filtered pages for the administrator's browser, and its CSV.

Only someone who may read the audit trail (an administrator, or the command
line) gets anything here.  Rows are handed out as frozen dataclasses with the
patient's name and MRN joined in: ``audit_event.patient_id`` has no foreign
key (the trail outlives what it describes), so the join is a left join and a
patient who is gone simply shows no name.  Dates in filters are the
practice's calendar days, turned into UTC instants here, so "11/03" means the
practice's 11/03 whatever the computer's zone.  Plain, portable SQL: the same
statements run on SQLite and PostgreSQL, newest first by ``at`` then ``id``,
which the ``at`` index serves.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ccmdesk.domain.time import start_of_day_utc
from ccmdesk.files import atomic_target
from ccmdesk.services import audit
from ccmdesk.services.access import Permission, actor_permissions, require
from ccmdesk.services.audit_changes import FieldChange, field_changes, summary
from ccmdesk.services.practice import practice_zone
from ccmdesk.storage.database import Database
from ccmdesk.storage.models import AuditEvent, Patient, Staff

PAGE_SIZE = 200
CSV_COLUMNS = (
    "when",
    "user",
    "action",
    "entity",
    "entity_id",
    "patient_mrn",
    "patient_name",
    "detail",
    "before",
    "after",
)
#: A spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class AuditTrailError(ValueError):
    """A refused read or export; the message says why."""


@dataclass(frozen=True)
class AuditFilter:
    """What to show; ``None`` means "any".  Days are the practice's, both inclusive."""

    patient_id: int | None = None
    actor_id: int | None = None
    first_day: dt.date | None = None
    last_day: dt.date | None = None
    action: str | None = None
    entity: str | None = None

    def describe(self) -> str:
        """The filters as the export's audit event records them."""
        parts = [
            f"{name}={value}"
            for name, value in (
                ("patient_id", self.patient_id),
                ("actor_id", self.actor_id),
                ("from", self.first_day),
                ("to", self.last_day),
                ("action", self.action),
                ("entity", self.entity),
            )
            if value is not None
        ]
        return ", ".join(parts) or "all events"


@dataclass(frozen=True)
class AuditRow:
    """One event as the browser shows it (times are UTC; the screen localises them)."""

    id: int
    at: dt.datetime
    actor_id: int | None
    actor: str
    action: str
    entity: str
    entity_id: int | None
    patient_id: int | None
    patient_name: str
    patient_mrn: str
    detail: str
    before: str | None
    after: str | None
    summary: str
    changes: tuple[FieldChange, ...]


@dataclass(frozen=True)
class AuditPage:
    rows: tuple[AuditRow, ...]
    total: int
    offset: int
    limit: int

    @property
    def has_newer(self) -> bool:
        return self.offset > 0

    @property
    def has_older(self) -> bool:
        return self.offset + len(self.rows) < self.total


@dataclass(frozen=True)
class PatientChoice:
    id: int
    name: str  # "Last, First"
    mrn: str

    @property
    def label(self) -> str:
        return f"{self.name} · {self.mrn}"


@dataclass(frozen=True)
class UserChoice:
    id: int
    name: str
    active: bool


@dataclass(frozen=True)
class AuditChoices:
    """What the filter bar offers: every user and patient, the actions and entities present."""

    users: tuple[UserChoice, ...]
    patients: tuple[PatientChoice, ...]
    actions: tuple[str, ...]
    entities: tuple[str, ...]


def _require(session: Session, actor: audit.Actor) -> None:
    require(session, actor, Permission.READ_AUDIT, AuditTrailError)


def may_read(db: Database, actor: audit.Actor) -> bool:
    """Whether ``actor`` may read the trail now (to enable the menu entry)."""
    with db.transaction() as session:
        return Permission.READ_AUDIT in actor_permissions(session, actor)


def _conditions(filters: AuditFilter, zone: dt.tzinfo) -> list[Any]:
    if filters.first_day and filters.last_day and filters.first_day > filters.last_day:
        raise AuditTrailError("the 'from' date is after the 'to' date")
    conditions: list[Any] = []
    if filters.patient_id is not None:
        conditions.append(AuditEvent.patient_id == filters.patient_id)
    if filters.actor_id is not None:
        conditions.append(AuditEvent.actor_id == filters.actor_id)
    if filters.first_day is not None:
        conditions.append(AuditEvent.at >= start_of_day_utc(filters.first_day, zone))
    if filters.last_day is not None:
        next_day = filters.last_day + dt.timedelta(days=1)
        conditions.append(AuditEvent.at < start_of_day_utc(next_day, zone))
    if filters.action:
        conditions.append(AuditEvent.action == filters.action)
    if filters.entity:
        conditions.append(AuditEvent.entity == filters.entity)
    return conditions


def _rows_query(conditions: list[Any]) -> Select[Any]:
    return (
        select(
            AuditEvent.id,
            AuditEvent.at,
            AuditEvent.actor_id,
            AuditEvent.actor,
            AuditEvent.action,
            AuditEvent.entity,
            AuditEvent.entity_id,
            AuditEvent.patient_id,
            AuditEvent.detail,
            AuditEvent.before,
            AuditEvent.after,
            Patient.first_name,
            Patient.last_name,
            Patient.mrn,
        )
        .outerjoin(Patient, Patient.id == AuditEvent.patient_id)
        .where(*conditions)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )


def _patient_name(row: Any) -> str:
    if row.last_name is None:
        return ""
    return f"{row.last_name}, {row.first_name}"


def _staff_names(session: Session) -> dict[int, str]:
    return {row.id: row.name for row in session.execute(select(Staff.id, Staff.name))}


def audit_page(
    db: Database,
    actor: audit.Actor,
    filters: AuditFilter = AuditFilter(),  # frozen, so one shared default is safe
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> AuditPage:
    """One page of matching events, newest first, with the number matching in all."""
    with db.transaction() as session:
        _require(session, actor)
        zone = practice_zone(session)
        conditions = _conditions(filters, zone)
        total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions))
        staff = _staff_names(session)
        found = session.execute(_rows_query(conditions).offset(max(0, offset)).limit(limit))
        rows = tuple(
            AuditRow(
                id=row.id,
                at=row.at,
                actor_id=row.actor_id,
                actor=row.actor,
                action=row.action,
                entity=row.entity,
                entity_id=row.entity_id,
                patient_id=row.patient_id,
                patient_name=_patient_name(row),
                patient_mrn=row.mrn or "",
                detail=row.detail or "",
                before=row.before,
                after=row.after,
                summary=summary(row.before, row.after, zone, staff),
                changes=field_changes(row.before, row.after, zone, staff),
            )
            for row in found
        )
    return AuditPage(rows, total or 0, max(0, offset), limit)


def filter_choices(db: Database, actor: audit.Actor) -> AuditChoices:
    with db.transaction() as session:
        _require(session, actor)
        users = tuple(
            UserChoice(row.id, row.name, bool(row.active))
            for row in session.execute(
                select(Staff.id, Staff.name, Staff.active).order_by(Staff.name, Staff.id)
            )
        )
        patients = tuple(
            PatientChoice(row.id, f"{row.last_name}, {row.first_name}", row.mrn)
            for row in session.execute(
                select(Patient.id, Patient.first_name, Patient.last_name, Patient.mrn).order_by(
                    Patient.last_name, Patient.first_name, Patient.mrn
                )
            )
        )
        # one pass over the trail for both lists (there is no index on either column)
        pairs = session.execute(select(AuditEvent.action, AuditEvent.entity).distinct()).all()
    actions = tuple(sorted({action for action, _ in pairs}))
    entities = tuple(sorted({entity for _, entity in pairs}))
    return AuditChoices(users, patients, actions, entities)


# -- the CSV export ------------------------------------------------------------------


def _cell(text: str) -> str:
    """Free text that a spreadsheet would run as a formula is shown as text instead."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv_records(rows: Iterable[Any], zone: dt.tzinfo) -> Iterable[list[str]]:
    # Rows are unpacked as tuples: at 270,000 events, attribute access by name
    # costs more than formatting the times.
    for (
        _id, at, _actor_id, actor, action, entity, entity_id, _patient_id,
        detail, before, after, first_name, last_name, mrn,
    ) in rows:  # fmt: skip
        yield [
            at.astimezone(zone).isoformat(timespec="seconds"),
            _cell(actor),
            action,
            entity,
            "" if entity_id is None else str(entity_id),
            mrn or "",
            _cell(f"{last_name}, {first_name}") if last_name is not None else "",
            _cell(detail or ""),
            before or "",
            after or "",
        ]


def write_csv(session: Session, handle: TextIO, filters: AuditFilter) -> int:
    """Write every matching event (not just a page) to ``handle``; the number written.

    Rows are streamed in batches through the Core connection (no ORM row
    processing is needed for plain columns), so a trail of any length fits in
    memory.
    """
    zone = practice_zone(session)
    query = _rows_query(_conditions(filters, zone))
    result = session.connection().execution_options(yield_per=2000).execute(query)
    writer = csv.writer(handle, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for record in _csv_records(result, zone):
        writer.writerow(record)
        count += 1
    return count


def export_csv(
    db: Database,
    actor: audit.Actor,
    filters: AuditFilter,
    target: Path,
    now: dt.datetime | None = None,
) -> int:
    """Export the filtered trail to ``target``; the export itself is audited.

    The file appears only once the export's audit event is committed: no
    export leaves the building unrecorded, and a failed one leaves no file.
    """
    with atomic_target(Path(target)) as partial:
        with db.transaction() as session:
            _require(session, actor)
            with partial.open("w", newline="", encoding="utf-8") as handle:
                count = write_csv(session, handle, filters)
        with db.transaction() as session:
            audit.record(
                session,
                actor,
                "export",
                "audit_trail",
                patient_id=filters.patient_id,
                detail=f"{filters.describe()}; {count} events",
                at=now,
            )
    return count
