"""Auto-lock, unlock, switch user and the role-aware screens, on the real main window."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QVBoxLayout
from sqlalchemy import select

from ccmdesk.domain import passwords
from ccmdesk.services import users
from ccmdesk.services.audit import Actor
from ccmdesk.services.users import UserForm
from ccmdesk.storage.models import AuditEvent, TimeEntry
from ccmdesk.ui.dialogs import PreferencesDialog, RecoveryDialog
from ccmdesk.ui.lock import LOCK_AFTER_KEY, LockScreen
from ccmdesk.ui.main_window import CloseWhileRunningDialog
from ccmdesk.ui.session import SwitchUserDialog
from ccmdesk.ui.signin import SignInDialog, SignInResult
from tests.factories import add_staff, practitioner_npi

NURSE_PASSWORD = "nurse-pass-1"


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    monkeypatch.setattr(passwords, "LOG2_N", 12)


@pytest.fixture(autouse=True)
def closing_keeps_timing(monkeypatch):
    """A test that ends with a stopwatch running must not hang on the closing question."""
    monkeypatch.setattr(
        CloseWhileRunningDialog, "ask", classmethod(lambda *a: CloseWhileRunningDialog.LEAVE)
    )


@pytest.fixture
def nina(window, practice):
    """The window's nurse can sign in ("nina"); the doctor too ("dana")."""
    db = practice["db"]
    give_login(db, practice["nurse"], UserForm("Nina Okafor", "RN", login="nina"), NURSE_PASSWORD)
    doctor = UserForm("Dana Whitfield", "MD", "practitioner", practitioner_npi(1), login="dana")
    give_login(db, practice["doctor"], doctor, "doctor-pass-1")
    return window


def give_login(db, staff_id: int, form: UserForm, password: str) -> None:
    """A user name and a password they chose (not a temporary one to replace)."""
    users.save_user(db, staff_id, form, Actor.command_line(), "temporary-1")
    users.change_password(db, staff_id, "temporary-1", password)


def timing_ada(window, practice, qtbot) -> None:
    window.open_patient(practice["ada"])
    window.stopwatch.start()
    assert window.stopwatch.running
    assert "Ada Lovelace" in window.windowTitle()


def audit_actions(db) -> list[tuple[str, int | None]]:
    with db.transaction() as session:
        return [(e.action, e.actor_id) for e in session.scalars(select(AuditEvent))]


def running_entries(db) -> list[TimeEntry]:
    with db.transaction() as session:
        rows = session.scalars(select(TimeEntry).where(TimeEntry.end_at.is_(None))).all()
        session.expunge_all()
        return list(rows)


def signs_in(monkeypatch, db, login: str, password: str) -> None:
    """The Switch user dialog is answered by ``login``."""

    def answer(cls, parent, db_, clock, **options):
        return SignInResult(users.sign_in(db, login, password), login, password)

    monkeypatch.setattr(SignInDialog, "ask", classmethod(answer))


# -- locking -------------------------------------------------------------------------------


def test_idle_for_the_set_time_locks_and_hides_the_patient_but_the_stopwatch_runs(
    nina, practice, clock, qtbot
):
    window, db = nina, practice["db"]
    window.show()
    timing_ada(window, practice, qtbot)
    reports = window.open_reports()  # a second window with patients in it
    qtbot.waitUntil(lambda: reports.loaded, timeout=10_000)
    window.session.idle.start()
    clock.advance(9 * 60 + 50)
    window.session.idle.check()
    assert not window.locked  # 9 min 50 s is not 10 minutes
    clock.advance(15)
    window.session.idle.check()

    assert window.locked
    screen = window.session.screen_lock.screen
    assert screen.isVisible() and screen.geometry() == window.centralWidget().geometry()
    assert not window.centralWidget().isEnabled() and not window.menuBar().isEnabled()
    assert not reports.isVisible()
    assert window.windowTitle() == "Locked — ccmdesk — Test Practice"
    assert "Signed in as <b>Nina Okafor, RN</b>." in screen.who.text()
    # the stopwatch keeps timing, and keeps telling the database it is alive
    clock.advance(45)
    window.stopwatch._show_time()  # a repaint tick
    assert window.windowTitle() == "Locked — ccmdesk — Test Practice"
    assert screen.running.text() == "Your stopwatch is still running: 0:10:50"
    assert "Ada" not in screen.running.text()
    assert window.stopwatch._heartbeat.isActive() and window.stopwatch._repaint.isActive()
    window.stopwatch.beat()
    (entry,) = running_entries(db)
    assert entry.heartbeat_at == clock.now and entry.patient_id == practice["ada"]

    screen.password.setText("not my password")
    screen.unlock_button.click()
    assert window.locked and screen.message.text() == "wrong password"
    qtbot.keyClicks(screen.password, NURSE_PASSWORD)
    qtbot.keyClick(screen.password, Qt.Key.Key_Return)
    assert not window.locked and not screen.isVisible()
    assert reports.isVisible() and window.centralWidget().isEnabled()
    assert "Ada Lovelace" in window.windowTitle() and window.stopwatch.running
    nurse = practice["nurse"]
    assert [a for a in audit_actions(db) if a[0] in ("lock", "unlock", "sign_in_failed")] == [
        ("lock", nurse),
        ("sign_in_failed", nurse),
        ("unlock", nurse),
    ]
    window.stopwatch.stop()


