"""The audit-trail browser: pages off the GUI thread, filters, before/after, the CSV."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from PySide6.QtCore import QEvent

from ccmdesk.services import audit, time_log, users
from ccmdesk.services.audit import Actor
from ccmdesk.services.audit_trail import PAGE_SIZE, AuditFilter, audit_page
from ccmdesk.ui.audit_models import AuditTableModel, ChangesModel
from ccmdesk.ui.audit_window import Ask, AuditWindow, may_read_audit
from tests.factories import add_staff

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 17, 15, 0, tzinfo=UTC)


@pytest.fixture
def admin(ctx, practice):
    """The seat is signed in as an administrator, after a nurse edited an entry."""
    db, nurse = practice["db"], Actor(practice["nurse"], "Nina Okafor")
    entry = time_log.add_manual(
        db,
        practice["ada"],
        practice["nurse"],
        NOW - dt.timedelta(hours=2),
        NOW - dt.timedelta(hours=1, minutes=40),
        nurse,
        note="called",
        now=NOW,
    ).created_id
    time_log.edit_entry(db, entry, nurse, note="called back", now=NOW + dt.timedelta(minutes=1))
    admin_id = add_staff(db, "Ann Admin", "non_clinical", administrator=True)
    ctx.user = users.current_user(db, admin_id)
    return admin_id


def open_window(ctx, qtbot) -> AuditWindow:
    window = AuditWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(window.done_loading, timeout=10_000)
    return window


def cell(window: AuditWindow, row: int, column: int) -> str:
    return window.model.data(window.model.index(row, column))


def test_the_models_pass_the_model_tester(qtmodeltester, ctx, admin):
    page = audit_page(ctx.db, ctx.actor)
    model = AuditTableModel(ctx.zone)
    model.set_rows(page.rows)
    assert model.rowCount() == 2
    qtmodeltester.check(model)
    changes = ChangesModel()
    changes.set_rows(page.rows[0].changes)
    assert changes.rowCount() == 1
    qtmodeltester.check(changes)


def test_the_newest_page_loads_with_what_changed(ctx, admin, qtbot):
    window = open_window(ctx, qtbot)
    assert window.count.text() == "Events 1–2 of 2"
    assert not window.newer.isEnabled() and not window.older.isEnabled()
    assert [cell(window, row, 2) for row in range(2)] == ["update", "create"]
    assert cell(window, 0, 0) == "11/17/2026 10:01:00 AM"  # the practice's clock
    assert cell(window, 0, 1) == "Nina Okafor"
    assert cell(window, 0, 3).startswith("time entry #")
    assert cell(window, 0, 4) == "Lovelace, Ada · M1"
    assert cell(window, 0, 5) == 'note: "called" → "called back"'
    # the newest event is selected and shown in full, before and after side by side
    assert window.detail.title.text().startswith("Update · time entry #")
    assert "by Nina Okafor" in window.detail.meta.text()
    changes = window.detail.model
    assert [changes.data(changes.index(0, c)) for c in range(3)] == [
        "note",
        "called",
        "called back",
    ]


def test_selecting_another_event_shows_its_values(ctx, admin, qtbot):
    window = open_window(ctx, qtbot)
    window.table.selectRow(1)
    assert window.detail.title.text().startswith("Create · time entry #")
    changes = window.detail.model
    fields = [changes.data(changes.index(row, 0)) for row in range(changes.rowCount())]
    assert fields == ["activity", "end", "note", "staff", "start"]
    staff = changes.data(changes.index(3, 2))
    assert staff == "Nina Okafor" and changes.data(changes.index(3, 1)) == ""


def test_filters_reload_the_first_page(ctx, admin, practice, qtbot):
    window = open_window(ctx, qtbot)
    window.action.setCurrentIndex(window.action.findData("update"))
    qtbot.waitUntil(window.done_loading, timeout=10_000)
    assert window.count.text() == "Events 1–1 of 1"
    window.clear_filters()
    qtbot.waitUntil(window.done_loading, timeout=10_000)
    window.user.setCurrentIndex(window.user.findData(admin))
    qtbot.waitUntil(window.done_loading, timeout=10_000)
    assert window.count.text() == "No events match these filters"
    assert window.detail.title.text() == "Select an event to see what changed."
    window.clear_filters()
    qtbot.waitUntil(window.done_loading, timeout=10_000)
    window.use_from.setChecked(True)
    window.first_day.setDate(dt.date(2026, 11, 18))
    qtbot.waitUntil(window.done_loading, timeout=10_000)
    assert window.current_filter() == AuditFilter(first_day=dt.date(2026, 11, 18))
    assert window.model.rowCount() == 0


def test_a_patient_is_picked_by_name_or_mrn(ctx, admin, practice, qtbot):
    window = open_window(ctx, qtbot)
    assert "Brummell, Bo · M2" in window.patient_names.stringList()
    window.patient.setText("m2")
    window.patient.editingFinished.emit()
    qtbot.waitUntil(window.done_loading, timeout=10_000)
    assert window.patient.text() == "Brummell, Bo · M2"
    assert window.current_filter().patient_id == practice["bo"]
    assert window.model.rowCount() == 0
    window.patient.completer().activated.emit("Lovelace, Ada · M1")
    qtbot.waitUntil(window.done_loading, timeout=10_000)
    assert window.model.rowCount() == 2
    window.patient.setText("zz")
    window.patient.editingFinished.emit()
    assert "no patient matches" in window.message.text()
    window.patient.clear()
    qtbot.waitUntil(window.done_loading, timeout=10_000)
    assert window.current_filter().patient_id is None


def test_older_and_newer_pages(ctx, admin, qtbot):
    with ctx.db.transaction() as session:
        for minute in range(PAGE_SIZE + 5):
            at = dt.datetime(2026, 10, 1, tzinfo=UTC) + dt.timedelta(minutes=minute)
            audit.record(session, ctx.actor, "sign_in", "user", entity_id=admin, at=at)
    window = open_window(ctx, qtbot)
    total = PAGE_SIZE + 7
    assert window.count.text() == f"Events 1–{PAGE_SIZE} of {total}"
    window.older.click()
    qtbot.waitUntil(window.done_loading, timeout=10_000)
    assert window.count.text() == f"Events {PAGE_SIZE + 1}–{total} of {total}"
    assert window.model.rowCount() == 7 and not window.older.isEnabled()
    assert cell(window, 6, 0) == "09/30/2026 8:00:00 PM"  # 10/01 00:00 UTC in New York
    window.newer.click()
    qtbot.waitUntil(window.done_loading, timeout=10_000)
    assert window.count.text() == f"Events 1–{PAGE_SIZE} of {total}"


def test_export_writes_every_match_and_is_in_the_trail(ctx, admin, tmp_path, monkeypatch, qtbot):
    window = open_window(ctx, qtbot)
    target = tmp_path / "trail.csv"
    monkeypatch.setattr(Ask, "save_path", staticmethod(lambda *a: str(target)))
    window.export_button.click()
    qtbot.waitUntil(lambda: "Exported" in window.message.text(), timeout=10_000)
    assert window.message.text() == f"Exported 2 events to {target}"
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert [row[2] for row in rows[1:]] == ["update", "create"]
    qtbot.waitUntil(window.done_loading, timeout=10_000)
    assert cell(window, 0, 2) == "export" and cell(window, 0, 3) == "audit trail"
    assert window.action.findData("export") > 0  # now offered as a filter


def test_export_cancelled_writes_nothing(ctx, admin, tmp_path, monkeypatch, qtbot):
    window = open_window(ctx, qtbot)
    monkeypatch.setattr(Ask, "save_path", staticmethod(lambda *a: None))
    window.export_button.click()
    assert not list(tmp_path.glob("*.csv")) and window.message.isHidden()


def test_someone_else_is_told_the_trail_is_for_administrators(ctx, qtbot):
    assert not may_read_audit(ctx)  # the nurse
    window = open_window(ctx, qtbot)
    assert "may not read the audit trail; this is for an administrator" in window.message.text()
    assert window.model.rowCount() == 0


def test_the_menu_entry_follows_the_role(ctx, admin):
    assert may_read_audit(ctx)


# -- from the main window -------------------------------------------------------------


def test_the_file_menu_offers_the_trail_and_settings_to_administrators_only(window, practice):
    menu = window.audit_action.associatedObjects()[-1]
    menu.aboutToShow.emit()
    assert not window.audit_action.isEnabled() and not window.practice_action.isEnabled()
    admin_id = add_staff(practice["db"], "Ann Admin", "non_clinical", administrator=True)
    window.set_user(users.current_user(practice["db"], admin_id))
    menu.aboutToShow.emit()
    assert window.audit_action.isEnabled() and window.practice_action.isEnabled()


def test_the_window_is_kept_and_closed_when_someone_else_signs_in(window, ctx, practice, qtbot):
    admin_id = add_staff(practice["db"], "Ann Admin", "non_clinical", administrator=True)
    window.set_user(users.current_user(practice["db"], admin_id))
    window.audit_action.trigger()
    browser = window.audit_window
    assert browser is not None and browser.isVisible()
    qtbot.waitUntil(browser.done_loading, timeout=10_000)
    assert window.open_audit_trail() is browser  # the same window, reloaded
    qtbot.waitUntil(browser.done_loading, timeout=10_000)
    window.set_user(users.current_user(practice["db"], practice["nurse"]))
    browser.event(QEvent(QEvent.Type.WindowActivate))
    assert not browser.isVisible() and browser.model.rowCount() == 0
    browser.use_to.setChecked(True)  # a filter of the administrator's
    reopened = window.open_audit_trail()
    assert reopened is browser and reopened.opened_for == practice["nurse"]
    assert reopened.current_filter() == AuditFilter()  # starts over
    qtbot.waitUntil(reopened.done_loading, timeout=10_000)
    assert "may not read the audit trail" in reopened.message.text()
    assert reopened.model.rowCount() == 0
