"""``ccmdesk import time FILE.csv``: ``mrn,staff,start,end,minutes,activity,note``.

Times are local to the practice's zone unless they carry a UTC offset; a
local time that a DST change makes ambiguous or impossible is refused rather
than guessed.  ``end`` or ``minutes`` gives the length; both may be given if
they agree.  An entry already on record for the same patient, staff member
and start (deleted or not) is left exactly as it is, so re-importing a file
adds nothing and never changes an entry that was edited in ccmdesk since.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import insert, select

from ccmdesk.domain.identifiers import normalize_npi
from ccmdesk.domain.time import LocalTimeError, local_to_utc, months_touched
from ccmdesk.domain.vocabulary import ACTIVITY_TYPES, DEFAULT_ACTIVITY
from ccmdesk.services import audit
from ccmdesk.services.access import Permission, require
from ccmdesk.services.imports.common import (
    CsvRow,
    ImportSummary,
    Problems,
    lookup_by_name,
    read_rows,
)
from ccmdesk.services.month_close import hold_months
from ccmdesk.services.practice import practice_zone
from ccmdesk.storage.database import Database
from ccmdesk.storage.models import AuditEvent, MonthClose, Patient, Staff, TimeEntry
from ccmdesk.storage.month_facts import MAX_ENTRY

COLUMNS = ("mrn", "staff", "start", "end", "minutes", "activity", "note")
REQUIRED = ("mrn", "staff", "start")
_STAMP_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(Z|[+-]\d{2}:?\d{2})?$")
INSERT_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class EntryRow:
    line: int
    patient_id: int
    staff_id: int
    start: dt.datetime
    end: dt.datetime
    activity: str
    note: str


def parse_stamp(text: str, zone: dt.tzinfo) -> dt.datetime:
    """A ``YYYY-MM-DDTHH:MM[:SS]`` time, local to ``zone`` unless it has an offset."""
    match = _STAMP_RE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a date and time; use YYYY-MM-DDTHH:MM")
    try:
        value = dt.datetime.fromisoformat(f"{match[1]}T{match[2]}{match[3] or ''}")
    except ValueError:
        raise ValueError(f"{text!r} is not a real date and time") from None
    if value.tzinfo is None:
        return local_to_utc(value, zone)
    return value.astimezone(dt.timezone.utc)


class _Validator:
    def __init__(self, problems: Problems, lookups: _Lookups, now: dt.datetime):
        self.problems, self.lookups, self.now = problems, lookups, now
        self.keys: dict[tuple[int, int, dt.datetime], int] = {}

    def row(self, row: CsvRow) -> EntryRow | None:
        add, line, lookups = self.problems.add, row.line, self.lookups
        before = len(self.problems.items)
        mrn = row.get("mrn")
        patient_id = lookups.patients.get(mrn)
        if not mrn:
            add(line, "mrn", "is empty")
        elif patient_id is None:
            add(line, "mrn", f"no patient with MRN {mrn}")
        staff_id = self._staff(row)
        start = end = None
        try:
            start = parse_stamp(row.get("start"), lookups.zone) if row.get("start") else None
            if start is None:
                add(line, "start", "is empty")
        except (ValueError, LocalTimeError) as error:
            add(line, "start", str(error))
        try:
            end = self._end(row, start)
        except (ValueError, LocalTimeError) as error:
            add(line, error.args[1] if len(error.args) > 1 else "end", error.args[0])
        activity = row.get("activity") or DEFAULT_ACTIVITY
        if activity not in ACTIVITY_TYPES:
            add(line, "activity", f"{activity!r} is not one of {', '.join(ACTIVITY_TYPES)}")
        if start and end:
            self._span(line, start, end)
        if len(self.problems.items) != before:
            return None
        assert patient_id is not None and staff_id is not None and start and end
        key = (patient_id, staff_id, start)
        if key in self.keys:
            add(line, "start", f"same patient, staff and start as line {self.keys[key]}")
            return None
        self.keys[key] = line
        return EntryRow(line, patient_id, staff_id, start, end, activity, row.get("note"))

    def _staff(self, row: CsvRow) -> int | None:
        text = row.get("staff")
        if not text:
            self.problems.add(row.line, "staff", "is empty")
            return None
        staff_id = self.lookups.staff_npi.get(normalize_npi(text))
        if staff_id is None:
            staff_id, problem = lookup_by_name(self.lookups.staff_names, text)
            if problem:
                self.problems.add(row.line, "staff", problem)
        return staff_id

    def _end(self, row: CsvRow, start: dt.datetime | None) -> dt.datetime | None:
        end_text, minutes_text = row.get("end"), row.get("minutes")
        if not end_text and not minutes_text:
            raise ValueError("give either end or minutes", "end")
        end = parse_stamp(end_text, self.lookups.zone) if end_text else None
        if minutes_text:
            try:
                minutes = Decimal(minutes_text)
            except InvalidOperation:
                raise ValueError(f"{minutes_text!r} is not a number", "minutes") from None
            if not minutes.is_finite() or minutes <= 0:
                raise ValueError(f"{minutes_text!r} must be more than 0", "minutes")
            if start is not None:
                by_minutes = start + dt.timedelta(seconds=float(minutes * 60))
                if end is not None and abs(end - by_minutes) >= dt.timedelta(seconds=1):
                    raise ValueError(
                        f"end and minutes disagree ({minutes_text} minutes would end at "
                        f"{by_minutes.astimezone(self.lookups.zone):%H:%M:%S})",
                        "minutes",
                    )
                end = end or by_minutes
        return end

    def _span(self, line: int, start: dt.datetime, end: dt.datetime) -> None:
        add = self.problems.add
        if end <= start:
            add(line, "end", "is not after start")
        elif end - start > MAX_ENTRY:
            add(line, "end", "the entry is longer than 24 hours; split it")
        if end > self.now:
            add(line, "end", "is in the future")


@dataclass
class _Lookups:
    zone: dt.tzinfo
    patients: dict[str, int]
    staff_npi: dict[str, int]
    staff_names: dict[str, list[int]]


def _lookups(db: Database) -> _Lookups:
    with db.transaction() as session:
        staff_names: dict[str, list[int]] = {}
        staff_npi: dict[str, int] = {}
        for staff_id, name, npi in session.execute(select(Staff.id, Staff.name, Staff.npi)):
            staff_names.setdefault(name, []).append(staff_id)
            if npi:
                staff_npi[npi] = staff_id
        return _Lookups(
            zone=practice_zone(session),
            patients={mrn: pid for mrn, pid in session.execute(select(Patient.mrn, Patient.id))},
            staff_npi=staff_npi,
            staff_names=staff_names,
        )


def import_time(
    db: Database, path: Path, actor: audit.Actor, now: dt.datetime | None = None
) -> ImportSummary:
    now = now or dt.datetime.now(dt.timezone.utc)
    problems = Problems()
    validator = _Validator(problems, _lookups(db), now)
    rows = [r for r in map(validator.row, read_rows(path, COLUMNS, REQUIRED, problems)) if r]
    problems.raise_if_any(str(path))
    summary = ImportSummary("time", rows=len(rows))
    with db.write() as session:
        require(session, actor, Permission.LOG_TIME)
        existing = _existing_keys(session, rows)
        fresh = [r for r in rows if (r.patient_id, r.staff_id, r.start) not in existing]
        summary.unchanged = len(rows) - len(fresh)
        # Only rows that would be written can be refused for a closed month: a
        # re-import of a billed month's file adds nothing and so changes nothing.
        zone = validator.lookups.zone
        touched = {r.line: sorted(months_touched(r.start, r.end, zone)) for r in fresh}
        # A close at another seat waits for this import, or this import sees it.
        hold_months(session, {month for months in touched.values() for month in months})
        closed = set(
            session.scalars(select(MonthClose.month).where(MonthClose.reopened_at.is_(None)))
        )
        for r in fresh:
            for month in touched[r.line]:
                if str(month) in closed:
                    problems.add(
                        r.line, "start", f"{month} is closed; reopen it before adding time"
                    )
        problems.raise_if_any(str(path))  # nothing written yet: the transaction rolls back
        detail = f"imported from {path.name}"
        created: dict[int, list[dict[str, object]]] = {}
        for first in range(0, len(fresh), INSERT_BATCH):
            session.execute(
                insert(TimeEntry),
                [
                    {
                        "patient_id": r.patient_id,
                        "staff_id": r.staff_id,
                        "start_at": r.start,
                        "end_at": r.end,
                        "activity": r.activity,
                        "note": r.note,
                        "source": "import",
                        "edit_count": 0,
                        "row_version": 1,
                        "created_at": now,
                    }
                    for r in fresh[first : first + INSERT_BATCH]
                ],
            )
        # The new rows' ids, read back by this import's instant (a plain bulk
        # insert is several times faster than one with RETURNING).
        new_ids = {
            (pid, sid, start): entry_id
            for entry_id, pid, sid, start in session.execute(
                select(
                    TimeEntry.id, TimeEntry.patient_id, TimeEntry.staff_id, TimeEntry.start_at
                ).where(TimeEntry.created_at == now, TimeEntry.source == "import")
            )
        }
        for r in fresh:
            created.setdefault(r.patient_id, []).append(
                {
                    "id": new_ids[(r.patient_id, r.staff_id, r.start)],
                    "staff_id": r.staff_id,
                    "start_at": r.start.isoformat(),
                    "end_at": r.end.isoformat(),
                    "activity": r.activity,
                }
            )
        # One audit event per patient, listing every entry the file added (id,
        # staff, start, end, activity): each entry is traceable to this import
        # without doubling the rows written for a 100,000-row file.
        events = [
            {
                "at": now,
                "actor_id": actor.id,
                "actor": actor.name,
                "action": "create",
                "entity": "time_entry",
                "entity_id": None,
                "patient_id": patient_id,
                "before": None,
                "after": json.dumps({"entries": items}),
                "detail": f"{detail}: {len(items)} entries",
            }
            for patient_id, items in created.items()
        ]
        if events:  # an empty list would insert one row of defaults
            session.execute(insert(AuditEvent), events)
        summary.created = len(fresh)
        audit.record(
            session, actor, "import", "time_entry", detail=f"{path.name}: {summary.describe()}"
        )
    return summary


def _existing_keys(session, rows: list[EntryRow]) -> set[tuple[int, int, dt.datetime]]:  # type: ignore[no-untyped-def]
    """Keys of entries already on record within the file's time span."""
    if not rows:
        return set()
    low = min(r.start for r in rows)
    high = max(r.start for r in rows)
    query = select(TimeEntry.patient_id, TimeEntry.staff_id, TimeEntry.start_at).where(
        TimeEntry.start_at >= low, TimeEntry.start_at <= high
    )
    return {tuple(row) for row in session.execute(query)}  # type: ignore[misc]
