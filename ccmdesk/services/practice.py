"""Practice-wide settings the other services need: the time zone, the fees."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccmdesk.domain.fees import FeeSchedule, load_shipped_schedules, schedule_for_year
from ccmdesk.domain.time import resolve_time_zone
from ccmdesk.paths import resource
from ccmdesk.storage.models import FeeOverride, Practice


def practice_zone(session: Session) -> dt.tzinfo:
    """The practice's time zone setting, else ``TZ``, else the system's, else UTC."""
    setting = session.scalar(select(Practice.time_zone).order_by(Practice.id).limit(1))
    return resolve_time_zone(setting)


@functools.lru_cache(maxsize=1)
def shipped_schedules() -> dict[int, dict[str, Decimal]]:
    return load_shipped_schedules(resource("fees"))


def fee_schedule(session: Session, year: int) -> FeeSchedule:
    """The shipped schedule for ``year`` with the practice's overrides applied."""
    overrides = {
        row.code: row.amount
        for row in session.execute(
            select(FeeOverride.code, FeeOverride.amount).where(FeeOverride.year == year)
        )
    }
    return schedule_for_year(year, shipped_schedules(), {year: overrides})
