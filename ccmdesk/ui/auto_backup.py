"""The daily backup while the window is open: at start, then every hour until one exists today.

The copy runs on ``ctx.tasks`` (off the GUI thread); the service decides
whether one is due (services/backup.py ``backup_if_due``), so an hourly check
costs a directory listing.  A failed backup is said in the status bar and
written to the log, since a practice must not go on unknowingly without one.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMainWindow

from ccmdesk.services.backup import BackupError, backup_if_due
from ccmdesk.ui.context import AppContext

log = logging.getLogger(__name__)

HOUR_MS = 60 * 60 * 1000


class DailyBackups(QObject):
    """Owned by the window, so its timer stops when the window goes."""

    def __init__(
        self,
        window: QMainWindow,
        ctx: AppContext,
        backups: Path | None = None,
        interval_ms: int = HOUR_MS,
    ) -> None:
        super().__init__(window)
        self.window, self.ctx, self.backups = window, ctx, backups
        self.running = False
        self.last: Path | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)

    def start(self) -> None:
        self.timer.start()
        QTimer.singleShot(0, self.check)

    def check(self) -> None:
        """Start today's backup on a worker unless one is running already."""
        if self.running or self.ctx.db.path is None:
            return
        self.running = True
        db, now, backups = self.ctx.db, self.ctx.clock(), self.backups
        self.ctx.tasks.run(
            lambda: backup_if_due(db, now, backups), self._done, self._failed, key="daily-backup"
        )

    def _done(self, written: Path | None) -> None:
        self.running = False
        if written is not None:
            self.last = written
            self.window.statusBar().showMessage("Today's backup is made.", 5000)

    def _failed(self, error: Exception) -> None:
        self.running = False
        reason = str(error) if isinstance(error, (BackupError, OSError)) else type(error).__name__
        log.error("daily backup failed: %s", reason)
        self.window.statusBar().showMessage(
            "Today's backup could not be made; ccmdesk will try again within the hour."
            " The log file says why.",
            60_000,
        )


def start_daily_backups(window: QMainWindow) -> DailyBackups:
    """Called once the window is up (app.py); ``window.ctx`` is its AppContext."""
    backups = DailyBackups(window, window.ctx)  # type: ignore[attr-defined]
    backups.start()
    return backups
