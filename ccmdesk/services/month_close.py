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
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccmdesk.domain.time import Month
from ccmdesk.services import audit
from ccmdesk.services.access import Permission, require
from ccmdesk.services.practice import practice_zone
from ccmdesk.storage.database import Database
from ccmdesk.storage.models import AuditEvent, MonthClose, Staff, TimeEntry

UTC = dt.timezone.utc
ENTITY = "month_close"


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
    with db.transaction() as session:
        require(session, actor, Permission.CLOSE_MONTHS, MonthCloseError)
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
    with db.transaction() as session:
        require(session, actor, Permission.CLOSE_MONTHS, MonthCloseError)
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
