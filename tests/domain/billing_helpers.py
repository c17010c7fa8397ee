"""Builders for billing-engine tests: a fully eligible patient-month by default."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from zoneinfo import ZoneInfo

from ccmdesk.domain.billing import ConditionFact, ConsentFact, EntryFact, PatientMonth
from ccmdesk.domain.fees import schedule_for_year
from ccmdesk.domain.time import Month

NY = ZoneInfo("America/New_York")
NURSE, DOCTOR, OTHER_DOCTOR, FRONT_DESK = 10, 20, 21, 30
ROLES = {
    NURSE: "clinical_staff",
    DOCTOR: "practitioner",
    OTHER_DOCTOR: "practitioner",
    FRONT_DESK: "non_clinical",
}
SHIPPED = {
    2026: {
        "99490": Decimal("66.13"),
        "99439": Decimal("50.44"),
        "99491": Decimal("89.18"),
        "99437": Decimal("63.13"),
        "99487": Decimal("144.29"),
        "99489": Decimal("78.16"),
        "G0506": Decimal("66.47"),
    }
}
FEES_2026 = schedule_for_year(2026, SHIPPED)
_ids = iter(range(1, 1_000_000))


def local(text: str, zone: dt.tzinfo = NY, fold: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=zone, fold=fold)


def entry(
    start: str,
    minutes: float = 0,
    *,
    seconds: float = 0,
    staff: int = NURSE,
    activity: str = "phone_call",
    zone: dt.tzinfo = NY,
) -> EntryFact:
    begin = local(start, zone).astimezone(dt.timezone.utc)
    end = begin + dt.timedelta(minutes=minutes, seconds=seconds)
    return EntryFact(next(_ids), begin, end, staff, ROLES[staff], activity)


def eligible(month: str = "2026-03", *entries: EntryFact, **changes: object) -> PatientMonth:
    """A patient who passes every check but the time one."""
    facts = PatientMonth(
        month=Month.parse(month),
        part_b=True,
        billing_practitioner_id=DOCTOR,
        conditions=(ConditionFact(True), ConditionFact(True)),
        consent=ConsentFact(dt.date(2025, 6, 1)),
        initiating_visits=(dt.date(2025, 5, 15),),
        care_plan_date=dt.date(2025, 6, 1),
        complex_month=False,
        entries=entries,
    )
    return replace(facts, **changes)  # type: ignore[arg-type]
