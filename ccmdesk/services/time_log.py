"""Time entries: the stopwatch, manual entries, edits and soft deletes (SPEC §1.3, §3).

Every change is written the moment it happens, in one transaction with its
audit event.  Rules enforced here, whatever screen calls:

* a staff member has at most one running stopwatch;
* an entry is longer than zero and at most 24 hours, and never ends in the
  future (a stopwatch stops "now");
* entries of a closed month cannot be added, changed or deleted;
* an edit keeps the previous values in the audit log; a delete is a soft
  delete with a reason.

Several seats share one database, so every change is a write transaction
(``Database.write``: on SQLite they queue instead of failing) that locks the
entry it changes (``SELECT … FOR UPDATE`` on PostgreSQL): a change made at
another seat meanwhile is read, never overwritten, and the audit trail's
"before" is what was really there.  The closed-month check holds the month
(:func:`~ccmdesk.services.month_close.hold_months`) so that a close at another
seat cannot slip between the check and the write.  Two seats pressing Start
for one person at once are decided by the database's unique index on running
stopwatches; the loser hears whose stopwatch is running.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ccmdesk.domain.time import Month, months_touched
from ccmdesk.domain.vocabulary import ACTIVITY_TYPES, NON_COUNTABLE_ACTIVITIES
from ccmdesk.services import audit, conflicts
from ccmdesk.services.access import Permission, require
from ccmdesk.services.changes import Changes
from ccmdesk.services.month_close import hold_months
from ccmdesk.services.practice import practice_zone
from ccmdesk.storage.database import Database
from ccmdesk.storage.models import AuditEvent, MonthClose, Patient, Staff, TimeEntry
from ccmdesk.storage.month_facts import MAX_ENTRY

UTC = dt.timezone.utc
RECOVERY_CHOICES = ("last_alive", "now", "discard")


class TimeEntryError(ValueError):
    """A change to the time log that was refused; the message says why."""


class MonthClosedError(TimeEntryError):
    pass


class NotRunningError(TimeEntryError):
    """The stopwatch was stopped or discarded meanwhile (at another seat, say)."""


@dataclass(frozen=True)
class EntryView:
    """One row of a patient's time log, as screens and reports show it."""

    id: int
    patient_id: int
    staff_id: int
    staff_name: str
    credential: str
    start: dt.datetime
    end: dt.datetime | None
    activity: str
    note: str
    source: str
    edited: bool
    deleted: bool
    delete_reason: str | None
    heartbeat: dt.datetime | None

    @property
    def running(self) -> bool:
        return self.end is None and not self.deleted

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds()) if self.end else 0

    @property
    def countable_activity(self) -> bool:
        return self.activity not in NON_COUNTABLE_ACTIVITIES


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(UTC)).astimezone(UTC)


def _check_activity(activity: str) -> None:
    if activity not in ACTIVITY_TYPES:
        raise TimeEntryError(f"{activity!r} is not an activity type")


def _closed(session: Session, months: set[Month]) -> list[str]:
    names = sorted(str(m) for m in months)
    return list(
        session.scalars(
            select(MonthClose.month).where(
                MonthClose.month.in_(names), MonthClose.reopened_at.is_(None)
            )
        )
    )


def _refuse_closed(session: Session, months: set[Month]) -> None:
    """Refuse a write to a closed month; hold the months until commit (see hold_months)."""
    hold_months(session, months)
    closed = _closed(session, months)
    if closed:
        raise MonthClosedError(
            f"{', '.join(sorted(set(closed)))} is closed; the office manager must reopen it first"
        )


def month_is_closed(db: Database, month: Month) -> bool:
    """True while ``month`` is closed (entries read-only until it is reopened)."""
    with db.transaction() as session:
        return bool(_closed(session, {month}))


