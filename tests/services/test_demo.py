"""The demo practice: valid, deterministic, inside its months, every case on show.

One small build (60 patients, 4 months up to 2026-11-15) is shared by most
tests; it is judged partly through the billing engine itself, so "every
reason and code family appears" means what the month list will really show.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from ccmdesk.domain.billing import (
    ConditionFact,
    ConsentFact,
    EntryFact,
    MonthResult,
    PatientMonth,
    applicable_consent,
    evaluate,
    opted_out_before,
)
from ccmdesk.domain.chronic import is_chronic_by_default
from ccmdesk.domain.fees import load_shipped_schedules, schedule_for_year
from ccmdesk.domain.identifiers import is_valid_mbi, is_valid_npi
from ccmdesk.domain.time import Month, merge
from ccmdesk.domain.vocabulary import REASON_CODES
from ccmdesk.paths import resource
from ccmdesk.services.demo import DemoSummary, build_demo
from ccmdesk.services.demo_names import OVERLAP_NOTES
from ccmdesk.storage.database import Database, open_database
from ccmdesk.storage.models import (
    AuditEvent,
    Base,
    ComplexMonth,
    Condition,
    ConsentRecord,
    InitiatingVisit,
    Patient,
    Practice,
    Staff,
    TimeEntry,
)

CHICAGO = ZoneInfo("America/Chicago")
TODAY = dt.date(2026, 11, 15)
MONTHS = [Month(2026, 8), Month(2026, 9), Month(2026, 10), Month(2026, 11)]


def _open(folder) -> Database:
    return open_database(f"sqlite:///{folder / 'demo.sqlite3'}", backups=folder / "bk")


def _build(folder, **options) -> tuple[Database, DemoSummary]:
    db = _open(folder)
    options = {"patients": 60, "months": 4, "today": TODAY, **options}
    return db, build_demo(db, **options)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    db, summary = _build(tmp_path_factory.mktemp("demo"))
    yield db, summary
    db.close()


TABLES = (
    Practice,
    Staff,
    Patient,
    Condition,
    ConsentRecord,
    InitiatingVisit,
    ComplexMonth,
    TimeEntry,
    AuditEvent,
)


@pytest.fixture(scope="module")
def rows(demo):
    """Every table's rows (detached ORM objects), by model."""
    db, _ = demo
    with db.sessions() as session:
        return {model: session.scalars(select(model).order_by(model.id)).all() for model in TABLES}


@pytest.fixture(scope="module")
def results(rows) -> list[tuple[Patient, MonthResult]]:
    """The billing engine's verdict on every listed patient-month (SPEC §1.1)."""
    roles = {s.id: s.role for s in rows[Staff]}
    conditions, consents, visits = defaultdict(list), defaultdict(list), defaultdict(list)
    for c in rows[Condition]:
        conditions[c.patient_id].append(ConditionFact(c.chronic, c.onset, c.resolved))
    for c in rows[ConsentRecord]:
        consents[c.patient_id].append(ConsentFact(c.consent_date, c.declined, c.opt_out_date))
    for v in rows[InitiatingVisit]:
        visits[v.patient_id].append(v.visit_date)
    complex_months = {(c.patient_id, c.month) for c in rows[ComplexMonth]}
    entries = defaultdict(list)
    for e in rows[TimeEntry]:
        month = Month.of(e.start_at.astimezone(CHICAGO).date())
        fact = EntryFact(e.id, e.start_at, e.end_at, e.staff_id, roles[e.staff_id], e.activity)
        entries[e.patient_id, month].append(fact)
    shipped = load_shipped_schedules(resource("fees"))
    found = []
    for month in MONTHS:
        fees = schedule_for_year(month.year, shipped)
        for p in rows[Patient]:
            consent = applicable_consent(consents[p.id], month)
            enrolled = consent is not None and consent.consent_date <= month.last_day
            if not (enrolled and not opted_out_before(consent, month)) and not entries[p.id, month]:
                continue  # not on the month's list (SPEC §1.1)
            facts = PatientMonth(
                month=month,
                part_b=p.part_b,
                billing_practitioner_id=p.billing_practitioner_id,
                conditions=conditions[p.id],
                consent=consent,
                initiating_visits=visits[p.id],
                care_plan_date=p.care_plan_date,
                complex_month=(p.id, str(month)) in complex_months,
                entries=entries[p.id, month],
            )
            found.append((p, evaluate(facts, CHICAGO, fees)))
    return found


