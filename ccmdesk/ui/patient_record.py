"""The open patient: a header with this month's figures and the record's tabs."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from ccmdesk.domain.time import Month
from ccmdesk.services import patient_record
from ccmdesk.services.patient_list import PatientListRow
from ccmdesk.services.patient_record import PatientDetail
from ccmdesk.ui import fmt
from ccmdesk.ui.care_plan_editor import CarePlanEditor
from ccmdesk.ui.context import AppContext
from ccmdesk.ui.record_conditions import ConditionsTab
from ccmdesk.ui.record_consent import ConsentTab
from ccmdesk.ui.record_overview import OverviewTab
from ccmdesk.ui.time_log_view import TimeLogTab


class PatientRecord(QWidget):
    changed = Signal(object)  # Changes

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.detail: PatientDetail | None = None
        self.month = Month.of(ctx.today())
        self.header = QLabel("No patient selected")
        self.header.setStyleSheet("font-size: 17px; font-weight: 600;")
        self.subheader = QLabel("")
        self.subheader.setStyleSheet("color: #444;")
        self.subheader.setWordWrap(True)  # a long status must not widen the record pane
        self.tabs = QTabWidget()
        self.overview = OverviewTab(ctx)
        self.conditions = ConditionsTab(ctx)
        self.consent = ConsentTab(ctx)
        self.time_log = TimeLogTab(ctx)
        self.care_plan = CarePlanEditor(ctx)
        self.tabs.addTab(self.time_log, "Time log")
        self.tabs.addTab(self.overview, "Patient")
        self.tabs.addTab(self.conditions, "Conditions")
        self.tabs.addTab(self.consent, "Consent and visits")
        self.tabs.addTab(self.care_plan, "Care plan")
        for tab in (self.overview, self.conditions, self.consent, self.time_log, self.care_plan):
            tab.changed.connect(self._tab_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.subheader)
        layout.addWidget(self.tabs, 1)
        self.tabs.setEnabled(False)

    def set_staff(self, staff: list) -> None:  # type: ignore[type-arg]
        self.overview.set_staff(staff)
        self.care_plan.set_staff(staff)

    def staff_changed(self) -> None:
        """The person working changed: the care plan saves what was typed, re-checks rights."""
        self.care_plan.staff_changed()
        self.time_log.apply_permissions()

    @property
    def patient_id(self) -> int | None:
        return self.detail.id if self.detail else None

    def show_patient(self, patient_id: int, month: Month) -> None:
        self.month = month
        self.detail = patient_record.load_patient(self.ctx.db, patient_id)
        self.overview.load(self.detail)
        self.conditions.load(self.detail)
        self.consent.load(self.detail, month)
        self.time_log.load(patient_id, month)
        self.care_plan.load(self.detail)  # saves the previous patient's draft first
        self.tabs.setEnabled(True)
        self._show_header()

    def show_figures(self, row: PatientListRow | None) -> None:
        if self.detail is None:
            return
        parts = [f"MRN {self.detail.mrn}", f"DOB {fmt.day(self.detail.dob)}"]
        if self.detail.mbi:
            parts.append(f"MBI {self.detail.mbi}")
        if row is not None:
            parts.append(f"{row.consent}")
            parts.append(f"{self.month}: {row.minutes} min — {row.status}")
        self.subheader.setText("   ·   ".join(parts))

    def _show_header(self) -> None:
        assert self.detail is not None
        self.header.setText(self.detail.name)
        self.show_figures(None)

    def _tab_changed(self, changes: object) -> None:
        if self.detail is not None:
            self.detail = patient_record.load_patient(self.ctx.db, self.detail.id)
            self._show_header()
            self.care_plan.update_patient(self.detail)
        self.changed.emit(changes)

    def has_unsaved(self) -> bool:
        return self.overview.dirty
