"""What other seats changed: the audit trail read as a change feed.

Every change ccmdesk makes writes an ``audit_event`` row in the same
transaction, so "the events after id N" is exactly "what was committed since
I last looked", on SQLite and PostgreSQL alike.  A seat polls that every
couple of seconds (``ui/live_refresh.py``).  Only which records changed is
read, never shown: reading the trail itself stays an administrator's right.

Why polling and not PostgreSQL's LISTEN/NOTIFY: a query on the primary key
that finds nothing costs well under a millisecond, works unchanged on an
SQLite file shared by two processes (which has no notifications at all), needs
no long-lived extra connection that a network drop silently kills, and cannot
miss a change while the seat was offline: the feed resumes from the last id it
saw, whereas notifications sent while nobody listened are gone.

One subtlety on PostgreSQL: ids come from a sequence when a row is inserted,
not when its transaction commits, so id 11 can be visible before id 10 (a long
import still running, or a transaction rolled back for good).  The cursor
therefore remembers the ids it skipped ("gaps") and asks for them again until
they appear or :data:`GAP_PATIENCE_S` has passed.  SQLite writes one
transaction at a time, so it never has gaps.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select

from ccmdesk.domain.time import Month
from ccmdesk.services.changes import Changes
from ccmdesk.storage.database import Database
from ccmdesk.storage.models import AuditEvent

#: How long a skipped id is waited for (a long import on another seat).
GAP_PATIENCE_S = 300.0
#: Beyond this many skipped ids, ask for the whole range instead of a list.
MAX_LISTED_GAPS = 200
#: Keep at most this many skipped ids (a sequence jump must not grow without end).
MAX_GAPS = 20_000
#: Actions on staff records that change names or roles shown elsewhere.
STAFF_ACTIONS = frozenset({"create", "update"})


@dataclass(frozen=True)
class FeedCursor:
    """Where a seat has read the feed up to: the highest id seen and the ids skipped."""

    high_water: int = 0
    #: (skipped id, when it was first skipped in the caller's monotonic seconds)
    gaps: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True)
class FeedBatch:
    """What the events since the cursor touched, and the cursor to read from next."""

    cursor: FeedCursor
    events: int = 0
    patient_ids: frozenset[int] = frozenset()
    #: a patient was created (a list refresh by id cannot show a new row)
    new_patients: bool = False
    #: months closed or reopened
    months: frozenset[Month] = frozenset()
    #: years whose fee schedule the practice changed
    fee_years: frozenset[int] = frozenset()
    practice_changed: bool = False
    staff_changed: bool = False

    @property
    def empty(self) -> bool:
        return self.events == 0

    @property
    def changes(self) -> Changes:
        """The patients touched, as the main window refreshes them (any month)."""
        return Changes(self.patient_ids)


def start_cursor(db: Database) -> FeedCursor:
    """A cursor at the end of the feed: a seat starts with what it loads, not history."""
    with db.transaction() as session:
        return FeedCursor(session.scalar(select(func.max(AuditEvent.id))) or 0)


def read_changes(db: Database, cursor: FeedCursor, now: float) -> FeedBatch:
    """The events committed since ``cursor`` (``now``: monotonic seconds, for gap ageing)."""
    gaps = {gap: since for gap, since in cursor.gaps if now - since < GAP_PATIENCE_S}
    newer = AuditEvent.id > cursor.high_water
    if not gaps:
        where = newer
    elif len(gaps) <= MAX_LISTED_GAPS:
        where = or_(newer, AuditEvent.id.in_(sorted(gaps)))
    else:
        where = AuditEvent.id >= min(gaps)  # the range; ids seen before are dropped below
    special = AuditEvent.entity.in_(("month_close", "fee_override"))
    query = (
        select(
            AuditEvent.id,
            AuditEvent.entity,
            AuditEvent.action,
            AuditEvent.patient_id,
        )
        .where(where)
        .order_by(AuditEvent.id)
    )
    with db.transaction() as session:
        rows = [r for r in session.execute(query) if r.id > cursor.high_water or r.id in gaps]
        special_ids = [r.id for r in rows if r.entity in ("month_close", "fee_override")]
        details: dict[int, tuple[str | None, str]] = {}
        if special_ids:
            details = {
                r.id: (r.after, r.detail)
                for r in session.execute(
                    select(AuditEvent.id, AuditEvent.after, AuditEvent.detail).where(
                        special, AuditEvent.id.in_(special_ids)
                    )
                )
            }
    return _summarise(rows, details, cursor, gaps, now)


def _summarise(
    rows: Sequence[Any],
    details: dict[int, tuple[str | None, str]],
    cursor: FeedCursor,
    gaps: dict[int, float],
    now: float,
) -> FeedBatch:
    patients: set[int] = set()
    months: set[Month] = set()
    years: set[int] = set()
    new_patients = practice = staff = False
    for row in rows:
        gaps.pop(row.id, None)
        if row.patient_id is not None:
            patients.add(row.patient_id)
        if row.entity == "patient" and row.action == "create":
            new_patients = True
        elif row.entity == "month_close":
            month = _month_of(details.get(row.id, (None, ""))[0])
            if month is not None:
                months.add(month)
        elif row.entity == "fee_override":
            year = details.get(row.id, (None, ""))[1].split(" ")[0]
            if year.isdigit():
                years.add(int(year))
        elif row.entity == "practice":
            practice = True
        elif row.entity in ("staff", "user") and row.action in STAFF_ACTIONS:
            staff = True
    high = max([cursor.high_water, *(r.id for r in rows)])
    seen = {r.id for r in rows}
    for missing in range(max(cursor.high_water + 1, high - MAX_GAPS), high):
        if missing not in seen:
            gaps.setdefault(missing, now)
    kept = sorted(gaps.items())[-MAX_GAPS:]
    return FeedBatch(
        cursor=FeedCursor(high, tuple(kept)),
        events=len(rows),
        patient_ids=frozenset(patients),
        new_patients=new_patients,
        months=frozenset(months),
        fee_years=frozenset(years),
        practice_changed=practice,
        staff_changed=staff,
    )


def _month_of(after: str | None) -> Month | None:
    try:
        return Month.parse(json.loads(after or "{}")["month"])
    except (KeyError, TypeError, ValueError):
        return None
