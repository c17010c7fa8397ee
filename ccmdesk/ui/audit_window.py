"""The administrator's audit-trail browser: filters, pages of events, before and after.

Pages come from the database off the GUI thread (``ctx.tasks``), newest
first.  There is no sort by column on purpose: the order is the query's, across
all pages, and re-sorting one page of 200 would suggest an order that the other
pages do not follow.  The CSV export writes every matching event, not a page.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QDate, QEvent, QModelIndex, QStringListModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.services import audit_trail
from ccmdesk.services.audit_trail import AuditChoices, AuditFilter, AuditPage
from ccmdesk.ui.audit_models import AuditTableModel, EventDetail, words
from ccmdesk.ui.context import AppContext
from ccmdesk.ui.forms import PROBLEM_STYLE, problem_label, show_problem

MESSAGE_STYLE = "color: #1d2733;"


class Ask:
    """The window's questions, replaceable in tests."""

    @staticmethod
    def save_path(parent: QWidget, title: str, suggested: str, pattern: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(parent, title, suggested, pattern)
        return path or None


class AuditWindow(QDialog):
    """Administrators only; the service refuses anyone else whatever this window shows."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Audit trail")
        self.resize(1320, 820)
        self.page: AuditPage | None = None
        self.offset = 0
        self.loaded = False
        self.patients: dict[str, int] = {}  # completion label → patient id
        self.patient_id: int | None = None
        #: Whoever signs in next at this seat may not read the trail: see forget().
        self.opened_for = ctx.actor.id
        self._build()
        self._connect_signals()
        self.load_choices()
        self.reload()

    # -- building ------------------------------------------------------------------

    def _build(self) -> None:
        self.patient = QLineEdit()
        self.patient.setPlaceholderText("Any patient: type a name or MRN")
        self.patient.setClearButtonEnabled(True)
        self.patient.setMinimumWidth(240)
        self.patient_names = QStringListModel(self)
        completer = QCompleter(self.patient_names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setMaxVisibleItems(12)
        self.patient.setCompleter(completer)
        self.user = QComboBox()
        self.user.addItem("Anyone", None)
        self.user.setMinimumWidth(170)
        self.action = QComboBox()
        self.action.addItem("Any action", None)
        self.action.setMinimumWidth(140)
        self.entity = QComboBox()
        self.entity.addItem("Any record", None)
        self.entity.setMinimumWidth(160)
        today = self.ctx.today()
        self.use_from, self.first_day = QCheckBox("From"), self._date_edit(today.replace(day=1))
        self.use_to, self.last_day = QCheckBox("to"), self._date_edit(today)
        self.clear_button = QPushButton("Clear filters")

        bar = QGridLayout()
        bar.setHorizontalSpacing(8)
        bar.addWidget(QLabel("Patient:"), 0, 0)
        bar.addWidget(self.patient, 0, 1)
        bar.addWidget(QLabel("User:"), 0, 2)
        bar.addWidget(self.user, 0, 3)
        bar.addWidget(QLabel("Action:"), 0, 4)
        bar.addWidget(self.action, 0, 5)
        bar.addWidget(QLabel("Record:"), 0, 6)
        bar.addWidget(self.entity, 0, 7)
        dates = QHBoxLayout()
        for widget in (self.use_from, self.first_day, self.use_to, self.last_day):
            dates.addWidget(widget)
        dates.addSpacing(8)
        dates.addWidget(QLabel("(the practice's calendar days)"))
        dates.addStretch(1)
        dates.addWidget(self.clear_button)
        bar.addWidget(QLabel("Dates:"), 1, 0)
        bar.addLayout(dates, 1, 1, 1, 7)
        bar.setColumnStretch(1, 2)
        bar.setColumnStretch(3, 1)
        bar.setColumnStretch(5, 1)
        bar.setColumnStretch(7, 1)

        self.model = AuditTableModel(self.ctx.zone, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        for column, width in enumerate((165, 140, 80, 140, 230, 380, 220)):
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)  # what changed
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.detail = EventDetail(self.ctx.zone)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([520, 220])

        self.newer = QPushButton("◀ Newer")
        self.older = QPushButton("Older ▶")
        self.count = QLabel("Loading…")
        self.count.setStyleSheet("font-weight: 600;")
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Every event the filters match, not just this page")
        self.message = problem_label()
        paging = QHBoxLayout()
        paging.addWidget(self.newer)
        paging.addWidget(self.older)
        paging.addSpacing(12)
        paging.addWidget(self.count)
        paging.addStretch(1)
        paging.addWidget(self.export_button)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(paging)
        layout.addWidget(self.message)
        self._set_dates_enabled()

    def _date_edit(self, day: dt.date) -> QDateEdit:
        edit = QDateEdit(QDate(day.year, day.month, day.day))
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("MM/dd/yyyy")
        return edit

    def _connect_signals(self) -> None:
        self.patient.completer().activated.connect(self._patient_chosen)
        self.patient.editingFinished.connect(self._patient_typed)
        self.patient.textChanged.connect(self._patient_text_changed)
        for combo in (self.user, self.action, self.entity):
            combo.currentIndexChanged.connect(self.reload)
        for box in (self.use_from, self.use_to):
            box.toggled.connect(self._set_dates_enabled)
            box.toggled.connect(self.reload)
        for edit in (self.first_day, self.last_day):
            edit.dateChanged.connect(self._date_changed)
        self.clear_button.clicked.connect(self.clear_filters)
        self.newer.clicked.connect(lambda: self.load_page(self.offset - audit_trail.PAGE_SIZE))
        self.older.clicked.connect(lambda: self.load_page(self.offset + audit_trail.PAGE_SIZE))
        self.export_button.clicked.connect(self.export)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)

    # -- filters -------------------------------------------------------------------

    def current_filter(self) -> AuditFilter:
        return AuditFilter(
            patient_id=self.patient_id,
            actor_id=self.user.currentData(),
            first_day=self.first_day.date().toPython() if self.use_from.isChecked() else None,
            last_day=self.last_day.date().toPython() if self.use_to.isChecked() else None,
            action=self.action.currentData(),
            entity=self.entity.currentData(),
        )

    def _set_dates_enabled(self) -> None:
        self.first_day.setEnabled(self.use_from.isChecked())
        self.last_day.setEnabled(self.use_to.isChecked())

    def _date_changed(self) -> None:
        if self.use_from.isChecked() or self.use_to.isChecked():
            self.reload()

    def _patient_chosen(self, label: str) -> None:
        self._set_patient(self.patients.get(label))

    def _patient_typed(self) -> None:
        """Enter without picking: an exact label or MRN, or the one patient that matches."""
        text = self.patient.text().strip()
        if not text:
            self._set_patient(None)
            return
        if text in self.patients:
            self._set_patient(self.patients[text])
            return
        needle = text.casefold()
        exact = [label for label in self.patients if label.casefold().endswith(f"· {needle}")]
        found = exact or [label for label in self.patients if needle in label.casefold()]
        if len(found) == 1:
            self.patient.setText(found[0])
            self._set_patient(self.patients[found[0]])
        else:
            why = "no patient matches" if not found else f"{len(found)} patients match"
            self._say(f"{why} “{text}”: pick one from the list", problem=True)

    def _patient_text_changed(self, text: str) -> None:
        if not text and self.patient_id is not None:
            self._set_patient(None)

    def _set_patient(self, patient_id: int | None) -> None:
        if patient_id != self.patient_id:
            self.patient_id = patient_id
            self.reload()

    def clear_filters(self) -> None:
        widgets = (self.patient, self.user, self.action, self.entity, self.use_from, self.use_to)
        for widget in widgets:
            widget.blockSignals(True)
        self.patient.clear()
        self.patient_id = None
        for combo in (self.user, self.action, self.entity):
            combo.setCurrentIndex(0)
        self.use_from.setChecked(False)
        self.use_to.setChecked(False)
        for widget in widgets:
            widget.blockSignals(False)
        self._set_dates_enabled()
        self.reload()

    # -- loading -------------------------------------------------------------------

    def load_choices(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor
        self.ctx.tasks.run(
            lambda: audit_trail.filter_choices(db, actor),
            self._choices_loaded,
            self._failed,
            key="audit-choices",
        )

    def _choices_loaded(self, choices: AuditChoices) -> None:
        if self._someone_else():
            return
        self.patients = {patient.label: patient.id for patient in choices.patients}
        self.patient_names.setStringList(list(self.patients))
        for combo, items in (
            (
                self.user,
                [(u.name + ("" if u.active else " (inactive)"), u.id) for u in choices.users],
            ),
            (self.action, [(words(action), action) for action in choices.actions]),
            (self.entity, [(words(entity), entity) for entity in choices.entities]),
        ):
            chosen = combo.currentData()
            combo.blockSignals(True)
            while combo.count() > 1:
                combo.removeItem(1)
            for text, data in items:
                combo.addItem(text, data)
            combo.setCurrentIndex(max(0, combo.findData(chosen)) if chosen is not None else 0)
            combo.blockSignals(False)

    def reload(self) -> None:
        """The filters changed: back to the newest page."""
        self.load_page(0)

    def load_page(self, offset: int) -> None:
        self.loaded = False
        self.offset = max(0, offset)
        self.count.setText("Loading…")
        self.newer.setEnabled(False)
        self.older.setEnabled(False)
        self._say(None)
        db, actor, filters, start = self.ctx.db, self.ctx.actor, self.current_filter(), self.offset
        self.ctx.tasks.run(
            lambda: audit_trail.audit_page(db, actor, filters, start),
            self._page_loaded,
            self._failed,
            key="audit-page",
        )

    def _page_loaded(self, page: AuditPage) -> None:
        if self._someone_else():
            return
        self.page = page
        self.model.set_rows(page.rows)
        if page.rows:
            self.table.selectRow(0)
        else:
            self.detail.show_event(None)
        if page.total:
            first, last = page.offset + 1, page.offset + len(page.rows)
            self.count.setText(f"Events {first:,}–{last:,} of {page.total:,}")
        else:
            self.count.setText("No events match these filters")
        self.newer.setEnabled(page.has_newer)
        self.older.setEnabled(page.has_older)
        self.loaded = True

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        rows = self.model.rows
        self.detail.show_event(rows[current.row()] if 0 <= current.row() < len(rows) else None)

    def _failed(self, error: Exception) -> None:
        self.count.setText("")
        self.export_button.setEnabled(True)
        self._say(str(error), problem=True)
        self.loaded = True

    # -- export --------------------------------------------------------------------

    def export(self) -> None:
        suggested = f"audit-trail-{self.ctx.today():%Y-%m-%d}.csv"
        chosen = Ask.save_path(self, "Export the audit trail", suggested, "CSV (*.csv)")
        if chosen is None:
            return
        db, actor, filters, target = (
            self.ctx.db,
            self.ctx.actor,
            self.current_filter(),
            Path(chosen),
        )
        self.export_button.setEnabled(False)
        self._say("Exporting…")
        self.ctx.tasks.run(
            lambda: audit_trail.export_csv(db, actor, filters, target),
            lambda count: self._exported(count, target),
            self._failed,
        )

    def _exported(self, count: int, target: Path) -> None:
        if self._someone_else():
            return
        self.export_button.setEnabled(True)
        self.load_choices()  # the export is now an action in the trail
        self.load_page(self.offset)
        self._say(f"Exported {count:,} events to {target}")

    def _say(self, text: str | None, problem: bool = False) -> None:
        self.message.setStyleSheet(PROBLEM_STYLE if problem else MESSAGE_STYLE)
        show_problem(self.message, text)

    # -- who is looking ---------------------------------------------------------------

    def _someone_else(self) -> bool:
        """True (and the trail taken off the screen) once another person is signed in."""
        if self.ctx.actor.id == self.opened_for:
            return False
        self.forget()
        return True

    def start_over(self) -> None:
        """For the person signed in now: no filters, fresh choices (or their refusal)."""
        self.forget()
        self.opened_for = self.ctx.actor.id
        self.load_choices()
        self.clear_filters()

    def forget(self) -> None:
        self.model.set_rows(())
        self.detail.show_event(None)
        self.patients = {}
        self.patient_names.setStringList([])
        self.count.clear()
        self.close()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.WindowActivate:
            self._someone_else()
        return super().event(event)

    def done_loading(self) -> bool:
        return self.loaded and not self.ctx.tasks.busy


def open_audit_window(parent: QWidget, ctx: AppContext, window: AuditWindow | None) -> AuditWindow:
    """Show the browser: ``window`` again (newest page) while the same person is signed
    in, else a new one.  The caller keeps the reference (Qt deletes orphans)."""
    if window is None:
        window = AuditWindow(ctx, parent)
    elif window.opened_for != ctx.actor.id:
        window.start_over()
    else:
        window.reload()
    window.show()
    window.raise_()
    window.activateWindow()
    return window


def may_read_audit(ctx: AppContext) -> bool:
    """For the main window's menu: asks the database, so a role taken away counts now."""
    return ctx.actor.id is not None and audit_trail.may_read(ctx.db, ctx.actor)


__all__ = ["Ask", "AuditWindow", "may_read_audit", "open_audit_window"]
