"""Form pieces the first-run wizard and the Users dialog share: a person's fields, a
password typed twice, and a problem line beside each field a service can name."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.services.users import UserError, UserForm, UserRow
from ccmdesk.ui.forms import problem_label, show_problem

#: The clinical role decides whose minutes count (SPEC §1.2), so say it in those words.
ROLE_CHOICES = (
    ("clinical_staff", "Clinical staff (RN, LPN, MA): logs time"),
    ("practitioner", "Billing practitioner (MD, DO, NP, PA): also signs care plans"),
    ("non_clinical", "Non-clinical (front desk, billing): time never counts"),
)
HINT_STYLE = "color: #555; font-size: 12px;"


def hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet(HINT_STYLE)
    label.setWordWrap(True)
    return label


def with_problem(field: QWidget, problem: QLabel, note: QLabel | None = None) -> QWidget:
    """A field with its (hidden until needed) problem line under it."""
    box = QWidget()
    # never taller than it needs: spare height in a dialog is not spread between fields
    box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(field)
    if note is not None:
        layout.addWidget(note)
    layout.addWidget(problem)
    return box


class FieldProblems:
    """Problem labels by the field names services use in ``UserError.field``."""

    def __init__(self) -> None:
        self.labels: dict[str, QLabel] = {}
        self.general = problem_label()

    def label(self, field_name: str) -> QLabel:
        self.labels[field_name] = problem_label()
        return self.labels[field_name]

    def clear(self) -> None:
        for label in (*self.labels.values(), self.general):
            show_problem(label, None)

    def show(self, field_name: str, message: str) -> bool:
        """Show ``message`` beside its field (or at the foot); True when the field is here."""
        label = self.labels.get(field_name)
        show_problem(label or self.general, message)
        return label is not None


def password_field(placeholder: str = "") -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setPlaceholderText(placeholder)
    return field


class PasswordPair:
    """A new password typed twice; ``value()`` refuses two that differ."""

    def __init__(self, problems: FieldProblems) -> None:
        self.first = password_field("at least 8 characters")
        self.second = password_field("the same again")
        self.problem = problems.label("password")

    def add_to(self, form: QFormLayout, label: str = "Password") -> None:
        form.addRow(label, self.first)
        form.addRow("Repeat it", with_problem(self.second, self.problem))

    def value(self) -> str:
        if self.first.text() != self.second.text():
            raise UserError("password", "the two passwords differ; type the same one twice")
        return self.first.text()


class UserFields:
    """A person's details as a form: who they are, their clinical role, their login.

    ``application_roles`` adds the office manager / administrator / active
    boxes (the Users dialog); the first administrator gets neither choice.
    """

    def __init__(self, problems: FieldProblems, application_roles: bool = True) -> None:
        self.problems = problems
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Nina Okafor")
        self.credential = QLineEdit()
        self.credential.setPlaceholderText("RN, MD, NP… (printed after the name)")
        self.credential.setMaxLength(20)
        self.role = QComboBox()
        for key, label in ROLE_CHOICES:
            self.role.addItem(label, key)
        self.npi = QLineEdit()
        self.npi.setPlaceholderText("10 digits; practitioners bill under it")
        self.npi.setMaxLength(10)
        self.phone = QLineEdit()
        self.phone.setPlaceholderText("direct line, printed on care plans (optional)")
        self.login = QLineEdit()
        self.login.setPlaceholderText("e.g. nina (no spaces; not case-sensitive)")
        self.office_manager = QCheckBox("Office manager: billing, reports, month close, fees")
        self.administrator = QCheckBox("Administrator: users, practice settings, backups, audit")
        self.active = QCheckBox("Active (may sign in; listed in the staff choices)")
        self.active.setChecked(True)
        self.application_roles = application_roles
        self.role.currentIndexChanged.connect(self._role_changed)

    def add_to(self, form: QFormLayout) -> None:
        p = self.problems
        form.addRow("Full name", with_problem(self.name, p.label("name")))
        form.addRow("Credential", self.credential)
        form.addRow("Clinical role", with_problem(self.role, p.label("role")))
        form.addRow("NPI", with_problem(self.npi, p.label("npi")))
        form.addRow("Phone", self.phone)
        form.addRow("User name", with_problem(self.login, p.label("login")))
        if self.application_roles:
            roles = QWidget()
            layout = QVBoxLayout(roles)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.setSpacing(2)
            layout.addWidget(self.office_manager)
            layout.addWidget(self.administrator)
            layout.addWidget(p.label("administrator"))
            form.addRow("Also", roles)
            form.addRow("", self.active)
        self._role_changed()

    def _role_changed(self) -> None:
        practitioner = self.role.currentData() == "practitioner"
        self.npi.setPlaceholderText(
            "10 digits (required: claims are billed under it)"
            if practitioner
            else "10 digits (optional for non-practitioners)"
        )

    def set_row(self, row: UserRow) -> None:
        self.name.setText(row.name)
        self.credential.setText(row.credential)
        self.role.setCurrentIndex(max(0, self.role.findData(row.role)))
        self.npi.setText(row.npi or "")
        self.phone.setText(row.phone)
        self.login.setText(row.login or "")
        self.office_manager.setChecked(row.office_manager)
        self.administrator.setChecked(row.administrator)
        self.active.setChecked(row.active)

    def form(self) -> UserForm:
        return UserForm(
            name=self.name.text(),
            credential=self.credential.text(),
            role=self.role.currentData(),
            npi=self.npi.text().strip() or None,
            phone=self.phone.text(),
            login=self.login.text().strip() or None,
            office_manager=self.office_manager.isChecked(),
            administrator=self.administrator.isChecked(),
            active=self.active.isChecked(),
        )
