"""Consent (the four points told), refusal, opt-out, initiating visits, complex month."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.domain.time import Month
from ccmdesk.services import patient_record
from ccmdesk.services.patient_record import PatientDetail, RecordError
from ccmdesk.ui import fmt
from ccmdesk.ui.context import AppContext
from ccmdesk.ui.forms import problem_label, show_problem

POINTS = (
    "CCM is available to them",
    "Cost sharing applies (Part B coinsurance, 20%, and the deductible)",
    "They may stop at any time, effective at the end of the month",
    "Only one practitioner can furnish and bill CCM in a month",
)
VISIT_LABELS = {
    "em_visit": "E/M office visit",
    "awv": "Annual Wellness Visit",
    "ippe": "Initial Preventive Physical Exam",
    "unspecified": "Qualifying visit",
}


def _date_edit(value: dt.date) -> QDateEdit:
    edit = QDateEdit(QDate(value.year, value.month, value.day), calendarPopup=True)
    edit.setDisplayFormat("MM/dd/yyyy")
    return edit


class ConsentTab(QWidget):
    changed = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.detail: PatientDetail | None = None
        self.month = Month.of(ctx.today())
        today = ctx.today()

        self.history = QListWidget()
        self.history.setMaximumHeight(90)
        self.consent_date = _date_edit(today)
        self.method = QComboBox()
        self.method.addItem("Verbal", "verbal")
        self.method.addItem("Written", "written")
        self.points = [QCheckBox(text) for text in POINTS]
        self.record_button = QPushButton("Record consent")
        self.record_button.clicked.connect(lambda: self._consent(declined=False))
        self.decline_button = QPushButton("Patient declined")
        self.decline_button.clicked.connect(lambda: self._consent(declined=True))
        self.opt_out_date = _date_edit(today)
        self.opt_out_button = QPushButton("Record opt-out")
        self.opt_out_button.setToolTip("Effective at the end of that calendar month")
        self.opt_out_button.clicked.connect(self._opt_out)
        self.consent_problem = problem_label()
        consent_box = QGroupBox("Consent")
        form = QFormLayout(consent_box)
        form.addRow("On record", self.history)
        form.addRow("Date", self.consent_date)
        form.addRow("How", self.method)
        told = QVBoxLayout()
        for box in self.points:
            told.addWidget(box)
        form.addRow("The patient was told", told)
        buttons = QHBoxLayout()
        buttons.addWidget(self.record_button)
        buttons.addWidget(self.decline_button)
        buttons.addStretch(1)
        form.addRow(buttons)
        opt_out = QHBoxLayout()
        opt_out.addWidget(self.opt_out_date)
        opt_out.addWidget(self.opt_out_button)
        opt_out.addStretch(1)
        form.addRow("Opt-out", opt_out)
        form.addRow(self.consent_problem)

        self.visits = QListWidget()
        self.visits.setMaximumHeight(70)
        self.visit_date = _date_edit(today)
        self.visit_type = QComboBox()
        for key in ("em_visit", "awv", "ippe"):
            self.visit_type.addItem(VISIT_LABELS[key], key)
        self.visit_button = QPushButton("Add visit")
        self.visit_button.clicked.connect(self._add_visit)
        self.visit_problem = problem_label()
        visit_box = QGroupBox("Initiating visit")
        visit_form = QFormLayout(visit_box)
        visit_form.addRow("On record", self.visits)
        row = QHBoxLayout()
        row.addWidget(self.visit_date)
        row.addWidget(self.visit_type)
        row.addWidget(self.visit_button)
        visit_form.addRow("New", row)
        visit_form.addRow(self.visit_problem)

        self.complex = QCheckBox()
        self.complex.toggled.connect(self._complex_toggled)
        complex_box = QGroupBox("Complex CCM")
        complex_layout = QVBoxLayout(complex_box)
        complex_layout.addWidget(self.complex)
        complex_layout.addWidget(
            QLabel("Flagged by the billing practitioner: moderate or high medical decision making.")
        )

        layout = QVBoxLayout(self)
        layout.addWidget(consent_box)
        layout.addWidget(visit_box)
        layout.addWidget(complex_box)
        layout.addStretch(1)

    def load(self, detail: PatientDetail, month: Month) -> None:
        self.detail, self.month = detail, month
        self.history.clear()
        for consent in detail.consents:
            if consent.declined:
                text = f"{fmt.day(consent.consent_date)}: declined ({consent.method})"
            else:
                text = f"{fmt.day(consent.consent_date)}: {consent.method} consent"
                text += "" if consent.told_all else " (not all four points recorded)"
                if consent.opt_out_date:
                    text += f"; opted out {fmt.day(consent.opt_out_date)}"
            if consent.obtained_by:
                text += f" — {consent.obtained_by}"
            self.history.addItem(text)
        if not detail.consents:
            self.history.addItem("No consent on record")
        self.visits.clear()
        for visit in detail.visits:
            self.visits.addItem(f"{fmt.day(visit.visit_date)}: {VISIT_LABELS[visit.visit_type]}")
        if not detail.visits:
            self.visits.addItem("No initiating visit on record")
        self.complex.blockSignals(True)
        self.complex.setText(f"{month.first_day:%B %Y} is a complex month for this patient")
        self.complex.setChecked(str(month) in detail.complex_months)
        self.complex.blockSignals(False)
        for box in self.points:
            box.setChecked(False)
        show_problem(self.consent_problem, None)
        show_problem(self.visit_problem, None)

    def _reload(self, changes: object) -> None:
        assert self.detail is not None
        self.load(patient_record.load_patient(self.ctx.db, self.detail.id), self.month)
        self.changed.emit(changes)

    def _consent(self, declined: bool) -> None:
        if self.detail is None:
            return
        try:
            changes = patient_record.record_consent(
                self.ctx.db,
                self.detail.id,
                self.consent_date.date().toPython(),
                self.method.currentData(),
                self.ctx.actor,
                told=tuple(box.isChecked() for box in self.points),  # type: ignore[arg-type]
                declined=declined,
                today=self.ctx.today(),
            )
        except RecordError as error:
            show_problem(self.consent_problem, str(error))
            return
        self._reload(changes)

    def _opt_out(self) -> None:
        if self.detail is None:
            return
        given = [c for c in self.detail.consents if not c.declined]
        if not given:
            show_problem(self.consent_problem, "There is no consent to withdraw.")
            return
        try:
            changes = patient_record.record_opt_out(
                self.ctx.db,
                given[-1].id,
                self.opt_out_date.date().toPython(),
                self.ctx.actor,
                today=self.ctx.today(),
            )
        except RecordError as error:
            show_problem(self.consent_problem, str(error))
            return
        self._reload(changes)

    def _add_visit(self) -> None:
        if self.detail is None:
            return
        try:
            changes = patient_record.add_initiating_visit(
                self.ctx.db,
                self.detail.id,
                self.visit_date.date().toPython(),
                self.visit_type.currentData(),
                self.ctx.actor,
                today=self.ctx.today(),
            )
        except RecordError as error:
            show_problem(self.visit_problem, str(error))
            return
        self._reload(changes)

    def _complex_toggled(self, checked: bool) -> None:
        if self.detail is None:
            return
        changes = patient_record.set_complex_month(
            self.ctx.db, self.detail.id, self.month, checked, self.ctx.actor
        )
        self._reload(changes)
