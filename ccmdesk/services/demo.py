"""Build a realistic, invented CCM practice (``ccmdesk demo``, SPEC §2).

The demo exists to show the application doing its real work: a month list
with billable and non-billable patients for every reason of SPEC §1.1, every
code family of §1.2, overlaps, non-countable and non-clinical time.  So the
generator draws each patient from categories with fixed shares, and rare
categories (declined, opted out, one chronic condition ...) get at least one
patient even in a small build.

Everything is deterministic for a given ``seed`` and ``today``: one
``random.Random`` drives every choice, in a fixed order, and no timestamp is
taken from the clock except the audit event's (which says when the demo was
really built) and the salt of the demo password's hash (random, as every salt
must be; one hash is reused for every demo login and kept for the process).

Every demo staff member can sign in: the user name is their first name in
lower case, the password :data:`DEMO_PASSWORD` for all; Helen Marsh (MD) is
the administrator and Lisa Carrington the office manager.  The sign-in screen
shows this (a ``sign_in_hint`` setting row), as a real practice never would.

Choices made here (the brief leaves them open):

* The whole build is **one transaction**: a failure leaves the database as
  empty as it was.  Time entries are written in chunks inside it to keep
  memory flat.
* "Empty" means no practice, no staff and no patients: the demo writes its
  own practice and staff, and merging them into a real setup would be worse
  than refusing.
* Rows are plain dicts written with bulk Core inserts; patient ids are read
  back by MRN rather than assigned, so a PostgreSQL sequence never falls
  behind.
* Entries fall on weekdays between 8:00 and 17:00 in the practice zone. Those
  hours never touch a DST change (at 2:00), so each day's UTC offset is
  computed once, at noon.
* ``today`` is the last day that may hold time.  When it is the real current
  day, only a working day already over (after 17:00 local) holds entries;
  otherwise ``today`` counts as over.  Nothing is ever dated after ``today``.
* In a month still in progress (or ending in an opt-out) the month's minutes
  are scaled to the working days available, so the current month looks like
  a real month half done: many patients still short of 20 minutes.
* Care plans: ``patient.care_plan_date`` marks when each plan was established,
  and :mod:`ccmdesk.services.demo_care_plans` writes the plans themselves
  (versions, signatures, copies given), version 1 dated that same day.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import random
import time
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from ccmdesk.domain import passwords
from ccmdesk.domain.chronic import is_chronic_by_default
from ccmdesk.domain.icd10 import default_index, normalize_icd10
from ccmdesk.domain.identifiers import make_mbi, make_npi
from ccmdesk.domain.time import Month, local_to_utc, start_of_day_utc
from ccmdesk.services import demo_names as words
from ccmdesk.services.audit import Actor, record
from ccmdesk.services.users import SIGN_IN_HINT_KEY
from ccmdesk.storage.database import Database
from ccmdesk.storage.models import (
    AuditEvent,
    Base,
    ComplexMonth,
    Condition,
    ConsentRecord,
    InitiatingVisit,
    Patient,
    Practice,
    Setting,
    Staff,
    TimeEntry,
)

UTC = dt.timezone.utc
DAY = dt.timedelta(days=1)
WORK_START = 8 * 3600  # seconds after local midnight
WORK_END = 17 * 3600
CHUNK = 20_000  # time entries per INSERT batch

#: Every demo user signs in with their first name in lower case and this password.
DEMO_PASSWORD = "demo-pass"
DEMO_ADMINISTRATOR = "md"  # Helen Marsh, the physician-owner
DEMO_OFFICE_MANAGER = "manager"  # Lisa Carrington
DEMO_SIGN_IN_HINT = (
    "Demo practice: sign in as megan (nurse), helen (physician and administrator) or "
    f"lisa (office manager); every demo user's password is {DEMO_PASSWORD}"
)

# -- shares of patients ------------------------------------------------------------

#: Enrollment categories; "consented" takes whatever is left.
ENROLLMENT_SHARES = {"declined": 0.04, "opted_out": 0.03, "outreach": 0.03, "none": 0.05}
NO_PART_B_SHARE = 0.03
SINGLE_CHRONIC_SHARE = 0.03  # of all patients, drawn from the consented
OLD_VISIT_SHARE = 0.01  # initiating visit more than 12 months before consent
RECENT_CONSENT_SHARE = 0.15  # consents inside the covered months
COMPLEX_MONTH_CHANCE = 0.3  # per enrolled month of a heart-and-kidney patient

#: Condition profiles: one code from each group, tagged for the notes.
PROFILES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "diabetes": (("diabetes", ("E11.9", "E11.65", "E11.22")), ("hypertension", ("I10",))),
    "heart_kidney": (
        ("heart_failure", ("I50.22", "I50.32")),
        ("ckd", ("N18.30", "N18.31", "N18.32", "N18.4")),
    ),
    "lung_mood": (("copd", ("J44.9",)), ("depression", ("F32.A", "F33.1"))),
    "rhythm": (("afib", ("I48.91",)), ("hypertension", ("I10",))),
    "memory": (("dementia", ("F03.90", "G30.9")), ("hypertension", ("I10",))),
    "metabolic": (("hypertension", ("I10",)), ("lipids", ("E78.5",))),
}
#: Profile shares; "metabolic" takes whatever is left.
PROFILE_SHARES = {
    "diabetes": 0.30,
    "heart_kidney": 0.15,
    "lung_mood": 0.13,
    "rhythm": 0.13,
    "memory": 0.09,
}
EXTRA_CONDITIONS = (
    ("lipids", "E78.5"),
    ("osteoarthritis", "M17.11"),
    ("obesity", "E66.9"),
    ("hypertension", "I10"),
    ("depression", "F32.A"),
)
MAX_CHRONIC = 5
ACUTE_CODE = "J06.9"  # acute upper respiratory infection: never counts

# -- shape of the monthly time ---------------------------------------------------

#: Engagement -> (weight, low, high) bands of a month's countable minutes.
MONTH_MINUTES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "low": ((25, 0, 0), (20, 5, 13), (25, 14, 19), (30, 20, 30)),
    "typical": (
        (6, 0, 0),
        (6, 5, 13),
        (12, 14, 19),
        (48, 20, 30),
        (10, 31, 39),
        (13, 40, 59),
        (5, 60, 75),
    ),
    "high": ((2, 0, 0), (6, 14, 19), (30, 20, 30), (15, 31, 39), (30, 40, 59), (17, 60, 80)),
    "complex": ((15, 35, 59), (55, 60, 89), (30, 90, 120)),
}
ENGAGEMENT = {"low": 15, "typical": 65, "high": 20}
SICK_ENGAGEMENT = {"low": 5, "typical": 50, "high": 45}
PRACTITIONER_MONTH_CHANCE = 0.03  # the practitioner does 30-38 min alone (99491)
PRACTITIONER_PIECE_CHANCE = 0.10  # one piece of the month is the practitioner's
FACE_TO_FACE_CHANCE = 0.03
FRONT_DESK_CHANCE = 0.04
OVERLAP_CHANCE = 0.015
AFTER_OPT_OUT_CHANCE = 0.3  # a call in the month after an opt-out took effect
MANUAL_CHANCE = 0.2
STAFF_ACTIVITIES = (
    ("phone_call", 34),
    ("care_coordination", 24),
    ("medication_management", 20),
    ("care_plan_review", 6),
    ("patient_education", 6),
    ("referral_coordination", 5),
    ("care_transition", 3),
    ("other", 2),
)
PRACTITIONER_ACTIVITIES = (
    ("care_plan_review", 50),
    ("medication_management", 30),
    ("care_coordination", 20),
)
CARE_MANAGERS = (("rn1", 35), ("rn2", 35), ("rn3", 15), ("lpn", 15))
PRACTITIONERS = (("md", 40), ("do", 35), ("np", 25))
HELPERS = (("ma", 50), ("lpn", 20), ("rn1", 10), ("rn2", 10), ("rn3", 10))


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`build_demo` made, for the command line and the GUI to report."""

    staff: int
    patients: int
    time_entries: int
    months: int
    first_month: str
    last_month: str
    elapsed_seconds: float


