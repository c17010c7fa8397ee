"""The care plan's questions and its history window.

Questions have an ``ask()`` class method (tests answer them by replacing
``ask``); the history window is modeless and never blocks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.domain.care_plan import ElementChange
from ccmdesk.domain.vocabulary import COPY_METHODS
from ccmdesk.services import care_plans
from ccmdesk.services.care_plans import COPY_METHOD_LABELS, CarePlanError, VersionInfo
from ccmdesk.ui import fmt
from ccmdesk.ui.context import AppContext
from ccmdesk.ui.forms import problem_label, show_problem

Index = QModelIndex | QPersistentModelIndex


class SignDialog:
    """The last word before a version is signed for good."""

    @classmethod
    def ask(cls, parent: QWidget, number: int, signer: str, patient: str) -> bool:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Sign the care plan")
        box.setText(f"Sign version {number} of {patient}'s care plan as {signer}?")
        box.setInformativeText(
            "A signed version never changes. Later changes start a new draft version."
        )
        sign = box.addButton(f"Sign version {number}", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is sign


@dataclass(frozen=True)
class CopyGiven:
    version_id: int
    given_on: dt.date
    method: str
    given_to: str


class CopyGivenDialog(QDialog):
    """Record that a copy of a signed version went to the patient or caregiver."""

    def __init__(
        self,
        parent: QWidget,
        versions: list[VersionInfo],
        recipients: list[str],
        today: dt.date,
        zone: dt.tzinfo,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Copy of the care plan given")
        self.today, self.zone = today, zone
        self.versions = [v for v in versions if v.signed]
        form = QFormLayout(self)
        self.version = QComboBox()
        for info in reversed(self.versions):
            signed = fmt.local_day(info.signed_at, zone)
            self.version.addItem(f"Version {info.number}, signed {signed}", info.id)
        self.given_on = QDateEdit(QDate(today.year, today.month, today.day), calendarPopup=True)
        self.given_on.setDisplayFormat("MM/dd/yyyy")
        self.method = QComboBox()
        for key in COPY_METHODS:
            self.method.addItem(COPY_METHOD_LABELS.get(key, key), key)
        self.given_to = QComboBox()
        self.given_to.setEditable(True)
        self.given_to.addItems(recipients)
        self.problem = problem_label()
        form.addRow("Version", self.version)
        form.addRow("Date given", self.given_on)
        form.addRow("How", self.method)
        form.addRow("Given to", self.given_to)
        form.addRow(self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept_if_valid)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def value(self) -> CopyGiven:
        return CopyGiven(
            self.version.currentData(),
            self.given_on.date().toPython(),
            self.method.currentData(),
            " ".join(self.given_to.currentText().split()),
        )

    def problem_text(self) -> str | None:
        value = self.value()
        if not value.given_to:
            return "Say to whom the copy was given (the patient or the caregiver)."
        if value.given_on > self.today:
            return "The date is in the future."
        info = next(v for v in self.versions if v.id == value.version_id)
        signed_on = info.signed_at.astimezone(self.zone).date() if info.signed_at else None
        if signed_on and value.given_on < signed_on:
            return f"Version {info.number} was signed on {fmt.day(signed_on)}; pick a later date."
        return None

    def _accept_if_valid(self) -> None:
        problem = self.problem_text()
        show_problem(self.problem, problem)
        if problem is None:
            self.accept()

    @classmethod
    def ask(
        cls,
        parent: QWidget,
        versions: list[VersionInfo],
        recipients: list[str],
        today: dt.date,
        zone: dt.tzinfo,
    ) -> CopyGiven | None:
        dialog = cls(parent, versions, recipients, today, zone)
        return dialog.value() if dialog.exec() == QDialog.DialogCode.Accepted else None


# -- history -------------------------------------------------------------------------------

HISTORY_TITLES = (
    "Version",
    "Status",
    "Written by",
    "Started",
    "Last saved",
    "Signed by",
    "Signed on",
    "Copies given",
)


def copies_text(info: VersionInfo, zone: dt.tzinfo) -> str:
    return "; ".join(
        f"{fmt.day(c.given_on)} {c.method_label.lower()}, to {c.given_to}" for c in info.copies
    )


class VersionsModel(QAbstractTableModel):
    def __init__(self, zone: dt.tzinfo, parent: Any = None) -> None:
        super().__init__(parent)
        self.zone = zone
        self.versions: list[VersionInfo] = []

    def set_versions(self, versions: list[VersionInfo]) -> None:
        self.beginResetModel()
        self.versions = versions
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.versions)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HISTORY_TITLES)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(HISTORY_TITLES)
        ):
            return HISTORY_TITLES[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.versions):
            return None
        info = self.versions[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 7:
            return copies_text(info, self.zone).replace("; ", "\n") or None
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        saved = fmt.local_day(info.updated_at, self.zone)
        when = f"{saved} {fmt.local_time(info.updated_at, self.zone)}"
        return (
            str(info.number),
            "Signed" if info.signed else "Draft",
            info.author,
            fmt.local_day(info.created_at, self.zone),
            when,
            info.signed_by or "",
            fmt.local_day(info.signed_at, self.zone),
            copies_text(info, self.zone),
        )[index.column()]


def changes_text(changes: list[ElementChange], older: VersionInfo, newer: VersionInfo) -> str:
    """A comparison as a person reads it, element by element."""

    def name(info: VersionInfo) -> str:
        return f"version {info.number} ({'signed' if info.signed else 'draft'})"

    lines = [f"From {name(older)} to {name(newer)}:", ""]
    if not changes:
        lines.append("No differences.")
    for change in changes:
        lines.append(change.label)
        lines += [f"  • {line}" for line in change.lines]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


class HistoryDialog(QDialog):
    """Every version with author, signer, dates and copies; compare any two."""

    def __init__(self, ctx: AppContext, patient_id: int, patient: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.ctx, self.patient_id = ctx, patient_id
        self.setWindowTitle(f"Care plan history — {patient}")
        self.resize(1000, 560)
        self.model = VersionsModel(ctx.zone, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip(
            "Select two versions (Ctrl+click), or one to compare it with the version before"
        )
        self.changes = QPlainTextEdit()
        self.changes.setReadOnly(True)
        self.changes.setPlaceholderText(
            "Select two versions and click Compare to see what changed, element by element."
        )
        self.message = problem_label()
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        row = QHBoxLayout()
        row.addWidget(QLabel("Select two versions to compare them."))
        row.addStretch(1)
        row.addWidget(self.compare_button)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.changes)
        splitter.setSizes([220, 320])
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout.addLayout(bottom)
        self.compare_button.clicked.connect(self.compare)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.refresh()

    def refresh(self) -> None:
        history = care_plans.history(self.ctx.db, self.patient_id)
        self.model.set_versions(list(history.versions))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(7, QHeaderView.ResizeMode.Stretch)
        self._selection_changed()

    def select_versions(self, *numbers: int) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row, info in enumerate(self.model.versions):
            if info.number in numbers:
                self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def _selected(self) -> list[VersionInfo]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.model.versions[r] for r in rows]

    def _selection_changed(self, *_args: object) -> None:
        chosen = self._selected()
        self.compare_button.setEnabled(
            len(chosen) == 2 or (len(chosen) == 1 and chosen[0].number > 1)
        )

    def compare(self) -> None:
        chosen = self._selected()
        if len(chosen) == 1:
            before = [v for v in self.model.versions if v.number < chosen[0].number]
            chosen = [before[-1], chosen[0]] if before else []
        if len(chosen) != 2:
            show_problem(self.message, "Select two versions to compare.")
            return
        older, newer = chosen
        try:
            changes = care_plans.compare(self.ctx.db, older.id, newer.id)
        except CarePlanError as error:
            show_problem(self.message, str(error))
            return
        show_problem(self.message, None)
        self.changes.setPlainText(changes_text(changes, older, newer))
