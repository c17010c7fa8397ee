"""Two seats on one database at the same moment: nothing lost, nothing overwritten (issue 9).

Every test opens a second :class:`Database` on the fixture's URL ("the other
seat") and runs the two seats' actions in threads (one test: in two OS
processes).  Races are made to happen, not hoped for: a hook placed *after* a
service's checks and *before* its write waits (briefly) for the other seat to
reach the same point.  Where the service serializes the two, the other seat
never arrives, the wait times out and the first seat finishes; where it did
not, both would pass their checks and the test would see the damage.  On
SQLite the queueing is ``BEGIN IMMEDIATE``; on PostgreSQL row locks, advisory
month locks, a conditional UPDATE and the running-stopwatch unique index.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from ccmdesk.domain.time import Month
from ccmdesk.services import care_plans, month_close, patient_record, time_log
from ccmdesk.services.audit import Actor
from ccmdesk.services.care_plans import SignedVersionError, StaleCopyError
from ccmdesk.services.month_close import MonthCloseError
from ccmdesk.services.patient_record import RecordError
from ccmdesk.services.time_log import MonthClosedError, NotRunningError, TimeEntryError
from ccmdesk.storage.database import Database, open_database
from ccmdesk.storage.models import AuditEvent, MonthClose, Patient, TimeEntry
from tests.careplans.helpers import complete, setup_practice
from tests.factories import add_patient, add_staff

UTC = dt.timezone.utc
MARCH = Month(2026, 3)
T0 = dt.datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 10:00 AM in New York
AFTER_MARCH = dt.datetime(2026, 4, 2, 14, 0, tzinfo=UTC)
#: How long a seat that reached its write waits for the other seat to reach it too.
MEET = 0.4


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None


def at_once(*actions: Callable[[], Any]) -> list[Outcome]:
    """Run each seat's action in its own thread, released together; what each got."""
    start = threading.Barrier(len(actions))
    outcomes = [Outcome() for _ in actions]

    def run(action: Callable[[], Any], outcome: Outcome) -> None:
        start.wait(timeout=10)
        try:
            outcome.value = action()
        except BaseException as error:  # handed to the test thread
            outcome.error = error

    threads = [
        threading.Thread(target=run, args=pair) for pair in zip(actions, outcomes, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive(), "a seat is stuck"
    return outcomes


def meet_before_writing(
    monkeypatch, module: Any, name: str, *, before: bool = False, seats: int = 2
) -> list[bool]:
    """Wrap ``module.name`` (a check, or with ``before`` the write) to wait for all seats.

    The seats meet after the check returns, or just before the write runs.
    Returns a list that records, per call, whether the other seats arrived in
    time; a serialized service never lets them.
    """
    original = getattr(module, name)
    meeting = threading.Barrier(seats)
    met: list[bool] = []

    def meet() -> None:
        try:
            meeting.wait(timeout=MEET)
            met.append(True)
        except threading.BrokenBarrierError:
            met.append(False)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if before:
            meet()
        result = original(*args, **kwargs)
        if not before:
            meet()
        return result

    monkeypatch.setattr(module, name, wrapped)
    return met


def only_error(outcomes: list[Outcome], kind: type[BaseException]) -> BaseException:
    """Exactly one seat failed, with ``kind``; the other succeeded."""
    errors = [o.error for o in outcomes if o.error is not None]
    assert len(errors) == 1, errors
    assert isinstance(errors[0], kind), errors[0]
    return errors[0]


def count(db: Database, model: Any, *where: Any) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.fixture
def other_seat(db):
    """A second seat: its own engine and connections on the same database."""
    seat = open_database(db.url)
    yield seat
    seat.close()


@pytest.fixture
def clinic(db):
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    colleague = add_staff(db, "Lisa Carrington", "clinical_staff", "RN")
    manager = add_staff(db, "Omar Manager", "non_clinical", office_manager=True)
    patient = add_patient(db, "M1")
    return (
        Actor(nurse, "Nina Okafor"),
        Actor(colleague, "Lisa Carrington"),
        Actor(manager, "Omar Manager"),
        patient,
    )


# -- 1. time logged at two seats at once: both entries kept -------------------------------


def test_two_seats_logging_time_for_one_patient_at_once_both_keep_their_entries(
    db, other_seat, clinic, monkeypatch
):
    nurse, colleague, _, patient = clinic
    meet_before_writing(monkeypatch, time_log, "_refuse_closed")

    def log(seat: Database, actor: Actor, minutes: int) -> Any:
        start = T0 + dt.timedelta(minutes=minutes)
        return time_log.add_manual(
            seat, patient, actor.id, start, start + dt.timedelta(minutes=10), actor, now=AFTER_MARCH
        )

    outcomes = at_once(lambda: log(db, nurse, 0), lambda: log(other_seat, colleague, 5))
    assert [o.error for o in outcomes] == [None, None]
    assert count(db, TimeEntry, TimeEntry.patient_id == patient) == 2
    assert count(db, AuditEvent, AuditEvent.entity == "time_entry") == 2


def test_two_people_starting_stopwatches_for_one_patient_at_once_both_run(
    db, other_seat, clinic, monkeypatch
):
    nurse, colleague, _, patient = clinic
    meet_before_writing(monkeypatch, time_log, "_refuse_closed")
    outcomes = at_once(
        lambda: time_log.start_timer(db, patient, nurse.id, nurse, now=T0),
        lambda: time_log.start_timer(other_seat, patient, colleague.id, colleague, now=T0),
    )
    assert [o.error for o in outcomes] == [None, None]
    assert len(time_log.running_timers(db)) == 2


# -- 2. no silent overwrite: the loser is told who saved what ----------------------------


def test_two_seats_saving_one_patient_at_once_exactly_one_wins(db, other_seat, clinic, monkeypatch):
    nurse, colleague, _, patient = clinic
    loaded = patient_record.load_patient(db, patient)
    met = meet_before_writing(monkeypatch, patient_record, "_claim", before=True)
    today = AFTER_MARCH.date()

    def save(seat: Database, actor: Actor, values: dict[str, object]) -> Any:
        return patient_record.update_patient(
            seat, patient, loaded.row_version, values, actor, today, now=AFTER_MARCH
        )

    outcomes = at_once(
        lambda: save(db, nurse, {"phone": "555-0199"}),
        lambda: save(other_seat, colleague, {"phone": "555-0123", "address": "2 Oak Ave"}),
    )
    error = only_error(outcomes, RecordError)
    assert error.field == "row_version"
    won = 0 if outcomes[0].error is None else 1
    winner = ("Nina Okafor", "Lisa Carrington")[won]
    message = str(error)
    assert message.startswith(f"someone else saved this patient since you opened it: {winner} at")
    assert "10:00 AM" in message  # AFTER_MARCH on the practice's (New York) clock
    assert ('Phone — → "555-0199"' if won == 0 else 'Phone — → "555-0123"') in message
    assert ("Address" in message) == (won == 1)
    assert message.endswith("(or reopen the patient) to see their changes, then make yours again")
    saved = patient_record.load_patient(db, patient)
    assert saved.row_version == loaded.row_version + 1
    assert count(db, AuditEvent, AuditEvent.entity == "patient") == 1
    assert met.count(True) in (0, 2)  # PostgreSQL: both met, the UPDATE decided


def test_a_stale_patient_copy_is_told_every_save_since_and_by_whom(db, clinic):
    nurse, colleague, _, patient = clinic
    loaded = patient_record.load_patient(db, patient)
    today, first = AFTER_MARCH.date(), AFTER_MARCH
    patient_record.update_patient(
        db, patient, 1, {"phone": "555-0100", "caregiver": "x" * 60}, colleague, today, now=first
    )
    patient_record.update_patient(
        db, patient, 2, {"phone": "555-0142", "care_manager_id": colleague.id}, nurse, today
    )
    with pytest.raises(RecordError) as refused:
        patient_record.update_patient(
            db, patient, loaded.row_version, {"language": "Spanish"}, nurse, today, now=first
        )
    message = str(refused.value)
    assert "Lisa Carrington and Nina Okafor (you, at another seat or window) at" in message
    assert 'Phone — → "555-0142"' in message  # the first value before, the last after
    assert "Care manager — → Lisa Carrington" in message
    assert 'Caregiver — → "' + "x" * 38 + "…" in message  # long values are cut
    with db.transaction() as session:
        assert session.get(Patient, patient).language == ""


def test_two_seats_saving_one_care_plan_draft_at_once_exactly_one_wins(db, other_seat, monkeypatch):
    practice = setup_practice(db)
    now = dt.datetime(2026, 11, 16, 15, 42, tzinfo=UTC)
    version_id = care_plans.start_plan(db, practice.patient_id, practice.nurse, now=now).created_id
    loaded = care_plans.load_version(db, version_id)
    meet_before_writing(monkeypatch, care_plans, "_writer")
    mine, theirs = loaded.content.copy(), loaded.content.copy()
    mine.prognosis = "Fair"
    theirs.prognosis, theirs.preferences = "Good", "Mornings"

    def save(seat: Database, actor: Actor, content: Any) -> Any:
        return care_plans.save_draft(
            seat, version_id, content, actor, row_version=loaded.row_version, now=now
        )

    outcomes = at_once(
        lambda: save(db, practice.nurse, mine), lambda: save(other_seat, practice.doctor, theirs)
    )
    error = only_error(outcomes, StaleCopyError)
    won = 0 if outcomes[0].error is None else 1
    winner = ("Florence Night", "Grace Hopper")[won]
    assert error.other.startswith(f"{winner} at 10:42 AM (changed ")
    assert str(error).startswith(f"someone else saved this care plan since you opened it: {winner}")
    assert str(error).endswith("reopen the plan, then add your changes again")
    on_record = care_plans.load_version(db, version_id)
    assert on_record.content.prognosis == ("Fair", "Good")[won]
    assert on_record.row_version == loaded.row_version + 1


def test_signing_while_another_seat_saves_the_draft_one_of_them_is_refused(
    db, other_seat, monkeypatch
):
    practice = setup_practice(db)
    now = dt.datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
    version_id = care_plans.start_plan(db, practice.patient_id, practice.nurse, now=now).created_id
    ready = complete(care_plans.load_version(db, version_id).content)
    care_plans.save_draft(db, version_id, ready, practice.nurse, now=now)
    loaded = care_plans.load_version(db, version_id)
    edited = loaded.content.copy()
    edited.prognosis = "Guarded"
    meet_before_writing(monkeypatch, care_plans, "_check_row_version")
    outcomes = at_once(
        lambda: care_plans.sign(
            db, version_id, practice.doctor, row_version=loaded.row_version, now=now
        ),
        lambda: care_plans.save_draft(
            other_seat,
            version_id,
            edited,
            practice.nurse,
            row_version=loaded.row_version,
            now=now,
        ),
    )
    errors = [o.error for o in outcomes if o.error is not None]
    assert len(errors) == 1, errors
    if outcomes[0].error is None:  # signed first: the draft save meets a signed version
        assert isinstance(errors[0], SignedVersionError)
        assert "signed by Grace Hopper" in str(errors[0])
        assert care_plans.load_version(db, version_id).content.prognosis != "Guarded"
    else:  # saved first: the signature would cover text the doctor never saw
        assert isinstance(errors[0], StaleCopyError)
        assert errors[0].other.startswith("Florence Night at 10:00 AM (changed ")
        assert care_plans.load_version(db, version_id).info.signed_at is None


# -- 3. one running stopwatch a person, wherever they sign in ------------------------------


def test_one_person_starting_at_two_seats_at_once_gets_one_stopwatch(
    db, other_seat, clinic, monkeypatch
):
    nurse, _, _, patient = clinic
    other_patient = add_patient(db, "M2", first="Bo", last="Secondpatient")
    meet_before_writing(monkeypatch, time_log, "_refuse_closed")
    outcomes = at_once(
        lambda: time_log.start_timer(db, patient, nurse.id, nurse, now=T0),
        lambda: time_log.start_timer(other_seat, other_patient, nurse.id, nurse, now=T0),
    )
    error = only_error(outcomes, TimeEntryError)
    (running,) = time_log.running_timers(db)
    name = "Ada Testpatient" if running.patient_id == patient else "Bo Secondpatient"
    assert str(error) == (
        f"Nina Okafor already has a stopwatch running for {name} since 10:00 AM,"
        " started at another seat or earlier here; stop it first"
    )


def test_the_unique_index_decides_when_the_check_is_passed_and_says_whose(db, clinic, monkeypatch):
    """What PostgreSQL meets when two seats pass the check at once, made certain."""
    nurse, _, _, patient = clinic
    time_log.start_timer(db, patient, nurse.id, nurse, now=T0)
    original, calls = time_log._running_entry, []

    def blind_first(session: Any, staff_id: int) -> Any:
        calls.append(staff_id)
        return None if len(calls) == 1 else original(session, staff_id)

    monkeypatch.setattr(time_log, "_running_entry", blind_first)
    with pytest.raises(TimeEntryError, match="already has a stopwatch running for Ada Testpatient"):
        time_log.start_timer(db, patient, nurse.id, nurse, now=T0 + dt.timedelta(minutes=3))
    assert len(calls) == 2  # the check was blind; the index refused; the message looked again
    assert count(db, TimeEntry) == 1


def _start_in_process(url: str, patient: int, staff: int, gate: Any, answers: Any) -> None:
    """One seat in its own process: open the database, wait for the other, press Start."""
    seat = open_database(url)
    try:
        gate.wait(timeout=60)
        try:
            time_log.start_timer(seat, patient, staff, Actor(staff, "Nina Okafor"))
            answers.put("started")
        except TimeEntryError as error:
            answers.put(f"refused: {error}")
    finally:
        seat.close()


def test_one_person_starting_in_two_processes_at_once_gets_one_stopwatch(db, clinic):
    nurse, _, _, patient = clinic
    context = multiprocessing.get_context("spawn")
    gate, answers = context.Barrier(2), context.Queue()
    seats = [
        context.Process(target=_start_in_process, args=(db.url, patient, nurse.id, gate, answers))
        for _ in range(2)
    ]
    for seat in seats:
        seat.start()
    got = sorted(answers.get(timeout=60) for _ in seats)
    for seat in seats:
        seat.join(timeout=30)
        assert seat.exitcode == 0
    assert got[0].startswith("refused: Nina Okafor already has a stopwatch running")
    assert got[1] == "started"
    assert len(time_log.running_timers(db, nurse.id)) == 1


def test_a_stopwatch_stopped_at_another_seat_is_not_stopped_again(db, other_seat, clinic):
    nurse, _, _, patient = clinic
    entry_id = time_log.start_timer(db, patient, nurse.id, nurse, now=T0).created_id
    stopped_there = T0 + dt.timedelta(minutes=42)
    time_log.stop_timer(other_seat, entry_id, nurse, now=stopped_there, note="called back")
    with pytest.raises(NotRunningError) as refused:
        time_log.stop_timer(db, entry_id, nurse, now=stopped_there + dt.timedelta(minutes=5))
    assert str(refused.value) == (
        "this stopwatch was already stopped at another seat at 10:42 AM by Nina Okafor;"
        " its time is in the time log"
    )
    with pytest.raises(NotRunningError, match="already stopped at another seat"):
        time_log.save_running_details(db, entry_id, "phone_call", "typed here")
    (entry,) = time_log.month_log(db, patient, MARCH)
    assert (entry.end, entry.note) == (stopped_there, "called back")


def test_stopping_one_stopwatch_at_two_seats_at_once_stops_it_once(
    db, other_seat, clinic, monkeypatch
):
    nurse, _, _, patient = clinic
    entry_id = time_log.start_timer(db, patient, nurse.id, nurse, now=T0).created_id
    meet_before_writing(monkeypatch, time_log, "_check_span")
    ends = [T0 + dt.timedelta(minutes=20), T0 + dt.timedelta(minutes=21)]
    outcomes = at_once(
        lambda: time_log.stop_timer(db, entry_id, nurse, now=ends[0]),
        lambda: time_log.stop_timer(other_seat, entry_id, nurse, now=ends[1]),
    )
    error = only_error(outcomes, NotRunningError)
    won = 0 if outcomes[0].error is None else 1
    assert f"already stopped at another seat at 10:{20 + won} AM" in str(error)
    (entry,) = time_log.month_log(db, patient, MARCH)
    assert entry.end == ends[won]
    assert count(db, AuditEvent, AuditEvent.action == "stop") == 1


# -- 4. a month closed at one seat is closed at every seat -----------------------------------


def test_an_entry_being_written_when_the_month_closes_gets_in_first(
    db, other_seat, clinic, monkeypatch
):
    nurse, _, manager, patient = clinic
    checked, closed, closed_meanwhile = threading.Event(), threading.Event(), []
    original = time_log._refuse_closed

    def pause_after_the_check(session: Any, months: set[Month]) -> None:
        original(session, months)
        checked.set()  # the entry passed "is March closed?" and is about to be written
        closed_meanwhile.append(closed.wait(MEET))

    monkeypatch.setattr(time_log, "_refuse_closed", pause_after_the_check)

    def add() -> Any:
        return time_log.add_manual(
            db, patient, nurse.id, T0, T0 + dt.timedelta(minutes=25), nurse, now=AFTER_MARCH
        )

    def close() -> Any:
        assert checked.wait(10)
        status = month_close.close_month(other_seat, MARCH, manager, now=AFTER_MARCH)
        closed.set()
        return status

    outcomes = at_once(add, close)
    assert [o.error for o in outcomes] == [None, None]
    assert closed_meanwhile == [False]  # the close waited for the entry's commit
    assert count(db, TimeEntry) == 1 and time_log.month_is_closed(db, MARCH)


def test_an_entry_written_while_the_month_is_being_closed_is_refused(
    db, other_seat, clinic, monkeypatch
):
    nurse, _, manager, patient = clinic
    closing, added = threading.Event(), threading.Event()
    original = month_close.status_in

    def pause_before_commit(session: Any, month: Month) -> Any:
        closing.set()  # the close row is written, not yet committed
        added.wait(MEET)
        return original(session, month)

    monkeypatch.setattr(month_close, "status_in", pause_before_commit)

    def add() -> Any:
        assert closing.wait(10)
        try:
            return time_log.add_manual(
                other_seat,
                patient,
                nurse.id,
                T0,
                T0 + dt.timedelta(minutes=25),
                nurse,
                now=AFTER_MARCH,
            )
        finally:
            added.set()

    outcomes = at_once(lambda: month_close.close_month(db, MARCH, manager, now=AFTER_MARCH), add)
    assert outcomes[0].error is None
    assert isinstance(outcomes[1].error, MonthClosedError)
    assert str(outcomes[1].error).startswith("2026-03 is closed")
    assert count(db, TimeEntry) == 0


def test_closing_one_month_at_two_seats_at_once_closes_it_once(db, other_seat, clinic, monkeypatch):
    _, _, manager, _ = clinic
    meet_before_writing(monkeypatch, month_close, "_latest")
    outcomes = at_once(
        lambda: month_close.close_month(db, MARCH, manager, now=AFTER_MARCH),
        lambda: month_close.close_month(other_seat, MARCH, manager, now=AFTER_MARCH),
    )
    error = only_error(outcomes, MonthCloseError)
    assert str(error) == "2026-03 is already closed"
    assert count(db, MonthClose) == 1
