"""Care plans for the demo practice (called at the end of ``build_demo``).

Every consented patient whose plan the demo dates (``patient.care_plan_date``)
gets a plan built the way a practice would: the condition templates (a few
items of each, so a plan stays readable), plausible medicines, allergies,
other providers and community services, the patient's own goals.  Version 1
is created on the plan date, so the billing engine's ``no_care_plan`` check
sees exactly the dates it saw before; it is signed by the patient's billing
practitioner within a few days.  Plans whose review came due were mostly
revised (goals met, a dose changed) and signed again; the rest are overdue and
show up in the review-due list.  Plans started in the last week are still
drafts, and a few signed plans have a revision in progress.  Most signed
versions have a copy given to the patient or caregiver.

Like the rest of the demo: deterministic for a seed (its own ``Random``, so
the other demo data is unchanged), rows written in bulk, no audit rows (the
demo's one audit event covers the build), nothing dated after ``cutoff``.
Care managers and practitioners get invented direct lines (555-01xx).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import defaultdict
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ccmdesk.domain.care_plan import (
    Allergy,
    CarePlanContent,
    CommunityService,
    Coordination,
    Medication,
    Problem,
    caregiver_from_text,
    identity,
)
from ccmdesk.domain.care_plan_templates import (
    CarePlanTemplate,
    add_months,
    matching_templates,
    plan_from_templates,
)
from ccmdesk.domain.icd10 import format_icd10
from ccmdesk.domain.vocabulary import COPY_METHODS
from ccmdesk.reports.care_plan_data import staff_label
from ccmdesk.storage.models import (
    CarePlan,
    CarePlanCopy,
    CarePlanVersion,
    Condition,
    ConsentRecord,
    Patient,
    Staff,
)

UTC = dt.timezone.utc
DAY = dt.timedelta(days=1)
DRAFT_DAYS = 7  # plans started this recently are still drafts
REVISED_CHANCE = 0.8  # a review that came due was done
OPEN_DRAFT_CHANCE = 0.04  # a signed plan with a revision in progress
COPY_CHANCE = 0.85
COPY_METHOD_WEIGHTS = (
    ("printed", 25),
    ("in_person", 30),
    ("mailed", 15),
    ("portal", 25),
    ("email", 5),
)
#: Items taken from each template (goals, warning signs, interventions, services).
PER_TEMPLATE = (3, 2, 3, 1)
SERIOUS = {"heart_failure", "chronic_kidney_disease", "dementia", "copd"}

# fmt: off
ALBUTEROL = ("Albuterol inhaler", "2 puffs", "Inhaled", "Every 4 to 6 hours if needed",
             "Rescue inhaler")
#: template key -> (name, dose, route, frequency, notes)
MEDICINES: dict[str, tuple[tuple[str, str, str, str, str], ...]] = {
    "type2_diabetes": (
        ("Metformin", "500 mg", "By mouth", "Twice a day with meals", "Take with food"),
    ),
    "hypertension": (
        ("Lisinopril", "10 mg", "By mouth", "Once a day", ""),
        ("Amlodipine", "5 mg", "By mouth", "Once a day", "Ankle swelling can be a side effect"),
    ),
    "heart_failure": (
        ("Furosemide", "20 mg", "By mouth", "Once a day in the morning", "Water pill"),
        ("Carvedilol", "6.25 mg", "By mouth", "Twice a day with food", ""),
    ),
    "copd": (
        ("Tiotropium inhaler (Spiriva Respimat)", "2 puffs", "Inhaled", "Once a day", ""),
        ALBUTEROL,
    ),
    "asthma": (
        ("Fluticasone-salmeterol inhaler", "250/50 mcg, 1 puff", "Inhaled", "Twice a day",
         "Rinse your mouth after each use"),
        ALBUTEROL,
    ),
    "depression": (("Sertraline", "50 mg", "By mouth", "Once a day", ""),),
    "hyperlipidemia": (("Atorvastatin", "40 mg", "By mouth", "Once a day", ""),),
    "atrial_fibrillation": (
        ("Apixaban", "5 mg", "By mouth", "Twice a day",
         "Blood thinner: do not skip or stop on your own"),
        ("Metoprolol succinate", "25 mg", "By mouth", "Once a day", ""),
    ),
    "osteoarthritis": (
        ("Acetaminophen", "500 mg, 2 tablets", "By mouth", "Up to 3 times a day if needed",
         "No more than 3,000 mg a day"),
        ("Diclofenac 1% gel", "4 grams", "On the skin over the sore joint", "Up to 4 times a day",
         ""),
    ),
    "dementia": (("Donepezil", "5 mg", "By mouth", "Once a day at bedtime", ""),),
}
#: The next dose when a practitioner raises one at a review.
DOSE_STEPS = {
    "Metformin": "1000 mg", "Lisinopril": "20 mg", "Amlodipine": "10 mg", "Atorvastatin": "80 mg",
    "Sertraline": "100 mg", "Carvedilol": "12.5 mg", "Furosemide": "40 mg", "Donepezil": "10 mg",
}
ALLERGIES = (
    ("Penicillin", "Hives", "moderate"),
    ("Sulfa drugs", "Rash", "mild"),
    ("Codeine", "Nausea and vomiting", "mild"),
    ("Shellfish", "Throat swelling", "severe"),
    ("Latex", "Itchy rash", "mild"),
)
PHARMACIES = (
    ("Cedar Hollow Pharmacy", "(309) 555-0160"),
    ("Main Street Drug", "(309) 555-0161"),
    ("Prairie Plaza Pharmacy", "(309) 555-0162"),
)
CARDIOLOGY = ("Dr. Alan Pierce, Heartland Cardiology", "Heart doctor (cardiology)",
              "(309) 555-0170")
LUNGS = ("Dr. Lena Novak, Riverside Lung Clinic", "Lung doctor (pulmonology)", "(309) 555-0174")
#: template key -> (who, role, contact) of the other provider the practice works with.
PROVIDERS = {
    "heart_failure": CARDIOLOGY,
    "atrial_fibrillation": CARDIOLOGY,
    "chronic_kidney_disease": ("Dr. Priya Raman, Prairie Kidney Care", "Kidney doctor (nephrology)",
                               "(309) 555-0172"),
    "copd": LUNGS,
    "asthma": LUNGS,
    "depression": ("Riverbend Counseling Center", "Counselor", "(309) 555-0176"),
    "type2_diabetes": ("Dr. Owen Brandt, Lakeside Eye Care", "Eye doctor", "(309) 555-0178"),
    "dementia": ("Sunrise Home Health", "Home health nursing", "(309) 555-0180"),
    "osteoarthritis": ("Cedar Hollow Physical Therapy", "Physical therapy", "(309) 555-0182"),
}
EXTRA_SERVICES = (
    ("Meals on Wheels", "(309) 555-0190"),
    ("Cedar County senior bus (rides to appointments)", "(309) 555-0192"),
    ("Medicare counseling (SHIP)", "(309) 555-0194"),
)
PATIENT_GOALS = (
    "I want to keep working in my garden.",
    "I want to walk to church on Sundays.",
    "I want to stay in my own home.",
    "I want to play cards with my friends every week.",
    "I want to stay out of the hospital.",
    "I want to go fishing with my son this summer.",
    "I want to cook for my family again.",
    "I want to keep driving to the store on my own.",
    "I want to travel to see my grandchildren.",
    "I want to have more energy for my dog and my walks.",
)
PREFERENCES = (
    "Prefers phone calls in the morning.",
    "Prefers large-print handouts.",
    "Prefers reminders by phone, not by text.",
    "Wants the caregiver included in calls about medicines.",
    "Prefers appointments early in the week.",
)
HELPS_WITH = (
    "Rides to appointments",
    "Picking up medicines",
    "Shopping and meals",
    "Medicines, meals and rides to appointments",
)
# fmt: on


def add_demo_care_plans(
    session: Session, today: dt.date, cutoff: dt.datetime, seed: int
) -> dict[str, int]:
    """Write the demo's care plans; returns how many plans, versions and copies."""
    rng = random.Random(f"care-plans-{seed}")
    staff = {s.id: s for s in session.scalars(select(Staff).order_by(Staff.id))}
    _give_direct_lines(session, staff)
    writer = _Writer(rng, today, cutoff, staff)
    patients = session.execute(
        select(Patient).where(Patient.care_plan_date.is_not(None)).order_by(Patient.id)
    ).scalars()
    problems: dict[int, list[Problem]] = defaultdict(list)
    for pid, code, description in session.execute(
        select(Condition.patient_id, Condition.code, Condition.description)
        .where(Condition.chronic, Condition.resolved.is_(None))
        .order_by(Condition.patient_id, Condition.code)
    ):
        problems[pid].append(Problem(format_icd10(code), description))
    opt_outs = dict(
        session.execute(
            select(ConsentRecord.patient_id, ConsentRecord.opt_out_date).where(
                ConsentRecord.opt_out_date.is_not(None)
            )
        ).all()
    )
    for patient in patients:
        writer.plan(patient, problems[patient.id], opt_outs.get(patient.id))
    return writer.flush(session)


