"""The patient's care plan (SPEC §1.5): edit the draft, check it, sign it, keep its
history, record copies given, print it.

How it behaves:

* **It shows the working version**: the open draft when there is one, else
  the latest signed version (read-only, with "Edit (new draft)").  A
  patient without a plan gets the start page (templates matching their
  conditions, ticked).
* **Drafts autosave.**  Typing restarts a one-second timer; when it fires,
  and whenever the editor is hidden (another tab, the window closing) or
  another patient is opened, the draft is saved with the ``row_version`` it
  was loaded with.  Saving is one small transaction on the GUI thread, like
  every single-field save in the record, so nothing typed waits in memory.
  Edits are saved in the name of the person who typed them, even if "You
  are" changes before the timer fires.
* **Nothing typed is lost.**  If a save is refused (someone else saved or
  signed the plan meanwhile, or the person may not write plans) the plan is
  reloaded and what was typed since the last save stays on screen, as
  readable lines to copy back.
* **Checks** (:func:`~ccmdesk.domain.care_plan.validate`): while typing, only
  what was typed wrong is shown (a date that is not one, an unknown code);
  "Check" and "Check and sign…" show everything missing too, each beside
  the field it names, and keep the marks current while the plan is fixed.
* **Only the patient's billing practitioner signs**: "Check and sign…" is
  disabled for anyone else, with a tooltip naming who may sign; the service
  enforces it and its refusal is shown as it words it.
* "Preview / print" lays out the PDF off the GUI thread and opens it in the
  system's PDF viewer (which prints).  It prints the plan in force (the
  latest signed version; a never-signed plan prints marked DRAFT).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.domain.care_plan import CarePlanContent, PlanProblem, Problem, diff, validate
from ccmdesk.domain.care_plan_templates import default_templates, plain_name
from ccmdesk.domain.icd10 import default_index, format_icd10
from ccmdesk.files import write_bytes_atomically
from ccmdesk.services import care_plans, month_end
from ccmdesk.services.audit import Actor
from ccmdesk.services.care_plans import (
    WRITER_ROLES,
    CarePlanError,
    PlanHistory,
    PlanNotReadyError,
    VersionDetail,
)
from ccmdesk.services.patient_record import PatientDetail, StaffChoice
from ccmdesk.ui import fmt
from ccmdesk.ui.care_plan_dialogs import CopyGivenDialog, HistoryDialog, SignDialog, copies_text
from ccmdesk.ui.care_plan_form import PlanForm
from ccmdesk.ui.care_plan_start import StartPage
from ccmdesk.ui.context import AppContext
from ccmdesk.ui.reports_window import Ask

AUTOSAVE_MS = 1000
INFO_STYLE = "color: #1d2733; font-size: 12px;"
ERROR_STYLE = "color: #b00020; font-size: 12px;"


def _known_code(code: str) -> bool:
    return default_index().description(code) is not None


def unsaved_text(saved: CarePlanContent, typed: CarePlanContent) -> str:
    """What was typed since the last save, as lines a person can copy back."""
    blocks = []
    for change in diff(saved, typed):
        blocks.append("\n".join([f"{change.label}:", *(f"  {line}" for line in change.lines)]))
    return "\n\n".join(blocks)


class CarePlanEditor(QWidget):
    changed = Signal(object)  # Changes

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.detail: PatientDetail | None = None
        self.staff: dict[int, StaffChoice] = {}
        self.history: PlanHistory | None = None
        self.version: VersionDetail | None = None  # the version on screen
        self.content = CarePlanContent()  # what is on screen (edited in place)
        self.saved_json = ""  # the version's content as last loaded or saved
        self.row_version = 0
        self.checking = False  # "Check" was asked: show everything missing
        self.problems: list[PlanProblem] = []
        self.history_dialog: HistoryDialog | None = None
        self._typed_by: Actor | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(AUTOSAVE_MS)

        self.empty = QLabel("Open a patient to see the care plan.")
        self.start_page = StartPage()
        self.title = QLabel()
        self.title.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.saved_label = QLabel()
        self.saved_label.setStyleSheet("color: #555;")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("Shows anything missing before the plan can be signed")
        self.sign_button = QPushButton("Check and sign…")
        self.edit_button = QPushButton("Edit (new draft)")
        self.edit_button.setToolTip(
            "A signed version never changes: this starts the next version as a draft"
        )
        self.copy_button = QPushButton("Copy given…")
        self.copy_button.setToolTip(
            "Record that a copy of the signed plan was given to the patient or caregiver"
        )
        self.history_button = QPushButton("History…")
        self.history_button.setToolTip("Every version, who wrote and signed it; compare two")
        self.print_button = QPushButton("Preview / print")
        self.print_button.setToolTip(
            "Opens the patient's copy (the latest signed version) in your PDF viewer"
        )
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()
        self._build_banner()
        self.form = PlanForm(ctx.today)
        self.next_problem_button = QPushButton("Show next ›")
        self.next_problem_button.setToolTip("Go to the next thing to fix")
        self.next_problem_button.hide()
        self._next_problem = 0

        plan = QWidget()
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.saved_label)
        buttons = QHBoxLayout()
        for button in (
            self.check_button,
            self.sign_button,
            self.edit_button,
            self.copy_button,
            self.history_button,
            self.print_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(plan)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        layout.addWidget(self.banner)
        said = QHBoxLayout()
        said.addWidget(self.message, 1)
        said.addWidget(self.next_problem_button)
        layout.addLayout(said)
        layout.addWidget(self.form, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.start_page)
        self.stack.addWidget(plan)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)
        self._connect_signals()

    def _build_banner(self) -> None:
        self.banner = QFrame()
        self.banner.setObjectName("kept")
        self.banner.setStyleSheet(
            "#kept { background: #fff4ce; border: 1px solid #e0c060; border-radius: 4px; }"
        )
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        self.kept = QPlainTextEdit()
        self.kept.setReadOnly(True)
        self.kept.setMaximumHeight(110)
        self.dismiss_button = QPushButton("Dismiss")
        row = QHBoxLayout()
        row.addWidget(self.banner_text, 1)
        row.addWidget(self.dismiss_button)
        layout = QVBoxLayout(self.banner)
        layout.addLayout(row)
        layout.addWidget(self.kept)
        self.banner.hide()

    def _connect_signals(self) -> None:
        self._timer.timeout.connect(self.flush)
        self.form.edited.connect(self._edited)
        self.start_page.start_requested.connect(self.start)
        self.check_button.clicked.connect(self.check)
        self.sign_button.clicked.connect(self.sign)
        self.edit_button.clicked.connect(self.new_draft)
        self.copy_button.clicked.connect(self.copy_given)
        self.history_button.clicked.connect(self.open_history)
        self.print_button.clicked.connect(self.print_plan)
        self.dismiss_button.clicked.connect(self.banner.hide)
        self.next_problem_button.clicked.connect(self.show_next_problem)

    # -- who is working ----------------------------------------------------------------

    def set_staff(self, staff: list[StaffChoice]) -> None:
        self.staff = {member.id: member for member in staff}
        self._show_state()

    def staff_changed(self) -> None:
        """The person working changed: save what the previous one typed, re-check rights."""
        self.flush()
        if self.version is None and self.detail is not None:
            self.reload()  # the start page: may this person start a plan?
        self._show_state()

    def can_write(self) -> bool:
        member = self.staff.get(self.ctx.staff_id or -1)
        if not self.staff:  # not told who is who: let the service decide
            return self.ctx.staff_id is not None
        return member is not None and member.role in WRITER_ROLES

    def can_sign(self) -> bool:
        return (
            self.detail is not None
            and self.detail.billing_practitioner_id is not None
            and self.detail.billing_practitioner_id == self.ctx.staff_id
        )

    def _signer_hint(self) -> str:
        if self.detail is None or self.detail.billing_practitioner_id is None:
            return (
                "This patient has no billing practitioner: choose one on the Patient tab. "
                "Only the billing practitioner signs the care plan."
            )
        member = self.staff.get(self.detail.billing_practitioner_id)
        who = member.label if member else "the billing practitioner"
        return (
            f"Only {who}, the patient's billing practitioner, can sign. "
            "If that is you, choose your name under “You are” at the top."
        )

    # -- loading ---------------------------------------------------------------------

    def load(self, detail: PatientDetail) -> None:
        """Show a patient's plan, first saving what was typed for the one shown."""
        same = self.detail is not None and self.detail.id == detail.id
        saved = self.flush(leaving=not same)
        self.detail = detail
        if not same:
            if self.history_dialog is not None:
                self.history_dialog.close()
                self.history_dialog = None
            self.banner.hide()
            self.message.hide()
        if saved or not same:  # a refused save has reloaded and shows what was typed
            self.reload()

    def update_patient(self, detail: PatientDetail) -> None:
        """The record changed (billing practitioner, conditions): refresh, keep the text."""
        if self.detail is None or self.detail.id != detail.id:
            return
        self.detail = detail
        self.form.set_conditions(self._conditions())
        self._show_state()

    def reload(self) -> None:
        assert self.detail is not None
        self._timer.stop()
        self._typed_by = None
        self.history = care_plans.history(self.ctx.db, self.detail.id)
        self.checking = False
        self.next_problem_button.hide()
        if not self.history.versions:
            self.version = None
            self.content = CarePlanContent()
            self.saved_json = self.content.to_json()
            why = "Only clinical staff and practitioners write care plans."
            self.start_page.offer(
                self.detail.name,
                self._conditions(),
                care_plans.offered_templates(self.ctx.db, self.detail.id),
                self.can_write(),
                why,
            )
            self.stack.setCurrentWidget(self.start_page)
            return
        shown = self.history.draft or self.history.current
        assert shown is not None
        self.version = care_plans.load_version(self.ctx.db, shown.id)
        self.content = self.version.content.copy()
        self.saved_json = self.content.to_json()
        self.row_version = self.version.row_version
        self.form.set_conditions(self._conditions())
        self.form.set_content(self.content)
        self.stack.setCurrentIndex(2)
        self._show_state()
        self._refresh_problems()
        self.saved_label.setText("")

    def _conditions(self) -> list[Problem]:
        """The patient's unresolved chronic conditions, as problem-list items."""
        if self.detail is None:
            return []
        templates = default_templates()
        return [
            Problem(
                format_icd10(c.code),
                c.description or default_index().description(c.code) or "",
                plain_name(c.code, templates),
            )
            for c in self.detail.conditions
            if c.chronic and c.resolved is None
        ]

    def _show_state(self) -> None:
        """Title, who wrote and signed, and which buttons apply to the version shown."""
        if self.version is None or self.history is None or self.detail is None:
            return
        info = self.version.info
        zone = self.ctx.zone
        draft = not info.signed
        writable = draft and self.can_write()
        self.form.set_read_only(not writable)
        signed_before = [v for v in self.history.versions if v.signed and v.number < info.number]
        if draft:
            self.title.setText(f"Care plan — version {info.number}, draft (not signed yet)")
            parts = [f"Written by {info.author}, started {fmt.local_day(info.created_at, zone)}."]
            if signed_before:
                last = signed_before[-1]
                parts.append(
                    f"Version {last.number}, signed {fmt.local_day(last.signed_at, zone)},"
                    " stays the patient's plan until this one is signed."
                )
            if not self.can_write():
                parts.append("Only clinical staff and practitioners can change it.")
        else:
            self.title.setText(f"Care plan — version {info.number}, signed")
            parts = [
                f"Signed by {info.signed_by} on {fmt.local_day(info.signed_at, zone)} at "
                f"{fmt.local_time(info.signed_at, zone)}; written by {info.author}. "
                "A signed version never changes."
            ]
            current = next(v for v in self.history.versions if v.id == info.id)
            copies = copies_text(current, zone)
            parts.append(
                f"Copies given: {copies}."
                if copies
                else "<span style='color:#a05a00'>No copy given to the patient yet.</span>"
            )
        self.status.setText(" ".join(parts))
        self.check_button.setVisible(draft)
        self.sign_button.setVisible(draft)
        self.sign_button.setEnabled(self.can_sign())
        self.sign_button.setToolTip(
            "Checks the plan, then signs it as you, the patient's billing practitioner"
            if self.can_sign()
            else self._signer_hint()
        )
        self.edit_button.setVisible(not draft)
        self.edit_button.setEnabled(self.can_write())
        self.copy_button.setEnabled(any(v.signed for v in self.history.versions))

    # -- editing and autosave ---------------------------------------------------------

    @property
    def dirty(self) -> bool:
        return self.version is not None and self.content.to_json() != self.saved_json

    def _edited(self) -> None:
        self._typed_by = self._typed_by or self.ctx.actor
        self.saved_label.setText("Saving…")
        self._timer.start()
        if self.checking:
            self._refresh_problems()

    def flush(self, leaving: bool = False) -> bool:
        """Save the draft now if anything was typed; False when the save was refused."""
        self._timer.stop()
        if self.version is None or self.version.info.signed or not self.dirty:
            return True
        actor = self._typed_by or self.ctx.actor
        try:
            changes = care_plans.save_draft(
                self.ctx.db,
                self.version.info.id,
                self.content,
                actor,
                row_version=self.row_version,
                now=self.ctx.clock(),
            )
        except CarePlanError as error:
            self._save_refused(error, leaving)
            return False
        if changes.patient_ids:
            self.row_version += 1  # the save itself raised it (save_draft: one write, +1)
        self.saved_json = self.content.to_json()
        self._typed_by = None
        self.saved_label.setText(f"Saved {fmt.local_time(self.ctx.clock(), self.ctx.zone)}")
        self._refresh_problems()
        if changes.patient_ids:
            self.changed.emit(changes)
        return True

    def _save_refused(self, error: CarePlanError, leaving: bool) -> None:
        """Keep what was typed visible, reload what is on record."""
        kept = unsaved_text(CarePlanContent.from_json(self.saved_json), self.content)
        if isinstance(error, care_plans.StaleCopyError):
            why = "someone else saved this care plan while you were typing"
            why += f": {error.other}" if error.other else ""  # who, when, what
        elif isinstance(error, care_plans.SignedVersionError):
            why = "this version was signed meanwhile; “Edit (new draft)” starts the next one"
        else:
            why = str(error)
        text = f"Your last changes were not saved: {why}."
        if leaving:
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                "Care plan not saved",
                text + " They are under “Show Details…” to copy.",
                QMessageBox.StandardButton.Ok,
                self,
            )
            box.setDetailedText(kept)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            self.saved_json = self.content.to_json()  # told once; the next patient loads now
            return
        self.reload()
        self.say("")
        self.show_kept(
            text + " The plan as saved is shown now; what you typed is below, to copy back.",
            kept,
        )

    def show_kept(self, text: str, kept: str) -> None:
        self.banner_text.setText(text)
        self.kept.setPlainText(kept)
        self.banner.show()

    def hideEvent(self, event: QHideEvent) -> None:
        self.flush()  # another tab, or the window closing
        super().hideEvent(event)

    # -- checking ------------------------------------------------------------------------

    def _validate(self) -> list[PlanProblem]:
        return validate(self.content, self.ctx.today(), _known_code)

    def _typed(self, problem: PlanProblem) -> bool:
        """Is this problem about something typed (not merely missing)?"""
        if problem.index is not None:
            items = getattr(self.content, problem.element)
            if problem.index >= len(items) or problem.field is None:
                return False
            return bool(str(getattr(items[problem.index], problem.field)).strip())
        if problem.element == "next_review":
            return bool(self.content.next_review.strip())
        if problem.element == "allergies":
            return self.content.no_known_allergies and bool(self.content.allergies)
        return problem.element == "caregiver"

    def _refresh_problems(self) -> None:
        if self.version is None or self.version.info.signed:
            self._show_problems([])
            return
        problems = self._validate()
        self._show_problems(problems if self.checking else [p for p in problems if self._typed(p)])

    def _show_problems(self, problems: list[PlanProblem]) -> None:
        self.problems = problems
        self.form.set_problems(problems)
        self.next_problem_button.setVisible(self.checking and bool(problems))
        if self.checking:
            if problems:
                count = len(problems)
                self.say(
                    f"{count} thing{'s' if count != 1 else ''} to fix before the plan can be "
                    "signed, each marked beside its field (sections with ⚠).",
                    error=True,
                )
            else:
                self.say("Ready to sign: nothing is missing.")

    def show_next_problem(self) -> None:
        if self.problems:
            self._next_problem %= len(self.problems)
            self.form.go_to(self.problems[self._next_problem])
            self._next_problem += 1

    def check(self) -> list[PlanProblem]:
        """Show everything that stops signing, and go to the first."""
        self.checking = True
        self._refresh_problems()
        self._next_problem = 0
        self.show_next_problem()
        return self.problems

    def say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else INFO_STYLE)
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # -- actions ---------------------------------------------------------------------------

    def start(self) -> None:
        assert self.detail is not None
        try:
            changes = care_plans.start_plan(
                self.ctx.db,
                self.detail.id,
                self.ctx.actor,
                templates=self.start_page.chosen(),
                now=self.ctx.clock(),
            )
        except CarePlanError as error:
            self.start_page.problem.setText(str(error))
            self.start_page.problem.show()
            return
        self.reload()
        self.form.sections.setCurrentRow(0)
        self.say(
            "Draft version 1 started. It saves as you type; the billing practitioner signs it."
        )
        self.changed.emit(changes)

    def sign(self) -> None:
        if self.version is None or self.detail is None or not self.flush():
            return
        if self.check():
            return
        number = self.version.info.number
        if self.can_sign() and not SignDialog.ask(
            self, number, self._staff_label(self.ctx.staff_id), self.detail.name
        ):
            return
        try:
            changes = care_plans.sign(
                self.ctx.db,
                self.version.info.id,
                self.ctx.actor,
                row_version=self.row_version,
                now=self.ctx.clock(),
            )
        except PlanNotReadyError as error:
            self._show_problems(list(error.problems))
            return
        except care_plans.NotAllowedError as error:
            self.say(f"Not signed: {error}.", error=True)
            return
        except CarePlanError as error:  # signed or saved elsewhere meanwhile
            self.reload()
            self.say(f"Not signed: {error}.", error=True)
            return
        self.reload()
        self.say(
            f"Version {number} is signed and can no longer change. "
            f"“Edit (new draft)” starts version {number + 1}."
        )
        self.changed.emit(changes)

    def _staff_label(self, staff_id: int | None) -> str:
        member = self.staff.get(staff_id or -1)
        return member.label if member else self.ctx.staff_name

    def new_draft(self) -> None:
        if self.detail is None:
            return
        try:
            changes = care_plans.new_draft(
                self.ctx.db, self.detail.id, self.ctx.actor, now=self.ctx.clock()
            )
        except CarePlanError as error:
            self.say(str(error), error=True)
            return
        self.reload()
        number = self.version.info.number if self.version else 0
        self.say(
            f"Draft version {number} started from signed version {number - 1}, "
            "which stays as it was."
        )
        self.changed.emit(changes)

    def copy_given(self) -> None:
        if self.detail is None or self.history is None or not self.flush():
            return
        signed = [v for v in self.history.versions if v.signed]
        if not signed:
            self.say("Only a signed plan is given to the patient: sign it first.", error=True)
            return
        recipients = [f"{self.detail.name} (patient)"]
        caregiver = self.content.caregiver
        if caregiver.name.strip():
            recipients.append(f"{caregiver.name} ({caregiver.relationship or 'caregiver'})")
        answer = CopyGivenDialog.ask(self, signed, recipients, self.ctx.today(), self.ctx.zone)
        if answer is None:
            return
        try:
            changes = care_plans.record_copy(
                self.ctx.db,
                answer.version_id,
                answer.given_on,
                answer.method,
                answer.given_to,
                self.ctx.actor,
                now=self.ctx.clock(),
            )
        except CarePlanError as error:
            self.say(f"Not recorded: {error}.", error=True)
            return
        self._refresh_history()
        number = next(v.number for v in signed if v.id == answer.version_id)
        self.say(
            f"Recorded: version {number} given to {answer.given_to} on "
            f"{fmt.day(answer.given_on)} ({care_plans.COPY_METHOD_LABELS[answer.method].lower()})."
        )
        self.changed.emit(changes)

    def _refresh_history(self) -> None:
        """Re-read the history (copies, signatures) without touching the text on screen."""
        if self.detail is None:
            return
        history = care_plans.history(self.ctx.db, self.detail.id)
        if self.version is not None:
            now = next((v for v in history.versions if v.id == self.version.info.id), None)
            unchanged = now is not None and (now.updated_at, now.signed) == (
                self.version.info.updated_at,
                self.version.info.signed,
            )
            if unchanged and now is not None:
                self.version = VersionDetail(
                    now, self.version.patient_id, self.version.row_version, self.version.content
                )
                if not self.dirty:
                    self.row_version = history.row_version
        self.history = history
        self._show_state()
        if self.history_dialog is not None:
            self.history_dialog.refresh()

    def open_history(self) -> HistoryDialog | None:
        if self.detail is None or not self.flush():
            return None
        if self.history_dialog is None:
            self.history_dialog = HistoryDialog(self.ctx, self.detail.id, self.detail.name, self)
        else:
            self.history_dialog.refresh()
        self.history_dialog.show()
        self.history_dialog.raise_()
        return self.history_dialog

    def print_plan(self) -> None:
        if self.detail is None or self.history is None or not self.flush():
            return
        db, actor, mrn = self.ctx.db, self.ctx.actor, self.detail.mrn
        safe = re.sub(r"[^A-Za-z0-9_-]+", "_", mrn)
        target = Path(tempfile.mkdtemp(prefix="ccmdesk-")) / f"care-plan-{safe}.pdf"
        current, draft = self.history.current, self.history.draft
        if current is not None and current.signed:
            what = f"signed version {current.number}"
            if draft is not None:
                what += f" (draft version {draft.number} prints once it is signed)"
        else:
            what = "the draft, marked DRAFT on every page"

        def work() -> Path:
            return write_bytes_atomically(target, month_end.care_plan_pdf_bytes(db, mrn, actor))

        self.print_button.setEnabled(False)
        self.say("Laying out the care plan…")
        self.ctx.tasks.run(work, lambda path: self._printed(path, what), self._print_failed)

    def _printed(self, path: Path, what: str) -> None:
        self.print_button.setEnabled(True)
        self.say(f"Opened {what} in your PDF viewer; print from there.")
        Ask.open_file(path)

    def _print_failed(self, error: Exception) -> None:
        self.print_button.setEnabled(True)
        self.say(f"Could not lay out the care plan: {error}", error=True)
