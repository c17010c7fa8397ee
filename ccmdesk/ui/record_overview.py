"""The patient's demographics and care team, validated inline, saved explicitly."""

from __future__ import annotations

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.domain.identifiers import mbi_problem
from ccmdesk.services import patient_record
from ccmdesk.services.patient_record import PatientDetail, RecordError, StaffChoice
from ccmdesk.ui.context import AppContext
from ccmdesk.ui.forms import problem_label, show_problem


class OverviewTab(QWidget):
    changed = Signal(object)  # Changes

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.detail: PatientDetail | None = None
        self._loading = False
        self.fields: dict[str, QWidget] = {}
        self.problems = {name: problem_label() for name in patient_record.EDITABLE}

        self.first_name, self.last_name = QLineEdit(), QLineEdit()
        self.dob = QDateEdit(calendarPopup=True)
        self.dob.setDisplayFormat("MM/dd/yyyy")
        self.sex = QComboBox()
        for label, value in (("", None), ("Female", "F"), ("Male", "M"), ("X", "X")):
            self.sex.addItem(label, value)
        self.mbi = QLineEdit()
        self.mbi.setPlaceholderText("11 characters, e.g. 1EG4-TE5-MK73")
        self.phone, self.language = QLineEdit(), QLineEdit()
        self.address, self.caregiver = QLineEdit(), QLineEdit()
        self.part_b = QCheckBox("Has Medicare Part B")
        self.practitioner, self.care_manager = QComboBox(), QComboBox()
        widgets = {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "dob": self.dob,
            "sex": self.sex,
            "mbi": self.mbi,
            "phone": self.phone,
            "address": self.address,
            "language": self.language,
            "caregiver": self.caregiver,
            "part_b": self.part_b,
            "billing_practitioner_id": self.practitioner,
            "care_manager_id": self.care_manager,
        }
        form = QFormLayout()
        for name, widget in widgets.items():
            column = QVBoxLayout()
            column.setSpacing(1)
            column.addWidget(widget)
            column.addWidget(self.problems[name])
            form.addRow(patient_record.EDITABLE[name], column)
        self.fields = widgets
        self.save_button = QPushButton("Save changes")
        self.save_button.clicked.connect(self.save)
        self.revert_button = QPushButton("Undo changes")
        self.revert_button.setToolTip("Drop what you typed and show the patient as saved now")
        self.revert_button.clicked.connect(self.revert)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.mbi.textEdited.connect(self._check_mbi)
        for widget in widgets.values():
            signal = getattr(widget, "textEdited", None) or getattr(widget, "dateChanged", None)
            signal = signal or getattr(widget, "currentIndexChanged", None)
            signal = signal or widget.toggled  # type: ignore[attr-defined]
            signal.connect(self._edited)
        self._set_dirty(False)

    def set_staff(self, staff: list[StaffChoice]) -> None:
        for combo, roles in (
            (self.practitioner, {"practitioner"}),
            (self.care_manager, {"practitioner", "clinical_staff"}),
        ):
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("(none)", None)
            for member in staff:
                if member.role in roles:
                    combo.addItem(member.label, member.id)
            combo.blockSignals(False)

    def revert(self) -> None:
        """Show the patient as the database has them now, another seat's save included.

        After "someone else saved this patient" this is how the nurse sees their
        change and gets a current copy to make hers on.
        """
        if self.detail is not None:
            self.load(patient_record.load_patient(self.ctx.db, self.detail.id))

    def load(self, detail: PatientDetail) -> None:
        self._loading = True
        self.detail = detail
        self.first_name.setText(detail.first_name)
        self.last_name.setText(detail.last_name)
        self.dob.setDate(QDate(detail.dob.year, detail.dob.month, detail.dob.day))
        self.sex.setCurrentIndex(max(0, self.sex.findData(detail.sex)))
        self.mbi.setText(detail.mbi or "")
        self.phone.setText(detail.phone)
        self.address.setText(detail.address)
        self.language.setText(detail.language)
        self.caregiver.setText(detail.caregiver)
        self.part_b.setChecked(detail.part_b)
        self.practitioner.setCurrentIndex(
            max(0, self.practitioner.findData(detail.billing_practitioner_id))
        )
        self.care_manager.setCurrentIndex(
            max(0, self.care_manager.findData(detail.care_manager_id))
        )
        for label in self.problems.values():
            show_problem(label, None)
        self._loading = False
        self._set_dirty(False)

    def values(self) -> dict[str, object]:
        return {
            "first_name": self.first_name.text(),
            "last_name": self.last_name.text(),
            "dob": self.dob.date().toPython(),
            "sex": self.sex.currentData(),
            "mbi": self.mbi.text(),
            "phone": self.phone.text(),
            "address": self.address.text(),
            "language": self.language.text(),
            "caregiver": self.caregiver.text(),
            "part_b": self.part_b.isChecked(),
            "billing_practitioner_id": self.practitioner.currentData(),
            "care_manager_id": self.care_manager.currentData(),
        }

    @property
    def dirty(self) -> bool:
        return self.save_button.isEnabled()

    def save(self) -> bool:
        """Save; on a refused value show why beside the field and keep what was typed."""
        if self.detail is None:
            return False
        for label in self.problems.values():
            show_problem(label, None)
        try:
            changes = patient_record.update_patient(
                self.ctx.db,
                self.detail.id,
                self.detail.row_version,
                self.values(),
                self.ctx.actor,
                self.ctx.today(),
            )
        except RecordError as error:
            label = self.problems.get(error.field)
            show_problem(label or self.problems["first_name"], str(error))
            return False
        self.load(patient_record.load_patient(self.ctx.db, self.detail.id))
        self.changed.emit(changes)
        return True

    def _check_mbi(self, text: str) -> None:
        problem = mbi_problem(text) if text.strip() and len(text.replace("-", "")) >= 11 else None
        show_problem(self.problems["mbi"], f"MBI {problem}" if problem else None)

    def _edited(self, *_args: object) -> None:
        if not self._loading:
            self._set_dirty(True)

    def _set_dirty(self, dirty: bool) -> None:
        self.save_button.setEnabled(dirty)
        self.revert_button.setEnabled(dirty)
