"""SPEC §2.1 time import: local times and offsets, end or minutes, idempotence."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from ccmdesk.services.audit import Actor
from ccmdesk.services.imports import ImportRejected
from ccmdesk.services.imports.time_entries import import_time
from ccmdesk.storage.models import AuditEvent, MonthClose, TimeEntry
from tests.factories import add_entry, add_patient, add_staff
from tests.services.csvfiles import TIME_HEADER, write_csv

ACTOR = Actor.command_line()
UTC = dt.timezone.utc


@pytest.fixture
def practice(db):
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    doctor = add_staff(db, "Dana Whitfield", "practitioner", "MD", npi="1234567893")
    patient = add_patient(db, "P-1", practitioner_id=doctor)
    return db, nurse, doctor, patient


def entries(db):
    with db.transaction() as session:
        return session.scalars(select(TimeEntry).order_by(TimeEntry.start_at)).all()


def test_local_times_offsets_end_and_minutes(practice, tmp_path):
    db, nurse, doctor, _ = practice
    rows = [
        "P-1,Nina Okafor,2026-03-10T09:00,2026-03-10T09:20:30,,phone_call,Reviewed meds",
        "P-1,1234567893,2026-03-11T14:00,,12.5,,",
        "P-1,Nina Okafor,2026-11-01T01:50-04:00,,15,care_transition,Before the clocks fell back",
        "P-1,Nina Okafor,2026-11-01 01:50-05:00,2026-11-01T02:05,15,other,After; both agree",
    ]
    summary = import_time(db, write_csv(tmp_path, "t.csv", TIME_HEADER, rows), ACTOR)
    assert (summary.created, summary.unchanged) == (4, 0)
    got = entries(db)
    assert [(e.start_at, e.end_at - e.start_at) for e in got] == [
        (dt.datetime(2026, 3, 10, 13, 0, tzinfo=UTC), dt.timedelta(minutes=20, seconds=30)),
        (dt.datetime(2026, 3, 11, 18, 0, tzinfo=UTC), dt.timedelta(minutes=12, seconds=30)),
        (dt.datetime(2026, 11, 1, 5, 50, tzinfo=UTC), dt.timedelta(minutes=15)),
        (dt.datetime(2026, 11, 1, 6, 50, tzinfo=UTC), dt.timedelta(minutes=15)),
    ]
    assert [e.staff_id for e in got] == [nurse, doctor, nurse, nurse]
    assert [e.activity for e in got] == [
        "phone_call",
        "care_coordination",
        "care_transition",
        "other",
    ]
    assert {e.source for e in got} == {"import"}
    assert got[0].note == "Reviewed meds"


def test_reimport_adds_nothing_and_keeps_edited_entries(practice, tmp_path):
    db, *_ = practice
    rows = ["P-1,Nina Okafor,2026-03-10T09:00,,20,phone_call,first"]
    path = write_csv(tmp_path, "t.csv", TIME_HEADER, rows)
    import_time(db, path, ACTOR)
    with db.transaction() as session:
        session.scalars(select(TimeEntry)).one().note = "edited in ccmdesk"
    again = import_time(db, path, ACTOR)
    assert (again.created, again.unchanged) == (0, 1)
    assert [e.note for e in entries(db)] == ["edited in ccmdesk"]


def test_deleted_entry_is_not_brought_back(practice, tmp_path):
    db, nurse, _, patient = practice
    add_entry(db, patient, nurse, dt.datetime(2026, 3, 10, 13, 0, tzinfo=UTC), 20, deleted=True)
    rows = ["P-1,Nina Okafor,2026-03-10T09:00,,20,phone_call,"]
    summary = import_time(db, write_csv(tmp_path, "t.csv", TIME_HEADER, rows), ACTOR)
    assert summary.created == 0 and len(entries(db)) == 1


def test_every_time_error_is_reported_and_nothing_written(practice, tmp_path):
    db, *_ = practice
    rows = [
        "P-404,Nina Okafor,2026-03-10T09:00,,20,,",  # 2 unknown MRN
        "P-1,Nobody,2026-03-10T09:00,,20,,",  # 3 unknown staff
        "P-1,Nina Okafor,2026-03-10,,20,,",  # 4 start without time
        "P-1,Nina Okafor,2026-03-10T09:00,,,,",  # 5 neither end nor minutes
        "P-1,Nina Okafor,2026-03-10T09:00,2026-03-10T08:00,,,",  # 6 end before start
        "P-1,Nina Okafor,2026-03-10T09:00,,abc,,",  # 7 minutes not a number
        "P-1,Nina Okafor,2026-03-10T09:00,,20,gossip,",  # 8 unknown activity
        "P-1,Nina Okafor,2026-11-01T01:30,,20,,",  # 9 ambiguous (fall back)
        "P-1,Nina Okafor,2026-03-08T02:30,,20,,",  # 10 does not exist (spring forward)
        "P-1,Nina Okafor,2026-03-10T09:00,2026-03-10T09:30,20,,",  # 11 disagree
        "P-1,Nina Okafor,2026-03-10T09:00,2026-03-12T09:30,,,",  # 12 too long
        "P-1,Nina Okafor,2099-03-10T09:00,,20,,",  # 13 future
        "P-1,Nina Okafor,2026-04-10T09:00,,20,,",  # 14 fine
        "P-1,Nina Okafor,2026-04-10T09:00,,25,,",  # 15 duplicate key of 14
        "P-1,,2026-04-10T09:00,,25,,",  # 16 no staff
    ]
    path = write_csv(tmp_path, "t.csv", TIME_HEADER, rows)
    with pytest.raises(ImportRejected) as caught:
        import_time(db, path, ACTOR)
    where = [(p.line, p.column) for p in caught.value.problems]
    assert where == [
        (2, "mrn"),
        (3, "staff"),
        (4, "start"),
        (5, "end"),
        (6, "end"),
        (7, "minutes"),
        (8, "activity"),
        (9, "start"),
        (10, "start"),
        (11, "minutes"),
        (12, "end"),
        (13, "end"),
        (15, "start"),
        (16, "staff"),
    ]
    text = "\n".join(caught.value.lines())
    assert "happens twice in America/New_York" in text
    assert "does not exist in America/New_York" in text
    assert "same patient, staff and start as line 14" in text
    assert entries(db) == []


def test_closed_month_refuses_new_time(practice, tmp_path):
    db, *_ = practice
    with db.transaction() as session:
        session.add(MonthClose(month="2026-03", closed_at=dt.datetime.now(UTC)))
    rows = ["P-1,Nina Okafor,2026-03-10T09:00,,20,,"]
    path = write_csv(tmp_path, "t.csv", TIME_HEADER, rows)
    with pytest.raises(ImportRejected) as caught:
        import_time(db, path, ACTOR)
    assert caught.value.lines() == [
        f"{path}:2: start: 2026-03 is closed; reopen it before adding time"
    ]


def test_import_is_audited(practice, tmp_path):
    db, *_ = practice
    rows = ["P-1,Nina Okafor,2026-03-10T09:00,,20,,"]
    import_time(db, write_csv(tmp_path, "t.csv", TIME_HEADER, rows), ACTOR)
    with db.transaction() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "time_entry").order_by(AuditEvent.id)
        ).all()
        entry = session.scalars(select(TimeEntry)).one()
    created, summary = events
    assert (created.action, created.patient_id, created.actor) == (
        "create",
        entry.patient_id,
        ACTOR.name,
    )
    assert created.detail == "imported from t.csv: 1 entries"
    (item,) = json.loads(created.after)["entries"]
    assert item["id"] == entry.id and item["start_at"] == "2026-03-10T13:00:00+00:00"
    assert summary.action == "import" and "1 added" in summary.detail


def test_staff_name_shared_by_two_people_must_use_npi(practice, tmp_path):
    db, *_ = practice
    add_staff(db, "Nina Okafor", "clinical_staff", "LPN")
    rows = ["P-1,Nina Okafor,2026-03-10T09:00,,20,,"]
    path = write_csv(tmp_path, "t.csv", TIME_HEADER, rows)
    with pytest.raises(ImportRejected) as caught:
        import_time(db, path, ACTOR)
    assert caught.value.lines() == [
        f"{path}:2: staff: 2 staff members are named 'Nina Okafor'; use the NPI"
    ]


def test_reimport_into_a_closed_month_adds_nothing_and_is_not_refused(practice, tmp_path):
    db, *_ = practice
    rows = [
        "P-1,Nina Okafor,2026-03-10T09:00,,20,,",
        "P-1,Nina Okafor,2026-03-31T23:30,2026-04-01T00:00,,,",  # ends at April's midnight
    ]
    path = write_csv(tmp_path, "t.csv", TIME_HEADER, rows)
    import_time(db, path, ACTOR)
    with db.transaction() as session:
        session.add(MonthClose(month="2026-03", closed_at=dt.datetime.now(UTC)))
        session.add(MonthClose(month="2026-04", closed_at=dt.datetime.now(UTC)))
    again = import_time(db, path, ACTOR)
    assert (again.created, again.unchanged) == (0, 2)
    new = [*rows, "P-1,Nina Okafor,2026-03-12T09:00,,20,,"]
    with pytest.raises(ImportRejected) as caught:
        import_time(db, write_csv(tmp_path, "t2.csv", TIME_HEADER, new), ACTOR)
    assert [(p.line, p.column) for p in caught.value.problems] == [(4, "start")]
    assert len(entries(db)) == 2
