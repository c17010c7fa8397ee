"""Practice-wide settings the other services need: the time zone, the fees."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccmdesk.domain.fees import (
    FEE_CODES,
    FeeSchedule,
    FeeScheduleError,
    load_shipped_schedules,
    parse_amount,
    schedule_for_year,
)
from ccmdesk.domain.time import resolve_time_zone
from ccmdesk.paths import resource
from ccmdesk.services import audit
from ccmdesk.services.access import Permission, require
from ccmdesk.storage.database import Database
from ccmdesk.storage.models import FeeOverride, Practice


def practice_zone(session: Session) -> dt.tzinfo:
    """The practice's time zone setting, else ``TZ``, else the system's, else UTC."""
    setting = session.scalar(select(Practice.time_zone).order_by(Practice.id).limit(1))
    return resolve_time_zone(setting)


@functools.lru_cache(maxsize=1)
def shipped_schedules() -> dict[int, dict[str, Decimal]]:
    return load_shipped_schedules(resource("fees"))


def fee_schedule(session: Session, year: int) -> FeeSchedule:
    """The shipped schedule for ``year`` with the practice's overrides applied.

    All overrides are read (a handful of rows): a year without a shipped
    schedule borrows an earlier year, and that year's practice rates with it.
    """
    overrides: dict[int, dict[str, Decimal]] = {}
    for row in session.execute(select(FeeOverride.year, FeeOverride.code, FeeOverride.amount)):
        overrides.setdefault(row.year, {})[row.code] = row.amount
    return schedule_for_year(year, shipped_schedules(), overrides)


#: The first amount ``fee_override.amount`` (10 digits, 2 after the point) cannot hold.
LARGEST_FEE = Decimal("100000000")


def set_fee_override(
    db: Database, year: int, code: str, amount: Decimal | str | None, actor: audit.Actor
) -> None:
    """Set (or with ``None`` remove) the practice's amount for one code and year."""
    if code not in FEE_CODES:
        raise FeeScheduleError(f"{code!r} is not one of {', '.join(FEE_CODES)}")
    if not 1990 <= year <= 2200:
        raise FeeScheduleError(f"{year} is not a fee schedule year")
    value = None if amount is None else parse_amount(amount, f"{year} {code}")
    if value is not None and value >= LARGEST_FEE:  # Numeric(10, 2): PostgreSQL would refuse it
        raise FeeScheduleError(f"{year} {code}: {value} is more than a fee can be")
    with db.transaction() as session:
        require(session, actor, Permission.EDIT_FEES, FeeScheduleError)
        row = session.scalar(
            select(FeeOverride).where(FeeOverride.year == year, FeeOverride.code == code)
        )
        before = {"amount": row.amount} if row else None
        if value is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(FeeOverride(year=year, code=code, amount=value))
        else:
            row.amount = value
        after = {"amount": value} if value is not None else None
        if before != after:
            audit.record(
                session,
                actor,
                "update",
                "fee_override",
                before=before,
                after=after,
                detail=f"{year} {code}",
            )


def practice_name(session: Session) -> str:
    return session.scalar(select(Practice.name).order_by(Practice.id).limit(1)) or ""


def practice_info(db: Database) -> tuple[str, dt.tzinfo]:
    """The practice's name and time zone, for the window's title and clocks."""
    with db.transaction() as session:
        return practice_name(session), practice_zone(session)