def test_activity_anywhere_in_the_app_puts_the_lock_off(nina, clock, qtbot):
    nina.show()
    nina.session.idle.start()
    clock.advance(9 * 60)
    qtbot.keyClick(nina.search, Qt.Key.Key_A)
    clock.advance(9 * 60)
    nina.session.idle.check()
    assert not nina.locked
    clock.advance(61)
    nina.session.idle.check()
    assert nina.locked


def test_a_closed_window_stops_watching(nina, clock):
    nina.show()
    nina.session.idle.start()
    nina.close()
    assert not nina.session.idle._timer.isActive()
    clock.advance(3600)
    nina.session.idle.check()
    assert not nina.locked


def test_lock_now_and_shortcuts_are_dead_while_locked(nina, practice, qtbot):
    window = nina
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    timing_ada(window, practice, qtbot)
    assert window.session.lock_action.shortcut().toString() == "Ctrl+L"
    window.session.lock_action.trigger()
    assert window.locked
    qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert window.stopwatch.running  # Ctrl+T did not stop it behind the lock
    assert window.reports is None  # nor did Ctrl+E open month end
    window.session.unlock(NURSE_PASSWORD)
    qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert not window.stopwatch.running  # the same keys work once unlocked


def test_the_lock_time_is_a_preference_only_an_administrator_changes(
    nina, practice, clock, monkeypatch
):
    window = nina
    offered = []

    def choose(cls, parent, current):
        offered.append(current.may_change_lock)
        return replace(current, lock_after_minutes=3)

    monkeypatch.setattr(PreferencesDialog, "ask", classmethod(choose))
    window.preferences_action.trigger()  # the nurse: kept at 10
    assert window.ctx.setting_int(LOCK_AFTER_KEY, 10) == 10
    admin = add_staff(practice["db"], "Ann Admin", "non_clinical", administrator=True)
    window.set_user(users.current_user(practice["db"], admin))
    window.preferences_action.trigger()
    assert offered == [False, True] and window.ctx.setting_int(LOCK_AFTER_KEY, 10) == 3
    window.show()
    window.session.idle.start()
    clock.advance(3 * 60)
    window.session.idle.check()
    assert window.locked


def test_a_question_open_at_the_lock_is_covered_not_answered(nina, qtbot):
    window = nina
    window.show()
    question = QDialog(window)  # stands for a dialog inside exec()
    question.setWindowModality(Qt.WindowModality.ApplicationModal)
    QVBoxLayout(question).addWidget(QLabel("Stop timing Ada Lovelace?"))
    question.show()
    window.session.lock()
    curtain = window.session.screen_lock.curtains[question]
    assert question.isVisible() and curtain.isVisible()
    assert curtain.geometry().size() == question.size()
    assert not curtain.switch_button.isEnabled()  # finish the question as yourself first
    curtain.password.setText(NURSE_PASSWORD)
    curtain.unlock_button.click()
    assert not window.locked and question.isVisible() and question.result() == 0
    qtbot.waitUntil(lambda: not question.findChildren(LockScreen))
    question.close()


def test_a_message_opened_while_locked_waits_behind_the_lock(nina, qtbot):
    from ccmdesk.ui.forms import tell

    window = nina
    window.show()
    window.session.lock()
    tell(window, "Stopwatch", "Could not save the note for Ada Lovelace")
    boxes = [w for w in window.findChildren(QDialog) if w.windowTitle() == "Stopwatch"]
    qtbot.waitUntil(lambda: not boxes[0].isVisible())
    window.session.unlock(NURSE_PASSWORD)
    assert boxes[0].isVisible()
    boxes[0].close()


