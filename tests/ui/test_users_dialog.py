"""Users… for administrators: the list, add and edit with problems beside fields, resets."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog

from ccmdesk.domain import passwords
from ccmdesk.services import users
from ccmdesk.services.audit import Actor
from ccmdesk.services.users import UserForm
from ccmdesk.ui.users_dialog import (
    ResetPasswordDialog,
    UserEditDialog,
    UsersDialog,
    temporary_password,
)
from tests.factories import add_staff


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    monkeypatch.setattr(passwords, "LOG2_N", 12)


@pytest.fixture
def admin_ctx(ctx, practice):
    """The seat is signed in as Ann, the administrator; Nina has a login, Dana none."""
    admin = add_staff(practice["db"], "Ann Admin", "non_clinical", administrator=True)
    users.save_user(
        practice["db"],
        practice["nurse"],
        UserForm("Nina Okafor", "RN", login="nina"),
        Actor.command_line(),
        "temporary-1",
    )
    ctx.user = users.current_user(practice["db"], admin)
    return ctx


def test_the_list_shows_everyone_with_roles_logins_and_locks(
    admin_ctx, practice, qtbot, qtmodeltester
):
    db = practice["db"]
    for _ in range(5):
        with pytest.raises(users.SignInError):
            users.sign_in(db, "nina", "guess", now=admin_ctx.clock())
    dialog = UsersDialog(None, admin_ctx)
    qtbot.addWidget(dialog)
    qtmodeltester.check(dialog.model)
    shown = {
        dialog.model.data(dialog.model.index(r, 0)): [
            dialog.model.data(dialog.model.index(r, c)) for c in range(1, 6)
        ]
        for r in range(dialog.model.rowCount())
    }
    assert shown["Nina Okafor"] == ["RN", "clinical staff", "nina", "yes", "until 10:00 AM"]
    assert shown["Dana Whitfield"][2] == "— (cannot sign in)"
    assert shown["Ann Admin"][1] == "non-clinical staff, administrator"
    assert not dialog.edit_button.isEnabled()
    dialog.table.selectRow(list(shown).index("Dana Whitfield"))
    assert dialog.edit_button.isEnabled() and not dialog.reset_button.isEnabled()
    assert "user name first" in dialog.reset_button.toolTip()


def test_adding_a_user_names_the_wrong_field_then_saves(admin_ctx, practice, qtbot):
    dialog = UserEditDialog(None, admin_ctx)
    qtbot.addWidget(dialog)
    fields = dialog.fields
    fields.name.setText("Carlos Medina")
    fields.credential.setText("RN")
    fields.login.setText("NINA")
    dialog.password.first.setText("temporary-2")
    dialog.password.second.setText("temporary-2")
    dialog.save()
    assert dialog.problems.labels["login"].text() == "the user name 'nina' is taken by Nina Okafor"
    assert dialog.result() != QDialog.DialogCode.Accepted
    fields.login.setText("carlos")
    fields.role.setCurrentIndex(fields.role.findData("practitioner"))
    dialog.save()
    assert "needs an NPI" in dialog.problems.labels["npi"].text()
    fields.role.setCurrentIndex(fields.role.findData("clinical_staff"))
    fields.office_manager.setChecked(True)
    dialog.save()
    assert dialog.result() == QDialog.DialogCode.Accepted
    signed = users.sign_in(practice["db"], "carlos", "temporary-2")
    assert signed.must_change_password and signed.may(users.Permission.CLOSE_MONTHS)


def test_the_last_administrator_cannot_demote_themselves(admin_ctx, practice, qtbot):
    db = practice["db"]
    ann = UserForm("Ann Admin", role="non_clinical", login="ann", administrator=True)
    users.save_user(db, admin_ctx.staff_id, ann, Actor.command_line(), "admin-pass-1")
    row = next(r for r in users.list_users(db, admin_ctx.actor) if r.name == "Ann Admin")
    dialog = UserEditDialog(None, admin_ctx, row)
    qtbot.addWidget(dialog)
    assert dialog.fields.login.text() == "ann" and dialog.fields.administrator.isChecked()
    dialog.fields.administrator.setChecked(False)
    dialog.save()
    assert "at least one active administrator" in dialog.problems.labels["administrator"].text()


def test_a_reset_shows_a_temporary_password_to_read_out(admin_ctx, practice, qtbot):
    db = practice["db"]
    row = next(r for r in users.list_users(db, admin_ctx.actor) if r.name == "Nina Okafor")
    dialog = ResetPasswordDialog(None, admin_ctx, row)
    qtbot.addWidget(dialog)
    temporary = dialog.password.text()
    assert len(temporary) == 14 and not set(temporary) & set("0O1lI")
    dialog.save()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert users.sign_in(db, "nina", temporary).must_change_password
    dialog = ResetPasswordDialog(None, admin_ctx, row)
    qtbot.addWidget(dialog)
    dialog.password.setText("short")
    dialog.save()
    assert "at least 8" in dialog.problem.text()
    assert temporary_password() != temporary_password()


def test_users_is_offered_to_administrators_and_refreshes_the_window(window, practice, monkeypatch):
    db = practice["db"]
    assert not window.session.users_action.isVisible()
    admin = add_staff(db, "Ann Admin", "non_clinical", administrator=True)
    window.set_user(users.current_user(db, admin))
    assert window.session.users_action.isVisible() and window.session.users_action.isEnabled()

    def promote(cls, parent, ctx):
        # Ann makes herself office manager too; the window takes it in at once
        form = UserForm("Ann Admin", role="non_clinical", administrator=True, office_manager=True)
        users.save_user(db, admin, form, ctx.actor)
        return True

    monkeypatch.setattr(UsersDialog, "ask", classmethod(promote))
    assert not window.reports_action.isEnabled()
    window.session.users_action.trigger()
    assert window.reports_action.isEnabled()