@dataclass
class _Plan:
    """Everything decided about one invented patient before any row is written."""

    mrn: str
    enrollment: str  # consented, opted_out, declined, outreach, none
    profile: str
    group: str = "general"  # name group, see demo_names.NAME_GROUPS
    part_b: bool = True
    single_chronic: bool = False
    old_visit: bool = False
    first_name: str = ""
    last_name: str = ""
    sex: str = "F"
    dob: dt.date = dt.date(1950, 1, 1)
    mbi: str = ""
    phone: str = ""
    address: str = ""
    language: str = "English"
    caregiver: str = ""
    practitioner: str = "md"
    care_manager: str = "rn1"
    engagement: str = "typical"
    tags: list[str] = field(default_factory=list)
    conditions: list[tuple[str, dt.date, dt.date | None]] = field(default_factory=list)
    consent_date: dt.date | None = None
    consent_method: str = "verbal"
    opt_out_date: dt.date | None = None
    visit_date: dt.date | None = None
    visit_type: str = "em_visit"
    care_plan_date: dt.date | None = None
    complex_months: list[Month] = field(default_factory=list)
    patient_id: int = 0


def build_demo(
    db: Database,
    *,
    patients: int = 300,
    months: int = 12,
    today: dt.date | None = None,
    seed: int = 2026,
    now: dt.datetime | None = None,
    actor: Actor | None = None,
    replace_demo: bool | None = None,
) -> DemoSummary:
    """Fill an empty ccmdesk database with an invented practice.

    ``months`` calendar months of time end with the month of ``today``
    (default: today in the practice's zone). ``now`` (aware) stands in for
    the clock, for tests. Raises ``ValueError`` when the database already
    holds a practice, staff or patients, or when the sizes make no sense.

    ``replace_demo`` empties a database that holds nothing but an earlier demo
    first (in the same transaction).  By default it does so on a server
    database: an SQLite demo is rebuilt by deleting its file, which a
    PostgreSQL database has no equivalent of.  A real practice is never emptied.
    """
    if patients < 1:
        raise ValueError("the demo needs at least one patient")
    if not 1 <= months <= 120:
        raise ValueError("the demo covers 1 to 120 months")
    started = time.perf_counter()
    zone = ZoneInfo(words.PRACTICE_TIME_ZONE)
    builder = _Builder(random.Random(seed), zone, months, today, now)
    if replace_demo is None:
        replace_demo = db.engine.dialect.name != "sqlite"
    with db.transaction() as session:
        _refuse_unless_empty(session, replace_demo=replace_demo)
        summary = builder.write(session, patients, actor or Actor.command_line(), seed)
        from ccmdesk.services.demo_care_plans import add_demo_care_plans

        add_demo_care_plans(session, builder.today, builder.cutoff, seed)
    return DemoSummary(**{**summary, "elapsed_seconds": time.perf_counter() - started})


