"""The time-log service: stopwatch, recovery, manual entries, edits, deletes, closed months."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from ccmdesk.domain.time import Month
from ccmdesk.services import time_log
from ccmdesk.services.audit import Actor
from ccmdesk.services.billing import live_figures
from ccmdesk.services.time_log import MonthClosedError, TimeEntryError
from ccmdesk.storage.models import AuditEvent, MonthClose, TimeEntry
from tests.factories import add_patient, add_staff, practitioner_npi

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 10:00 in New York
MARCH = Month(2026, 3)


@pytest.fixture
def setup(db):
    doctor = add_staff(db, "Dana Whitfield", "practitioner", "MD", npi=practitioner_npi(1))
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    patient = add_patient(db, "M1", practitioner_id=doctor)
    other = add_patient(db, "M2", practitioner_id=doctor)
    return db, nurse, patient, other, Actor(nurse, "Nina Okafor")


def rows(db):
    with db.transaction() as session:
        return session.scalars(select(TimeEntry).order_by(TimeEntry.id)).all()


def audit_trail(db):
    with db.transaction() as session:
        return session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()


def test_start_writes_at_once_and_stop_writes_the_entry(setup):
    db, nurse, patient, _, actor = setup
    started = time_log.start_timer(db, patient, nurse, actor, now=T0)
    (running,) = rows(db)
    assert running.start_at == T0 and running.end_at is None and running.source == "timer"
    assert started.created_id == running.id
    time_log.save_running_details(db, running.id, "medication_management", "Typed while talking")
    stop = T0 + dt.timedelta(minutes=21, seconds=5)
    changes = time_log.stop_timer(db, running.id, actor, now=stop)
    (entry,) = rows(db)
    assert (entry.start_at, entry.end_at) == (T0, stop)
    assert (entry.activity, entry.note) == ("medication_management", "Typed while talking")
    assert changes.patient_ids == {patient} and changes.months == {MARCH}
    figures = live_figures(db, patient, now=stop)
    assert figures.minutes == 21
    assert [e.action for e in audit_trail(db)] == ["start", "stop"]


def test_one_running_stopwatch_per_staff_member(setup):
    db, nurse, patient, other, actor = setup
    time_log.start_timer(db, patient, nurse, actor, now=T0)
    with pytest.raises(TimeEntryError, match="already has a stopwatch running"):
        time_log.start_timer(db, other, nurse, actor, now=T0 + dt.timedelta(minutes=1))
    assert len(rows(db)) == 1


def test_recovery_choices(setup):
    db, nurse, patient, other, actor = setup
    time_log.start_timer(db, patient, nurse, actor, now=T0)
    (entry,) = time_log.running_timers(db)
    time_log.heartbeat(db, entry.id, now=T0 + dt.timedelta(minutes=12))
    later = T0 + dt.timedelta(hours=3)
    time_log.recover_timer(db, entry.id, "last_alive", actor, now=later)
    assert rows(db)[0].end_at == T0 + dt.timedelta(minutes=12)

    time_log.start_timer(db, other, nurse, actor, now=later)
    (entry,) = time_log.running_timers(db)
    time_log.recover_timer(db, entry.id, "now", actor, now=later + dt.timedelta(minutes=7))
    assert rows(db)[1].end_at == later + dt.timedelta(minutes=7)

    time_log.start_timer(db, other, nurse, actor, now=later + dt.timedelta(minutes=8))
    (entry,) = time_log.running_timers(db)
    time_log.recover_timer(db, entry.id, "discard", actor, now=later + dt.timedelta(hours=1))
    assert rows(db)[2].deleted_at is not None
    assert time_log.running_timers(db) == []
    assert [e.action for e in audit_trail(db)][-1] == "delete"


def test_manual_entry_validation(setup):
    db, nurse, patient, _, actor = setup
    now = T0 + dt.timedelta(days=1)
    bad = [
        (T0, T0, "the end must be after the start"),
        (T0, T0 - dt.timedelta(minutes=5), "the end must be after the start"),
        (T0, T0 + dt.timedelta(hours=25), "longer than 24 hours"),
        (now, now + dt.timedelta(hours=1), "cannot end in the future"),
    ]
    for start, end, message in bad:
        with pytest.raises(TimeEntryError, match=message):
            time_log.add_manual(db, patient, nurse, start, end, actor, now=now)
    with pytest.raises(TimeEntryError, match="not an activity"):
        time_log.add_manual(
            db, patient, nurse, T0, T0 + dt.timedelta(minutes=5), actor, activity="nap", now=now
        )
    assert rows(db) == []
    time_log.add_manual(
        db,
        patient,
        nurse,
        T0,
        T0 + dt.timedelta(minutes=15),
        actor,
        note="Called pharmacy",
        now=now,
    )
    assert rows(db)[0].source == "manual"


def test_edit_keeps_old_values_in_the_audit_log(setup):
    db, nurse, patient, _, actor = setup
    now = T0 + dt.timedelta(days=1)
    created = time_log.add_manual(
        db, patient, nurse, T0, T0 + dt.timedelta(minutes=15), actor, note="first", now=now
    )
    time_log.edit_entry(
        db, created.created_id, actor, end=T0 + dt.timedelta(minutes=25), note="corrected", now=now
    )
    entry = rows(db)[0]
    assert entry.end_at == T0 + dt.timedelta(minutes=25) and entry.edit_count == 1
    update = audit_trail(db)[-1]
    assert update.action == "update"
    assert json.loads(update.before) == {
        "end_at": (T0 + dt.timedelta(minutes=15)).isoformat(),
        "note": "first",
    }
    assert json.loads(update.after)["note"] == "corrected"
    assert time_log.edit_entry(db, entry.id, actor, note="corrected", now=now).patient_ids == set()


def test_delete_is_soft_and_needs_a_reason(setup):
    db, nurse, patient, _, actor = setup
    now = T0 + dt.timedelta(days=1)
    created = time_log.add_manual(
        db, patient, nurse, T0, T0 + dt.timedelta(minutes=25), actor, now=now
    )
    with pytest.raises(TimeEntryError, match="say why"):
        time_log.delete_entry(db, created.created_id, "  ", actor, now=now)
    time_log.delete_entry(db, created.created_id, "Logged for the wrong patient", actor, now=now)
    entry = rows(db)[0]
    assert entry.deleted_at == now and entry.delete_reason == "Logged for the wrong patient"
    assert live_figures(db, patient, now=now).minutes == 0
    (view,) = time_log.month_log(db, patient, MARCH)
    assert view.deleted
    assert time_log.month_log(db, patient, MARCH, include_deleted=False) == []
    with pytest.raises(TimeEntryError, match="cannot be edited"):
        time_log.edit_entry(db, entry.id, actor, note="x", now=now)


def test_closed_month_blocks_every_change_until_reopened(setup):
    db, nurse, patient, _, actor = setup
    now = T0 + dt.timedelta(days=40)
    created = time_log.add_manual(
        db, patient, nurse, T0, T0 + dt.timedelta(minutes=25), actor, now=now
    )
    with db.transaction() as session:
        session.add(MonthClose(month="2026-03", closed_at=now))
    entry_id = created.created_id
    attempts = [
        lambda: time_log.add_manual(
            db,
            patient,
            nurse,
            T0 + dt.timedelta(days=1),
            T0 + dt.timedelta(days=1, minutes=5),
            actor,
            now=now,
        ),
        lambda: time_log.edit_entry(db, entry_id, actor, note="late fix", now=now),
        lambda: time_log.edit_entry(
            db,
            entry_id,
            actor,
            start=T0 + dt.timedelta(days=30),
            end=T0 + dt.timedelta(days=30, minutes=5),
            now=now,
        ),
        lambda: time_log.delete_entry(db, entry_id, "duplicate", actor, now=now),
    ]
    for attempt in attempts:
        with pytest.raises(MonthClosedError, match="2026-03 is closed"):
            attempt()
    assert len(rows(db)) == 1 and rows(db)[0].note == ""
    with db.transaction() as session:
        session.scalars(select(MonthClose)).one().reopened_at = now
    time_log.edit_entry(db, entry_id, actor, note="late fix", now=now)
    assert rows(db)[0].note == "late fix"


def test_stopwatch_across_month_end_reports_both_months(setup):
    db, nurse, patient, _, actor = setup
    start = dt.datetime(2026, 4, 1, 3, 50, tzinfo=UTC)  # 23:50 on March 31st in New York
    time_log.start_timer(db, patient, nurse, actor, now=start)
    (entry,) = time_log.running_timers(db)
    changes = time_log.stop_timer(db, entry.id, actor, now=start + dt.timedelta(minutes=25))
    assert changes.months == {MARCH, Month(2026, 4)}
    assert [e.id for e in time_log.month_log(db, patient, MARCH)] == [entry.id]
    assert [e.id for e in time_log.month_log(db, patient, Month(2026, 4))] == [entry.id]
