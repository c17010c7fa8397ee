"""A small practice for care-plan tests: staff in every role, one patient with three conditions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import update

from ccmdesk.domain.care_plan import (
    Allergy,
    CarePlanContent,
    CommunityService,
    Coordination,
    Medication,
)
from ccmdesk.services.audit import Actor
from ccmdesk.storage.database import Database
from ccmdesk.storage.models import Condition, Patient, Practice, Staff
from tests.factories import add_patient, add_staff, practitioner_npi

UTC = dt.timezone.utc
#: 10:00 in New York on Monday 2026-11-16 (the test practice's zone).
NOW = dt.datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
TODAY = dt.date(2026, 11, 16)
THREE_CONDITIONS = ("E119", "I10", "E785")  # diabetes, hypertension, high cholesterol


@dataclass(frozen=True)
class Practice3:
    """Ids and actors of the test practice."""

    doctor: Actor  # the patient's billing practitioner
    other_doctor: Actor  # a practitioner, but not this patient's
    nurse: Actor  # the care manager
    desk: Actor  # non-clinical
    patient_id: int


def setup_practice(db: Database, *, codes: tuple[str, ...] = THREE_CONDITIONS) -> Practice3:
    with db.transaction() as session:
        practice = session.get(Practice, 1)
        practice.name = "Maple Street Primary Care"
        practice.phone = "(555) 010-0100"
        practice.after_hours_phone = "(555) 010-0199"
        practice.address = "12 Maple Street, Springfield"
    doctor = add_staff(db, "Grace Hopper", "practitioner", "MD", practitioner_npi(1))
    other = add_staff(db, "Alan Turing", "practitioner", "DO", practitioner_npi(2))
    nurse = add_staff(db, "Florence Night", "clinical_staff", "RN")
    desk = add_staff(db, "Frank Front", "non_clinical")
    patient_id = add_patient(
        db, "MRN-1", first="Edith", last="Clarke", practitioner_id=doctor, chronic_codes=codes
    )
    with db.transaction() as session:
        session.execute(update(Staff).where(Staff.id == nurse).values(phone="(555) 010-0142"))
        session.execute(
            update(Patient)
            .where(Patient.id == patient_id)
            .values(
                care_manager_id=nurse,
                caregiver="Daughter: Ada Clarke, (555) 010-0177",
                language="English",
                care_plan_date=None,
            )
        )
        # An acute condition and a resolved chronic one never reach the problem list.
        session.add(Condition(patient_id=patient_id, code="J069", chronic=False))
        session.add(
            Condition(
                patient_id=patient_id, code="J449", chronic=True, resolved=dt.date(2020, 1, 1)
            )
        )
    return Practice3(
        Actor(doctor, "Grace Hopper"),
        Actor(other, "Alan Turing"),
        Actor(nurse, "Florence Night"),
        Actor(desk, "Frank Front"),
        patient_id,
    )


def complete(content: CarePlanContent, today: dt.date = TODAY) -> CarePlanContent:
    """Fill what templates cannot know, so the plan can be signed on ``today``."""
    plan = content.copy()
    plan.prognosis = "Good: expected to stay stable with treatment."
    plan.patient_goals = "I want to dance at my granddaughter's wedding."
    plan.preferences = "Morning calls, please."
    plan.next_review = (today + dt.timedelta(days=180)).isoformat()
    plan.medications = [
        Medication("Metformin", "500 mg", "By mouth", "Twice a day", "Dr. Hopper", "With food"),
    ]
    plan.allergies = [Allergy("Penicillin", "Hives", "moderate")]
    plan.coordination = [
        Coordination("Oak Pharmacy", "Pharmacy", "(555) 010-0160", "2026-11-02"),
    ]
    plan.services.append(CommunityService("Meals on Wheels", "(555) 010-0190", "active"))
    plan.caregiver.helps_with = "Rides to appointments"
    return plan
