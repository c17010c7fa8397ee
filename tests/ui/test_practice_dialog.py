"""File → Practice settings…: saved by the service, problems beside their fields."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog

from ccmdesk.services import users
from ccmdesk.services.audit import Actor
from ccmdesk.services.audit_trail import AuditFilter, audit_page
from ccmdesk.services.practice_settings import PracticeSettings, load_practice, update_practice
from ccmdesk.ui import practice_dialog
from ccmdesk.ui.practice_dialog import PracticeDialog, edit_practice, may_edit_settings
from tests.factories import DOCTOR_NPI, add_staff


@pytest.fixture
def admin(ctx, practice):
    admin_id = add_staff(practice["db"], "Ann Admin", "non_clinical", administrator=True)
    ctx.user = users.current_user(practice["db"], admin_id)
    return admin_id


def dialog_for(ctx, qtbot) -> PracticeDialog:
    current = load_practice(ctx.db)
    dialog = PracticeDialog(
        None, current, lambda values: update_practice(ctx.db, values, ctx.actor)
    )
    qtbot.addWidget(dialog)
    return dialog


def practice_events(db) -> tuple:
    return audit_page(db, Actor.command_line(), AuditFilter(entity="practice")).rows


def test_the_dialog_shows_the_settings_and_saves_changes(ctx, admin, qtbot):
    dialog = dialog_for(ctx, qtbot)
    assert dialog.name.text() == "Test Practice"
    assert dialog.time_zone.currentData() == "America/New_York"
    dialog.npi.setText(DOCTOR_NPI)
    dialog.after_hours.setText("(555) 010-0199")
    dialog.time_zone.setCurrentIndex(dialog.time_zone.findData("America/Chicago"))
    assert dialog.try_save()
    assert dialog.result() == QDialog.DialogCode.Accepted
    saved = load_practice(ctx.db)
    assert (saved.npi, saved.after_hours_phone, saved.time_zone) == (
        DOCTOR_NPI,
        "(555) 010-0199",
        "America/Chicago",
    )
    [event] = practice_events(ctx.db)
    assert event.actor_id == admin and "time zone" in event.summary


def test_a_problem_is_shown_beside_its_field_and_nothing_is_saved(ctx, admin, qtbot):
    dialog = dialog_for(ctx, qtbot)
    dialog.show()
    dialog.npi.setText("1234567890")
    dialog.name.setText("")
    assert not dialog.try_save()
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    # the service checks field by field: the first wrong one is named
    assert dialog.problems["name"].text() == "the practice needs a name"
    assert dialog.problems["name"].isVisible() and not dialog.problems["npi"].isVisible()
    dialog.name.setText("Test Practice")
    assert not dialog.try_save()
    assert dialog.problems["npi"].text().startswith("NPI check digit does not match")
    assert not dialog.problems["name"].isVisible()
    assert load_practice(ctx.db).npi is None and practice_events(ctx.db) == ()


def test_someone_who_is_not_an_administrator_is_told_so(ctx, qtbot):
    assert not may_edit_settings(ctx)  # the nurse
    dialog = dialog_for(ctx, qtbot)
    dialog.show()
    dialog.phone.setText("555")
    assert not dialog.try_save()
    assert "may not change practice settings" in dialog.general.text()
    assert practice_events(ctx.db) == ()


def test_edit_practice_asks_and_returns_what_was_saved(ctx, admin, qtbot, monkeypatch):
    assert may_edit_settings(ctx)
    monkeypatch.setattr(PracticeDialog, "ask", classmethod(lambda cls, *a: None))
    assert edit_practice(None, ctx) is None

    def answer(cls, parent, current, save) -> PracticeSettings:
        assert current.name == "Test Practice"
        return save({"name": "Maple Street Primary Care"})

    told: list[str] = []
    monkeypatch.setattr(PracticeDialog, "ask", classmethod(answer))
    monkeypatch.setattr(practice_dialog, "tell", lambda parent, title, text: told.append(title))
    assert edit_practice(None, ctx).name == "Maple Street Primary Care"
    assert told == []  # the time zone did not change
    monkeypatch.setattr(
        PracticeDialog, "ask", classmethod(lambda cls, p, c, save: save({"time_zone": "UTC"}))
    )
    edit_practice(None, ctx)
    assert told == ["Time zone changed"]


def test_the_main_window_shows_the_new_name(window, practice, monkeypatch):
    admin_id = add_staff(practice["db"], "Ann Admin", "non_clinical", administrator=True)
    window.set_user(users.current_user(practice["db"], admin_id))
    monkeypatch.setattr(
        PracticeDialog, "ask", classmethod(lambda cls, p, c, save: save({"name": "Oak Clinic"}))
    )
    window.practice_action.trigger()
    assert window.windowTitle() == "ccmdesk — Oak Clinic"
    assert load_practice(practice["db"]).name == "Oak Clinic"