def test_closing_while_locked_asks_nothing_and_leaves_the_stopwatch_running(
    nina, practice, qtbot, monkeypatch
):
    window = nina
    timing_ada(window, practice, qtbot)
    window.session.lock()
    monkeypatch.setattr(CloseWhileRunningDialog, "ask", classmethod(lambda *a: pytest.fail()))
    window.close()
    assert [e.patient_id for e in running_entries(practice["db"])] == [practice["ada"]]


# -- switching user ----------------------------------------------------------------------------


def test_switch_from_the_lock_keeps_the_stopwatch_for_its_owner_to_recover(
    nina, practice, clock, qtbot, monkeypatch
):
    window, db = nina, practice["db"]
    window.show()
    timing_ada(window, practice, qtbot)
    reports = window.open_reports()
    window.session.lock()
    monkeypatch.setattr(SwitchUserDialog, "ask", classmethod(lambda *a: pytest.fail()))
    signs_in(monkeypatch, db, "dana", "doctor-pass-1")
    window.session.screen_lock.screen.switch_button.click()

    assert not window.locked and window.ctx.staff_id == practice["doctor"]
    assert window.session.button.text() == "Signed in as Dana Whitfield, MD ▾"
    assert not window.stopwatch.running and window.windowTitle() == "ccmdesk — Test Practice"
    assert not reports.isVisible()  # Nina's window is not handed to Dana
    assert [e.staff_id for e in running_entries(db)] == [practice["nurse"]]  # still Nina's
    assert audit_actions(db)[-3:] == [
        ("lock", practice["nurse"]),
        ("sign_in", practice["doctor"]),  # Nina leaves only once Dana is in
        ("sign_out", practice["nurse"]),
    ]
    clock.advance(120)
    # back to Nina: her stopwatch is offered to her, as after a crash
    offered = []
    monkeypatch.setattr(
        RecoveryDialog, "ask", classmethod(lambda cls, p, e, name, z: offered.append(name) or "now")
    )
    signs_in(monkeypatch, db, "nina", NURSE_PASSWORD)
    window.session.switch_action.trigger()
    qtbot.waitUntil(lambda: offered == ["Ada Lovelace"])
    assert running_entries(db) == []


def test_switch_while_timing_asks_the_owner_first(nina, practice, qtbot, monkeypatch):
    window, db = nina, practice["db"]
    timing_ada(window, practice, qtbot)
    answers = iter([SwitchUserDialog.CANCEL, SwitchUserDialog.STOP])
    monkeypatch.setattr(SwitchUserDialog, "ask", classmethod(lambda cls, p, patient: next(answers)))
    signs_in(monkeypatch, db, "dana", "doctor-pass-1")
    window.session.switch_user()
    assert window.ctx.staff_id == practice["nurse"] and window.stopwatch.running  # cancelled
    window.session.switch_user()
    assert window.ctx.staff_id == practice["doctor"] and running_entries(db) == []
    with db.transaction() as session:
        stop = session.scalars(select(AuditEvent).where(AuditEvent.action == "stop")).one()
        assert stop.actor_id == practice["nurse"]  # stopped in the owner's name


def test_the_same_person_switching_to_themselves_just_unlocks(nina, practice, monkeypatch):
    window = nina
    window.session.lock()
    signs_in(monkeypatch, practice["db"], "nina", NURSE_PASSWORD)
    window.session.switch_user()
    assert not window.locked and window.ctx.staff_id == practice["nurse"]
    assert ("sign_out", practice["nurse"]) not in audit_actions(practice["db"])


# -- what each role is offered -------------------------------------------------------------


def test_the_screens_offer_only_what_the_signed_in_person_may_do(window, practice):
    db = practice["db"]
    assert not hasattr(window, "staff_combo")  # "You are" is gone: sign-in says who
    assert window.toggle_action.isEnabled() and window.stopwatch.isEnabled()
    assert not window.reports_action.isEnabled()
    assert window.reports_action.toolTip() == "Billing and month end are the office manager's"
    assert not window.session.users_action.isVisible()
    desk = add_staff(db, "Amber Nolan", "non_clinical")
    window.set_user(users.current_user(db, desk))
    assert not window.toggle_action.isEnabled() and not window.add_entry_action.isEnabled()
    assert not window.stopwatch.isEnabled()
    assert "clinical staff and practitioners" in window.stopwatch.toolTip()
    manager = add_staff(
        db, "Lisa Carrington", "non_clinical", office_manager=True, administrator=True
    )
    window.set_user(users.current_user(db, manager))
    assert window.reports_action.isEnabled() and window.session.users_action.isVisible()
    assert window.session.button.text() == "Signed in as Lisa Carrington ▾"
