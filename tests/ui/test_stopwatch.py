"""The stopwatch as a nurse uses it, with a clock the test moves (no sleeping)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ccmdesk.services import time_log
from ccmdesk.storage.models import AuditEvent, TimeEntry
from ccmdesk.ui import fmt
from ccmdesk.ui.dialogs import RecoveryDialog, SwitchPatientDialog
from tests.ui.conftest import wait_idle

UTC = dt.timezone.utc


def entries(db):
    with db.transaction() as session:
        return session.scalars(select(TimeEntry).order_by(TimeEntry.id)).all()


def open_patient(window, patient_id):
    assert window.open_patient(patient_id)


def test_start_and_stop_write_exactly_one_entry_with_the_right_instants(
    window, practice, clock, qtbot
):
    db = practice["db"]
    before = len(entries(db))
    open_patient(window, practice["ada"])
    started = clock.now
    window.toggle_action.trigger()  # Ctrl+T
    running = entries(db)[-1]
    assert running.start_at == started and running.end_at is None  # written at once
    assert window.windowTitle().startswith("● ")
    window.stopwatch.note.setPlainText("Reviewed glucose log")
    clock.advance(20 * 60 + 7)
    window.toggle_action.trigger()
    new = entries(db)[before:]
    assert len(new) == 1
    assert (new[0].start_at, new[0].end_at) == (started, started + dt.timedelta(seconds=1207))
    assert (new[0].note, new[0].source, new[0].staff_id) == (
        "Reviewed glucose log",
        "timer",
        practice["nurse"],
    )
    wait_idle(qtbot, window.ctx)
    assert window.rows[practice["ada"]].minutes == 32  # 12 before + 20 now
    assert window.windowTitle() == "ccmdesk — Test Practice"


def test_the_display_is_now_minus_start_and_never_drifts(window, practice, clock, qtbot):
    open_patient(window, practice["ada"])
    window.stopwatch.start()
    for seconds in (1, 59, 3600, 0.4, 7):
        clock.advance(seconds)
        window.stopwatch._show_time()
        expected = fmt.clock((clock.now - window.stopwatch.entry.start).total_seconds())
        assert window.stopwatch.time.text() == expected
    assert window.stopwatch.time.text() == "1:01:07"
    # the repaint timer, not the test, updates it as well
    clock.advance(60)
    qtbot.waitUntil(lambda: window.stopwatch.time.text() == "1:02:07", timeout=2000)
    window.stopwatch.stop()


def test_typing_while_running_is_saved_before_stop(window, practice, clock, qtbot):
    open_patient(window, practice["ada"])
    window.stopwatch.start()
    window.stopwatch.note.setPlainText("Patient reports dizziness")
    qtbot.waitUntil(
        lambda: entries(practice["db"])[-1].note == "Patient reports dizziness", timeout=3000
    )
    window.stopwatch.stop()


def test_heartbeat_records_that_the_app_is_alive(window, practice, clock):
    open_patient(window, practice["ada"])
    window.stopwatch.start()
    clock.advance(45)
    window.stopwatch.beat()
    assert entries(practice["db"])[-1].heartbeat_at == clock.now
    window.stopwatch.stop()


def test_still_on_the_call_question(window, practice, clock, qtbot, monkeypatch):
    from dataclasses import replace

    from ccmdesk.ui.dialogs import PreferencesDialog

    monkeypatch.setattr(
        PreferencesDialog,
        "ask",
        classmethod(lambda cls, parent, now: replace(now, ask_after_minutes=30)),
    )
    window.preferences_action.trigger()
    assert window.ctx.setting_int("stopwatch/ask_after_minutes", 60) == 30
    open_patient(window, practice["ada"])
    window.stopwatch.start()
    clock.advance(29 * 60)
    window.stopwatch._show_time()
    assert window.stopwatch.still_on_call_box is None
    clock.advance(61)
    window.stopwatch._show_time()
    box = window.stopwatch.still_on_call_box
    assert box is not None and "still on the call" in box.text().lower()
    stop = next(b for b in box.buttons() if b.text() == "No, stop now")
    stop.click()
    assert not window.stopwatch.running
    assert entries(practice["db"])[-1].end_at == clock.now


def test_switching_patients_while_timing(window, practice, clock, monkeypatch):
    db = practice["db"]
    open_patient(window, practice["ada"])
    window.stopwatch.start()
    answers = iter([SwitchPatientDialog.CANCEL, SwitchPatientDialog.KEEP, SwitchPatientDialog.STOP])
    monkeypatch.setattr(SwitchPatientDialog, "ask", classmethod(lambda cls, *a: next(answers)))

    assert not window.open_patient(practice["bo"])  # cancel: stay with Ada
    assert window.record.patient_id == practice["ada"]

    assert window.open_patient(practice["bo"])  # keep timing Ada while viewing Bo
    assert window.record.patient_id == practice["bo"]
    assert window.stopwatch.running and window.stopwatch.running_patient == "Ada Lovelace"
    assert "you are viewing Bo Brummell" in window.stopwatch.who.text()

    clock.advance(300)
    assert window.open_patient(practice["cy"])  # stop Ada's stopwatch, open Cy
    assert not window.stopwatch.running
    last = entries(db)[-1]
    assert last.patient_id == practice["ada"] and last.end_at == clock.now


def test_recovery_after_a_crash_offers_each_choice(ctx, practice, clock, qtbot, monkeypatch):
    from ccmdesk.ui.main_window import MainWindow

    db = practice["db"]
    choices = ["last_alive", "now", "discard"]
    for choice in choices:
        # a previous run died with this stopwatch running, last alive 10 minutes in
        time_log.start_timer(db, practice["ada"], practice["nurse"], ctx.actor, now=clock.now)
        running = time_log.running_timers(db, practice["nurse"])[0]
        time_log.heartbeat(db, running.id, clock.now + dt.timedelta(minutes=10))
        clock.advance(3600)
        asked = []
        monkeypatch.setattr(
            RecoveryDialog,
            "ask",
            classmethod(
                lambda cls, parent, entry, name, zone, c=choice, a=asked: a.append(name) or c
            ),
        )
        window = MainWindow(ctx, "Test Practice")
        qtbot.addWidget(window)
        window.start()
        window.recover_timers()
        assert asked == ["Ada Lovelace"]
        entry = entries(db)[-1]
        if choice == "last_alive":
            assert entry.end_at - entry.start_at == dt.timedelta(minutes=10)
        elif choice == "now":
            assert entry.end_at == clock.now
        else:
            assert entry.deleted_at is not None
        assert time_log.running_timers(db) == []
        wait_idle(qtbot, ctx)
        window.close()
    with db.transaction() as session:
        actions = [e.action for e in session.scalars(select(AuditEvent)).all()]
    assert actions == ["start", "stop", "start", "stop", "start", "delete"]


def test_shortcuts_are_shown_in_tooltips_and_menus(window):
    assert window.toggle_action.shortcut().toString() == "Ctrl+T"
    assert "Ctrl+F" in window.search.toolTip()
    window.open_patient(window.rows and next(iter(window.rows)))
    assert "Ctrl+T" in window.stopwatch.button.toolTip()
    menu_texts = [a.text() for a in window.menuBar().actions()]
    assert "&Patient" in menu_texts


def test_a_stopwatch_stopped_at_another_seat_goes_idle_here_and_says_so(
    window, practice, clock, qtbot
):
    db = practice["db"]
    open_patient(window, practice["ada"])
    window.stopwatch.start()
    running = window.stopwatch.entry
    clock.advance(10 * 60)
    time_log.stop_timer(db, running.id, window.ctx.actor, now=clock.now)  # the other seat
    clock.advance(60)
    with qtbot.waitSignal(window.stopwatch.problem) as told:
        window.toggle_action.trigger()
    assert "already stopped at another seat" in told.args[0]
    assert not window.stopwatch.running and window.windowTitle() == "ccmdesk — Test Practice"
    (entry,) = [e for e in entries(db) if e.id == running.id]
    assert entry.end_at == running.start + dt.timedelta(minutes=10)  # the other seat's Stop
