"""The selected month's time log for one patient: add, edit, delete (with a reason)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.domain.billing import EntryFact, find_overlaps
from ccmdesk.domain.time import Month
from ccmdesk.domain.vocabulary import ACTIVITY_LABELS
from ccmdesk.services import time_log
from ccmdesk.services.access import Permission
from ccmdesk.services.time_log import EntryView, TimeEntryError
from ccmdesk.ui import fmt
from ccmdesk.ui.context import AppContext
from ccmdesk.ui.dialogs import DeleteReasonDialog, EntryDialog
from ccmdesk.ui.forms import problem_label, show_problem
from ccmdesk.ui.table_model import Index, TitledTableModel

TITLES = ("Date", "Time", "Min:sec", "Staff", "Activity", "Note", "Source")
NOTE = 5


def overlapping_ids(entries: list[EntryView]) -> set[int]:
    """Entries that share clock time with another (the engine counts it once)."""
    facts = [
        (
            EntryFact(e.id, e.start, e.end, e.staff_id, "clinical_staff", e.activity),
            (e.start, e.end),
        )
        for e in entries
        if e.end is not None and not e.deleted and e.countable_activity
    ]
    found = find_overlaps(facts)
    return {o.first_id for o in found} | {o.second_id for o in found}


ADD_TIP = "Record work done away from the computer"
NOT_LOGGING_TIME = "Logging time is for clinical staff and practitioners"


class TimeLogModel(TitledTableModel):
    titles = TITLES

    def __init__(self, zone: dt.tzinfo, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.zone = zone
        self.entries: list[EntryView] = []
        self.overlaps: set[int] = set()

    def set_entries(self, entries: list[EntryView]) -> None:
        self.beginResetModel()
        self.entries = entries
        self.overlaps = overlapping_ids(entries)
        self.endResetModel()

    def row_total(self) -> int:
        return len(self.entries)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.entries):
            return None
        entry = self.entries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(entry, index.column())
        if role == Qt.ItemDataRole.ForegroundRole and entry.deleted:
            return QColor("#888888")
        if role == Qt.ItemDataRole.FontRole and entry.deleted:
            font = QFont()
            font.setStrikeOut(True)
            return font
        if role == Qt.ItemDataRole.BackgroundRole and entry.id in self.overlaps:
            return QColor("#fff3cd")
        if role == Qt.ItemDataRole.ToolTipRole:
            if entry.deleted:
                return f"Deleted: {entry.delete_reason}"
            if entry.id in self.overlaps:
                return "Overlaps another entry: the shared minutes count once. Please review."
        return None

    def _text(self, entry: EntryView, column: int) -> str:
        if column == 0:
            return fmt.local_day(entry.start, self.zone)
        if column == 1:
            return fmt.time_range(entry.start, entry.end, self.zone)
        if column == 2:
            return fmt.minutes_between(entry.start, entry.end)
        if column == 3:
            return (
                f"{entry.staff_name}, {entry.credential}" if entry.credential else entry.staff_name
            )
        if column == 4:
            return ACTIVITY_LABELS.get(entry.activity, entry.activity)
        if column == 5:
            return entry.note
        flags = [entry.source]
        if entry.edited:
            flags.append("edited")
        if entry.deleted:
            flags.append("deleted")
        if entry.id in self.overlaps:
            flags.append("overlap")
        return " · ".join(flags)


class TimeLogTab(QWidget):
    changed = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.patient_id: int | None = None
        self.month = Month.of(ctx.today())
        self._closed = False
        self.model = TimeLogModel(ctx.zone, self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().hide()
        self.view.setWordWrap(True)
        header = self.view.horizontalHeader()
        for column in range(len(TITLES)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NOTE, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(40)
        self.view.doubleClicked.connect(lambda _index: self.edit())
        self.add_button = QPushButton("Add entry…")
        self.add_button.clicked.connect(self.add)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.clicked.connect(self.edit)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(self.delete)
        self.closed_note = QLabel("This month is closed: its entries are read-only.")
        self.closed_note.setStyleSheet("color: #7a4b00; font-weight: 600;")
        self.closed_note.hide()
        self.problem = problem_label()
        buttons = QHBoxLayout()
        buttons.addWidget(self.closed_note)
        buttons.addStretch(1)
        for button in (self.add_button, self.edit_button, self.delete_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)

    def load(self, patient_id: int, month: Month) -> None:
        self.patient_id, self.month = patient_id, month
        self.model.set_entries(time_log.month_log(self.ctx.db, patient_id, month))
        self._closed = time_log.month_is_closed(self.ctx.db, month)
        self.closed_note.setVisible(self._closed)
        self.apply_permissions()
        self.view.resizeRowsToContents()
        show_problem(self.problem, None)

    def apply_permissions(self) -> None:
        """Offer changes only in an open month and to someone who logs time."""
        logs_time = self.ctx.may(Permission.LOG_TIME)
        why_not = "" if logs_time else NOT_LOGGING_TIME
        for button in (self.add_button, self.edit_button, self.delete_button):
            button.setEnabled(logs_time and not self._closed)
            button.setToolTip(why_not)
        self.add_button.setToolTip(why_not or ADD_TIP)

    def selected(self) -> EntryView | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.entries[rows[0].row()] if rows else None

    def _apply(self, work) -> None:  # type: ignore[no-untyped-def]
        try:
            changes = work()
        except TimeEntryError as error:
            show_problem(self.problem, str(error))
            return
        assert self.patient_id is not None
        self.load(self.patient_id, self.month)
        self.changed.emit(changes)

    def add(self) -> None:
        if self.patient_id is None or self.ctx.staff_id is None:
            show_problem(self.problem, "Choose who you are (toolbar) before adding time.")
            return
        default_day = min(self.ctx.today(), self.month.last_day)
        values = EntryDialog.ask(self, self.ctx.zone, today=default_day)
        if values is None:
            return
        self._apply(
            lambda: time_log.add_manual(
                self.ctx.db,
                self.patient_id,
                self.ctx.staff_id,
                values["start"],
                values["end"],
                self.ctx.actor,
                activity=values["activity"],
                note=values["note"],
                now=self.ctx.clock(),
            )
        )

    def edit(self) -> None:
        entry = self.selected()
        if entry is None or entry.deleted or entry.running:
            return
        values = EntryDialog.ask(self, self.ctx.zone, entry)
        if values is None:
            return
        self._apply(
            lambda: time_log.edit_entry(
                self.ctx.db,
                entry.id,
                self.ctx.actor,
                start=values["start"],
                end=values["end"],
                activity=values["activity"],
                note=values["note"],
                now=self.ctx.clock(),
            )
        )

    def delete(self) -> None:
        entry = self.selected()
        if entry is None or entry.deleted or entry.running:
            return
        description = (
            f"the entry of {fmt.local_day(entry.start, self.ctx.zone)} at "
            f"{fmt.local_time(entry.start, self.ctx.zone)}"
        )
        reason = DeleteReasonDialog.ask(self, description)
        if reason is None:
            return
        self._apply(
            lambda: time_log.delete_entry(
                self.ctx.db, entry.id, reason, self.ctx.actor, self.ctx.clock()
            )
        )