def _give_direct_lines(session: Session, staff: dict[int, Staff]) -> None:
    """Invented direct lines for the clinical team (printed on care plans)."""
    for number, member in enumerate(m for m in staff.values() if m.role != "non_clinical"):
        phone = f"(309) 555-01{40 + number:02d}"
        session.execute(update(Staff).where(Staff.id == member.id).values(phone=phone))


def _at(day: dt.date, hour: float) -> dt.datetime:
    """An instant on ``day`` at ``hour`` UTC (15-22 UTC is office hours in Chicago)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC) + dt.timedelta(hours=hour)


class _Writer:
    """Plans every patient's versions in memory, then writes them in three inserts."""

    def __init__(
        self, rng: random.Random, today: dt.date, cutoff: dt.datetime, staff: dict[int, Staff]
    ) -> None:
        self.rng = rng
        self.today = today
        self.cutoff = cutoff - dt.timedelta(minutes=1)
        self.staff = staff
        self.plans: list[dict[str, Any]] = []
        self.versions: list[dict[str, Any]] = []  # carry "patient_id" until written
        self.copies: list[dict[str, Any]] = []  # carry "patient_id" and "number"
        self._merged: dict[tuple, tuple] = {}  # type: ignore[type-arg]

    def _time(self, day: dt.date, low: float = 15, high: float = 22) -> dt.datetime:
        return min(_at(day, self.rng.uniform(low, high)), self.cutoff)

    def _label(self, staff_id: int | None) -> str:
        member = self.staff.get(staff_id) if staff_id else None
        return staff_label(member.name, member.credential) if member else ""

    # -- one patient ---------------------------------------------------------------

    def plan(self, patient: Patient, problems: list[Problem], opt_out: dt.date | None) -> None:
        rng, start = self.rng, patient.care_plan_date
        assert start is not None
        content, keys = self._first_content(patient, problems, start)
        author, signer = patient.care_manager_id, patient.billing_practitioner_id
        self.plans.append({"patient_id": patient.id, "created_at": self._time(start, 15, 16)})
        number, day = 1, start
        while True:
            created = self._time(day, 15, 16)
            if day > self.today - DRAFT_DAYS * DAY:
                self._version(patient.id, number, content, author, created, None, None)
                return
            signed_day = min(day + rng.randint(0, 3) * DAY, self.today)
            signed_at = max(self._time(signed_day, 16, 22), created)
            months = 6 if keys & SERIOUS else 12
            review = add_months(signed_day, months)
            content.next_review = review.isoformat()
            self._version(patient.id, number, content, author, created, signer, signed_at)
            self._copy(patient, number, signed_day)
            due_done = review <= self.today - 3 * DAY and rng.random() < REVISED_CHANCE
            if due_done and (opt_out is None or review <= opt_out):
                day, number = review - rng.randint(0, 10) * DAY, number + 1
                content = self._revised(content, day)
                continue
            if review <= self.today + 30 * DAY and rng.random() < OPEN_DRAFT_CHANCE:
                draft_day = self.today - rng.randint(0, 13) * DAY
                draft = self._revised(content, draft_day)
                draft.next_review = ""
                when = max(self._time(draft_day, 15, 16), signed_at)
                self._version(patient.id, number + 1, draft, author, when, None, None)
            return

    def _first_content(
        self, patient: Patient, problems: list[Problem], start: dt.date
    ) -> tuple[CarePlanContent, set[str]]:
        rng = self.rng
        templates, content = self._from_templates(problems, start)
        keys = {t.key for t in templates}
        for service in content.services:
            service.status = rng.choice(("suggested", "referred", "referred", "active", "declined"))
        if rng.random() < 0.3:
            name, contact = rng.choice(EXTRA_SERVICES)
            content.services.append(CommunityService(name, contact, "active"))
        prescriber = self._label(patient.billing_practitioner_id)
        seen: set[str] = set()
        for template in templates:
            for name, dose, route, frequency, notes in MEDICINES.get(template.key, ()):
                if name not in seen and (not seen or rng.random() < 0.85):
                    seen.add(name)
                    by = prescriber
                    if template.key in PROVIDERS and rng.random() < 0.3:
                        by = PROVIDERS[template.key][0].split(",")[0]
                    content.medications.append(Medication(name, dose, route, frequency, by, notes))
        if rng.random() < 0.35:
            count = 1 if rng.random() < 0.8 else 2
            content.allergies = [Allergy(*a) for a in rng.sample(ALLERGIES, count)]
        else:
            content.no_known_allergies = True
        pharmacy, phone = rng.choice(PHARMACIES)
        content.coordination.append(Coordination(pharmacy, "Pharmacy", phone, ""))
        for key in sorted(keys):
            provider = PROVIDERS.get(key)
            if provider and all(c.who != provider[0] for c in content.coordination):
                content.coordination.append(Coordination(*provider, ""))
        for other in content.coordination:
            other.last_exchange = (start - rng.randint(1, 60) * DAY).isoformat()
        content.patient_goals = rng.choice(PATIENT_GOALS)
        preferences = [rng.choice(PREFERENCES)] if rng.random() < 0.6 else []
        if patient.language and patient.language != "English":
            preferences.insert(0, f"Preferred language: {patient.language}. Use an interpreter.")
        content.preferences = " ".join(preferences)
        content.caregiver = caregiver_from_text(patient.caregiver)
        if content.caregiver.name:
            memory = "dementia" in keys
            content.caregiver.helps_with = HELPS_WITH[-1] if memory else rng.choice(HELPS_WITH)
        content.prognosis = _prognosis(templates, keys)
        return content, keys

    def _from_templates(
        self, problems: list[Problem], start: dt.date
    ) -> tuple[list[CarePlanTemplate], CarePlanContent]:
        """The matching templates, trimmed to their first few items, merged for ``start``.

        Merging is the slow part, so it is done once per set of conditions and
        each patient gets a copy with the goals' due dates counted from ``start``.
        """
        key = tuple((p.code, p.description) for p in problems)
        if key not in self._merged:
            goals, signs, actions, services = PER_TEMPLATE
            templates = [
                dataclasses.replace(
                    m.template,
                    goals=m.template.goals[:goals],
                    symptoms=m.template.symptoms[:signs],
                    interventions=m.template.interventions[:actions],
                    services=m.template.services[:services],
                )
                for m in matching_templates(p.code for p in problems)
            ]
            months: dict[str, int] = {}
            for template in templates:
                for goal in template.goals:
                    months.setdefault(identity(goal.goal), goal.due_in_months)
            merged = plan_from_templates(problems, templates, start)
            self._merged[key] = (templates, merged, months)
        templates, merged, months = self._merged[key]
        content = merged.copy()
        for goal in content.goals:
            goal.due = add_months(start, months[identity(goal.goal)]).isoformat()
        return templates, content

    def _revised(self, content: CarePlanContent, day: dt.date) -> CarePlanContent:
        """The plan as a review leaves it: goals met or carried on, a dose raised."""
        rng, revised = self.rng, content.copy()
        for goal in revised.goals:
            if goal.status != "active":
                continue
            roll = rng.random()
            if roll < 0.35:
                goal.status = "met"
                continue
            if roll < 0.45:
                goal.status = "not_met"  # not met yet: carried on with a new date
            goal.due = add_months(day, 6).isoformat()
        raisable = [m for m in revised.medications if DOSE_STEPS.get(m.name, m.dose) != m.dose]
        if raisable and rng.random() < 0.3:
            medicine = rng.choice(raisable)
            medicine.dose = DOSE_STEPS[medicine.name]
        for other in revised.coordination:
            other.last_exchange = (day - rng.randint(1, 45) * DAY).isoformat()
        return revised

    def _version(
        self,
        patient_id: int,
        number: int,
        content: CarePlanContent,
        author: int | None,
        created: dt.datetime,
        signer: int | None,
        signed_at: dt.datetime | None,
    ) -> None:
        edited = created + dt.timedelta(minutes=self.rng.randint(10, 90))
        updated = min(signed_at or self.cutoff, edited)
        self.versions.append(
            {
                "patient_id": patient_id,
                "number": number,
                "content": content.to_json(),
                "next_review_date": dt.date.fromisoformat(content.next_review)
                if content.next_review
                else None,
                "author_id": author,
                "created_at": created,
                "updated_at": max(updated, created),
                "signed_by_id": signer,
                "signed_at": signed_at,
            }
        )

    def _copy(self, patient: Patient, number: int, signed_day: dt.date) -> None:
        rng = self.rng
        if rng.random() >= COPY_CHANCE:
            return
        given_on = min(signed_day + rng.randint(0, 5) * DAY, self.today)
        method = rng.choices(*zip(*COPY_METHOD_WEIGHTS, strict=True))[0]
        assert method in COPY_METHODS
        given_to = f"{patient.first_name} {patient.last_name} (patient)"
        caregiver = caregiver_from_text(patient.caregiver)
        if caregiver.name and rng.random() < 0.4:
            relation = caregiver.relationship.lower() or "caregiver"
            given_to = f"{caregiver.name} ({relation})"
        self.copies.append(
            {
                "patient_id": patient.id,
                "number": number,
                "given_on": given_on,
                "method": method,
                "given_to": given_to,
                "recorded_by_id": patient.care_manager_id,
                "created_at": self._time(given_on, 16, 22),
            }
        )

    # -- writing ---------------------------------------------------------------------

    def _ensure_a_draft(self) -> None:
        """A small build still shows a new plan waiting for its first signature."""
        counts: dict[int, int] = defaultdict(int)
        for version in self.versions:
            counts[version["patient_id"]] += 1
        only = [v for v in self.versions if counts[v["patient_id"]] == 1]
        if not only or any(v["signed_at"] is None for v in only):
            return
        newest = max(only, key=lambda v: (v["created_at"], v["patient_id"]))
        newest["signed_by_id"] = newest["signed_at"] = None
        self.copies = [c for c in self.copies if c["patient_id"] != newest["patient_id"]]

    def flush(self, session: Session) -> dict[str, int]:
        if not self.plans:
            return {"plans": 0, "versions": 0, "copies": 0}
        self._ensure_a_draft()
        session.execute(insert(CarePlan.__table__), [{**p, "row_version": 1} for p in self.plans])
        plan_ids = dict(session.execute(select(CarePlan.patient_id, CarePlan.id)).all())
        for row in self.versions:
            row["care_plan_id"] = plan_ids[row.pop("patient_id")]
        session.execute(insert(CarePlanVersion.__table__), self.versions)
        version_ids = {
            (plan_id, number): vid
            for vid, plan_id, number in session.execute(
                select(CarePlanVersion.id, CarePlanVersion.care_plan_id, CarePlanVersion.number)
            )
        }
        for row in self.copies:
            plan_id = plan_ids[row.pop("patient_id")]
            row["version_id"] = version_ids[plan_id, row.pop("number")]
        if self.copies:
            session.execute(insert(CarePlanCopy.__table__), self.copies)
        return {
            "plans": len(self.plans),
            "versions": len(self.versions),
            "copies": len(self.copies),
        }


def _prognosis(templates: list[CarePlanTemplate], keys: set[str]) -> str:
    serious = [t.title for t in templates if t.key in SERIOUS]
    if serious:
        names = " and ".join(serious[:2])
        return (
            f"Fair. {names[0].upper()}{names[1:]} usually get slowly worse over the years."
            " With close follow-up we aim to keep you well at home and out of the hospital."
        )
    return "Good. With treatment, these conditions are expected to stay stable."