def _demo_password_hash() -> str:
    """One hash for every demo login: hashing costs ~0.15 s, ten of them would show.

    Cached for the process (per hashing cost), so two builds in one process write
    the same rows, and a hash made at another cost is never handed out as current.
    """
    return _demo_hash_at(passwords.LOG2_N)


@functools.cache
def _demo_hash_at(log2_n: int) -> str:
    return passwords.hash_password(DEMO_PASSWORD)


def _refuse_unless_empty(session: Session, *, replace_demo: bool = False) -> None:
    found = []
    for model, what in ((Practice, "a practice"), (Staff, "staff"), (Patient, "patients")):
        if session.scalar(select(func.count()).select_from(model)):
            found.append(what)
    if found and replace_demo and holds_only_a_demo(session):
        _empty_every_table(session)
    elif found:
        raise ValueError(
            f"the database already holds {', '.join(found)}; the demo only fills an empty database"
            + (" or one holding an earlier demo" if replace_demo else "")
        )


def holds_only_a_demo(session: Session) -> bool:
    """One practice, the demo's, built by :func:`build_demo` (its audit event says so)."""
    names = session.scalars(select(Practice.name)).all()
    built = select(AuditEvent.id).where(
        AuditEvent.action == "demo", AuditEvent.entity == "practice"
    )
    return names == [words.PRACTICE_NAME] and session.scalar(built.limit(1)) is not None


def _empty_every_table(session: Session) -> None:
    """Remove every row of every ccmdesk table (the schema and its revision stay).

    The demo's audit trail goes too: it describes invented people, and the
    rebuilt demo starts its own, as a new demo file would.
    """
    tables = Base.metadata.sorted_tables
    if session.get_bind().dialect.name == "postgresql":  # one statement, and ids from 1 again
        names = ", ".join(f'"{table.name}"' for table in tables)
        session.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
    else:
        for table in reversed(tables):
            session.execute(table.delete())


Weighted = tuple[list[Any], list[float]]
Piece = list[Any]  # [staff key, activity, note, source, seconds]
Placed = tuple[Piece, dt.datetime, dt.datetime]


def _weighted(pairs: Sequence[tuple[Any, float]]) -> Weighted:
    """Values and cumulative weights, ready for :func:`_pick` (cheaper than weights)."""
    return [value for value, _ in pairs], list(accumulate(weight for _, weight in pairs))


def _pick(rng: random.Random, table: Weighted) -> Any:
    """One value, drawn by weight (what ``rng.choices`` does, for less)."""
    values, cumulative = table
    return values[bisect_right(cumulative, rng.random() * cumulative[-1])]


