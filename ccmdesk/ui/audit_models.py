"""The audit-trail browser's parts: the events table, and one event's before and after.

Flat ``RowsTableModel`` models over plain rows from services/audit_trail.py;
times on the practice's clock.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.services.audit_changes import FieldChange
from ccmdesk.services.audit_trail import AuditRow
from ccmdesk.ui.table_model import Index, RowsTableModel

CHANGED_BACKGROUND = QColor("#fff4cc")
LONG_COLUMNS = 5  # "What changed" and "Detail"


def words(code: str) -> str:
    """``sign_in_failed`` → ``sign in failed``: how actions and entities read on screen."""
    return code.replace("_", " ")


def when(value: dt.datetime, zone: dt.tzinfo) -> str:
    return value.astimezone(zone).strftime("%m/%d/%Y %I:%M:%S %p").replace(" 0", " ", 1)


def record_of(row: AuditRow) -> str:
    return (
        f"{words(row.entity)} #{row.entity_id}" if row.entity_id is not None else words(row.entity)
    )


def patient_of(row: AuditRow) -> str:
    if row.patient_name:
        return f"{row.patient_name} · {row.patient_mrn}"
    if row.patient_id is not None:
        return f"patient #{row.patient_id} (no longer on record)"
    return ""


class AuditTableModel(RowsTableModel[AuditRow]):
    titles = ("When", "User", "Action", "Record", "Patient", "What changed", "Detail")

    def __init__(self, zone: dt.tzinfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.zone = zone

    def text(self, row: AuditRow, column: int) -> str:
        return (
            when(row.at, self.zone),
            row.actor,
            words(row.action),
            record_of(row),
            patient_of(row),
            row.summary,
            row.detail,
        )[column]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row, column = self.row_at(index), index.column()
        if row is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole and column >= LONG_COLUMNS:
            return self.text(row, column) or None  # cut off in the table: whole in the tip
        return None


class ChangesModel(RowsTableModel[FieldChange]):
    """The selected event's fields, before and after side by side; changed ones marked."""

    titles = ("Field", "Before", "After")

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        change = self.row_at(index)
        if change is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return (change.label, change.before, change.after)[index.column()]
        if role == Qt.ItemDataRole.BackgroundRole and change.changed:
            return QBrush(CHANGED_BACKGROUND)
        if role == Qt.ItemDataRole.FontRole and change.changed and index.column() == 0:
            font = QFont()
            font.setBold(True)
            return font
        return None


class EventDetail(QWidget):
    """One event in full: who, when, what, and its values before and after."""

    def __init__(self, zone: dt.tzinfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.zone = zone
        self.title = QLabel("Select an event to see what changed.")
        self.title.setStyleSheet("font-size: 14px; font-weight: 600;")
        self.meta = QLabel()
        self.meta.setWordWrap(True)
        self.meta.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model = ChangesModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.meta)
        layout.addWidget(self.detail)
        layout.addWidget(self.table, 1)
        self.no_values = QLabel("No values were recorded with this event.")
        self.no_values.setStyleSheet("color: #5b6573;")
        layout.addWidget(self.no_values)
        layout.addStretch(0)
        self.show_event(None)

    def show_event(self, row: AuditRow | None) -> None:
        if row is None:
            self.title.setText("Select an event to see what changed.")
            self.meta.clear()
            self.detail.hide()
            self.model.set_rows(())
            self.table.hide()
            self.no_values.hide()
            return
        self.title.setText(f"{words(row.action).capitalize()} · {record_of(row)}")
        local = row.at.astimezone(self.zone)
        meta = f"{when(row.at, self.zone)} {local.tzname() or ''} by {row.actor}".replace("  ", " ")
        patient = patient_of(row)
        self.meta.setText(f"{meta} · {patient}" if patient else meta)
        self.detail.setText(f"Detail: {row.detail}")
        self.detail.setVisible(bool(row.detail))
        self.model.set_rows(row.changes)
        self.table.setVisible(bool(row.changes))
        self.no_values.setVisible(not row.changes)
        self.table.resizeRowsToContents()
