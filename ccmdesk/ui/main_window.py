"""The nurse's workspace: patient list on the left, the open patient and the stopwatch
on the right.  Signals are wired in one place (``_connect_signals``)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, QItemSelectionModel, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStyle,
    QSystemTrayIcon,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.domain.time import Month
from ccmdesk.services import patient_record, time_log
from ccmdesk.services.access import Permission
from ccmdesk.services.changes import Changes
from ccmdesk.services.patient_list import PatientListRow, patient_list
from ccmdesk.services.users import SignedIn
from ccmdesk.ui.audit_window import AuditWindow, may_read_audit, open_audit_window
from ccmdesk.ui.context import AppContext
from ccmdesk.ui.database_dialog import DatabaseDialog
from ccmdesk.ui.dialogs import Preferences, PreferencesDialog, RecoveryDialog, SwitchPatientDialog
from ccmdesk.ui.forms import tell
from ccmdesk.ui.icons import app_icon
from ccmdesk.ui.live_refresh import LiveRefresh
from ccmdesk.ui.lock import DEFAULT_LOCK_MINUTES, LOCK_AFTER_KEY
from ccmdesk.ui.patient_record import PatientRecord
from ccmdesk.ui.patient_table import FILTERS, Column, PatientTableModel
from ccmdesk.ui.practice_dialog import edit_practice, may_edit_settings
from ccmdesk.ui.progress_delegate import MinutesBarDelegate
from ccmdesk.ui.reports_window import ReportsWindow
from ccmdesk.ui.session import UserSession
from ccmdesk.ui.stopwatch import STILL_ON_CALL_KEY, StopwatchPanel

log = logging.getLogger(__name__)
MONTHS_BACK = 12


class CloseWhileRunningDialog:
    STOP, LEAVE, CANCEL = "stop", "leave", "cancel"

    @classmethod
    def ask(cls, parent: QWidget, patient: str) -> str:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Stopwatch running")
        box.setText(f"The stopwatch for {patient} is still running.")
        stop = box.addButton("Stop it and close", QMessageBox.ButtonRole.AcceptRole)
        leave = box.addButton("Close, keep it running", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        return cls.STOP if clicked is stop else cls.LEAVE if clicked is leave else cls.CANCEL


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext, practice_name: str = "") -> None:
        super().__init__()
        self.ctx = ctx
        self.practice_name = practice_name
        self.month = Month.of(ctx.today())
        self.rows: dict[int, PatientListRow] = {}
        self._current_patient: int | None = None
        self._switching = False
        self.loaded = False
        self._list_loading = False
        self._changed_during_load: set[int] = set()
        self.tray: QSystemTrayIcon | None = None
        self.reports: ReportsWindow | None = None
        self.audit_window: AuditWindow | None = None

        self._build_central()  # the session needs the stopwatch and the record
        self.session = UserSession(self)  # who is signed in: user menu, lock, switch
        self._build_actions()
        self._build_toolbar()
        self._build_tray()
        self._connect_signals()
        self._restore_layout()
        self.session.set_user(ctx.user)  # also offers only what they may do

    @property
    def locked(self) -> bool:
        return self.session.locked

    def set_user(self, user: SignedIn | None) -> None:
        """Someone else (or the same person, with fresh rights) works at this window."""
        self.session.set_user(user)

    # -- building ------------------------------------------------------------------

    def _build_actions(self) -> None:
        self.toggle_action = QAction("Start / stop stopwatch", self)
        self.toggle_action.setShortcut(QKeySequence("Ctrl+T"))
        self.find_action = QAction("Find patient", self)
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        self.add_entry_action = QAction("Add time entry…", self)
        self.refresh_action = QAction("Refresh", self)
        self.refresh_action.setShortcut(QKeySequence.StandardKey.Refresh)
        self.reports_action = QAction("Billing, reports and month close…", self)
        self.reports_action.setShortcut(QKeySequence("Ctrl+E"))
        self.preferences_action = QAction("Preferences…", self)
        self.database_action = QAction("Database…", self)  # administrators (EDIT_SETTINGS)
        self.practice_action = QAction("Practice settings…", self)  # administrators
        self.audit_action = QAction("Audit trail…", self)  # administrators (READ_AUDIT)
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.refresh_action)
        file_menu.addAction(self.preferences_action)
        file_menu.addAction(self.database_action)
        file_menu.addAction(self.practice_action)
        file_menu.addAction(self.audit_action)
        file_menu.aboutToShow.connect(self._offer_admin_actions)
        file_menu.addSeparator()
        self.session.add_to_menu(file_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        patient_menu = menu.addMenu("&Patient")
        patient_menu.addAction(self.find_action)
        patient_menu.addAction(self.toggle_action)
        patient_menu.addAction(self.add_entry_action)
        month_menu = menu.addMenu("&Month end")
        month_menu.setToolTipsVisible(True)  # says why a disabled action is not for you
        month_menu.addAction(self.reports_action)
        patient_menu.setToolTipsVisible(True)

    def _build_toolbar(self) -> None:
        bar = self.addToolBar("Month")
        bar.setObjectName("month-toolbar")
        bar.setMovable(False)
        bar.addWidget(self.session.button)  # "Signed in as …": password, switch, lock
        bar.addSeparator()
        self.month_combo = QComboBox()
        month = Month.of(self.ctx.today())
        for _ in range(MONTHS_BACK + 1):
            self.month_combo.addItem(f"{month.first_day:%B %Y}", month)
            month = month.previous()
        bar.addWidget(QLabel(" Month: "))
        bar.addWidget(self.month_combo)
        self.days_left = QLabel()
        self.days_left.setStyleSheet("font-weight: 600; padding-left: 10px;")
        bar.addWidget(self.days_left)
        self._show_days_left()

    def _build_central(self) -> None:
        self.search = QLineEdit()
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText("Search name, MRN, MBI, date of birth or phone  (Ctrl+F)")
        self.search.setToolTip("Find a patient as you type (Ctrl+F)")
        self.filter_group = QButtonGroup(self)
        filters = QHBoxLayout()
        filters.setSpacing(4)
        for position, name in enumerate(FILTERS):
            button = QToolButton()
            button.setText(name)
            button.setCheckable(True)
            button.setChecked(position == 0)
            self.filter_group.addButton(button, position)
            filters.addWidget(button)
        filters.addStretch(1)
        self.model = PatientTableModel(self.ctx.zone, self.ctx.today, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(Column.NAME, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)  # one line a patient; long reasons are in the tooltip
        self.table.setItemDelegateForColumn(Column.MINUTES, MinutesBarDelegate(self.table))
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionsMovable(True)
        widths = {
            Column.NAME: 170,
            Column.DOB: 112,
            Column.MINUTES: 128,
            Column.NEEDED: 118,
            Column.STATUS: 210,
            Column.CONSENT: 92,
            Column.CHRONIC: 62,
            Column.LAST: 96,
            Column.PRACTITIONER: 140,
        }
        for column, width in widths.items():
            self.table.setColumnWidth(column, width)
        self.count = QLabel("Loading patients…")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 6, 6)
        left_layout.addWidget(self.search)
        left_layout.addLayout(filters)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.count)

        self.stopwatch = StopwatchPanel(self.ctx)
        self.stopwatch.setObjectName("stopwatch")
        self.stopwatch.setStyleSheet(
            "#stopwatch { background: #f4f7fb; border: 1px solid #c9d3e0; border-radius: 8px; }"
        )
        self.stopwatch.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.record = PatientRecord(self.ctx)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(6, 6, 6, 6)
        right_layout.addWidget(self.stopwatch)
        right_layout.addWidget(self.record, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.setCentralWidget(self.splitter)
        self.statusBar().showMessage("Starting…")

    def _build_tray(self) -> None:
        if QSystemTrayIcon.isSystemTrayAvailable():
            icon = app_icon()
            if icon.isNull():
                icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
            self.tray = QSystemTrayIcon(icon, self)
            self.tray.setToolTip("ccmdesk")

    def _connect_signals(self) -> None:
        self.toggle_action.triggered.connect(self.stopwatch.toggle)
        self.find_action.triggered.connect(self.focus_search)
        self.add_entry_action.triggered.connect(self.record.time_log.add)
        self.refresh_action.triggered.connect(self.reload_list)
        self.quit_action.triggered.connect(self.close)
        self.preferences_action.triggered.connect(self.edit_preferences)
        self.reports_action.triggered.connect(self.open_reports)
        self.audit_action.triggered.connect(self.open_audit_trail)
        self.practice_action.triggered.connect(self.edit_practice_settings)
        self.search.textChanged.connect(self.model.set_search)
        self.model.modelReset.connect(self._after_model_reset)
        self.filter_group.idClicked.connect(self._filter_changed)
        self.month_combo.currentIndexChanged.connect(self._month_changed)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.stopwatch.changed.connect(self.apply_changes)
        self.stopwatch.running_changed.connect(self._running_changed)
        self.stopwatch.tick.connect(self._show_title)
        self.stopwatch.problem.connect(lambda text: tell(self, "Stopwatch", text))
        self.record.changed.connect(self.apply_changes)
        self.ctx.tasks.busy_changed.connect(self._busy)
        self.database_action.triggered.connect(lambda: DatabaseDialog.ask(self, self.ctx))
        self.live = LiveRefresh(self)  # other seats' changes; the connection banner

    # -- start-up --------------------------------------------------------------------

    def start(self) -> None:
        """Load the people and the list (off the GUI thread); start watching for idleness."""
        self.live.start()  # first: writes Stops kept while the server was away
        self.record.set_staff(patient_record.staff_choices(self.ctx.db))
        self.reload_list()
        self.session.start()

    def recover_timers(self) -> None:
        """Offer to close stopwatches this user left running when ccmdesk stopped."""
        if self.ctx.staff_id is None:
            return
        for entry in time_log.running_timers(self.ctx.db, self.ctx.staff_id):
            name = self._patient_name(entry.patient_id)
            choice = RecoveryDialog.ask(self, entry, name, self.ctx.zone)
            changes = time_log.recover_timer(
                self.ctx.db, entry.id, choice, self.ctx.actor, self.ctx.clock()
            )
            self.apply_changes(changes)
            self.statusBar().showMessage(f"Stopwatch for {name}: {choice.replace('_', ' ')}", 8000)

    # -- the list ------------------------------------------------------------------

    def reload_list(self) -> None:
        month, db, now = self.month, self.ctx.db, self.ctx.clock()
        self.statusBar().showMessage(f"Loading {month}…")
        self._changed_during_load = set()
        self._list_loading = True
        self.ctx.tasks.run(
            lambda: patient_list(db, month, now), self._list_loaded, self._failed, key="list"
        )

    def _list_loaded(self, rows: list[PatientListRow]) -> None:
        self.rows = {row.patient_id: row for row in rows}
        self.model.set_rows(rows)
        self.loaded = True
        self._list_loading = False
        self.statusBar().showMessage(f"{len(rows)} patients, {self.month}", 5000)
        if self._changed_during_load:  # the list was read before these changes
            self._refresh_rows(self._changed_during_load)

    def apply_changes(self, changes: Changes) -> None:
        """Refresh just the patients a change touched."""
        if not isinstance(changes, Changes) or not changes.patient_ids:
            return
        if changes.months and self.month not in changes.months:
            return
        if self._list_loading:
            self._changed_during_load |= changes.patient_ids
        self._refresh_rows(changes.patient_ids)

    def _refresh_rows(self, patient_ids: set[int] | frozenset[int]) -> None:
        # Keyed by patient: a newer refresh of the same patients supersedes an
        # older one still running, so a stale result can never land last.
        ids, month, db, now = set(patient_ids), self.month, self.ctx.db, self.ctx.clock()
        key = "rows:" + ",".join(map(str, sorted(ids)))
        self.ctx.tasks.run(
            lambda: patient_list(db, month, now, ids), self._rows_updated, self._failed, key=key
        )

    def _rows_updated(self, rows: list[PatientListRow]) -> None:
        for row in rows:
            self.rows[row.patient_id] = row
        self.model.update_rows(rows)
        if self.record.patient_id in {row.patient_id for row in rows}:
            self.record.time_log.load(self.record.patient_id, self.month)  # type: ignore[arg-type]

    def _after_model_reset(self) -> None:
        """Keep the open patient selected and the count and figures current."""
        self.count.setText(f"Showing {self.model.rowCount()} of {self.model.total()} patients")
        if self._current_patient is not None:
            row = self.model.row_of(self._current_patient)
            if row is not None:
                self._switching = True
                self.table.selectionModel().setCurrentIndex(
                    self.model.index(row, 0),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
                self._switching = False
        self._show_figures()

    def _filter_changed(self, position: int) -> None:
        self.model.set_quick_filter(list(FILTERS)[position])

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # -- opening a patient ----------------------------------------------------------

    def _row_changed(self, current, _previous) -> None:  # type: ignore[no-untyped-def]
        if self._switching or not current.isValid():
            return
        row = self.model.patient_row(current.row())
        if row.patient_id != self._current_patient:
            self.open_patient(row.patient_id)

    def open_patient(self, patient_id: int) -> bool:
        """Show a patient; asks first when a stopwatch runs for another one."""
        running = self.stopwatch.running_patient_id
        if running is not None and running != patient_id:
            answer = SwitchPatientDialog.ask(
                self, self.stopwatch.running_patient, self._patient_name(patient_id)
            )
            if answer == SwitchPatientDialog.CANCEL:
                self._after_model_reset()  # put the selection back
                return False
            if answer == SwitchPatientDialog.STOP:
                self.stopwatch.stop()
        if self.record.has_unsaved() and not self.record.overview.save():
            self._after_model_reset()
            return False
        self._current_patient = patient_id
        self.record.show_patient(patient_id, self.month)
        name = self.record.detail.name if self.record.detail else ""
        self.stopwatch.open_patient(patient_id, name)
        self._show_figures()
        self._after_model_reset()
        return True

    def _show_figures(self) -> None:
        row = self.rows.get(self._current_patient) if self._current_patient else None
        self.record.show_figures(row)
        if row is None:
            self.stopwatch.set_figures("")
            return
        text = f"This month: {row.minutes} min"
        if row.minutes_to_next is not None and row.next_codes:
            text += f" · {row.minutes_to_next} more for {row.next_codes}"
        text += f" · {self.month.days_left(self.ctx.today())} days left"
        self.stopwatch.set_figures(text)

    def _patient_name(self, patient_id: int) -> str:
        row = self.rows.get(patient_id)
        if row is not None:
            return f"{row.first_name} {row.last_name}"
        return patient_record.load_patient(self.ctx.db, patient_id).name

    # -- month, staff, running state ---------------------------------------------------

    def _month_changed(self) -> None:
        self.month = self.month_combo.currentData()
        self._show_days_left()
        if self._current_patient is not None:
            self.record.show_patient(self._current_patient, self.month)
        self.reload_list()

    def _show_days_left(self) -> None:
        days = self.month.days_left(self.ctx.today())
        self.days_left.setText(
            f"{days} day{'s' if days != 1 else ''} left in {self.month.first_day:%B}"
            if days
            else "Month ended"
        )

    def _running_changed(self, running: bool) -> None:
        if self.tray is not None:
            self.tray.setVisible(running)
        self._show_title()

    def _show_title(self, clock_text: str = "") -> None:
        base = f"ccmdesk — {self.practice_name}" if self.practice_name else "ccmdesk"
        if self.locked:  # the title bar and the tray are public: no patient's name
            title = f"Locked — {base}"
            if self.tray is not None:
                self.tray.setToolTip("ccmdesk is locked")
        elif self.stopwatch.running:
            text = clock_text or "0:00:00"
            title = f"● {text} {self.stopwatch.running_patient} — {base}"
            if self.tray is not None:
                self.tray.setToolTip(f"Timing {self.stopwatch.running_patient}: {text}")
        else:
            title = base
        self.setWindowTitle(title)

    def _busy(self, busy: bool) -> None:
        if busy:
            self.statusBar().showMessage("Working…")
        elif self.statusBar().currentMessage() == "Working…":
            self.statusBar().clearMessage()

    def _failed(self, error: Exception) -> None:
        if self.live.connection.noticed(error):
            return  # the banner says it
        log.error("background task failed: %s", type(error).__name__)
        self.statusBar().showMessage(f"Could not load: {error}", 15000)

    def open_reports(self) -> ReportsWindow:
        """The month-end window (kept referenced: Qt would delete an orphan)."""
        if self.reports is None:
            self.reports = ReportsWindow(self.ctx, self)
            self.reports.month_status_changed.connect(self._month_status_changed)
        self.reports.show()
        self.reports.raise_()
        return self.reports

    def open_audit_trail(self) -> AuditWindow:
        """The administrator's audit-trail browser (kept referenced: Qt deletes orphans)."""
        self.audit_window = open_audit_window(self, self.ctx, self.audit_window)
        return self.audit_window

    def edit_practice_settings(self) -> None:
        saved = edit_practice(self, self.ctx)
        if saved is not None:
            self.practice_name = saved.name
            self._show_title()

    def _offer_admin_actions(self) -> None:
        """Asked of the database as the menu opens, so a role taken away counts at once."""
        self.audit_action.setEnabled(may_read_audit(self.ctx))
        self.practice_action.setEnabled(may_edit_settings(self.ctx))

    def _month_status_changed(self, month: Month) -> None:
        if month == self.month and self.record.patient_id is not None:
            self.record.time_log.load(self.record.patient_id, self.month)

    def edit_preferences(self) -> None:
        current = Preferences(
            ask_after_minutes=self.ctx.setting_int(STILL_ON_CALL_KEY, 60),
            lock_after_minutes=self.ctx.setting_int(LOCK_AFTER_KEY, DEFAULT_LOCK_MINUTES),
            may_change_lock=self.ctx.may(Permission.EDIT_SETTINGS),
        )
        chosen = PreferencesDialog.ask(self, current)
        if chosen is not None:
            self.ctx.settings.setValue(STILL_ON_CALL_KEY, chosen.ask_after_minutes)
            if current.may_change_lock:
                self.ctx.settings.setValue(LOCK_AFTER_KEY, chosen.lock_after_minutes)

    # -- layout memory and closing -------------------------------------------------------

    def _restore_layout(self) -> None:
        settings = self.ctx.settings
        geometry = settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 860)
        splitter = settings.value("window/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        else:
            width = self.width()
            self.splitter.setSizes([int(width * 0.53), width - int(width * 0.53)])
        header = settings.value("window/patient_columns")
        if isinstance(header, QByteArray):
            self.table.horizontalHeader().restoreState(header)

    def save_layout(self) -> None:
        settings = self.ctx.settings
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/splitter", self.splitter.saveState())
        settings.setValue("window/patient_columns", self.table.horizontalHeader().saveState())
        settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.locked and self.stopwatch.running:
            # Closed while locked (shutdown, log-out): ask nothing that names a patient;
            # the stopwatch stays running and is offered at the owner's next sign-in.
            self.stopwatch.beat()
        elif self.stopwatch.running:
            answer = CloseWhileRunningDialog.ask(self, self.stopwatch.running_patient)
            if answer == CloseWhileRunningDialog.CANCEL:
                event.ignore()
                return
            if answer == CloseWhileRunningDialog.STOP:
                self.stopwatch.stop()
            else:
                self.stopwatch.beat()
        if self.record.has_unsaved():
            self.record.overview.save()
        self.record.care_plan.flush()  # a draft typed in the last second
        self.save_layout()
        self.session.stop()  # no idle lock for a closed window
        self.live.stop()
        self.ctx.tasks.wait()
        event.accept()