def _check_span(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise TimeEntryError("start and end must carry a time zone")
    if end <= start:
        raise TimeEntryError("the end must be after the start")
    if end - start > MAX_ENTRY:
        raise TimeEntryError("an entry cannot be longer than 24 hours; split it")
    if end > now + dt.timedelta(seconds=5):
        raise TimeEntryError("the entry cannot end in the future")


def _values(entry: TimeEntry) -> dict[str, object]:
    return {
        "staff_id": entry.staff_id,
        "start_at": entry.start_at,
        "end_at": entry.end_at,
        "activity": entry.activity,
        "note": entry.note,
    }


def _entry(session: Session, entry_id: int, *, lock: bool = True) -> TimeEntry:
    """The entry, locked until commit (PostgreSQL) unless only read."""
    entry = session.get(TimeEntry, entry_id, with_for_update=lock)
    if entry is None:
        raise TimeEntryError(f"time entry {entry_id} does not exist")
    return entry


def _changes(entry: TimeEntry, zone: dt.tzinfo, created: int | None = None) -> Changes:
    return Changes(
        frozenset({entry.patient_id}),
        frozenset(months_touched(entry.start_at, entry.end_at, zone)),
        created,
    )


def _insert(
    session: Session, entry: TimeEntry, actor: audit.Actor, action: str, zone: dt.tzinfo
) -> Changes:
    """Add a new entry with its audit event, in the caller's transaction."""
    session.add(entry)
    session.flush()
    audit.record(
        session,
        actor,
        action,
        "time_entry",
        entity_id=entry.id,
        patient_id=entry.patient_id,
        after=_values(entry),
        at=entry.created_at,
    )
    return _changes(entry, zone, entry.id)


# -- the stopwatch ---------------------------------------------------------------


def start_timer(
    db: Database,
    patient_id: int,
    staff_id: int,
    actor: audit.Actor,
    *,
    activity: str = "phone_call",
    note: str = "",
    now: dt.datetime | None = None,
) -> Changes:
    """Write a running stopwatch (no end yet) the moment Start is clicked."""
    _check_activity(activity)
    now = _now(now)
    try:
        return _start(db, patient_id, staff_id, actor, activity, note, now)
    except IntegrityError:
        # Two seats passed the check below at once; the unique index on running
        # stopwatches (uq_time_entry_running) let the other one in.  Say whose.
        with db.transaction() as session:
            running = _running_entry(session, staff_id)
            said = _already_running(session, running, now) if running else None
        if said is None:
            raise
        raise TimeEntryError(said) from None


def _start(
    db: Database,
    patient_id: int,
    staff_id: int,
    actor: audit.Actor,
    activity: str,
    note: str,
    now: dt.datetime,
) -> Changes:
    with db.write() as session:
        require(session, actor, Permission.LOG_TIME, TimeEntryError)
        if not actor.trusted and actor.id != staff_id:
            raise TimeEntryError("a stopwatch can only be started by the person it times")
        zone = practice_zone(session)
        if session.get(Patient, patient_id) is None:
            raise TimeEntryError(f"patient {patient_id} does not exist")
        staff = session.get(Staff, staff_id)
        if staff is None or not staff.active:
            raise TimeEntryError("only an active staff member can start a stopwatch")
        running = _running_entry(session, staff_id)
        if running is not None:
            raise TimeEntryError(_already_running(session, running, now))
        _refuse_closed(session, months_touched(now, None, zone))
        entry = TimeEntry(
            patient_id=patient_id,
            staff_id=staff_id,
            start_at=now,
            heartbeat_at=now,
            activity=activity,
            note=note,
            source="timer",
            created_at=now,
        )
        return _insert(session, entry, actor, "start", zone)


def _running_entry(session: Session, staff_id: int) -> TimeEntry | None:
    return session.scalar(
        select(TimeEntry).where(
            TimeEntry.staff_id == staff_id,
            TimeEntry.end_at.is_(None),
            TimeEntry.deleted_at.is_(None),
        )
    )


def _already_running(session: Session, running: TimeEntry, now: dt.datetime) -> str:
    staff = session.get(Staff, running.staff_id)
    patient = session.get(Patient, running.patient_id)
    since = conflicts.clock(running.start_at, practice_zone(session), now)
    whose = f" for {patient.first_name} {patient.last_name}" if patient else ""
    return (
        f"{staff.name if staff else 'this person'} already has a stopwatch running{whose}"
        f" since {since}, started at another seat or earlier here; stop it first"
    )


def _not_running(session: Session, entry: TimeEntry, now: dt.datetime) -> NotRunningError:
    """What became of a stopwatch someone stopped or discarded meanwhile, and who did."""
    zone = practice_zone(session)
    event = session.scalar(
        select(AuditEvent)
        .where(
            AuditEvent.entity == "time_entry",
            AuditEvent.entity_id == entry.id,
            AuditEvent.action.in_(("stop", "delete")),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    by = f" by {event.actor}" if event else ""
    if entry.deleted_at is not None:
        why = f" ({entry.delete_reason})" if entry.delete_reason else ""
        at = conflicts.clock(entry.deleted_at, zone, now)
        return NotRunningError(
            f"this stopwatch was already discarded at another seat at {at}{by}{why}"
        )
    assert entry.end_at is not None
    stopped = event.at if event else entry.end_at
    at = conflicts.clock(stopped, zone, now)
    said = f"this stopwatch was already stopped at another seat at {at}{by}"
    if abs(stopped - entry.end_at) > dt.timedelta(minutes=1):  # recovered at a heartbeat
        said += f", ending at {conflicts.clock(entry.end_at, zone, now)}"
    return NotRunningError(f"{said}; its time is in the time log")


def heartbeat(db: Database, entry_id: int, now: dt.datetime | None = None) -> None:
    """Record that the app is alive with this stopwatch running (crash recovery)."""
    with db.write() as session:
        entry = _entry(session, entry_id)
        if entry.end_at is None and entry.deleted_at is None:
            entry.heartbeat_at = _now(now)


def save_running_details(db: Database, entry_id: int, activity: str, note: str) -> None:
    """Keep what the nurse types while the clock runs (no audit: not yet an entry)."""
    _check_activity(activity)
    with db.write() as session:
        entry = _entry(session, entry_id)
        if entry.end_at is not None or entry.deleted_at is not None:
            raise _not_running(session, entry, _now(None))
        entry.activity, entry.note = activity, note


def stop_timer(
    db: Database,
    entry_id: int,
    actor: audit.Actor,
    *,
    activity: str | None = None,
    note: str | None = None,
    now: dt.datetime | None = None,
    at: dt.datetime | None = None,
) -> Changes:
    """Stop a running stopwatch now (or ``at`` an earlier moment, for recovery).

    Stopped meanwhile at another seat (the same person signed in twice): refused
    with :class:`NotRunningError`, saying when and by whom, and nothing changes.
    """
    now = _now(now)
    end = _now(at) if at else now
    with db.write() as session:
        zone = practice_zone(session)
        entry = _entry(session, entry_id)
        if actor.id != entry.staff_id:  # one's own stopwatch can always be stopped
            require(session, actor, Permission.LOG_TIME, TimeEntryError)
        if entry.end_at is not None or entry.deleted_at is not None:
            raise _not_running(session, entry, now)
        if activity is not None:
            _check_activity(activity)
            entry.activity = activity
        if note is not None:
            entry.note = note
        if end <= entry.start_at:
            end = entry.start_at + dt.timedelta(seconds=1)  # a click-click still leaves a trace
        _check_span(entry.start_at, end, now)
        _refuse_closed(session, months_touched(entry.start_at, end, zone))
        entry.end_at = end
        entry.heartbeat_at = now
        audit.record(
            session,
            actor,
            "stop",
            "time_entry",
            entity_id=entry.id,
            patient_id=entry.patient_id,
            after=_values(entry),
            at=now,
        )
        return _changes(entry, zone)


def running_timers(db: Database, staff_id: int | None = None) -> list[EntryView]:
    """Stopwatches still running (after a crash: the ones to recover)."""
    with db.transaction() as session:
        query = _view_query().where(TimeEntry.end_at.is_(None), TimeEntry.deleted_at.is_(None))
        if staff_id is not None:
            query = query.where(TimeEntry.staff_id == staff_id)
        return [_view(row) for row in session.execute(query.order_by(TimeEntry.start_at))]


def recover_timer(
    db: Database,
    entry_id: int,
    choice: str,
    actor: audit.Actor,
    now: dt.datetime | None = None,
) -> Changes:
    """Close a stopwatch left running by a crash: at the last heartbeat, now, or discard."""
    if choice not in RECOVERY_CHOICES:
        raise TimeEntryError(f"{choice!r} is not one of {', '.join(RECOVERY_CHOICES)}")
    now = _now(now)
    if choice == "discard":
        return delete_entry(db, entry_id, "stopwatch discarded after the app stopped", actor, now)
    at = None
    if choice == "last_alive":
        with db.transaction() as session:
            entry = _entry(session, entry_id, lock=False)
            at = entry.heartbeat_at or entry.start_at
    return stop_timer(db, entry_id, actor, now=now, at=at)


# -- manual entries, edits, deletes ------------------------------------------------


def add_manual(
    db: Database,
    patient_id: int,
    staff_id: int,
    start: dt.datetime,
    end: dt.datetime,
    actor: audit.Actor,
    *,
    activity: str = "care_coordination",
    note: str = "",
    now: dt.datetime | None = None,
) -> Changes:
    """Record work done away from the computer."""
    _check_activity(activity)
    now = _now(now)
    _check_span(start, end, now)
    with db.write() as session:
        require(session, actor, Permission.LOG_TIME, TimeEntryError)
        zone = practice_zone(session)
        if session.get(Patient, patient_id) is None:
            raise TimeEntryError(f"patient {patient_id} does not exist")
        if session.get(Staff, staff_id) is None:
            raise TimeEntryError(f"staff member {staff_id} does not exist")
        _refuse_closed(session, months_touched(start, end, zone))
        entry = TimeEntry(
            patient_id=patient_id,
            staff_id=staff_id,
            start_at=start,
            end_at=end,
            activity=activity,
            note=note,
            source="manual",
            created_at=now,
        )
        return _insert(session, entry, actor, "create", zone)


def edit_entry(
    db: Database,
    entry_id: int,
    actor: audit.Actor,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    activity: str | None = None,
    note: str | None = None,
    staff_id: int | None = None,
    now: dt.datetime | None = None,
) -> Changes:
    """Change a finished entry; the audit log keeps the values it had before."""
    now = _now(now)
    with db.write() as session:
        require(session, actor, Permission.LOG_TIME, TimeEntryError)
        zone = practice_zone(session)
        entry = _entry(session, entry_id)
        if entry.deleted_at is not None:
            raise TimeEntryError("a deleted entry cannot be edited")
        if entry.end_at is None:
            raise TimeEntryError("stop the stopwatch before editing the entry")
        before = _values(entry)
        new_start, new_end = start or entry.start_at, end or entry.end_at
        _check_span(new_start, new_end, now)
        if activity is not None:
            _check_activity(activity)
        if staff_id is not None and session.get(Staff, staff_id) is None:
            raise TimeEntryError(f"staff member {staff_id} does not exist")
        old_months = months_touched(entry.start_at, entry.end_at, zone)
        new_months = months_touched(new_start, new_end, zone)
        _refuse_closed(session, old_months | new_months)
        entry.start_at, entry.end_at = new_start, new_end
        entry.activity = activity if activity is not None else entry.activity
        entry.note = note if note is not None else entry.note
        entry.staff_id = staff_id if staff_id is not None else entry.staff_id
        after = _values(entry)
        changed = {k for k in after if after[k] != before[k]}
        if not changed:
            return Changes()
        entry.edit_count += 1
        entry.row_version += 1
        audit.record(
            session,
            actor,
            "update",
            "time_entry",
            entity_id=entry.id,
            patient_id=entry.patient_id,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
            at=now,
        )
        return Changes(frozenset({entry.patient_id}), frozenset(old_months | new_months))


def delete_entry(
    db: Database,
    entry_id: int,
    reason: str,
    actor: audit.Actor,
    now: dt.datetime | None = None,
) -> Changes:
    """Soft-delete an entry; the reason is required and kept."""
    reason = reason.strip()
    if not reason:
        raise TimeEntryError("say why the entry is deleted")
    now = _now(now)
    with db.write() as session:
        require(session, actor, Permission.LOG_TIME, TimeEntryError)
        zone = practice_zone(session)
        entry = _entry(session, entry_id)
        if entry.deleted_at is not None:
            raise TimeEntryError("the entry is already deleted")
        _refuse_closed(session, months_touched(entry.start_at, entry.end_at, zone))
        entry.deleted_at = now
        entry.deleted_by_id = actor.id
        entry.delete_reason = reason
        entry.row_version += 1
        audit.record(
            session,
            actor,
            "delete",
            "time_entry",
            entity_id=entry.id,
            patient_id=entry.patient_id,
            before=_values(entry),
            detail=reason,
            at=now,
        )
        return _changes(entry, zone)


# -- reading -------------------------------------------------------------------------


def _view_query():  # type: ignore[no-untyped-def]
    return select(
        TimeEntry.id,
        TimeEntry.patient_id,
        TimeEntry.staff_id,
        Staff.name,
        Staff.credential,
        TimeEntry.start_at,
        TimeEntry.end_at,
        TimeEntry.activity,
        TimeEntry.note,
        TimeEntry.source,
        TimeEntry.edit_count,
        TimeEntry.deleted_at,
        TimeEntry.delete_reason,
        TimeEntry.heartbeat_at,
    ).join(Staff, Staff.id == TimeEntry.staff_id)


def _view(row) -> EntryView:  # type: ignore[no-untyped-def]
    return EntryView(
        id=row[0],
        patient_id=row[1],
        staff_id=row[2],
        staff_name=row[3],
        credential=row[4],
        start=row[5],
        end=row[6],
        activity=row[7],
        note=row[8],
        source=row[9],
        edited=row[10] > 0,
        deleted=row[11] is not None,
        delete_reason=row[12],
        heartbeat=row[13],
    )


def month_log(
    db: Database, patient_id: int, month: Month, *, include_deleted: bool = True
) -> list[EntryView]:
    """The patient's entries that touch ``month`` (running ones included), by start."""
    with db.transaction() as session:
        start, end = month.bounds_utc(practice_zone(session))
        query = _view_query().where(
            TimeEntry.patient_id == patient_id,
            TimeEntry.start_at >= start - MAX_ENTRY,
            TimeEntry.start_at < end,
        )
        if not include_deleted:
            query = query.where(TimeEntry.deleted_at.is_(None))
        rows = [_view(row) for row in session.execute(query.order_by(TimeEntry.start_at))]
    return [r for r in rows if r.end is None or r.end > start]