def test_summary_and_counts_match_the_database(demo, rows):
    _, summary = demo
    assert summary.patients == len(rows[Patient]) == 60
    assert summary.staff == len(rows[Staff]) == 10
    assert summary.time_entries == len(rows[TimeEntry]) > 60 * 4
    assert (summary.months, summary.first_month, summary.last_month) == (4, "2026-08", "2026-11")
    assert 0 < summary.elapsed_seconds < 30


def test_the_practice_and_its_staff(rows):
    (practice,) = rows[Practice]
    assert practice.name and practice.address and practice.phone and practice.after_hours_phone
    assert practice.time_zone == "America/Chicago"
    assert is_valid_npi(practice.npi)
    by_role = defaultdict(list)
    for s in rows[Staff]:
        by_role[s.role].append(s)
    assert sorted(s.credential for s in by_role["practitioner"]) == ["DO", "MD", "NP"]
    assert all(is_valid_npi(s.npi) for s in by_role["practitioner"])
    assert {"RN", "LPN", "MA"} <= {s.credential for s in by_role["clinical_staff"]}
    assert 4 <= len(by_role["clinical_staff"]) <= 5
    assert len(by_role["non_clinical"]) == 2
    npis = [s.npi for s in rows[Staff] if s.npi] + [practice.npi]
    assert len(set(npis)) == len(npis)


def test_patients_have_valid_unique_identifiers_and_plausible_details(rows):
    patients = rows[Patient]
    practitioners = {s.id for s in rows[Staff] if s.role == "practitioner"}
    nurses = {s.id for s in rows[Staff] if s.credential in ("RN", "LPN")}
    assert all(is_valid_mbi(p.mbi) for p in patients)
    assert len({p.mbi for p in patients}) == len({p.mrn for p in patients}) == len(patients)
    assert all(re.fullmatch(r"MRN-\d{6}", p.mrn) for p in patients)
    assert all(re.fullmatch(r"\(\d{3}\) 555-01\d\d", p.phone) for p in patients)
    assert all(p.first_name and p.last_name and p.address for p in patients)
    assert {p.sex for p in patients} == {"F", "M"}
    assert {p.billing_practitioner_id for p in patients} == practitioners
    assert all(p.care_manager_id in nurses for p in patients)
    ages = [(TODAY - p.dob).days / 365.25 for p in patients]
    assert all(40 < age < 105 for age in ages)
    assert sum(age >= 65 for age in ages) >= 0.85 * len(ages)
    assert 0 < sum(not p.part_b for p in patients) < 0.1 * len(patients)
    assert Counter(p.language for p in patients).most_common(1)[0][0] == "English"
    assert any(p.caregiver for p in patients)


def test_conditions_are_real_codes_with_default_chronic_flags(rows):
    per_patient = Counter(c.patient_id for c in rows[Condition])
    assert set(per_patient) == {p.id for p in rows[Patient]}
    assert all(1 <= n <= 6 for n in per_patient.values())
    for c in rows[Condition]:
        assert "." not in c.code and c.description
        assert c.chronic == is_chronic_by_default(c.code)
        assert c.onset is not None and c.onset < TODAY
    acute = [c for c in rows[Condition] if c.code == "J069"]
    assert acute and not any(c.chronic for c in acute)
    assert all(c.resolved and c.resolved > c.onset for c in acute)


def test_time_entries_stay_inside_the_covered_months_and_working_hours(rows):
    first = dt.datetime(2026, 8, 1, tzinfo=CHICAGO)
    after_today = dt.datetime(2026, 11, 16, tzinfo=CHICAGO)
    for e in rows[TimeEntry]:
        assert first <= e.start_at < e.end_at <= after_today
        assert e.deleted_at is None and e.created_at >= e.end_at
        assert e.created_at <= after_today
        start, end = e.start_at.astimezone(CHICAGO), e.end_at.astimezone(CHICAGO)
        assert start.weekday() < 5 and start.date() == end.date()
        assert dt.time(8) <= start.time() and end.time() <= dt.time(17)
        if e.source == "manual":
            assert (e.end_at - e.start_at).seconds % 60 == 0 and start.minute % 5 == 0


def test_time_is_logged_only_from_consent_on_and_never_after_an_opt_out_month(rows):
    consents = {c.patient_id: c for c in rows[ConsentRecord] if not c.declined}
    for e in rows[TimeEntry]:
        day = e.start_at.astimezone(CHICAGO).date()
        consent = consents.get(e.patient_id)
        if consent is None:
            continue  # outreach and declined calls
        assert day >= consent.consent_date
        if consent.opt_out_date:
            assert Month.of(day) <= Month.of(consent.opt_out_date).next()


