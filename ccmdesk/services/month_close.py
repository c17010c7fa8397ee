"""Closing a month after billing, and reopening it (SPEC §3).

Once the office manager has billed a month, its time must stop moving: a
closed month accepts no new, edited or deleted entry until it is reopened
(:mod:`ccmdesk.services.time_log` and the time import enforce that).

Choices made here:

* A month can be closed only once it is over in the practice's time zone,
  and not while a stopwatch that started in it is still running (that time
  is not final yet).
* Reopening needs a reason, kept on the row and in the audit trail.
* Rows are never deleted: closing again after a reopen adds a new row, so the
  table itself is the month's history; the latest row says where it stands.
* "Who" is the staff member when the actor is one, else the audit trail's
  name for the actor (the command line has no staff id).
* A close and an entry written for that month at the same moment at another
  seat never both pass their checks (:func:`hold_months`): the entry is either
  in before the close looks, or refused after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ccmdesk.domain.time import Month
from ccmdesk.services import audit
from ccmdesk.services.access import Permission, require
from ccmdesk.services.practice import practice_zone
from ccmdesk.storage.database import Database
from ccmdesk.storage.models import AuditEvent, MonthClose, Staff, TimeEntry

UTC = dt.timezone.utc
ENTITY = "month_close"
#: First key of ccmdesk's two-key PostgreSQL advisory locks on months ("CCM").
MONTH_LOCKS = 0x43434D


class MonthCloseError(ValueError):
    """A close or reopen that was refused; the message says why."""


@dataclass(frozen=True)
class MonthStatus:
    """Where a month stands: open, or closed by whom and when (instants in UTC)."""

    month: Month
    closed: bool
    closed_at: dt.datetime | None = None
    closed_by: str | None = None
    #: The latest reopening, when the month was closed once and is open again.
    reopened_at: dt.datetime | None = None
    reopened_by: str | None = None
    reopen_reason: str | None = None


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(UTC)).astimezone(UTC)


def hold_months(session: Session, months: Iterable[Month], *, exclusive: bool = False) -> None:
    """Make closing a month and writing its entries wait for each other, until commit.

    Under PostgreSQL's READ COMMITTED an entry could pass "is the month closed?"
    while a close at another seat commits, and land in the closed month.  Entry
    writes hold their months shared and a close holds its month exclusively
    (transaction-scoped advisory locks), so one waits for the other and then
    reads what it committed.  SQLite needs nothing: write transactions there
    (``Database.write``, ``BEGIN IMMEDIATE``) already run one at a time.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    statement = text(f"SELECT {function}(CAST(:space AS integer), CAST(:month AS integer))")
    for month in sorted(set(months)):  # one order everywhere: no deadlock between seats
        session.execute(statement, {"space": MONTH_LOCKS, "month": month.year * 100 + month.month})


def _latest(session: Session, month: Month) -> MonthClose | None:
    return session.scalar(
        select(MonthClose)
        .where(MonthClose.month == str(month))
        .order_by(MonthClose.id.desc())
        .limit(1)
    )


def _who(session: Session, staff_id: int | None, row_id: int, action: str) -> str | None:
    if staff_id is not None:
        name = session.scalar(select(Staff.name).where(Staff.id == staff_id))
        if name:
            return name
    return session.scalar(
        select(AuditEvent.actor)
        .where(
            AuditEvent.entity == ENTITY, AuditEvent.entity_id == row_id, AuditEvent.action == action
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )


def status_in(session: Session, month: Month) -> MonthStatus:
    """:func:`month_status` inside a transaction the caller already holds."""
    row = _latest(session, month)
    if row is None:
        return MonthStatus(month, closed=False)
    closed_by = _who(session, row.closed_by_id, row.id, "close")
    if row.reopened_at is None:
        return MonthStatus(month, True, row.closed_at, closed_by)
    return MonthStatus(
        month,
        closed=False,
        closed_at=row.closed_at,
        closed_by=closed_by,
        reopened_at=row.reopened_at,
        reopened_by=_who(session, row.reopened_by_id, row.id, "reopen"),
        reopen_reason=row.reopen_reason,
    )


def month_status(db: Database, month: Month) -> MonthStatus:
    """Is ``month`` closed, and by whom and when; or when it was last reopened."""
    with db.transaction() as session:
        return status_in(session, month)


def closed_months(db: Database) -> list[MonthStatus]:
    """Every month closed now, latest month first (for the Reports screen)."""
    with db.transaction() as session:
        names = session.scalars(
            select(MonthClose.month).where(MonthClose.reopened_at.is_(None)).distinct()
        ).all()
        months = sorted((Month.parse(name) for name in names), reverse=True)
        return [status_in(session, month) for month in months]


def close_month(
    db: Database, month: Month, actor: audit.Actor, now: dt.datetime | None = None
) -> MonthStatus:
    """Close ``month``: from now on none of its entries can be added, changed or deleted."""
    now = _now(now)
    with db.write() as session:
        require(session, actor, Permission.CLOSE_MONTHS, MonthCloseError)
        hold_months(session, {month}, exclusive=True)  # before reading what it checks
        zone = practice_zone(session)
        if now.astimezone(zone).date() <= month.last_day:
            raise MonthCloseError(
                f"{month} is not over yet; it can be closed from {month.next().first_day:%m/%d/%Y}"
            )
        latest = _latest(session, month)
        if latest is not None and latest.reopened_at is None:
            raise MonthCloseError(f"{month} is already closed")
        _, end = month.bounds_utc(zone)
        running = session.scalar(
            select(TimeEntry.id)
            .where(
                TimeEntry.end_at.is_(None),
                TimeEntry.deleted_at.is_(None),
                TimeEntry.start_at < end,
            )
            .limit(1)
        )
        if running is not None:
            raise MonthCloseError(
                f"a stopwatch started in or before {month} is still running;"
                " stop or recover it before closing the month"
            )
        row = MonthClose(month=str(month), closed_at=now, closed_by_id=actor.id)
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor,
            "close",
            ENTITY,
            entity_id=row.id,
            after={"month": str(month), "closed_at": now},
            detail=f"Closed {month}",
            at=now,
        )
        return status_in(session, month)


def reopen_month(
    db: Database,
    month: Month,
    reason: str,
    actor: audit.Actor,
    now: dt.datetime | None = None,
) -> MonthStatus:
    """Reopen a closed month so its entries can change again; the reason is required."""
    reason = (reason or "").strip()
    if not reason:
        raise MonthCloseError("say why the month is reopened")
    now = _now(now)
    with db.write() as session:
        require(session, actor, Permission.CLOSE_MONTHS, MonthCloseError)
        hold_months(session, {month}, exclusive=True)
        row = _latest(session, month)
        if row is None or row.reopened_at is not None:
            raise MonthCloseError(f"{month} is not closed")
        row.reopened_at = now
        row.reopened_by_id = actor.id
        row.reopen_reason = reason
        audit.record(
            session,
            actor,
            "reopen",
            ENTITY,
            entity_id=row.id,
            before={"month": str(month), "closed_at": row.closed_at},
            after={"month": str(month), "reopened_at": now},
            detail=reason,
            at=now,
        )
        session.flush()
        return status_in(session, month)
