"""The change feed: what other seats committed since a seat last looked (both backends)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert

from ccmdesk.domain.time import Month
from ccmdesk.services import audit, month_close, time_log
from ccmdesk.services.audit import Actor
from ccmdesk.services.change_feed import GAP_PATIENCE_S, FeedCursor, read_changes, start_cursor
from ccmdesk.services.imports.patients import import_patients
from ccmdesk.services.practice import set_fee_override
from ccmdesk.storage.models import AuditEvent
from tests.factories import DOCTOR_NPI, add_patient, add_staff
from tests.services.csvfiles import GOOD_PATIENTS, PATIENT_HEADER, write_csv

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


@pytest.fixture
def seat(db):
    doctor = add_staff(db, "Dana Whitfield", "practitioner", "MD", npi=DOCTOR_NPI)
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    manager = add_staff(db, "Olga Manager", "non_clinical", office_manager=True)
    ada = add_patient(db, "M1", practitioner_id=doctor)
    bo = add_patient(db, "M2", practitioner_id=doctor)
    return {
        "db": db,
        "nurse": Actor(nurse, "Nina Okafor"),
        "manager": Actor(manager, "Olga Manager"),
        "ada": ada,
        "bo": bo,
    }


def test_nothing_new_is_an_empty_batch_at_the_same_place(seat):
    cursor = start_cursor(seat["db"])
    batch = read_changes(seat["db"], cursor, now=0.0)
    assert batch.empty and batch.cursor == cursor and not batch.changes.patient_ids


def test_time_entries_name_their_patients_and_move_the_cursor(seat):
    db, nurse = seat["db"], seat["nurse"]
    cursor = start_cursor(db)
    time_log.add_manual(
        db,
        seat["ada"],
        nurse.id,
        T0,
        T0 + dt.timedelta(minutes=12),
        nurse,
        now=T0 + dt.timedelta(hours=1),
    )
    started = time_log.start_timer(db, seat["bo"], nurse.id, nurse, now=T0)
    batch = read_changes(db, cursor, now=0.0)
    assert batch.events == 2
    assert batch.patient_ids == {seat["ada"], seat["bo"]}
    assert batch.changes.patient_ids == {seat["ada"], seat["bo"]} and not batch.changes.months
    assert not batch.new_patients and not batch.months and not batch.fee_years
    assert batch.cursor.high_water > cursor.high_water and batch.cursor.gaps == ()

    again = read_changes(db, batch.cursor, now=1.0)
    assert again.empty  # each event is reported once
    time_log.stop_timer(db, started.created_id, nurse, now=T0 + dt.timedelta(minutes=5))
    assert read_changes(db, again.cursor, now=2.0).patient_ids == {seat["bo"]}


def test_new_patients_month_closes_and_fees_are_told_apart(seat, tmp_path):
    db, manager = seat["db"], seat["manager"]
    cursor = start_cursor(db)
    import_patients(
        db, write_csv(tmp_path, "p.csv", PATIENT_HEADER, GOOD_PATIENTS[1:]), Actor.command_line()
    )
    batch = read_changes(db, cursor, now=0.0)
    assert batch.new_patients and len(batch.patient_ids) == 1

    month_close.close_month(db, Month(2026, 2), manager, T0)
    set_fee_override(db, 2026, "99490", "61.50", manager)
    later = read_changes(db, batch.cursor, now=1.0)
    assert later.months == {Month(2026, 2)} and later.fee_years == {2026}
    assert not later.new_patients and not later.patient_ids

    month_close.reopen_month(db, Month(2026, 2), "late entry", manager, T0)
    assert read_changes(db, later.cursor, now=2.0).months == {Month(2026, 2)}


def _event(db, id_: int, patient_id: int) -> None:
    """An audit row with a chosen id: what a transaction that commits late leaves."""
    with db.transaction() as session:
        session.execute(
            insert(AuditEvent),
            [
                {
                    "id": id_,
                    "at": T0,
                    "actor": "another seat",
                    "action": "update",
                    "entity": "patient",
                    "patient_id": patient_id,
                    "detail": "",
                }
            ],
        )


def test_an_id_committed_late_is_still_seen_and_a_gap_is_given_up_in_time(seat):
    db = seat["db"]
    cursor = start_cursor(db)
    top = cursor.high_water
    _event(db, top + 2, seat["bo"])  # top + 1 is still being written elsewhere
    batch = read_changes(db, cursor, now=100.0)
    assert batch.patient_ids == {seat["bo"]}
    assert batch.cursor == FeedCursor(top + 2, ((top + 1, 100.0),))

    _event(db, top + 1, seat["ada"])  # ... and commits now
    late = read_changes(db, batch.cursor, now=101.0)
    assert late.patient_ids == {seat["ada"]} and late.cursor == FeedCursor(top + 2)

    _event(db, top + 4, seat["bo"])  # top + 3 never comes (rolled back)
    gapped = read_changes(db, late.cursor, now=200.0)
    assert gapped.cursor.gaps == ((top + 3, 200.0),)
    assert read_changes(db, gapped.cursor, now=201.0).cursor.gaps == ((top + 3, 200.0),)
    given_up = read_changes(db, gapped.cursor, now=200.0 + GAP_PATIENCE_S)
    assert given_up.empty and given_up.cursor == FeedCursor(top + 4)


def test_many_gaps_are_read_as_a_range_without_repeating_what_was_seen(seat, monkeypatch):
    from ccmdesk.services import change_feed

    monkeypatch.setattr(change_feed, "MAX_LISTED_GAPS", 2)
    db = seat["db"]
    top = start_cursor(db).high_water
    _event(db, top + 5, seat["bo"])  # four ids still to come
    batch = read_changes(db, FeedCursor(top), now=0.0)
    assert [gap for gap, _ in batch.cursor.gaps] == [top + 1, top + 2, top + 3, top + 4]
    _event(db, top + 3, seat["ada"])
    late = read_changes(db, batch.cursor, now=1.0)
    assert late.events == 1 and late.patient_ids == {seat["ada"]}  # top + 5 not again
    assert [gap for gap, _ in late.cursor.gaps] == [top + 1, top + 2, top + 4]


@pytest.mark.postgres_only  # SQLite writes one transaction at a time: no such gaps there
def test_postgresql_ids_that_commit_out_of_order_are_not_missed(seat):
    """On PostgreSQL a sequence hands out ids at insert, not at commit."""
    db, nurse = seat["db"], seat["nurse"]
    cursor = start_cursor(db)
    with db.transaction() as slow:  # another seat's long import, not committed yet
        audit.record(slow, Actor(None, "import", trusted=True), "update", "patient", patient_id=1)
        slow.flush()  # its id is taken now ...
        end = T0 + dt.timedelta(minutes=3)
        time_log.add_manual(db, seat["bo"], nurse.id, T0, end, nurse, now=end)  # ... a later one
        fast = read_changes(db, cursor, now=0.0)  # committed first
        assert fast.patient_ids == {seat["bo"]} and len(fast.cursor.gaps) == 1
    late = read_changes(db, fast.cursor, now=1.0)
    assert late.patient_ids == {1} and late.cursor.gaps == ()
