"""The stopwatch: Start writes a running entry at once, Stop writes the finished one.

The display is ``now - start`` read from the (injected) clock on every
repaint, never a count of timer ticks, so it cannot drift.  While running,
a heartbeat is written every 15 seconds (crash recovery stops "at the last
moment the app was alive"), the activity and note are saved as they are typed,
and after a configurable time (default 60 minutes) the panel asks whether the
call is still going on.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.domain.vocabulary import ACTIVITY_LABELS, ACTIVITY_TYPES
from ccmdesk.services import time_log
from ccmdesk.services.changes import Changes
from ccmdesk.services.connectivity import is_connection_error
from ccmdesk.services.time_log import EntryView, TimeEntryError
from ccmdesk.ui import fmt
from ccmdesk.ui.context import AppContext

if TYPE_CHECKING:
    from ccmdesk.ui.connection import ConnectionMonitor

HEARTBEAT_MS = 15_000
REPAINT_MS = 200
SAVE_TYPING_MS = 800
STILL_ON_CALL_KEY = "stopwatch/ask_after_minutes"

START_STYLE = (
    "QPushButton { background: #1b7f3b; color: white; font-size: 20px; font-weight: 600;"
    " border-radius: 8px; padding: 10px 22px; }"
    " QPushButton:disabled { background: #9bb8a4; }"
)
STOP_STYLE = (
    "QPushButton { background: #c62828; color: white; font-size: 20px; font-weight: 600;"
    " border-radius: 8px; padding: 10px 22px; }"
)


class StopwatchPanel(QWidget):
    changed = Signal(object)  # Changes
    running_changed = Signal(bool)
    tick = Signal(str)  # the running time as h:mm:ss, for the title bar and tray
    problem = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.entry: EntryView | None = None  # the running entry
        self.running_patient = ""
        self.opened_id: int | None = None
        self.opened_name = ""
        self.still_on_call_box: QMessageBox | None = None
        #: Set by the main window: keeps a Stop the database cannot take (ui/connection.py).
        self.connection: ConnectionMonitor | None = None
        self._asked_at_minutes = 0

        self.who = QLabel("Select a patient")
        self.who.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.time = QLabel("0:00:00")
        font = QFont()
        font.setPointSize(30)
        font.setBold(True)
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.time.setFont(font)
        self.time.setMinimumWidth(190)
        self.button = QPushButton("Start")
        self.button.setMinimumHeight(52)
        self.button.setMinimumWidth(170)
        self.button.clicked.connect(self.toggle)
        self.activity = QComboBox()
        for key in ACTIVITY_TYPES:
            self.activity.addItem(ACTIVITY_LABELS[key], key)
        self.activity.setCurrentIndex(ACTIVITY_TYPES.index("phone_call"))
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("Note: what was done (may be typed while the clock runs)")
        self.note.setFixedHeight(58)
        self.figures = QLabel("")
        self.figures.setStyleSheet("color: #444;")

        top = QHBoxLayout()
        top.addWidget(self.time)
        top.addStretch(1)
        top.addWidget(self.button)
        middle = QHBoxLayout()
        middle.addWidget(QLabel("Activity"))
        middle.addWidget(self.activity, 1)
        middle.addSpacing(12)
        middle.addWidget(self.figures, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.who)
        layout.addLayout(top)
        layout.addLayout(middle)
        layout.addWidget(self.note)

        self._repaint = QTimer(self, interval=REPAINT_MS, timeout=self._show_time)
        self._heartbeat = QTimer(self, interval=HEARTBEAT_MS, timeout=self.beat)
        self._save_typing = QTimer(self, singleShot=True, interval=SAVE_TYPING_MS)
        self._save_typing.timeout.connect(self.save_details)
        self.note.textChanged.connect(self._typing)
        self.activity.currentIndexChanged.connect(self._typing)
        self._show_idle()

    # -- state ---------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.entry is not None

    @property
    def running_patient_id(self) -> int | None:
        return self.entry.patient_id if self.entry else None

    def open_patient(self, patient_id: int | None, name: str) -> None:
        """The patient shown in the record (the one Start would time)."""
        self.opened_id, self.opened_name = patient_id, name
        if not self.running:
            self._show_idle()
        else:
            self._show_running()

    def set_figures(self, text: str) -> None:
        self.figures.setText(text)

    def resume(self, entry: EntryView, patient_name: str) -> None:
        """Show a stopwatch that is already running (kept after a switch, or recovered)."""
        self.entry, self.running_patient = entry, patient_name
        self._asked_at_minutes = 0
        self.activity.blockSignals(True)
        self.activity.setCurrentIndex(ACTIVITY_TYPES.index(entry.activity))
        self.activity.blockSignals(False)
        self.note.blockSignals(True)
        self.note.setPlainText(entry.note)
        self.note.blockSignals(False)
        self._start_timers()

    # -- actions -------------------------------------------------------------------

    def toggle(self) -> None:
        if self.running:
            self.stop()
        else:
            self.start()

    def start(self) -> None:
        if self.running or self.opened_id is None:
            return
        if self.ctx.staff_id is None:
            self.problem.emit("Sign in before starting the stopwatch.")
            return
        try:
            changes = time_log.start_timer(
                self.ctx.db,
                self.opened_id,
                self.ctx.staff_id,
                self.ctx.actor,
                activity=self.activity.currentData(),
                note=self.note.toPlainText(),
                now=self.ctx.clock(),
            )
        except TimeEntryError as error:
            self.problem.emit(str(error))
            return
        running = time_log.running_timers(self.ctx.db, self.ctx.staff_id)
        entry = next(e for e in running if e.id == changes.created_id)
        self.resume(entry, self.opened_name)
        self.changed.emit(changes)

    def stop(self, at_last_heartbeat: bool = False) -> Changes | None:
        if self.entry is None:
            return None
        self._save_typing.stop()
        clicked = self.ctx.clock()
        activity, note = self.activity.currentData(), self.note.toPlainText().strip()
        try:
            if self._reachable():
                changes = time_log.stop_timer(
                    self.ctx.db,
                    self.entry.id,
                    self.ctx.actor,
                    activity=activity,
                    note=note,
                    now=clicked,
                )
            else:
                changes = self._keep_stop(activity, note, clicked)
        except time_log.NotRunningError as error:  # stopped at another seat; its time is saved
            self.problem.emit(str(error))
            changes = Changes(frozenset({self.entry.patient_id}))
        except TimeEntryError as error:
            self.problem.emit(str(error))
            return None
        except Exception as error:  # the database gone: keep the Stop; anything else: raise
            if self.connection is None or not is_connection_error(error):
                raise
            changes = self._keep_stop(activity, note, clicked)
        self.entry = None
        self.running_patient = ""
        self._repaint.stop()
        self._heartbeat.stop()
        self._close_question()
        self.note.blockSignals(True)
        self.note.clear()
        self.note.blockSignals(False)
        self._show_idle()
        self.running_changed.emit(False)
        self.changed.emit(changes)
        return changes

    def beat(self) -> None:
        if self.entry is not None and self._reachable():
            try:
                time_log.heartbeat(self.ctx.db, self.entry.id, self.ctx.clock())
            except Exception as error:  # a heartbeat missed while offline is harmless
                if self.connection is None or not self.connection.noticed(error):
                    raise

    def save_details(self) -> None:
        """Write the activity and note typed so far (nothing typed is lost in a crash)."""
        if self.entry is None or not self._reachable():
            return  # offline: what was typed stays on screen and is saved with Stop
        try:
            time_log.save_running_details(
                self.ctx.db, self.entry.id, self.activity.currentData(), self.note.toPlainText()
            )
        except TimeEntryError as error:
            self.problem.emit(str(error))
        except Exception as error:  # offline: kept on screen, saved with Stop
            if self.connection is None or not self.connection.noticed(error):
                raise

    def _reachable(self) -> bool:
        return self.connection is None or self.connection.online

    def _keep_stop(self, activity: str, note: str, clicked: dt.datetime) -> Changes:
        """The database is away: keep the Stop; it is written, ending at the click, later."""
        assert self.entry is not None and self.connection is not None
        self.connection.keep_stop(self.entry, self.running_patient, activity, note, clicked)
        return Changes()  # nothing saved yet

    def _typing(self) -> None:
        if self.running:
            self._save_typing.start()

    # -- display -------------------------------------------------------------------

    def elapsed_seconds(self) -> float:
        if self.entry is None:
            return 0.0
        return (self.ctx.clock() - self.entry.start).total_seconds()

    def _start_timers(self) -> None:
        self._repaint.start()
        self._heartbeat.start()
        self._show_running()
        self.running_changed.emit(True)

    def _show_time(self) -> None:
        seconds = self.elapsed_seconds()
        text = fmt.clock(seconds)
        self.time.setText(text)
        self.tick.emit(text)
        ask_after = self.ctx.setting_int(STILL_ON_CALL_KEY, 60)
        minutes = int(seconds // 60)
        if ask_after > 0 and minutes >= ask_after + self._asked_at_minutes:
            self._asked_at_minutes = minutes  # ask again after as long again
            self._ask_still_on_call()

    def _show_idle(self) -> None:
        self.time.setText("0:00:00")
        self.time.setStyleSheet("color: #555;")
        self.button.setText("▶  Start call")
        self.button.setStyleSheet(START_STYLE)
        self.button.setEnabled(self.opened_id is not None)
        if self.opened_id is None:
            self.who.setText("Select a patient to start the stopwatch")
        else:
            self.who.setText(f"Ready: {self.opened_name}")
        self.button.setToolTip("Start the stopwatch for this patient (Ctrl+T)")

    def _show_running(self) -> None:
        self.time.setStyleSheet("color: #c62828;")
        self.button.setText("■  Stop")
        self.button.setStyleSheet(STOP_STYLE)
        self.button.setEnabled(True)
        self.button.setToolTip(f"Stop the stopwatch for {self.running_patient} (Ctrl+T)")
        elsewhere = self.opened_id is not None and self.opened_id != self.running_patient_id
        suffix = f"  (you are viewing {self.opened_name})" if elsewhere else ""
        self.who.setText(f"● Timing {self.running_patient}{suffix}")
        self._show_time()

    # -- "still on the call?" --------------------------------------------------------

    def _ask_still_on_call(self) -> None:
        self._close_question()
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Still on the call?")
        box.setText(
            f"The stopwatch for {self.running_patient} has been running for "
            f"{fmt.clock(self.elapsed_seconds())}. Are you still on the call?"
        )
        keep = box.addButton("Yes, keep timing", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("No, stop now", QMessageBox.ButtonRole.DestructiveRole)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.buttonClicked.connect(lambda button: None if button is keep else self.stop())
        self.still_on_call_box = box
        box.open()

    def _close_question(self) -> None:
        if self.still_on_call_box is not None:
            self.still_on_call_box.close()
            self.still_on_call_box.deleteLater()
            self.still_on_call_box = None
