"""The patient record: inline validation, conditions, consent, time log edits."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from ccmdesk.services import patient_record
from ccmdesk.services.audit import Actor
from ccmdesk.storage.models import AuditEvent, TimeEntry
from ccmdesk.ui.dialogs import DeleteReasonDialog, EntryDialog
from ccmdesk.ui.record_conditions import suggestions
from tests.ui.conftest import wait_idle

UTC = dt.timezone.utc


def test_bad_mbi_is_explained_beside_the_field_and_nothing_saved(window, practice):
    window.open_patient(practice["ada"])
    overview = window.record.overview
    overview.mbi.setText("1EG4-TE5-MKZ3")
    overview.mbi.textEdited.emit(overview.mbi.text())
    assert overview.problems["mbi"].isVisibleTo(overview)
    assert "position" in overview.problems["mbi"].text()
    assert not overview.save()
    assert overview.mbi.text() == "1EG4-TE5-MKZ3"  # what was typed is kept
    assert patient_record.load_patient(practice["db"], practice["ada"]).mbi is None


def test_demographics_save_and_list_refresh(window, practice, qtbot):
    window.open_patient(practice["ada"])
    overview = window.record.overview
    overview.phone.setText("555-0123")
    overview.phone.textEdited.emit("555-0123")
    assert overview.dirty
    assert overview.save()
    assert not overview.dirty
    assert patient_record.load_patient(practice["db"], practice["ada"]).phone == "555-0123"
    wait_idle(qtbot, window.ctx)
    window.search.setText("5550123")
    assert window.model.rowCount() == 1


def test_conditions_completion_and_chronic_override(window, practice, qtbot):
    lines = suggestions("heart f")
    assert lines and lines[0].startswith("I50")
    assert suggestions("E11.9")[0].startswith("E11.9 — Type 2 diabetes")
    window.open_patient(practice["cy"])
    tab = window.record.conditions
    tab.add("I50.22")
    codes = [c.code for c in patient_record.load_patient(practice["db"], practice["cy"]).conditions]
    assert "I5022" in codes
    tab.add("nonsense")
    assert tab.problem.isVisibleTo(tab) and "not an ICD-10-CM code" in tab.problem.text()


def test_manual_entry_added_edited_and_deleted_with_audit(window, practice, monkeypatch):
    db = practice["db"]
    window.open_patient(practice["cy"])
    tab = window.record.time_log
    start = dt.datetime(2026, 11, 10, 14, 0, tzinfo=UTC)
    monkeypatch.setattr(
        EntryDialog,
        "ask",
        classmethod(
            lambda cls, *a, **k: {
                "start": start,
                "end": start + dt.timedelta(minutes=15),
                "activity": "care_coordination",
                "note": "Called the pharmacy",
            }
        ),
    )
    tab.add()
    assert tab.model.rowCount() == 1
    tab.view.selectRow(0)
    monkeypatch.setattr(
        EntryDialog,
        "ask",
        classmethod(
            lambda cls, *a, **k: {
                "start": start,
                "end": start + dt.timedelta(minutes=18),
                "activity": "care_coordination",
                "note": "Called the pharmacy twice",
            }
        ),
    )
    tab.edit()
    monkeypatch.setattr(DeleteReasonDialog, "ask", classmethod(lambda cls, *a: "Wrong patient"))
    tab.view.selectRow(0)
    tab.delete()
    with db.transaction() as session:
        entry = session.scalars(
            select(TimeEntry).where(TimeEntry.patient_id == practice["cy"])
        ).one()
        events = session.scalars(select(AuditEvent).where(AuditEvent.entity == "time_entry")).all()
    assert entry.deleted_at is not None and entry.delete_reason == "Wrong patient"
    assert [e.action for e in events] == ["create", "update", "delete"]
    assert json.loads(events[1].before)["note"] == "Called the pharmacy"
    assert tab.model.data(tab.model.index(0, 6)) == "manual · edited · deleted"


def test_manual_entry_in_the_future_is_refused_with_a_message(window, practice, monkeypatch):
    window.open_patient(practice["cy"])
    tab = window.record.time_log
    start = window.ctx.clock() + dt.timedelta(hours=2)
    monkeypatch.setattr(
        EntryDialog,
        "ask",
        classmethod(
            lambda cls, *a, **k: {
                "start": start,
                "end": start + dt.timedelta(minutes=15),
                "activity": "care_coordination",
                "note": "",
            }
        ),
    )
    tab.add()
    assert tab.model.rowCount() == 0
    assert "future" in tab.problem.text()


def test_entry_dialog_reads_local_time_and_refuses_impossible_times(window, qtbot):
    dialog = EntryDialog(window, window.ctx.zone, today=dt.date(2026, 3, 8))
    qtbot.addWidget(dialog)
    from PySide6.QtCore import QTime

    dialog.start.setTime(QTime(2, 30))  # clocks sprang forward: 2:30 does not exist
    dialog._accept_if_valid()
    assert "does not exist" in dialog.problem.text()
    dialog.start.setTime(QTime(9, 15))
    dialog.minutes.setValue(20)
    values = dialog.values()
    assert values["start"] == dt.datetime(2026, 3, 8, 13, 15, tzinfo=UTC)  # EDT
    assert values["end"] - values["start"] == dt.timedelta(minutes=20)


def test_consent_needs_all_four_points(window, practice, qtbot):
    window.open_patient(practice["cy"])
    tab = window.record.consent
    tab._consent(declined=False)
    assert "four points" in tab.consent_problem.text()
    for box in tab.points:
        box.setChecked(True)
    tab._consent(declined=False)
    assert len(patient_record.load_patient(practice["db"], practice["cy"]).consents) == 1
    wait_idle(qtbot, window.ctx)
    assert window.rows[practice["cy"]].consent == "Consented"


def test_a_conflicting_save_keeps_the_typing_and_undo_shows_the_other_save(window, practice):
    db = practice["db"]
    window.open_patient(practice["ada"])
    overview = window.record.overview
    seen = patient_record.load_patient(db, practice["ada"])
    other = Actor(practice["nurse"], "Nina Okafor")  # at another seat
    patient_record.update_patient(db, seen.id, seen.row_version, {"phone": "555-0199"}, other)
    overview.phone.setText("555-0123")
    overview.phone.textEdited.emit("555-0123")
    assert not overview.save()  # refused: the other save would be overwritten
    assert overview.phone.text() == "555-0123"  # what was typed is kept
    assert "555-0199" in overview.problems["first_name"].text()  # their change is shown
    overview.revert()
    assert overview.phone.text() == "555-0199" and not overview.dirty
    overview.phone.setText("555-0123")
    overview.phone.textEdited.emit("555-0123")
    assert overview.save()  # on the current copy, the change goes through
    assert patient_record.load_patient(db, practice["ada"]).phone == "555-0123"


def test_the_time_log_offers_changes_only_to_someone_who_logs_time(window, practice):
    from ccmdesk.services import users
    from tests.factories import add_staff

    window.open_patient(practice["ada"])
    log = window.record.time_log
    assert log.add_button.isEnabled() and log.edit_button.isEnabled()  # the nurse
    manager = add_staff(practice["db"], "Lisa Carrington", "non_clinical", office_manager=True)
    window.set_user(users.current_user(practice["db"], manager))
    for button in (log.add_button, log.edit_button, log.delete_button):
        assert not button.isEnabled()
        assert "clinical staff and practitioners" in button.toolTip()
    window.open_patient(practice["bo"])  # still so for the next patient
    assert not log.add_button.isEnabled()
    window.set_user(users.current_user(practice["db"], practice["nurse"]))
    assert log.add_button.isEnabled() and "away from the computer" in log.add_button.toolTip()
