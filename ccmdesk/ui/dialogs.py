"""Small questions the window asks.  Each has an ``ask()`` class method, so tests
answer it by replacing ``ask`` instead of driving a modal dialog."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.domain.time import LocalTimeError, local_to_utc
from ccmdesk.domain.vocabulary import ACTIVITY_LABELS, ACTIVITY_TYPES
from ccmdesk.services.time_log import EntryView
from ccmdesk.ui import fmt


class SwitchPatientDialog:
    """Another patient is being opened while the stopwatch runs."""

    STOP, KEEP, CANCEL = "stop", "keep", "cancel"

    @classmethod
    def ask(cls, parent: QWidget, timing: str, opening: str) -> str:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Stopwatch running")
        box.setText(f"The stopwatch is running for {timing}.")
        box.setInformativeText(f"Open {opening} and…")
        stop = box.addButton(f"Stop timing {timing}", QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton(f"Keep timing {timing}", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        return cls.STOP if clicked is stop else cls.KEEP if clicked is keep else cls.CANCEL


class RecoveryDialog:
    """A stopwatch was left running when ccmdesk stopped (crash, power loss)."""

    @classmethod
    def ask(cls, parent: QWidget, entry: EntryView, patient: str, zone: dt.tzinfo) -> str:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("A stopwatch was still running")
        alive = entry.heartbeat or entry.start
        box.setText(
            f"The stopwatch for {patient} started {fmt.local_day(entry.start, zone)} at "
            f"{fmt.local_time(entry.start, zone)} was still running when ccmdesk stopped."
        )
        box.setInformativeText(
            f"ccmdesk was last seen running at {fmt.local_time(alive, zone)} "
            f"({fmt.clock((alive - entry.start).total_seconds())} after the start)."
        )
        last = box.addButton(
            f"Stop at {fmt.local_time(alive, zone)} (last seen)", QMessageBox.ButtonRole.AcceptRole
        )
        now = box.addButton("Stop now", QMessageBox.ButtonRole.ActionRole)
        box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(last)
        box.exec()
        clicked = box.clickedButton()
        return "last_alive" if clicked is last else "now" if clicked is now else "discard"


class DeleteReasonDialog:
    @classmethod
    def ask(cls, parent: QWidget, description: str) -> str | None:
        dialog = QDialog(parent)
        dialog.setWindowTitle("Delete time entry")
        layout = QVBoxLayout(dialog)
        layout.addWidget(QLabel(f"Delete {description}?\nThe entry is kept, marked deleted."))
        reason = QLineEdit()
        reason.setPlaceholderText("Why? (required, e.g. logged for the wrong patient)")
        layout.addWidget(reason)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        layout.addWidget(buttons)
        if dialog.exec() != QDialog.DialogCode.Accepted or not reason.text().strip():
            return None
        return reason.text().strip()


class EntryDialog(QDialog):
    """Add or edit an entry: date, start time, minutes (or end time), activity, note."""

    def __init__(
        self,
        parent: QWidget,
        zone: dt.tzinfo,
        entry: EntryView | None = None,
        today: dt.date | None = None,
    ) -> None:
        super().__init__(parent)
        self.zone = zone
        self.setWindowTitle("Edit time entry" if entry else "Add time entry")
        form = QFormLayout(self)
        self.date = QDateEdit(calendarPopup=True)
        self.date.setDisplayFormat("MM/dd/yyyy")
        self.start = QTimeEdit()
        self.start.setDisplayFormat("h:mm AP")
        self.minutes = QSpinBox()
        self.minutes.setRange(1, 24 * 60)
        self.minutes.setSuffix(" min")
        self.activity = QComboBox()
        for key in ACTIVITY_TYPES:
            self.activity.addItem(ACTIVITY_LABELS[key], key)
        self.note = QPlainTextEdit()
        self.note.setFixedHeight(70)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #b00020;")
        self.problem.setWordWrap(True)
        form.addRow("Date", self.date)
        form.addRow("Start", self.start)
        form.addRow("Length", self.minutes)
        form.addRow("Activity", self.activity)
        form.addRow("Note", self.note)
        form.addRow(self.problem)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._accept_if_valid)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        if entry is not None:
            local = entry.start.astimezone(zone)
            self.date.setDate(local.date())
            self.start.setTime(local.time().replace(microsecond=0))
            self.minutes.setValue(max(1, round(entry.seconds / 60)))
            self.activity.setCurrentIndex(ACTIVITY_TYPES.index(entry.activity))
            self.note.setPlainText(entry.note)
        else:
            self.date.setDate(today or dt.date.today())
            self.start.setTime(dt.time(9, 0))
            self.minutes.setValue(10)
            self.activity.setCurrentIndex(ACTIVITY_TYPES.index("care_coordination"))

    def values(self) -> dict[str, object]:
        """start/end (UTC), activity, note; raises ValueError with a plain message."""
        local = dt.datetime.combine(self.date.date().toPython(), self.start.time().toPython())
        try:
            start = local_to_utc(local, self.zone)
        except LocalTimeError as error:
            raise ValueError(str(error)) from None
        return {
            "start": start,
            "end": start + dt.timedelta(minutes=self.minutes.value()),
            "activity": self.activity.currentData(),
            "note": self.note.toPlainText().strip(),
        }

    def _accept_if_valid(self) -> None:
        try:
            self.values()
        except ValueError as error:
            self.problem.setText(str(error))
            return
        self.accept()

    @classmethod
    def ask(
        cls,
        parent: QWidget,
        zone: dt.tzinfo,
        entry: EntryView | None = None,
        today: dt.date | None = None,
    ) -> dict[str, object] | None:
        dialog = cls(parent, zone, entry, today)
        return dialog.values() if dialog.exec() == QDialog.DialogCode.Accepted else None


@dataclass(frozen=True)
class Preferences:
    """This computer's preferences, as the dialog shows and returns them."""

    ask_after_minutes: int = 60
    lock_after_minutes: int = 10
    #: The auto-lock time is a safeguard: only an administrator changes it.
    may_change_lock: bool = True


