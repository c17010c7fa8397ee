"""Live refresh: what other seats change shows up here within a couple of seconds.

Every ``live/refresh_ms`` (default 2000) a poll reads the audit trail since
the last event seen (``services/change_feed.py``, where the choice of polling
over LISTEN/NOTIFY is explained) on a worker thread, and the main window
refreshes just the patients it touched, through the same ``apply_changes``
that this seat's own changes use.  A new patient, a staff or practice change,
or a very large batch (an import) reloads the whole list instead.  Month
closes and reopens refresh the open time log's read-only state and the month-
end window.

This seat's own changes come back through the feed too.  Refreshing those rows
again costs one small query off the GUI thread; the open patient's record is
only re-shown when what the database holds differs from what is on screen,
and never over unsaved typing.

Polls and connection probes run on their own one-thread :class:`TaskRunner`:
a poll every two seconds must not flash "Working…" in the status bar, and a
connection attempt hanging on a dead network must not hold one of the two
workers that load the list and write PDFs.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from ccmdesk.services.change_feed import FeedBatch, FeedCursor, read_changes, start_cursor
from ccmdesk.services.patient_record import PatientDetail, StaffChoice, load_patient, staff_choices
from ccmdesk.ui.connection import ConnectionMonitor
from ccmdesk.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from ccmdesk.ui.main_window import MainWindow

log = logging.getLogger(__name__)
REFRESH_KEY = "live/refresh_ms"
DEFAULT_REFRESH_MS = 2_000
#: More patients than this in one poll (an import): reload the list instead.
LIST_RELOAD_AT = 200

Found = tuple[FeedBatch, PatientDetail | None, list[StaffChoice] | None]


class LiveRefresh(QObject):
    arrived = Signal(object)  # FeedBatch, once applied (tests and the benchmark)

    def __init__(self, window: MainWindow, interval_ms: int | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.tasks = TaskRunner(self, threads=1)
        self.connection = ConnectionMonitor(window.ctx, self.tasks, window)
        window.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.connection.banner)
        window.stopwatch.connection = self.connection
        self.cursor: FeedCursor | None = None
        self._polling = False
        interval = interval_ms or window.ctx.setting_int(REFRESH_KEY, DEFAULT_REFRESH_MS)
        self.timer = QTimer(self, interval=max(100, interval))
        self.timer.timeout.connect(self.poll)
        self.connection.online_changed.connect(self._online_changed)
        self.connection.saved.connect(window.apply_changes)
        self.connection.message.connect(lambda text: window.statusBar().showMessage(text, 10_000))

    def start(self) -> None:
        """Write Stops kept from last time (before timers are recovered), then follow the feed."""
        self.connection.replay_now()
        self.cursor = start_cursor(self.window.ctx.db)
        self.timer.start()
        self.connection.catch_unhandled()

    def stop(self) -> None:
        """The window closes: no more polls, and none still running lands afterwards."""
        self.timer.stop()
        self.cursor = None
        self.connection.stop()
        self.tasks.wait()

    # -- polling -------------------------------------------------------------------

    def poll(self) -> None:
        if self._polling or self.cursor is None or not self.connection.online:
            return
        self._polling = True
        db, cursor, open_id = self.window.ctx.db, self.cursor, self.window.record.patient_id

        def work() -> Found:
            batch = read_changes(db, cursor, time.monotonic())
            detail = load_patient(db, open_id) if open_id in batch.patient_ids else None
            staff = staff_choices(db) if batch.staff_changed else None
            return batch, detail, staff

        self.tasks.run(work, self._arrived, self._failed, key="live")

    def _failed(self, error: Exception) -> None:
        self._polling = False
        if not self.connection.noticed(error):
            log.error("live refresh failed: %s", type(error).__name__)  # no message: PHI

    def _online_changed(self, online: bool) -> None:
        if online:  # loads that failed meanwhile: start afresh, then follow the feed
            self.window.reload_list()
            self.poll()

    def _arrived(self, found: Found) -> None:
        self._polling = False
        batch, detail, staff = found
        if self.cursor is None:  # stopped meanwhile
            return
        self.cursor = batch.cursor
        if batch.empty:
            return
        self.apply(batch, detail, staff)
        self.arrived.emit(batch)

    # -- applying ------------------------------------------------------------------

    def apply(
        self,
        batch: FeedBatch,
        detail: PatientDetail | None = None,
        staff: list[StaffChoice] | None = None,
    ) -> None:
        window = self.window
        if (
            batch.new_patients
            or batch.practice_changed
            or batch.staff_changed
            or len(batch.patient_ids) > LIST_RELOAD_AT
        ):
            window.reload_list()
        elif batch.patient_ids:
            window.apply_changes(batch.changes)
        if staff is not None and not window.record.has_unsaved():
            window.record.set_staff(staff)
        record = window.record
        if window.month in batch.months and record.patient_id is not None:
            record.time_log.load(record.patient_id, window.month)  # closed: read-only now
        reports = window.reports
        if (
            reports is not None
            and reports.isVisible()
            and (reports.month in batch.months or reports.month.year in batch.fee_years)
        ):
            reports.reload()
        if detail is not None and record.patient_id == detail.id:
            self._show_record(detail)

    def _show_record(self, detail: PatientDetail) -> None:
        """Another seat changed the open patient: show it, keeping anything being typed."""
        window, record = self.window, self.window.record
        if detail == record.detail:
            return  # this seat's own change, already on screen
        record.detail = detail
        record.header.setText(detail.name)
        record.show_figures(window.rows.get(detail.id))
        if not record.overview.dirty:
            record.overview.load(detail)
        record.conditions.load(detail)
        if not any(box.isChecked() for box in record.consent.points):
            record.consent.load(detail, record.month)
        record.care_plan.update_patient(detail)
        if window.stopwatch.opened_id == detail.id:
            window.stopwatch.open_patient(detail.id, detail.name)
