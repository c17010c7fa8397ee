"""First run: the practice's details and its first administrator, in two pages.

Nothing is written until the last page's Finish, and then in one transaction
(``users.first_run``); a refusal is shown beside the field it names, on its
page.  An older database (a practice and staff, no users) pre-fills the
practice and lets the administrator be someone already on the staff list.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from ccmdesk.domain.time import resolve_time_zone
from ccmdesk.services import users
from ccmdesk.services.users import PracticeForm, SignedIn, UserError, UserRow
from ccmdesk.storage.database import Database
from ccmdesk.ui.context import Clock, system_clock
from ccmdesk.ui.user_forms import FieldProblems, PasswordPair, UserFields, hint, with_problem

PRACTICE_FIELDS = ("practice_name", "practice_npi", "time_zone")


def system_zone_name() -> str:
    """The zone a new practice starts with: ``TZ`` if set, else the computer's (tzlocal)."""
    return str(resolve_time_zone(None))


def top_aligned_form(page: QWidget) -> QFormLayout:
    """A form at the top of ``page``; spare height goes below it, not between the rows."""
    outer = QVBoxLayout(page)
    form = QFormLayout()
    outer.addLayout(form)
    outer.addStretch(1)
    return form


def zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def zone_combo(current: str) -> QComboBox:
    """Every IANA zone; type any part ("chicago") to find one."""
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.addItems(zone_names())
    completer = QCompleter(combo.model(), combo)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    combo.setCompleter(completer)
    combo.setCurrentText(current)
    return combo


class PracticePage(QWizardPage):
    def __init__(self, prefill: PracticeForm | None) -> None:
        super().__init__()
        self.setTitle("Your practice")
        self.setSubTitle(
            "Printed on every care plan and billing summary. The time zone decides which "
            "calendar month, and so which bill, each minute of care belongs to."
        )
        self.problems = FieldProblems()
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Riverbend Family Medicine")
        self.npi = QLineEdit()
        self.npi.setPlaceholderText("the group NPI, 10 digits (optional)")
        self.npi.setMaxLength(10)
        self.address = QPlainTextEdit()
        self.address.setPlaceholderText("street, city, state, ZIP")
        self.address.setFixedHeight(56)
        self.phone = QLineEdit()
        self.after_hours = QLineEdit()
        self.after_hours.setPlaceholderText("the 24/7 number printed on care plans")
        self.zone = zone_combo((prefill.time_zone if prefill else "") or system_zone_name())
        form = top_aligned_form(self)
        p = self.problems
        form.addRow("Practice name", with_problem(self.name, p.label("practice_name")))
        form.addRow("NPI", with_problem(self.npi, p.label("practice_npi")))
        form.addRow("Address", self.address)
        form.addRow("Phone", self.phone)
        form.addRow("After-hours phone", self.after_hours)
        form.addRow(
            "Time zone",
            with_problem(self.zone, p.label("time_zone"), hint("type part of a name: chicago")),
        )
        form.addRow(p.general)
        if prefill is not None:
            self.name.setText(prefill.name)
            self.npi.setText(prefill.npi or "")
            self.address.setPlainText(prefill.address)
            self.phone.setText(prefill.phone)
            self.after_hours.setText(prefill.after_hours_phone)

    def form(self) -> PracticeForm:
        return PracticeForm(
            name=self.name.text().strip(),
            npi=self.npi.text().strip() or None,
            address=self.address.toPlainText().strip(),
            phone=self.phone.text().strip(),
            after_hours_phone=self.after_hours.text().strip(),
            time_zone=self.zone.currentText().strip(),
        )

    def validatePage(self) -> bool:
        self.problems.clear()
        try:
            users.check_practice(self.form())
        except UserError as error:
            self.problems.show(error.field, str(error))
            return False
        return True


class AdministratorPage(QWizardPage):
    def __init__(self, staff: list[UserRow]) -> None:
        super().__init__()
        self.setTitle("The first administrator")
        self.setSubTitle(
            "The administrator adds the other users and resets forgotten passwords. "
            "You are signed in as this person when you finish."
        )
        self.staff = staff
        self.submit: Callable[[], bool] = lambda: True  # the wizard's Finish
        self.problems = FieldProblems()
        form = top_aligned_form(self)
        self.existing = QComboBox()
        self.existing.addItem("Someone new", None)
        for row in staff:
            self.existing.addItem(
                f"{row.name}, {row.credential}" if row.credential else row.name, row.id
            )
        if staff:
            form.addRow(
                "Who is it?",
                with_problem(
                    self.existing, self.problems.label(""), hint("already on the staff list?")
                ),
            )
        self.fields = UserFields(self.problems, application_roles=False)
        self.fields.add_to(form)
        self.password = PasswordPair(self.problems)
        self.password.add_to(form)
        form.addRow(self.problems.general)
        self.existing.currentIndexChanged.connect(self._existing_chosen)

    def validatePage(self) -> bool:
        return self.submit()

    def _existing_chosen(self) -> None:
        row = next((r for r in self.staff if r.id == self.existing.currentData()), None)
        if row is not None:
            self.fields.set_row(row)
            if not row.login:
                self.fields.login.setText(row.name.split()[0].lower())


class FirstRunWizard(QWizard):
    def __init__(self, parent: QWidget | None, db: Database, clock: Clock = system_clock) -> None:
        super().__init__(parent)
        self.db, self.clock = db, clock
        self.user: SignedIn | None = None
        self.setWindowTitle("Set up ccmdesk")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setMinimumSize(620, 480)
        prefill, staff = users.first_run_prefill(db)
        self.practice = PracticePage(prefill)
        self.administrator = AdministratorPage(staff)
        self.addPage(self.practice)
        self.addPage(self.administrator)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Create and sign in")
        self.administrator.submit = self._finish

    def _finish(self) -> bool:
        """The last page's Next: write everything, or say what is wrong and where."""
        page = self.administrator
        page.problems.clear()
        self.practice.problems.clear()
        try:
            self.user = users.first_run(
                self.db,
                self.practice.form(),
                page.fields.form(),
                page.password.value(),
                now=self.clock(),
                staff_id=page.existing.currentData(),
            )
        except UserError as error:
            if error.field in PRACTICE_FIELDS:
                self.practice.problems.show(error.field, str(error))
                QTimer.singleShot(0, self.back)
            else:
                page.problems.show(error.field, str(error))
            return False
        return True

    @classmethod
    def ask(
        cls, parent: QWidget | None, db: Database, clock: Clock = system_clock
    ) -> SignedIn | None:
        wizard = cls(parent, db, clock)
        return wizard.user if wizard.exec() == QDialog.DialogCode.Accepted else None
