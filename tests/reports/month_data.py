"""March 2026 built entry by entry: every code family, every reason, near misses.

Each patient exists for one reason, named in ``EXPECTED``, so a test can say
exactly what the billing summary must show.  Times are 10:00 in New York.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from ccmdesk.domain.identifiers import make_mbi
from ccmdesk.domain.time import Month
from ccmdesk.storage.database import Database
from ccmdesk.storage.models import ConsentRecord, Patient
from tests.factories import add_entry, add_patient, add_staff, practitioner_npi

UTC = dt.timezone.utc
MARCH = Month(2026, 3)
#: "Now" for reports about March: April 2nd, 11:00 in New York.
APRIL_2 = dt.datetime(2026, 4, 2, 15, 0, tzinfo=UTC)


def at(day: int, hour: int = 14) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Expect:
    codes: str = ""
    reasons: tuple[str, ...] = ()


#: mrn -> what the engine must decide (2026 national fees).
EXPECTED: dict[str, Expect] = {
    "A-01": Expect("99490"),
    "A-02": Expect("99490 99439"),
    "A-03": Expect("99490 99439x2"),
    "A-04": Expect("99491"),
    "A-05": Expect("99491 99437x2"),
    "A-06": Expect("99487 99489"),
    "A-07": Expect(reasons=("no_part_b",)),
    "A-08": Expect(reasons=("no_billing_practitioner",)),
    "A-09": Expect(reasons=("fewer_than_two_chronic_conditions",)),
    "A-10": Expect(reasons=("no_consent",)),
    "A-11": Expect(reasons=("opted_out",)),
    "A-12": Expect(reasons=("no_initiating_visit",)),
    "A-13": Expect(reasons=("no_care_plan",)),
    "A-14": Expect(reasons=("under_threshold",)),  # 15 minutes: 5 short
    "A-15": Expect(reasons=("no_consent", "no_care_plan", "under_threshold")),
    "A-16": Expect("99490"),
    "A-17": Expect(reasons=("under_threshold",)),  # 18 minutes: 2 short
    "A-18": Expect(reasons=("under_threshold",)),  # front-desk time only: 0 minutes
}
#: The "Close to the next code" list, in its order: (mrn, minutes short, next codes).
#: A-04 has 99491 at 35 minutes; 40 minutes would pay 99490 99439.
NEAR_MISSES = [("A-17", 2, "99490"), ("A-04", 5, "99490 99439"), ("A-14", 5, "99490")]


@dataclass(frozen=True)
class MarchPractice:
    zoe: int
    amy: int
    nurse: int
    desk: int
    patients: dict[str, int]


def _patient(db: Database, mrn: str, last: str, first: str, **options: object) -> int:
    patient_id = add_patient(db, mrn, first=first, last=last, **options)  # type: ignore[arg-type]
    rng = random.Random(mrn)
    with db.transaction() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        patient.mbi = make_mbi(rng)
        patient.dob = dt.date(1930 + rng.randrange(30), rng.randrange(1, 13), rng.randrange(1, 28))
    return patient_id


def build_march(db: Database) -> MarchPractice:
    zoe = add_staff(db, "Zoe Zimmer", "practitioner", "MD", npi=practitioner_npi(2))
    amy = add_staff(db, "Amy Adams", "practitioner", "NP", npi=practitioner_npi(1))
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    desk = add_staff(db, "Sam Front", "non_clinical")
    ids: dict[str, int] = {}

    def patient(mrn: str, last: str, first: str = "Pat", **options: object) -> int:
        options.setdefault("practitioner_id", zoe)
        ids[mrn] = _patient(db, mrn, last, first, **options)
        return ids[mrn]

    add_entry(db, patient("A-01", "Baker", "Cal"), nurse, at(3), 25)
    add_entry(db, patient("A-02", "Baker", "Ann"), nurse, at(3), 45)
    p = patient("A-03", "Clark", "Dee")
    add_entry(db, p, nurse, at(3), 40)
    add_entry(db, p, nurse, at(4), 25)
    add_entry(db, patient("A-04", "Doe", "Eve"), zoe, at(5), 35)
    p = patient("A-05", "Evans", "Fay")
    add_entry(db, p, zoe, at(5), 50)
    add_entry(db, p, zoe, at(6), 40)
    p = patient("A-06", "Fox", "Gil", complex_months=("2026-03",))
    add_entry(db, p, nurse, at(9), 60)
    add_entry(db, p, nurse, at(10), 35)
    add_entry(db, patient("A-07", "Grant", part_b=False), nurse, at(11), 25)
    add_entry(db, patient("A-08", "Hale", practitioner_id=None), nurse, at(11), 30)
    add_entry(db, patient("A-09", "Ives", chronic_codes=("I10",)), nurse, at(12), 25)
    add_entry(db, patient("A-10", "Jones", consent=None), nurse, at(12), 25)
    p = patient("A-11", "King")
    with db.transaction() as session:
        consent = session.query(ConsentRecord).filter_by(patient_id=p).one()
        consent.opt_out_date = dt.date(2026, 1, 20)
    add_entry(db, p, nurse, at(13), 25)
    add_entry(db, patient("A-12", "Lane", visit=None), nurse, at(13), 25)
    add_entry(db, patient("A-13", "Moss", care_plan=None), nurse, at(16), 25)
    add_entry(db, patient("A-14", "Nash"), nurse, at(16), 15)
    add_entry(db, patient("A-15", "Orr", consent=None, care_plan=None), nurse, at(17), 10)
    add_entry(db, patient("A-16", "Young", "Hal", practitioner_id=amy), nurse, at(17), 22)
    add_entry(db, patient("A-17", "Zeller", "Ida", practitioner_id=amy), nurse, at(18), 18)
    add_entry(db, patient("A-18", "Quinn", practitioner_id=amy), desk, at(18), 30)
    return MarchPractice(zoe, amy, nurse, desk, ids)
