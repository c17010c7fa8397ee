"""The nurse's patient list: every patient with this month's figures, in bulk.

One call gathers the whole practice in a fixed number of queries and runs the
billing engine for every patient (not only the month's billing list), so the
list shows minutes, minutes to the next code and the billing status for all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select

from ccmdesk.domain.billing import evaluate, opted_out_before
from ccmdesk.domain.time import Month
from ccmdesk.domain.vocabulary import REASON_LABELS
from ccmdesk.services.billing import no_gc_pauses
from ccmdesk.services.care_plans import current_review_dates
from ccmdesk.services.practice import fee_schedule, practice_zone
from ccmdesk.storage.database import Database
from ccmdesk.storage.models import ConsentRecord, Patient, TimeEntry
from ccmdesk.storage.month_facts import load_month

CONSENTED, NO_CONSENT, DECLINED, OPTED_OUT = "Consented", "No consent", "Declined", "Opted out"


@dataclass(frozen=True)
class PatientListRow:
    patient_id: int
    mrn: str
    first_name: str
    last_name: str
    dob: dt.date
    mbi: str
    phone: str
    practitioner: str
    chronic_conditions: int
    consent: str  # one of CONSENTED, NO_CONSENT, DECLINED, OPTED_OUT
    minutes: int
    minutes_to_next: int | None
    next_codes: str | None
    billable: bool
    reasons: tuple[str, ...]
    last_contact: dt.datetime | None
    next_review: dt.date | None
    review_due: bool

    @property
    def name(self) -> str:
        return f"{self.last_name}, {self.first_name}"

    @property
    def status(self) -> str:
        """The billing status in plain words."""
        if self.billable:
            return "Ready to bill"
        return "; ".join(REASON_LABELS[r] for r in self.reasons)

    @property
    def enrolled(self) -> bool:
        return self.consent == CONSENTED

    @property
    def needs_minutes(self) -> bool:
        """Enrolled and still short of the first code (20 minutes)."""
        return self.enrolled and self.minutes < 20

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.dob.year
        return years - ((day.month, day.day) < (self.dob.month, self.dob.day))


def patient_list(
    db: Database,
    month: Month,
    now: dt.datetime | None = None,
    patient_ids: Collection[int] | None = None,
) -> list[PatientListRow]:
    """Every patient (or just ``patient_ids``) with the month's figures.

    ``now`` decides what care-plan review is due.
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    with no_gc_pauses(), db.transaction() as session:
        zone = practice_zone(session)
        today = now.astimezone(zone).date()
        fees = fee_schedule(session, month.year)
        records = load_month(session, month, zone, patient_ids, enrolled_only=False)

        def only(query, column):  # type: ignore[no-untyped-def]
            return query if patient_ids is None else query.where(column.in_(patient_ids))

        extra = {
            row.id: (row.phone, row.mbi)
            for row in session.execute(
                only(select(Patient.id, Patient.phone, Patient.mbi), Patient.id)
            )
        }
        declined = set(
            session.scalars(
                only(
                    select(ConsentRecord.patient_id).where(ConsentRecord.declined),
                    ConsentRecord.patient_id,
                )
            )
        )
        last_contact = dict(
            session.execute(
                only(
                    select(TimeEntry.patient_id, func.max(TimeEntry.start_at))
                    .where(TimeEntry.deleted_at.is_(None))
                    .group_by(TimeEntry.patient_id),
                    TimeEntry.patient_id,
                )
            ).all()
        )
        reviews = current_review_dates(session, patient_ids)
        rows = []
        for record in records:
            facts = record.facts
            result = evaluate(facts, zone, fees)
            consent = facts.consent
            if consent is not None and consent.consent_date <= month.last_day:
                status = OPTED_OUT if opted_out_before(consent, month) else CONSENTED
            else:
                status = DECLINED if record.patient_id in declined else NO_CONSENT
            next_review = reviews.get(record.patient_id)
            phone, mbi = extra.get(record.patient_id, ("", None))
            contact = last_contact.get(record.patient_id)
            rows.append(
                PatientListRow(
                    patient_id=record.patient_id,
                    mrn=record.mrn,
                    first_name=record.first_name,
                    last_name=record.last_name,
                    dob=record.dob,
                    mbi=mbi or "",
                    phone=phone or "",
                    practitioner=record.billing_practitioner.name
                    if record.billing_practitioner
                    else "",
                    chronic_conditions=sum(
                        1 for c in facts.conditions if c.chronic and c.active_in(month)
                    ),
                    consent=status,
                    minutes=result.minutes,
                    minutes_to_next=result.minutes_to_next,
                    next_codes=result.next_codes,
                    billable=result.billable,
                    reasons=result.reasons,
                    last_contact=_utc(contact) if contact else None,
                    next_review=next_review,
                    review_due=status == CONSENTED
                    and (next_review is None or next_review <= today),
                )
            )
    return rows


def _utc(value: dt.datetime | str) -> dt.datetime:
    # max() bypasses the column type: SQLite hands back text or a naive value.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