def test_overlaps_are_only_the_deliberate_two_staff_calls(rows):
    by_patient = defaultdict(list)
    for e in rows[TimeEntry]:
        if e.note not in OVERLAP_NOTES:
            by_patient[e.patient_id].append((e.start_at, e.end_at))
    for intervals in by_patient.values():
        assert len(merge(intervals)) == len(intervals)  # no two touch or overlap
    assert any(e.note in OVERLAP_NOTES for e in rows[TimeEntry])


def test_every_category_of_patient_is_present(rows):
    consents = rows[ConsentRecord]
    assert any(c.declined for c in consents)
    assert any(c.opt_out_date for c in consents)
    assert all(c.method in ("verbal", "written") for c in consents)
    assert all(
        c.told_availability and c.told_cost_sharing and c.told_stop_anytime
        for c in consents
        if not c.declined
    )
    consented = {c.patient_id for c in consents if not c.declined}
    assert 0.8 * 60 <= len(consented) <= 0.95 * 60
    logged = {e.patient_id for e in rows[TimeEntry]}
    assert logged - consented, "no outreach time for patients without consent"
    assert rows[ComplexMonth]
    staff_role = {s.id: s.role for s in rows[Staff]}
    entries = rows[TimeEntry]
    assert any(e.activity == "face_to_face" for e in entries)
    assert any(staff_role[e.staff_id] == "non_clinical" for e in entries)
    assert any(staff_role[e.staff_id] == "practitioner" for e in entries)
    assert Counter(e.source for e in entries).keys() == {"timer", "manual"}
    visit_types = {v.visit_type for v in rows[InitiatingVisit]}
    assert visit_types <= {"em_visit", "awv", "ippe"} and "em_visit" in visit_types


def test_the_month_list_shows_every_reason_and_code_family(results):
    reasons = Counter(r for _, result in results for r in result.reasons)
    assert set(REASON_CODES) - {"no_billing_practitioner"} <= set(reasons)
    codes = " ".join(result.codes for _, result in results)
    for code in ("99490", "99439", "99491", "99487"):
        assert code in codes
    billable = sum(result.billable for _, result in results)
    assert 0.45 < billable / len(results) < 0.85
    assert any(result.overlaps for _, result in results)
    minutes = [result.minutes for _, result in results if result.month < Month(2026, 11)]
    assert sum(20 <= m <= 30 for m in minutes) > sum(14 <= m < 20 for m in minutes) > 0
    assert any(m >= 60 for m in minutes)


def test_the_build_is_audited(rows):
    (event,) = rows[AuditEvent]
    assert (event.action, event.entity) == ("demo", "practice")
    assert event.entity_id == rows[Practice][0].id and "60" in event.detail


def _dump(db: Database) -> dict[str, list[tuple]]:
    with db.engine.connect() as connection:
        return {
            name: [
                tuple(row)
                for row in connection.execute(
                    select(*(c for c in table.c if c.name != "at")).order_by(*table.primary_key)
                )
            ]
            for name, table in Base.metadata.tables.items()
        }


def test_the_same_seed_builds_the_same_rows(demo, tmp_path):
    again, _ = _build(tmp_path / "again")
    other, _ = _build(tmp_path / "other", seed=7)
    try:
        first = _dump(demo[0])
        assert _dump(again) == first
        assert _dump(other)["patient"] != first["patient"]
    finally:
        again.close()
        other.close()


def test_refuses_a_database_that_is_not_empty(demo, tmp_path):
    with pytest.raises(ValueError, match="empty database"):
        build_demo(demo[0], patients=5, today=TODAY)
    with demo[0].sessions() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 60
    db = _open(tmp_path)
    try:
        with pytest.raises(ValueError):
            build_demo(db, patients=0)
        with db.transaction() as session:
            session.add(Practice(name="A real practice", time_zone="America/New_York"))
        with pytest.raises(ValueError, match="a practice"):
            build_demo(db, patients=5)
    finally:
        db.close()


def test_nothing_is_logged_after_now_on_the_current_day(tmp_path):
    now = dt.datetime(2026, 11, 18, 10, 30, tzinfo=CHICAGO)
    db, summary = _build(tmp_path, patients=30, months=1, today=None, now=now)
    try:
        assert (summary.first_month, summary.last_month) == ("2026-11", "2026-11")
        with db.sessions() as session:
            latest = session.scalar(select(func.max(TimeEntry.end_at)))
            created = session.scalar(select(func.max(TimeEntry.created_at)))
        assert latest.astimezone(CHICAGO).date() < now.date()
        assert created <= now
    finally:
        db.close()
