"""Sign-in, the forced password change, first run and the composition root's start."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QWizard
from sqlalchemy import select

from ccmdesk import app
from ccmdesk.domain import passwords
from ccmdesk.services import users
from ccmdesk.services.audit import Actor
from ccmdesk.services.practice import practice_info
from ccmdesk.services.users import UserForm
from ccmdesk.storage.models import AuditEvent, Setting
from ccmdesk.ui import signin
from ccmdesk.ui.first_run import FirstRunWizard
from ccmdesk.ui.main_window import MainWindow
from ccmdesk.ui.signin import ChangePasswordDialog, SignInDialog, SignInResult
from tests.factories import practitioner_npi

NURSE_PASSWORD = "nurse-pass-1"


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    """A cheaper scrypt cost: these tests are about screens, not the hash."""
    monkeypatch.setattr(passwords, "LOG2_N", 12)


@pytest.fixture
def logins(practice):
    """The nurse signs in as "nina"; the doctor is the administrator, "dana"."""
    db = practice["db"]
    cli = Actor.command_line()
    nurse = UserForm("Nina Okafor", "RN", login="nina")
    users.save_user(db, practice["nurse"], nurse, cli, "temporary-1")
    users.change_password(db, practice["nurse"], "temporary-1", NURSE_PASSWORD)  # her own
    doctor = UserForm(
        "Dana Whitfield",
        "MD",
        "practitioner",
        practitioner_npi(1),
        login="dana",
        administrator=True,
    )
    users.save_user(db, practice["doctor"], doctor, cli, "doctor-pass-1")
    return practice


def actions(db) -> list[tuple[str, int | None]]:
    with db.transaction() as session:
        return [(e.action, e.actor_id) for e in session.scalars(select(AuditEvent))]


# -- the sign-in dialog -------------------------------------------------------------------


def test_a_refusal_is_shown_as_the_service_words_it_and_the_right_password_signs_in(
    logins, clock, qtbot
):
    dialog = SignInDialog(None, logins["db"], clock, login="nina", heading="Sign in to Test")
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.password, "guess-again")
    dialog.sign_in_button.click()
    assert dialog.message.text() == "wrong user name or password"
    assert dialog.message.isVisibleTo(dialog) and dialog.password.text() == ""
    assert dialog.result() != QDialog.DialogCode.Accepted
    qtbot.keyClicks(dialog.password, NURSE_PASSWORD)
    dialog.sign_in_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.result_value.user.staff_id == logins["nurse"]
    assert actions(logins["db"])[-2:] == [
        ("sign_in_failed", logins["nurse"]),
        ("sign_in", logins["nurse"]),
    ]


def test_an_empty_user_name_is_asked_for_before_anything_is_tried(logins, clock, qtbot):
    dialog = SignInDialog(None, logins["db"], clock)
    qtbot.addWidget(dialog)
    before = actions(logins["db"])
    dialog.sign_in_button.click()
    assert dialog.message.text() == "type your user name first"
    assert actions(logins["db"]) == before  # not even a failed sign-in


def test_the_demo_hint_is_shown_only_where_the_database_has_one(logins, clock, monkeypatch):
    seen: list[dict] = []
    monkeypatch.setattr(SignInDialog, "ask", classmethod(lambda cls, *a, **k: seen.append(k)))
    signin.sign_in(None, logins["db"], clock)
    with logins["db"].transaction() as session:
        session.add(Setting(key=users.SIGN_IN_HINT_KEY, value='"sign in as megan, demo-pass"'))
    signin.sign_in(None, logins["db"], clock)
    assert [k["hint"] for k in seen] == ["", "sign in as megan, demo-pass"]


def test_a_temporary_password_is_replaced_before_anything_else(logins, clock, monkeypatch):
    db = logins["db"]
    users.reset_password(db, logins["nurse"], "temporary-9", Actor.command_line())
    typed = users.sign_in(db, "nina", "temporary-9", now=clock())
    result = SignInResult(typed, "nina", "temporary-9")
    monkeypatch.setattr(SignInDialog, "ask", classmethod(lambda cls, *a, **k: result))
    asked: list[str | None] = []

    def refuse(cls, parent, db, user, current=None):
        asked.append(current)
        return False

    monkeypatch.setattr(ChangePasswordDialog, "ask", classmethod(refuse))
    assert signin.sign_in(None, db, clock) is None  # no new password, no way in
    assert asked == ["temporary-9"] and actions(db)[-1] == ("sign_out", logins["nurse"])
    monkeypatch.setattr(ChangePasswordDialog, "ask", classmethod(lambda cls, *a, **k: True))
    user = signin.sign_in(None, db, clock)
    assert user is not None and not user.must_change_password


def test_the_forced_change_checks_beside_the_fields_and_saves(logins, clock, qtbot):
    db = logins["db"]
    user = users.current_user(db, logins["nurse"])
    dialog = ChangePasswordDialog(None, db, user, current=NURSE_PASSWORD)
    qtbot.addWidget(dialog)
    assert dialog.old.parent() is None  # the temporary one was just typed
    qtbot.keyClicks(dialog.new.first, "a-new-password")
    qtbot.keyClicks(dialog.new.second, "a-new-passw0rd")
    dialog.save()
    assert "differ" in dialog.new.problem.text() and dialog.result() != QDialog.DialogCode.Accepted
    dialog.new.second.setText("a-new-password")
    dialog.save()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert users.sign_in(db, "nina", "a-new-password", now=clock())


def test_changing_ones_own_password_needs_the_current_one(logins, clock, qtbot):
    db = logins["db"]
    dialog = ChangePasswordDialog(None, db, users.current_user(db, logins["nurse"]))
    qtbot.addWidget(dialog)
    dialog.old.setText("not it")
    dialog.new.first.setText("a-new-password")
    dialog.new.second.setText("a-new-password")
    dialog.save()
    assert dialog.problems.labels["old_password"].text() == "the current password is not right"


# -- first run --------------------------------------------------------------------------------


def test_start_asks_for_the_first_run_until_an_administrator_exists(practice, clock, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(FirstRunWizard, "ask", classmethod(lambda cls, *a: calls.append("wizard")))
    monkeypatch.setattr(SignInDialog, "ask", classmethod(lambda cls, *a, **k: calls.append("sign")))
    signin.start_session(None, practice["db"], clock)
    users.first_run(
        practice["db"],
        users.PracticeForm("Test Practice", None, "", "", "", "America/New_York"),
        UserForm("Ann Admin", login="ann"),
        "admin-pass-1",
    )
    signin.start_session(None, practice["db"], clock)
    assert calls == ["wizard", "sign"]


def test_the_wizard_prefills_checks_each_page_and_signs_in_the_administrator(
    practice, clock, qtbot
):
    db = practice["db"]
    wizard = FirstRunWizard(None, db, clock)
    qtbot.addWidget(wizard)
    wizard.show()
    page = wizard.practice
    assert page.name.text() == "Test Practice"  # an older database's practice
    assert page.zone.currentText() == "America/New_York"
    page.npi.setText("1234567890")
    wizard.next()
    assert wizard.currentPage() is page
    assert "check digit" in page.problems.labels["practice_npi"].text()
    page.npi.clear()
    page.after_hours.setText("(555) 201-3399")
    wizard.next()
    admin = wizard.administrator
    assert wizard.currentPage() is admin
    # the doctor is already on the staff list: choosing her fills her details in
    admin.existing.setCurrentIndex(admin.existing.findData(practice["doctor"]))
    assert admin.fields.name.text() == "Dana Whitfield" and admin.fields.login.text() == "dana"
    admin.password.first.setText("admin-pass-1")
    admin.password.second.setText("admin-pass-2")
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert "differ" in admin.password.problem.text() and wizard.user is None
    admin.fields.login.setText("da na")
    admin.password.second.setText("admin-pass-1")
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert admin.problems.labels["login"].text() == "a user name cannot contain spaces"
    assert users.needs_first_run(db)  # nothing written yet
    admin.fields.login.setText("dana")
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert wizard.result() == QDialog.DialogCode.Accepted
    assert wizard.user.staff_id == practice["doctor"] and wizard.user.may(
        users.Permission.MANAGE_USERS
    )
    assert users.sign_in(db, "dana", "admin-pass-1", now=clock()).staff_id == practice["doctor"]
    assert practice_info(db) == ("Test Practice", ZoneInfo("America/New_York"))


def test_the_time_zone_is_found_by_any_part_of_its_name(practice, clock, qtbot):
    wizard = FirstRunWizard(None, practice["db"], clock)
    qtbot.addWidget(wizard)
    completer = wizard.practice.zone.completer()
    completer.setCompletionPrefix("chica")
    assert completer.currentCompletion() == "America/Chicago"


# -- the composition root --------------------------------------------------------------------


def test_run_gui_signs_in_then_opens_the_window_and_audits_the_sign_out(
    logins, user_data, qapp, monkeypatch
):
    db = logins["db"]

    def answer(cls, parent, db, clock, **options):
        assert options["heading"] == "Sign in to Test Practice"
        return SignInResult(users.sign_in(db, "nina", NURSE_PASSWORD), "nina", NURSE_PASSWORD)

    monkeypatch.setattr(SignInDialog, "ask", classmethod(answer))
    seen: list[str] = []

    def close_when_loaded() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        if not windows or not windows[0].loaded:
            QTimer.singleShot(50, close_when_loaded)
            return
        seen.append(windows[0].session.button.text())
        windows[0].close()

    QTimer.singleShot(50, close_when_loaded)
    assert app.run_gui(db.url) == 0
    assert seen == ["Signed in as Nina Okafor, RN ▾"]
    assert [a for a in actions(db) if a[0] in ("sign_in", "sign_out")] == [
        ("sign_in", logins["nurse"]),
        ("sign_out", logins["nurse"]),
    ]
    assert "last_login=nina" in (user_data / "settings.ini").read_text()


def test_quitting_at_the_sign_in_opens_nothing(logins, user_data, qapp, monkeypatch):
    def main_windows() -> set[int]:
        return {id(w) for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)}

    before = main_windows()
    monkeypatch.setattr(SignInDialog, "ask", classmethod(lambda cls, *a, **k: None))
    assert app.run_gui(logins["db"].url) == 0
    assert main_windows() == before
