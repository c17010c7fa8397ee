"""The care-plan editor as a nurse and a doctor use it: start, type, autosave, check,
sign, edit again, compare, record a copy, print, and never lose what was typed."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from ccmdesk.domain.care_plan import Goal
from ccmdesk.services import care_plans, users
from ccmdesk.services.audit import Actor
from ccmdesk.storage.models import AuditEvent
from ccmdesk.ui.care_plan_dialogs import (
    CopyGiven,
    CopyGivenDialog,
    SignDialog,
    VersionsModel,
)
from ccmdesk.ui.care_plan_items import ItemTableModel
from ccmdesk.ui.reports_window import Ask
from tests.ui.conftest import wait_idle

TODAY = dt.date(2026, 11, 17)  # the FakeClock's day in New York


@pytest.fixture
def editor(window, practice):
    window.open_patient(practice["ada"])
    window.record.tabs.setCurrentWidget(window.record.care_plan)
    return window.record.care_plan


def saved(practice, patient: str = "ada"):
    """The plan as the service has it now (never the editor's copy)."""
    return care_plans.current_version(practice["db"], practice[patient])


def section(editor, title: str) -> None:
    for row in range(editor.form.sections.count()):
        if editor.form.sections.item(row).text().startswith(title):
            editor.form.sections.setCurrentRow(row)
            return
    raise AssertionError(f"no section {title}")


def start(editor, qtbot) -> None:
    qtbot.mouseClick(editor.start_page.start_button, Qt.MouseButton.LeftButton)
    assert editor.version is not None


def complete(editor, qtbot) -> None:
    """Type what the templates cannot know, as a nurse would."""
    section(editor, "Outlook")
    qtbot.keyClicks(editor.form.texts["prognosis"], "Good with treatment.")
    section(editor, "Patient's goals")
    qtbot.keyClicks(editor.form.texts["patient_goals"], "Dance at my granddaughter's wedding.")
    section(editor, "Allergies")
    editor.form.no_allergies.setChecked(True)
    section(editor, "Review")
    qtbot.mouseClick(editor.form.review_buttons[1], Qt.MouseButton.LeftButton)  # 6 months
    assert editor.flush()


def become(window, staff_id: int) -> None:
    """Someone else signs in at this window (Switch user, without the password dialog)."""
    window.set_user(users.current_user(window.ctx.db, staff_id))
    assert window.ctx.staff_id == staff_id


def sign_as_doctor(window, editor, practice, qtbot, monkeypatch) -> None:
    become(window, practice["doctor"])
    monkeypatch.setattr(SignDialog, "ask", classmethod(lambda cls, *a: True))
    qtbot.mouseClick(editor.sign_button, Qt.MouseButton.LeftButton)
    assert editor.version.info.signed, editor.message.text()


# -- starting -------------------------------------------------------------------------


def test_start_offers_the_templates_of_the_patients_conditions(editor, practice, qtbot):
    assert editor.stack.currentWidget() is editor.start_page
    assert "Ada Lovelace has no care plan yet" in editor.start_page.title.text()
    boxes = editor.start_page.boxes
    assert set(boxes) == {"type2_diabetes", "hypertension"}
    assert all(box.isChecked() for box in boxes.values())
    boxes["hypertension"].setChecked(False)
    start(editor, qtbot)
    plan = saved(practice)
    assert plan.info.number == 1 and not plan.info.signed
    assert [p.code for p in plan.content.problems] == ["E11.9", "I10"]
    goals = [g.goal for g in plan.content.goals]
    assert "Avoid low blood sugar" in goals  # diabetes template
    assert "Eat less salt (sodium)" not in goals  # hypertension template left out
    assert editor.title.text() == "Care plan — version 1, draft (not signed yet)"
    assert editor.form.sections.item(2).text() == f"Goals ({len(goals)})"


# -- typing and autosave ----------------------------------------------------------------


def test_an_added_goal_is_autosaved_a_moment_after_typing(editor, practice, qtbot):
    start(editor, qtbot)
    section(editor, "Goals")
    goals = editor.form.lists["goals"]
    before = len(goals.model.items)
    qtbot.mouseClick(goals.add_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(goals.fields["goal"], "Walk to the mailbox every day")
    qtbot.keyClicks(goals.fields["target"], "5 days a week")
    assert editor.saved_label.text() == "Saving…"
    assert len(saved(practice).content.goals) == before  # not yet: it waits for a pause

    qtbot.waitUntil(lambda: len(saved(practice).content.goals) == before + 1, timeout=3000)
    goal = saved(practice).content.goals[-1]
    assert (goal.goal, goal.target, goal.status) == (
        "Walk to the mailbox every day",
        "5 days a week",
        "active",
    )
    assert editor.saved_label.text().startswith("Saved")
    assert goals.model.data(goals.model.index(before, 0)) == "Walk to the mailbox every day"


def test_nothing_typed_is_lost_when_switching_patients(window, editor, practice, qtbot):
    start(editor, qtbot)
    section(editor, "Outlook")
    qtbot.keyClicks(editor.form.texts["prognosis"], "Fair; watch her kidneys")
    window.open_patient(practice["bo"])  # well within the autosave pause
    assert editor.detail.id == practice["bo"]
    assert editor.stack.currentWidget() is editor.start_page
    window.open_patient(practice["ada"])
    assert editor.form.texts["prognosis"].toPlainText() == "Fair; watch her kidneys"
    assert saved(practice).content.prognosis == "Fair; watch her kidneys"


def test_a_save_over_someone_elses_keeps_the_typed_text_on_screen(editor, practice, qtbot):
    start(editor, qtbot)
    version_id = editor.version.info.id
    theirs = saved(practice).content
    theirs.prognosis = "Good (written at the other desk)"
    doctor = Actor(practice["doctor"], "Dana Whitfield")
    care_plans.save_draft(practice["db"], version_id, theirs, doctor)

    section(editor, "Outlook")
    qtbot.keyClicks(editor.form.texts["prognosis"], "Stable, typed here")
    assert not editor.flush()
    assert editor.banner.isVisibleTo(editor)
    assert "someone else saved" in editor.banner_text.text()
    assert "Now: Stable, typed here" in editor.kept.toPlainText()
    # reloaded: the other desk's text is what is on record and on screen
    assert editor.form.texts["prognosis"].toPlainText() == "Good (written at the other desk)"
    assert saved(practice).content.prognosis == "Good (written at the other desk)"
    editor.form.texts["prognosis"].moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(editor.form.texts["prognosis"], " and improving")
    assert editor.flush()  # the reloaded copy saves normally
    assert saved(practice).content.prognosis.endswith("and improving")


def test_a_refused_save_while_leaving_the_patient_is_shown_with_the_text(
    window, editor, practice, qtbot
):
    start(editor, qtbot)
    theirs = saved(practice).content
    theirs.preferences = "Calls after 4 pm"
    doctor = Actor(practice["doctor"], "Dana Whitfield")
    care_plans.save_draft(practice["db"], editor.version.info.id, theirs, doctor)
    section(editor, "Outlook")
    qtbot.keyClicks(editor.form.texts["prognosis"], "Typed before leaving")
    window.open_patient(practice["bo"])
    boxes = [b for b in editor.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1 and "were not saved" in boxes[0].text()
    assert "Now: Typed before leaving" in boxes[0].detailedText()
    boxes[0].close()
    assert editor.detail.id == practice["bo"]


def test_switching_tabs_saves_at_once(window, editor, practice, qtbot):
    window.show()
    qtbot.waitExposed(window)
    start(editor, qtbot)
    section(editor, "Caregiver")
    qtbot.keyClicks(editor.form.texts["caregiver.name"], "Ann Lee")
    window.record.tabs.setCurrentWidget(window.record.time_log)
    assert saved(practice).content.caregiver.name == "Ann Lee"


# -- checking and signing ----------------------------------------------------------------


def test_check_shows_each_problem_beside_its_row_and_field(editor, practice, qtbot):
    start(editor, qtbot)
    section(editor, "Goals")
    goals = editor.form.lists["goals"]
    qtbot.mouseClick(goals.add_button, Qt.MouseButton.LeftButton)
    row = goals.current_row()
    qtbot.keyClicks(goals.fields["goal"], "Walk every day")
    qtbot.keyClicks(goals.fields["due"], "13/45/2027")
    qtbot.mouseClick(editor.check_button, Qt.MouseButton.LeftButton)

    paths = {p.path for p in editor.problems}
    assert {f"goals[{row}].target", f"goals[{row}].measure", f"goals[{row}].due"} <= paths
    assert "prognosis" in paths and "patient_goals" in paths
    assert "to fix before the plan can be signed" in editor.message.text()
    # the row is tinted, the others are not
    tint = Qt.ItemDataRole.BackgroundRole
    assert goals.model.data(goals.model.index(row, 0), tint) is not None
    assert goals.model.data(goals.model.index(0, 0), tint) is None
    # the messages sit under the fields of the selected row
    goals.select(row)
    assert goals.field_problems["target"].isVisibleTo(goals)
    assert goals.field_problems["target"].text() == "Missing"
    assert "is not a date" in goals.field_problems["due"].text()
    assert not goals.field_problems["goal"].isVisibleTo(goals)
    goals.select(0)
    assert not goals.field_problems["target"].isVisibleTo(goals)
    # sections with something to fix are marked; element-level ones sit on their page
    assert editor.form.sections.item(2).toolTip() == "3 to fix"
    assert "Prognosis: write the prognosis" in editor.form.text_problems["prognosis"].text()
    # fixing it clears the mark as soon as it is typed
    goals.select(row)
    qtbot.keyClicks(goals.fields["target"], "Every day")
    assert f"goals[{row}].target" not in {p.path for p in editor.problems}


def test_typing_a_bad_date_is_flagged_before_any_check(editor, practice, qtbot):
    start(editor, qtbot)
    section(editor, "Review")
    qtbot.keyClicks(editor.form.texts["next_review"], "02/30/2027")
    assert editor.flush()
    label = editor.form.text_problems["next_review"]
    assert label.isVisibleTo(editor.form) and "is not a date" in label.text()
    assert not editor.form.text_problems["prognosis"].isVisibleTo(editor.form)  # only after Check


def test_only_the_billing_practitioner_signs_and_signed_is_read_only(
    window, editor, practice, qtbot, monkeypatch
):
    start(editor, qtbot)
    complete(editor, qtbot)
    # the nurse: Sign is disabled and says who signs; the service refuses her anyway
    assert not editor.sign_button.isEnabled()
    assert "Dana Whitfield, MD" in editor.sign_button.toolTip()
    asked = []
    monkeypatch.setattr(SignDialog, "ask", classmethod(lambda cls, *a: asked.append(a) or True))
    editor.sign()
    assert asked == []
    assert editor.message.text() == (
        "Not signed: only the patient's billing practitioner can sign a care plan."
    )
    assert not saved(practice).info.signed

    # typed by the nurse, saved after "You are" changed: still saved in her name
    section(editor, "Outlook")
    editor.form.texts["expected_outcome"].moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(editor.form.texts["expected_outcome"], " Fewer hospital stays.")
    become(window, practice["doctor"])
    with practice["db"].transaction() as session:
        last = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "update").order_by(AuditEvent.id.desc())
        ).first()
        assert last.actor_id == practice["nurse"]

    assert editor.sign_button.isEnabled()
    qtbot.mouseClick(editor.sign_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 1
    plan = saved(practice)
    assert plan.info.signed and plan.info.signed_by == "Dana Whitfield, MD"
    assert plan.info.author == "Nina Okafor, RN"
    assert editor.title.text() == "Care plan — version 1, signed"
    assert "No copy given to the patient yet" in editor.status.text()
    # nothing on a signed version can be typed into
    goals = editor.form.lists["goals"]
    assert goals.fields["goal"].isReadOnly() and not goals.fields["status"].isEnabled()
    assert goals.add_button.isHidden() and goals.remove_button.isHidden()
    assert editor.form.texts["prognosis"].isReadOnly()
    assert not editor.form.no_allergies.isEnabled()
    assert editor.sign_button.isHidden() and editor.edit_button.isVisibleTo(editor)


def test_edit_starts_version_2_and_compare_lists_the_change(
    window, editor, practice, qtbot, monkeypatch
):
    start(editor, qtbot)
    complete(editor, qtbot)
    sign_as_doctor(window, editor, practice, qtbot, monkeypatch)
    become(window, practice["nurse"])
    qtbot.mouseClick(editor.edit_button, Qt.MouseButton.LeftButton)
    assert editor.version.info.number == 2 and not editor.version.info.signed
    assert "Version 1, signed 11/17/2026, stays the patient's plan" in editor.status.text()
    assert saved(practice).info.number == 1  # the plan in force until 2 is signed

    section(editor, "Goals")
    goals = editor.form.lists["goals"]
    goals.select(0)
    name = goals.fields["goal"].text()
    goals.fields["target"].clear()
    qtbot.keyClicks(goals.fields["target"], "Below 7.5%")
    assert editor.flush()

    dialog = editor.open_history()
    qtbot.addWidget(dialog)
    model = dialog.model
    assert [model.data(model.index(r, 1)) for r in range(2)] == ["Signed", "Draft"]
    assert model.data(model.index(0, 5)) == "Dana Whitfield, MD"
    assert model.data(model.index(1, 2)) == "Nina Okafor, RN"
    dialog.select_versions(1, 2)
    assert dialog.compare_button.isEnabled()
    qtbot.mouseClick(dialog.compare_button, Qt.MouseButton.LeftButton)
    text = dialog.changes.toPlainText()
    assert text.startswith("From version 1 (signed) to version 2 (draft):")
    assert f"Changed {name}: Target:" in text and "→ Below 7.5%" in text


def test_a_copy_given_is_recorded_with_date_how_and_to_whom(
    window, editor, practice, qtbot, monkeypatch
):
    start(editor, qtbot)
    assert not editor.copy_button.isEnabled()  # nothing signed: nothing to give
    complete(editor, qtbot)
    sign_as_doctor(window, editor, practice, qtbot, monkeypatch)
    offered = {}

    def answer(cls, parent, versions, recipients, today, zone):
        offered["recipients"] = recipients
        return CopyGiven(versions[-1].id, today, "mailed", recipients[0])

    monkeypatch.setattr(CopyGivenDialog, "ask", classmethod(answer))
    qtbot.mouseClick(editor.copy_button, Qt.MouseButton.LeftButton)
    assert offered["recipients"][0] == "Ada Lovelace (patient)"
    copies = care_plans.history(practice["db"], practice["ada"]).versions[0].copies
    assert [(c.given_on, c.method, c.given_to) for c in copies] == [
        (TODAY, "mailed", "Ada Lovelace (patient)")
    ]
    assert "Copies given: 11/17/2026 mailed, to Ada Lovelace (patient)." in editor.status.text()
    assert "Recorded: version 1 given to Ada Lovelace (patient)" in editor.message.text()


def test_copy_given_dialog_checks_before_saving(window, editor, practice, qtbot, monkeypatch):
    start(editor, qtbot)
    complete(editor, qtbot)
    sign_as_doctor(window, editor, practice, qtbot, monkeypatch)
    versions = list(care_plans.history(practice["db"], practice["ada"]).versions)
    dialog = CopyGivenDialog(editor, versions, ["Ada Lovelace (patient)"], TODAY, window.ctx.zone)
    qtbot.addWidget(dialog)
    dialog.given_to.setEditText("  ")
    assert "to whom" in dialog.problem_text()
    dialog.given_to.setEditText("Ada Lovelace (patient)")
    dialog.given_on.setDate(TODAY - dt.timedelta(days=3))
    assert "was signed on 11/17/2026" in dialog.problem_text()
    dialog.given_on.setDate(TODAY + dt.timedelta(days=1))
    assert "future" in dialog.problem_text()
    dialog.given_on.setDate(TODAY)
    assert dialog.problem_text() is None


# -- printing -------------------------------------------------------------------------------


def test_preview_lays_out_the_pdf_off_the_gui_thread_and_opens_it(
    editor, practice, qtbot, monkeypatch
):
    start(editor, qtbot)
    opened = []
    monkeypatch.setattr(Ask, "open_file", staticmethod(opened.append))
    qtbot.mouseClick(editor.print_button, Qt.MouseButton.LeftButton)
    assert not editor.print_button.isEnabled()  # busy while the worker lays it out
    qtbot.waitUntil(lambda: bool(opened), timeout=20_000)
    wait_idle(qtbot, editor.ctx)
    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(opened[0].read_bytes())).pages
    )
    assert "Ada Lovelace" in text and "DRAFT" in text
    assert "the draft, marked DRAFT" in editor.message.text()
    assert editor.print_button.isEnabled()


# -- the models ---------------------------------------------------------------------------


def test_the_item_and_history_models_keep_qts_rules(editor, practice, qtbot, qtmodeltester):
    start(editor, qtbot)
    model = ItemTableModel(editor.form.lists["goals"].element)
    model.set_items([Goal("Walk", "Steps", "5,000 a day", "2027-01-01", "met"), Goal()])
    qtmodeltester.check(model)
    assert model.data(model.index(0, 4)) == "Met"  # a status shows its label
    model.move(0, 1)
    assert [g.goal for g in model.items] == ["", "Walk"]
    history = VersionsModel(editor.ctx.zone)
    history.set_versions(list(care_plans.history(practice["db"], practice["ada"]).versions))
    qtmodeltester.check(history)