class PreferencesDialog(QDialog):
    """This computer's preferences (kept in settings.ini in the user data folder)."""

    def __init__(self, parent: QWidget, current: Preferences) -> None:
        super().__init__(parent)
        self.current = current
        self.setWindowTitle("Preferences")
        form = QFormLayout(self)
        self.ask_after = QSpinBox()
        self.ask_after.setRange(0, 8 * 60)
        self.ask_after.setSuffix(" min")
        self.ask_after.setSpecialValueText("never")
        self.ask_after.setValue(current.ask_after_minutes)
        form.addRow("Ask “still on the call?” after", self.ask_after)
        self.lock_after = QSpinBox()
        self.lock_after.setRange(1, 4 * 60)
        self.lock_after.setSuffix(" min")
        self.lock_after.setValue(current.lock_after_minutes)
        self.lock_after.setEnabled(current.may_change_lock)
        self.lock_after.setToolTip(
            "Without a key press or a click for this long, ccmdesk hides patients until "
            "the password is typed again (a running stopwatch keeps running)."
            if current.may_change_lock
            else "Only an administrator changes the auto-lock time."
        )
        form.addRow("Lock when idle for", self.lock_after)
        if not current.may_change_lock:
            note = QLabel("Set by an administrator")
            note.setStyleSheet("color: #555; font-size: 12px;")
            form.addRow("", note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def value(self) -> Preferences:
        return replace(
            self.current,
            ask_after_minutes=self.ask_after.value(),
            lock_after_minutes=self.lock_after.value(),
        )

    @classmethod
    def ask(cls, parent: QWidget, current: Preferences) -> Preferences | None:
        dialog = cls(parent, current)
        return dialog.value() if dialog.exec() == QDialog.DialogCode.Accepted else None