class _Builder:
    """Plans the patients, then writes every table in one session."""

    def __init__(
        self,
        rng: random.Random,
        zone: ZoneInfo,
        months: int,
        today: dt.date | None,
        now: dt.datetime | None,
    ) -> None:
        self.rng = rng
        self.zone = zone
        real_now = (now or dt.datetime.now(UTC)).astimezone(UTC)
        local_today = real_now.astimezone(zone).date()
        self.today = today or local_today
        if self.today == local_today:
            self.cutoff = real_now
        else:
            self.cutoff = start_of_day_utc(self.today + DAY, zone)
        end_of_work = local_to_utc(dt.datetime.combine(self.today, dt.time(17)), zone)
        # The last day whose working hours are entirely in the past.
        self.last_work_day = self.today if self.cutoff >= end_of_work else self.today - DAY
        covered = [Month.of(self.today)]
        while len(covered) < months:
            covered.insert(0, covered[0].previous())
        self.months = tuple(covered)
        self.start = covered[0].first_day
        # Consents reach back two years (further for long demos).
        self.consent_from = min(self.today - 730 * DAY, self.start - 180 * DAY)
        self.weekdays = {m: _weekdays(m) for m in covered}
        self._midnight: dict[dt.date, dt.datetime] = {}
        self._opt_out_shown = False
        self.staff: dict[str, int] = {}
        self.staff_role: dict[str, str] = {}
        self._descriptions: dict[str, str] = {}
        self._activities = _weighted(STAFF_ACTIVITIES)
        self._practitioner_activities = _weighted(PRACTITIONER_ACTIVITIES)
        self._care_managers = _weighted(CARE_MANAGERS)
        self._practitioners = _weighted(PRACTITIONERS)
        self._helpers = _weighted(HELPERS)
        self._groups = _weighted([(name, g[0]) for name, g in words.NAME_GROUPS.items()])
        self._languages = {name: _weighted(pairs) for name, pairs in words.LANGUAGES.items()}
        self._engagement = {
            "heart_kidney": _weighted(list(SICK_ENGAGEMENT.items())),
            "other": _weighted(list(ENGAGEMENT.items())),
        }
        self._bands = {
            name: _weighted([((low, high), weight) for weight, low, high in bands])
            for name, bands in MONTH_MINUTES.items()
        }

    # -- writing ---------------------------------------------------------------

    def write(self, session: Session, count: int, actor: Actor, seed: int) -> dict[str, Any]:
        """Write practice, staff, patients and their facts, then the time entries."""
        practice_id = self._write_practice_and_staff(session)
        plans = self.plan_patients(count)
        self._write_patients(session, plans)
        for model, rows in (
            (Condition, self._condition_rows(plans)),
            (ConsentRecord, self._consent_rows(plans)),
            (InitiatingVisit, self._visit_rows(plans)),
            (ComplexMonth, self._complex_rows(plans)),
        ):
            if rows:
                session.execute(insert(model.__table__), rows)
        entries = 0
        chunk: list[dict[str, Any]] = []
        for row in self.time_entries(plans):
            chunk.append(row)
            if len(chunk) >= CHUNK:
                session.execute(insert(TimeEntry.__table__), chunk)
                entries += len(chunk)
                chunk = []
        if chunk:
            session.execute(insert(TimeEntry.__table__), chunk)
            entries += len(chunk)
        summary = {
            "staff": len(self.staff),
            "patients": len(plans),
            "time_entries": entries,
            "months": len(self.months),
            "first_month": str(self.months[0]),
            "last_month": str(self.months[-1]),
        }
        record(
            session,
            actor,
            "demo",
            "practice",
            entity_id=practice_id,
            after={**summary, "seed": seed, "today": self.today},
            detail=(
                f"Built the demo practice: {len(plans)} invented patients, "
                f"{entries} time entries, {self.months[0]} to {self.months[-1]}"
            ),
        )
        return summary

    def _write_practice_and_staff(self, session: Session) -> int:
        rng = self.rng
        used: set[str] = set()

        def npi() -> str:
            while True:
                value = make_npi(f"1{rng.randrange(10**8):08d}")
                if value not in used:
                    used.add(value)
                    return value

        since = _instant(self.consent_from - 400 * DAY)
        practice_id = session.execute(
            insert(Practice.__table__).values(
                name=words.PRACTICE_NAME,
                npi=npi(),
                address=words.PRACTICE_ADDRESS,
                phone=words.PRACTICE_PHONE,
                after_hours_phone=words.PRACTICE_AFTER_HOURS,
                time_zone=words.PRACTICE_TIME_ZONE,
            )
        ).inserted_primary_key[0]
        hashed = _demo_password_hash()
        for key, name, credential, role in words.STAFF:
            self.staff[key] = session.execute(
                insert(Staff.__table__).values(
                    name=name,
                    credential=credential,
                    role=role,
                    npi=npi() if role == "practitioner" else None,
                    active=True,
                    created_at=since,
                    login=name.split()[0].lower(),
                    password_hash=hashed,
                    administrator=key == DEMO_ADMINISTRATOR,
                    office_manager=key == DEMO_OFFICE_MANAGER,
                )
            ).inserted_primary_key[0]
            self.staff_role[key] = role
        session.add(Setting(key=SIGN_IN_HINT_KEY, value=json.dumps(DEMO_SIGN_IN_HINT)))
        return int(practice_id)

    def _write_patients(self, session: Session, plans: list[_Plan]) -> None:
        rows = []
        for p in plans:
            known = [d for d in (p.visit_date, p.consent_date, self.start) if d is not None]
            created = _instant(min(known) - self.rng.randint(7, 90) * DAY)
            rows.append(
                {
                    "mrn": p.mrn,
                    "first_name": p.first_name,
                    "last_name": p.last_name,
                    "dob": p.dob,
                    "sex": p.sex,
                    "mbi": p.mbi,
                    "phone": p.phone,
                    "address": p.address,
                    "language": p.language,
                    "caregiver": p.caregiver,
                    "part_b": p.part_b,
                    "billing_practitioner_id": self.staff[p.practitioner],
                    "care_manager_id": self.staff[p.care_manager],
                    "care_plan_date": p.care_plan_date,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        session.execute(insert(Patient.__table__), rows)
        ids = {mrn: id_ for mrn, id_ in session.execute(select(Patient.mrn, Patient.id))}
        for p in plans:
            p.patient_id = ids[p.mrn]

    def _description(self, code: str) -> str:
        if code not in self._descriptions:
            self._descriptions[code] = default_index().description(code) or ""
        return self._descriptions[code]

    def _condition_rows(self, plans: list[_Plan]) -> list[dict[str, Any]]:
        rows = []
        for p in plans:
            for code, onset, resolved in p.conditions:
                stored = normalize_icd10(code)
                rows.append(
                    {
                        "patient_id": p.patient_id,
                        "code": stored,
                        "description": self._description(stored),
                        "onset": onset,
                        "resolved": resolved,
                        "chronic": is_chronic_by_default(stored),
                        "chronic_overridden": False,
                    }
                )
        return rows

    def _consent_rows(self, plans: list[_Plan]) -> list[dict[str, Any]]:
        rows = []
        for p in plans:
            if p.consent_date is None:
                continue
            rows.append(
                {
                    "patient_id": p.patient_id,
                    "consent_date": p.consent_date,
                    "method": p.consent_method,
                    "obtained_by_id": self.staff[p.care_manager],
                    "practitioner_id": self.staff[p.practitioner],
                    "told_availability": True,
                    "told_cost_sharing": True,
                    "told_stop_anytime": True,
                    "told_one_practitioner": True,
                    "declined": p.enrollment == "declined",
                    "opt_out_date": p.opt_out_date,
                    "created_at": _instant(p.consent_date),
                }
            )
        return rows

    def _visit_rows(self, plans: list[_Plan]) -> list[dict[str, Any]]:
        return [
            {
                "patient_id": p.patient_id,
                "visit_date": p.visit_date,
                "visit_type": p.visit_type,
                "practitioner_id": self.staff[p.practitioner],
            }
            for p in plans
            if p.visit_date is not None
        ]

    def _complex_rows(self, plans: list[_Plan]) -> list[dict[str, Any]]:
        rows = []
        for p in plans:
            for month in p.complex_months:
                day = min(month.first_day + 19 * DAY, self.today)
                rows.append(
                    {
                        "patient_id": p.patient_id,
                        "month": str(month),
                        "flagged_by_id": self.staff[p.practitioner],
                        "created_at": min(_instant(day), self.cutoff),
                    }
                )
        return rows

    # -- planning patients -------------------------------------------------------

    def plan_patients(self, count: int) -> list[_Plan]:
        """Decide every patient's category and facts (no ids yet)."""
        rng = self.rng
        enrollment = _deck(rng, count, ENROLLMENT_SHARES, "consented")
        profiles = _deck(rng, count, PROFILE_SHARES, "metabolic")
        numbers = rng.sample(range(1000, max(1_000_000, 10 * count)), count)
        plans = [
            _Plan(mrn=f"MRN-{number:06d}", enrollment=kind, profile=profile)
            for number, kind, profile in zip(numbers, enrollment, profiles, strict=True)
        ]
        for index in rng.sample(range(count), _quota(NO_PART_B_SHARE, count)):
            plans[index].part_b = False
        enrolled = [p for p in plans if p.enrollment in ("consented", "opted_out")]
        for p in rng.sample(enrolled, min(len(enrolled), _quota(SINGLE_CHRONIC_SHARE, count))):
            p.single_chronic = True
        regular = [p for p in enrolled if p.enrollment == "consented" and not p.single_chronic]
        for p in rng.sample(regular, min(len(regular), _quota(OLD_VISIT_SHARE, count))):
            p.old_visit = True

        mbis: set[str] = set()
        for p in plans:
            self._person(p, mbis)
            self._enrollment(p)
            self._conditions(p)
            self._complex(p)
        self._ensure_missing_care_plan(plans)
        self._ensure_complex_month(plans)
        return plans

    def _person(self, p: _Plan, mbis: set[str]) -> None:
        rng = self.rng
        p.group = group = _pick(rng, self._groups)
        _, women, men, last_names = words.NAME_GROUPS[group]
        p.sex = "F" if rng.random() < 0.56 else "M"
        p.first_name = rng.choice(women if p.sex == "F" else men)
        p.last_name = rng.choice(last_names)
        p.language = _pick(rng, self._languages[group])
        roll = rng.random()
        if roll < 0.04:
            age = rng.randint(42, 64)  # Medicare through disability
        elif roll < 0.44:
            age = rng.randint(65, 74)
        elif roll < 0.82:
            age = rng.randint(75, 84)
        else:
            age = rng.randint(85, 95)
        if p.profile == "memory" and age < 85:
            age += rng.randint(0, 8)
        p.dob = self.today - dt.timedelta(days=int(age * 365.25) + rng.randint(1, 364))
        while not p.mbi or p.mbi in mbis:
            p.mbi = make_mbi(rng)
        mbis.add(p.mbi)
        p.phone = _phone(rng)
        p.address = _address(rng)
        wants_caregiver = 0.8 if p.profile == "memory" else 0.2
        if rng.random() < wants_caregiver:
            p.caregiver = _caregiver(rng, p, women if p.sex == "M" else men)
        p.practitioner = _pick(rng, self._practitioners)
        p.care_manager = _pick(rng, self._care_managers)
        sick = "heart_kidney" if p.profile == "heart_kidney" else "other"
        p.engagement = _pick(rng, self._engagement[sick])

    def _enrollment(self, p: _Plan) -> None:
        rng = self.rng
        last = self.today - 2 * DAY
        if p.enrollment in ("consented", "opted_out"):
            recent = p.enrollment == "consented" and rng.random() < RECENT_CONSENT_SHARE
            if recent and self.start <= last:
                p.consent_date = _between(rng, self.start, last)
            else:
                p.consent_date = _between(rng, self.consent_from, self.start - DAY)
            p.consent_method = "verbal" if rng.random() < 0.6 else "written"
            if p.enrollment == "opted_out":
                low = max(self.start, p.consent_date + 30 * DAY)
                if low <= last:
                    p.opt_out_date = _between(rng, low, last)
                else:
                    p.enrollment = "consented"
            if p.old_visit:
                p.visit_date = p.consent_date - rng.randint(400, 600) * DAY
            else:
                roll = rng.random()
                back = (
                    rng.randint(0, 30)
                    if roll < 0.5
                    else rng.randint(31, 180)
                    if roll < 0.85
                    else rng.randint(181, 300)
                )
                p.visit_date = p.consent_date - back * DAY
            plan_day = p.consent_date + rng.randint(0, 10) * DAY
            p.care_plan_date = min(plan_day, self.today)
            if p.consent_date >= self.today - 40 * DAY and rng.random() < 0.5:
                p.care_plan_date = None  # a new patient whose plan is not written yet
        elif p.enrollment == "declined":
            p.consent_date = _between(rng, self.consent_from, last)
            p.visit_date = p.consent_date - rng.randint(0, 120) * DAY
        elif p.enrollment == "outreach" or rng.random() < 0.6:
            p.visit_date = self.today - rng.randint(3, 200) * DAY
        if p.visit_date is not None:
            age = (p.visit_date - p.dob).days / 365.25
            if 65 <= age < 66 and rng.random() < 0.5:
                p.visit_type = "ippe"
            else:
                p.visit_type = "em_visit" if rng.random() < 0.65 else "awv"

    def _conditions(self, p: _Plan) -> None:
        rng = self.rng
        anchor = min(p.consent_date or self.today, self.today) - 30 * DAY
        earliest = p.dob + dt.timedelta(days=int(35 * 365.25))
        codes: list[tuple[str, str]] = []
        for tag, choices in PROFILES[p.profile]:
            codes.append((tag, rng.choice(choices)))
        if p.profile == "heart_kidney" and rng.random() < 0.5:
            codes.append(("hypertension", "I13.0"))
        if p.single_chronic:
            codes = codes[:1]
        else:
            extras = rng.choices((0, 1, 2, 3), weights=(30, 35, 25, 10))[0]
            extras = min(extras, MAX_CHRONIC - len(codes))
            for tag, code in rng.sample(EXTRA_CONDITIONS, len(EXTRA_CONDITIONS)):
                if extras and tag not in {t for t, _ in codes}:
                    codes.append((tag, code))
                    extras -= 1
        for tag, code in codes:
            onset = anchor - rng.randint(200, 20 * 365) * DAY
            p.conditions.append((code, max(onset, min(earliest, anchor)), None))
            if tag not in p.tags:
                p.tags.append(tag)
        if rng.random() < (0.5 if p.single_chronic else 0.08):
            onset = self.today - rng.randint(15, 400) * DAY
            p.conditions.append((ACUTE_CODE, onset, onset + rng.randint(7, 14) * DAY))

    def _complex(self, p: _Plan) -> None:
        if p.profile != "heart_kidney" or p.single_chronic or p.consent_date is None:
            return
        if p.enrollment not in ("consented", "opted_out"):
            return
        first = Month.of(p.consent_date)
        last = Month.of(p.opt_out_date) if p.opt_out_date else self.months[-1]
        for month in self.months:
            if first <= month <= last and self.rng.random() < COMPLEX_MONTH_CHANCE:
                p.complex_months.append(month)

    def _ensure_missing_care_plan(self, plans: list[_Plan]) -> None:
        """A small build still shows ``no_care_plan``: the newest consent lacks a plan."""
        consented = [p for p in plans if p.enrollment == "consented" and p.consent_date]
        if consented and all(p.care_plan_date for p in consented):
            max(consented, key=lambda p: (p.consent_date, p.mrn)).care_plan_date = None

    def _ensure_complex_month(self, plans: list[_Plan]) -> None:
        """A small build still shows a complex month (99487)."""
        if any(p.complex_months for p in plans):
            return
        for p in sorted(plans, key=lambda p: p.profile != "heart_kidney"):
            if p.enrollment == "consented" and not p.single_chronic and p.consent_date:
                month = max(Month.of(p.consent_date), self.months[0])
                if month < self.months[-1]:
                    p.complex_months.append(month)
                    return

    # -- time entries ------------------------------------------------------------

    def time_entries(self, plans: list[_Plan]) -> Iterator[dict[str, Any]]:
        """Every patient's time entries, as rows for the ``time_entry`` table."""
        for p in plans:
            if p.enrollment in ("consented", "opted_out"):
                for month in self.months:
                    yield from self._month_entries(p, month)
                if p.opt_out_date is not None:
                    yield from self._after_opt_out(p)
            elif p.enrollment == "outreach":
                yield from self._outreach_entries(p)
            elif p.enrollment == "declined" and p.consent_date:
                days = self._days(p.consent_date, min(p.consent_date, self.last_work_day))
                if days:
                    note = words.DECLINED_NOTE
                    piece = self._piece(p.care_manager, "phone_call", note, (8, 15))
                    yield from self._rows(p, self._place([piece], days))

    def _month_entries(self, p: _Plan, month: Month) -> Iterator[dict[str, Any]]:
        assert p.consent_date is not None
        rng = self.rng
        low = max(month.first_day, p.consent_date)
        high = min(month.last_day, self.last_work_day)
        if p.opt_out_date is not None:
            high = min(high, p.opt_out_date)
        days = self._days(low, high)
        if not days:
            return
        complex_month = month in p.complex_months
        if not complex_month and rng.random() < PRACTITIONER_MONTH_CHANCE:
            minutes = self._int(30, 38)
            pieces = self._split(p, minutes, rng.choice((1, 2)), owner=p.practitioner)
        else:
            band = _pick(rng, self._bands["complex" if complex_month else p.engagement])
            minutes = self._int(*band)
            possible = self._days(low, month.last_day)
            if high < month.last_day and possible:
                minutes = int(minutes * len(days) / len(possible))  # month not over yet
            count = max(1, round(minutes / rng.uniform(8, 13))) if minutes >= 3 else 0
            pieces = self._split(p, minutes, count) if count else []
            if pieces and rng.random() < PRACTITIONER_PIECE_CHANCE:
                piece = rng.choice(pieces)
                piece[0] = p.practitioner
                piece[1] = _pick(rng, self._practitioner_activities)
                piece[2] = rng.choice(words.PRACTITIONER_NOTES[piece[1]])
        first = None
        if p.consent_date == low and days[0] == low:
            first = low  # the enrollment call on the day of consent
            if not pieces:
                pieces = self._split(p, self._int(8, 15), 1)
            pieces[0][:3] = [p.care_manager, "phone_call", words.ENROLLMENT_NOTE]
        if rng.random() < FACE_TO_FACE_CHANCE:
            who = p.practitioner if rng.random() < 0.7 else p.care_manager
            note = rng.choice(words.FACE_TO_FACE_NOTES)
            pieces.append(self._piece(who, "face_to_face", note, (15, 30)))
        if rng.random() < FRONT_DESK_CHANCE:
            who = "desk" if rng.random() < 0.9 else "manager"
            activity = "care_coordination" if rng.random() < 0.7 else "other"
            note = rng.choice(words.FRONT_DESK_NOTES)
            pieces.append(self._piece(who, activity, note, (4, 10)))
        if not pieces:
            return
        placed = self._place(pieces, days, first)
        if rng.random() < OVERLAP_CHANCE:
            countable = [item for item in placed if self._countable(item[0])]
            if countable:
                placed.append(self._overlap(countable))
        yield from self._rows(p, placed)

    def _after_opt_out(self, p: _Plan) -> Iterator[dict[str, Any]]:
        """Now and then a call after the opt-out took effect: logged, never billed.

        The first such patient always gets one, so even a small demo shows
        the ``opted_out`` reason in a month list.
        """
        assert p.opt_out_date is not None
        if self._opt_out_shown and self.rng.random() >= AFTER_OPT_OUT_CHANCE:
            return
        month = Month.of(p.opt_out_date).next()
        if month not in self.weekdays:
            return
        days = self._days(month.first_day, min(month.last_day, self.last_work_day))
        if days:
            self._opt_out_shown = True
            piece = self._piece(p.care_manager, "care_coordination", words.OPTED_OUT_NOTE, (5, 12))
            yield from self._rows(p, self._place([piece], days))

    def _outreach_entries(self, p: _Plan) -> Iterator[dict[str, Any]]:
        """One or two calls inviting a patient who has not consented yet."""
        rng = self.rng
        low = max(self.start, self.months[-1].first_day - 40 * DAY)
        high = self.last_work_day
        days = [
            d for m in self.months for d in self._days(max(low, m.first_day), min(m.last_day, high))
        ]
        if not days:
            return
        pieces = []
        for _ in range(rng.choice((1, 1, 2))):
            note = rng.choice(words.OUTREACH_NOTES)
            pieces.append(self._piece(p.care_manager, "phone_call", note, (5, 12)))
        yield from self._rows(p, self._place(pieces, days))

    def _piece(self, who: str, activity: str, note: str, minutes: tuple[int, int]) -> Piece:
        """One piece of work lasting a random number of ``minutes`` (low, high)."""
        rng = self.rng
        manual = rng.random() < MANUAL_CHANCE
        seconds = self._int(*minutes) * 60 + (0 if manual else int(rng.random() * 60))
        return [who, activity, note, "manual" if manual else "timer", seconds]

    def _split(self, p: _Plan, minutes: int, count: int, owner: str | None = None) -> list[Piece]:
        """``count`` pieces adding up to ``minutes`` whole minutes (plus < 60 s)."""
        rng = self.rng
        count = max(1, min(count, minutes // 3))
        sources = ["manual" if rng.random() < MANUAL_CHANCE else "timer" for _ in range(count)]
        timed = "timer" in sources
        total = minutes * 60 + (int(rng.random() * 60) if timed else 0)
        weights = [rng.uniform(0.6, 1.4) for _ in range(count)]
        scale = total / sum(weights)
        seconds = [int(w * scale) for w in weights]
        seconds[-1] += total - sum(seconds)
        carry = 0
        for i, source in enumerate(sources):
            if source == "manual":
                carry += seconds[i] % 60
                seconds[i] -= seconds[i] % 60
        if carry:  # manual pieces are whole minutes; a timed piece takes the rest
            seconds[sources.index("timer") if timed else -1] += carry
        pieces = []
        for source, length in zip(sources, seconds, strict=True):
            if owner is None:
                who = p.care_manager if rng.random() < 0.8 else _pick(rng, self._helpers)
                activity = _pick(rng, self._activities)
                note = self._note(p, activity)
            else:
                who = owner
                activity = _pick(rng, self._practitioner_activities)
                note = rng.choice(words.PRACTITIONER_NOTES[activity])
            pieces.append([who, activity, note, source, length])
        return pieces

    def _note(self, p: _Plan, activity: str) -> str:
        rng = self.rng
        if activity in ("phone_call", "patient_education") and p.tags and rng.random() < 0.6:
            return rng.choice(words.CONDITION_NOTES[rng.choice(p.tags)])
        return rng.choice(words.ACTIVITY_NOTES[activity])

    def _countable(self, piece: Piece) -> bool:
        return piece[1] != "face_to_face" and self.staff_role[piece[0]] != "non_clinical"

    def _place(
        self, pieces: list[Piece], days: list[dt.date], first: dt.date | None = None
    ) -> list[Placed]:
        """Give each piece a start and end on working days, without overlaps."""
        rng = self.rng
        if len(pieces) <= len(days):
            if first is not None:
                rest = [d for d in days if d != first]
                chosen = [first, *sorted(rng.sample(rest, len(pieces) - 1))]
            else:
                chosen = sorted(rng.sample(days, len(pieces)))
            by_day = [(day, [piece]) for day, piece in zip(chosen, pieces, strict=True)]
        else:
            groups: dict[dt.date, list[Piece]] = {day: [] for day in days}
            for i, piece in enumerate(pieces):
                groups[days[i % len(days)]].append(piece)
            by_day = list(groups.items())
        placed = []
        for day, group in by_day:
            base = self._day_base(day)
            slack = WORK_END - WORK_START - sum(piece[4] for piece in group)
            gap = max(0, slack // (len(group) + 1))
            cursor = WORK_START + self._int(0, gap) if len(group) > 1 else None
            for piece in group:
                length = piece[4]
                if cursor is None:
                    start = self._int(WORK_START, max(WORK_START, WORK_END - length))
                else:
                    start = cursor
                if piece[3] == "manual":  # people type round times
                    start += -start % 300 if cursor is not None else -(start % 300)
                if start + length > WORK_END:
                    continue  # a crowded day: the piece does not happen
                if cursor is not None:
                    cursor = start + length + 60 + self._int(0, gap)
                placed.append(
                    (
                        piece,
                        base + dt.timedelta(seconds=start),
                        base + dt.timedelta(seconds=start + length),
                    )
                )
        return placed

    def _overlap(self, candidates: list[Placed]) -> Placed:
        """A second staff member on part of one call (counted once, flagged)."""
        rng = self.rng
        piece, start, end = rng.choice(candidates)
        length = int((end - start).total_seconds())
        others = [key for key, role in self.staff_role.items() if role == "clinical_staff"]
        who = rng.choice([key for key in others if key != piece[0]])
        begin = start + dt.timedelta(seconds=self._int(0, length // 3))
        finish = end - dt.timedelta(seconds=self._int(0, length // 4))
        if finish - begin < dt.timedelta(minutes=1):
            begin, finish = start, end
        joined = [who, "phone_call", rng.choice(words.OVERLAP_NOTES), "timer", 0]
        return joined, begin, finish

    def _rows(self, p: _Plan, placed: list[Placed]) -> Iterator[dict[str, Any]]:
        for (who, activity, note, source, _), start, end in placed:
            created = end
            if source == "manual":  # typed in later that day or the next
                created = min(end + dt.timedelta(seconds=self._int(300, 20 * 3600)), self.cutoff)
            yield {
                "patient_id": p.patient_id,
                "staff_id": self.staff[who],
                "start_at": start,
                "end_at": end,
                "activity": activity,
                "note": note,
                "source": source,
                "created_at": created,
            }

    def _int(self, low: int, high: int) -> int:
        """Like ``rng.randint(low, high)`` at a fraction of the cost (the hot path)."""
        return low + int(self.rng.random() * (high - low + 1))

    # -- calendar helpers --------------------------------------------------------

    def _days(self, low: dt.date, high: dt.date) -> list[dt.date]:
        """Weekdays from ``low`` to ``high``, both in one covered month."""
        if low > high:
            return []
        days = self.weekdays.get(Month.of(low))
        if days is None:
            return []
        return days[bisect_left(days, low) : bisect_right(days, high)]

    def _day_base(self, day: dt.date) -> dt.datetime:
        """Local midnight of ``day`` in UTC, valid for the working hours of that day."""
        base = self._midnight.get(day)
        if base is None:
            noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=self.zone)
            offset = noon.utcoffset() or dt.timedelta(0)
            base = dt.datetime(day.year, day.month, day.day, tzinfo=UTC) - offset
            self._midnight[day] = base
        return base


# -- small helpers ---------------------------------------------------------------------


def _quota(share: float, count: int) -> int:
    """Patients for a rare category: at least one, so small demos show every case."""
    return max(1, round(share * count)) if count >= 10 else 0


def _deck(rng: random.Random, count: int, shares: dict[str, float], rest: str) -> list[str]:
    """``count`` labels in random order, each rare label at its share (at least one)."""
    labels: list[str] = []
    for label, share in shares.items():
        labels += [label] * _quota(share, count)
    labels = labels[:count]
    labels += [rest] * (count - len(labels))
    rng.shuffle(labels)
    return labels


def _between(rng: random.Random, low: dt.date, high: dt.date) -> dt.date:
    return low + rng.randint(0, max(0, (high - low).days)) * DAY


def _instant(day: dt.date) -> dt.datetime:
    """A mid-morning Central-time instant on ``day`` (for created_at stamps)."""
    return dt.datetime(day.year, day.month, day.day, 16, tzinfo=UTC)


def _weekdays(month: Month) -> list[dt.date]:
    day, days = month.first_day, []
    while day <= month.last_day:
        if day.weekday() < 5:
            days.append(day)
        day += DAY
    return days


def _phone(rng: random.Random) -> str:
    return f"({rng.choice(words.AREA_CODES)}) 555-01{rng.randrange(100):02d}"


def _address(rng: random.Random) -> str:
    town, zip_prefix = rng.choice(words.TOWNS)
    street = (
        f"{rng.randint(100, 9899)} {rng.choice(words.STREETS)} {rng.choice(words.STREET_SUFFIXES)}"
    )
    if rng.random() < 0.1:
        street += f" Apt {rng.randint(1, 24)}"
    return f"{street}, {town}, IL {zip_prefix}{rng.randrange(10)}"


def _caregiver(rng: random.Random, p: _Plan, spouse_names: tuple[str, ...]) -> str:
    relation, sex, same_name = rng.choice(words.CAREGIVER_RELATIONS)
    if relation == "Spouse":
        first = rng.choice(spouse_names)
        relation = "Wife" if p.sex == "M" else "Husband"
    else:
        first = rng.choice(words.CAREGIVER_FIRST_NAMES[sex or rng.choice("FM")])
    last = p.last_name if same_name else rng.choice(words.NAME_GROUPS[p.group][3])
    return f"{relation}: {first} {last}, {_phone(rng)}"
