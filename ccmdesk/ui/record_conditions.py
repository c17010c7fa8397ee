"""The problem list: add by ICD-10-CM code or words, override the chronic flag."""

from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QCompleter,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.domain.icd10 import default_index, format_icd10
from ccmdesk.services import patient_record
from ccmdesk.services.patient_record import PatientDetail, RecordError
from ccmdesk.ui import fmt
from ccmdesk.ui.context import AppContext
from ccmdesk.ui.forms import problem_label, show_problem

SUGGESTIONS = 15


def suggestions(text: str) -> list[str]:
    """Completion lines for what was typed: ``E11.9 — Type 2 diabetes ...``."""
    if len(text.strip()) < 1:
        return []
    return [
        f"{format_icd10(code)} — {description}"
        for code, description in default_index().search(text, SUGGESTIONS)
    ]


class ConditionsTab(QWidget):
    changed = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.detail: PatientDetail | None = None
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Code", "Condition", "Chronic", "Onset", "Resolved"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.itemChanged.connect(self._chronic_toggled)
        self.entry = QLineEdit()
        self.entry.setPlaceholderText(
            "Add a condition: type an ICD-10 code or words, e.g. E11.9 or heart failure"
        )
        self.completions = QStringListModel(self)
        completer = QCompleter(self.completions, self)
        completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        completer.setMaxVisibleItems(12)
        completer.activated.connect(self._picked)
        self.entry.setCompleter(completer)
        self.entry.textEdited.connect(self._complete)
        self.entry.returnPressed.connect(lambda: self.add(self.entry.text()))
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(lambda: self.add(self.entry.text()))
        self.problem = problem_label()
        row = QHBoxLayout()
        row.addWidget(self.entry, 1)
        row.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.problem)
        layout.addWidget(self.table)

    def load(self, detail: PatientDetail) -> None:
        self.detail = detail
        self.table.blockSignals(True)
        self.table.setRowCount(len(detail.conditions))
        for row, condition in enumerate(detail.conditions):
            code = QTableWidgetItem(format_icd10(condition.code))
            code.setData(Qt.ItemDataRole.UserRole, condition.id)
            chronic = QTableWidgetItem("overridden" if condition.chronic_overridden else "")
            chronic.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            chronic.setCheckState(
                Qt.CheckState.Checked if condition.chronic else Qt.CheckState.Unchecked
            )
            chronic.setToolTip("Counts toward the two chronic conditions CCM needs")
            for column, item in enumerate(
                (
                    code,
                    QTableWidgetItem(condition.description),
                    chronic,
                    QTableWidgetItem(fmt.day(condition.onset)),
                    QTableWidgetItem(fmt.day(condition.resolved)),
                )
            ):
                self.table.setItem(row, column, item)
        self.table.resizeColumnToContents(0)
        self.table.blockSignals(False)

    def _complete(self, text: str) -> None:
        self.completions.setStringList(suggestions(text))

    def _picked(self, line: str) -> None:
        self.add(line.split(" — ")[0])

    def add(self, text: str) -> None:
        if self.detail is None or not text.strip():
            return
        code = text.split(" — ")[0].strip()
        try:
            changes = patient_record.add_condition(
                self.ctx.db, self.detail.id, code, self.ctx.actor
            )
        except RecordError as error:
            show_problem(self.problem, str(error))
            return
        show_problem(self.problem, None)
        self.entry.clear()
        self.load(patient_record.load_patient(self.ctx.db, self.detail.id))
        self.changed.emit(changes)

    def _chronic_toggled(self, item: QTableWidgetItem) -> None:
        if self.detail is None or item.column() != 2:
            return
        condition_id = self.table.item(item.row(), 0).data(Qt.ItemDataRole.UserRole)
        changes = patient_record.update_condition(
            self.ctx.db,
            condition_id,
            self.ctx.actor,
            chronic=item.checkState() == Qt.CheckState.Checked,
        )
        self.load(patient_record.load_patient(self.ctx.db, self.detail.id))
        self.changed.emit(changes)
