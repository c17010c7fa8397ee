"""When the database cannot be reached: a banner, a probe, and Stops kept until it answers.

Whoever first meets a connection error (the live-refresh poll, a list load,
a save) tells the :class:`ConnectionMonitor`.  It shows the banner across the
top of the window and probes every few seconds off the GUI thread; when the
database answers it first writes the Stops clicked meanwhile (each ending at
the instant it was clicked, see ``services/pending_stops.py``), then hides
the banner.

Nothing else pretends to save.  A save that fails for want of a connection
raises out of its slot; :meth:`ConnectionMonitor.catch_unhandled` catches
exactly those errors at ``sys.excepthook`` (the one place every slot's
exception reaches, so no screen needs its own handler) and says "not saved"
instead of a traceback, leaving the screen as the user typed it.  A read that
fails while showing a background result gets only the banner: nobody clicked
anything.  Any other exception goes on to the previous hook (the error
dialog, ``ui/error_dialog.py``).
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Callable
from html import escape
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QTextDocumentFragment
from PySide6.QtWidgets import (
    QLabel,
    QMessageBox,
    QSizePolicy,
    QStyle,
    QToolBar,
    QWidget,
)
from shiboken6 import isValid

from ccmdesk import paths
from ccmdesk.services.changes import Changes
from ccmdesk.services.connectivity import is_connection_error, ping
from ccmdesk.services.pending_stops import (
    FILE_NAME,
    PendingStop,
    PendingStops,
    Replayed,
    database_key,
    replay,
)
from ccmdesk.services.time_log import EntryView
from ccmdesk.ui import fmt
from ccmdesk.ui.context import AppContext
from ccmdesk.ui.tasks import TaskRunner

log = logging.getLogger(__name__)
PROBE_MS = 3_000
FIRST_PROBE_MS = 500
BANNER_TEXT = (
    "The practice server cannot be reached. Your stopwatch keeps counting; Stop will be saved"
    " when the connection returns. Other changes cannot be saved until then."
)
NOT_SAVED = "Not saved: the practice server cannot be reached."
BANNER_STYLE = (
    "QToolBar { background: #fdecea; border: none; border-bottom: 1px solid #e3a29b;"
    " padding: 4px 8px; }"
    " QLabel { color: #7f1d1d; }"
)

Hook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


class ConnectionBanner(QToolBar):
    """The full-width strip under the toolbar; hidden while the database answers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Connection", parent)
        self.setObjectName("connection-banner")
        self.setMovable(False)
        self.setFloatable(False)
        self.toggleViewAction().setVisible(False)  # not in the toolbar context menu
        self.setStyleSheet(BANNER_STYLE)
        icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize)
        warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        icon.setPixmap(warning.pixmap(size, size))
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)  # QToolBar cannot word-wrap: two lines
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.addWidget(icon)
        self.addWidget(self.label)
        self.hide()

    def show_offline(self, kept: list[PendingStop], zone: dt.tzinfo) -> None:
        headline, rest = BANNER_TEXT.split(". ", 1)
        lines = [f"<b>{headline}.</b>", escape(rest)]
        if kept:
            calls = "; ".join(
                f"{stop.patient_name}, stopped at {fmt.local_time(stop.stopped, zone)}"
                for stop in kept
            )
            lines.append(f"<b>Kept to save:</b> {escape(calls)}.")
        self.label.setText("<br>".join(lines))
        self.label.setToolTip(BANNER_TEXT)
        self.show()

    def text(self) -> str:
        """What the banner says, as plain text."""
        return QTextDocumentFragment.fromHtml(self.label.text()).toPlainText()


class ConnectionMonitor(QObject):
    online_changed = Signal(bool)
    saved = Signal(object)  # Changes of the kept Stops written after reconnecting
    message = Signal(str)  # for the status bar

    def __init__(
        self,
        ctx: AppContext,
        tasks: TaskRunner,
        parent: QWidget,
        pending: PendingStops | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx, self.tasks, self.parent_widget = ctx, tasks, parent
        self.online = True
        self.pending = pending or PendingStops(paths.user_data_dir() / FILE_NAME)
        self.banner = ConnectionBanner(parent)
        self._probe = QTimer(self, singleShot=True)
        self._probe.timeout.connect(self.probe)
        self._probing = False
        self._stopped = False
        self._box: QMessageBox | None = None
        self._hook: tuple[Hook, Hook] | None = None

    # -- noticing ------------------------------------------------------------------

    def noticed(self, error: BaseException) -> bool:
        """True (and offline from now) when ``error`` means the database is unreachable."""
        if not is_connection_error(error):
            return False
        log.warning("database unreachable: %s", type(error).__name__)
        self.lost()
        return True

    def lost(self) -> None:
        if not self.online or self._stopped:
            return
        self.online = False
        self.banner.show_offline(self.kept(), self.ctx.zone)
        self.online_changed.emit(False)
        self._probe.start(FIRST_PROBE_MS)

    def kept(self) -> list[PendingStop]:
        return self.pending.for_database(self.ctx.db.url)

    # -- the probe -----------------------------------------------------------------

    def probe(self) -> None:
        """Try the database off the GUI thread; when it answers, write the kept Stops."""
        if self._probing:
            return
        self._probing = True
        db, stops, clock = self.ctx.db, self.kept(), self.ctx.clock

        def work() -> list[Replayed]:
            ping(db)
            return replay(db, stops, clock())

        self.tasks.run(work, self._answered, self._no_answer, key="probe")

    def _no_answer(self, error: Exception) -> None:
        self._probing = False
        if not is_connection_error(error):
            log.error("probe failed: %s", type(error).__name__)  # (messages may name patients)
        if not self._stopped:
            self._probe.start(PROBE_MS)

    def _answered(self, results: list[Replayed]) -> None:
        self._probing = False
        self._settle(results)  # written, so forgotten, even if the window is closing
        if self._stopped:
            return
        if any(result.kept for result in results):
            self.banner.show_offline(self.kept(), self.ctx.zone)
            self._probe.start(PROBE_MS)
            return
        if not self.online:
            self.online = True
            self.banner.hide()
            self.online_changed.emit(True)
            self.message.emit("The practice server can be reached again.")

    def _settle(self, results: list[Replayed]) -> None:
        """Forget the kept Stops that were written or given up, and say so."""
        key = database_key(self.ctx.db.url)
        self.pending.remove(key, {r.stop.entry_id for r in results if not r.kept})
        changes = Changes()
        for result in results:
            stop = result.stop
            when = fmt.local_time(stop.stopped, self.ctx.zone)
            if result.changes is not None:
                changes |= result.changes
                self.message.emit(f"Saved the Stop of {stop.patient_name}'s call at {when}.")
            elif result.problem:
                self._tell(
                    "Stop not saved",
                    f"The Stop clicked at {when} for {stop.patient_name} could not be saved:"
                    f" {result.problem}. Check the patient's time log.",
                )
        if changes.patient_ids:
            self.saved.emit(changes)

    # -- Stop while offline --------------------------------------------------------

    def keep_stop(
        self, entry: EntryView, patient_name: str, activity: str, note: str, clicked: dt.datetime
    ) -> None:
        """Keep a Stop the database could not take; it is written when it answers."""
        self.pending.add(
            PendingStop(
                database=database_key(self.ctx.db.url),
                entry_id=entry.id,
                patient_id=entry.patient_id,
                patient_name=patient_name,
                staff_id=entry.staff_id,
                staff_name=self.ctx.staff_name or entry.staff_name,
                started=entry.start,
                stopped=clicked,
                activity=activity,
                note=note,
            )
        )
        if self.online:
            self.lost()
        else:
            self.banner.show_offline(self.kept(), self.ctx.zone)
        when = fmt.local_time(clicked, self.ctx.zone)
        self.message.emit(f"Stop at {when} kept; it will be saved when the connection returns.")

    def replay_now(self) -> None:
        """At start (the database has just opened): write Stops kept from last time."""
        stops = self.kept()
        if stops:
            self._settle(replay(self.ctx.db, stops, self.ctx.clock()))

    # -- saves that failed for want of a connection ---------------------------------

    def not_saved(self) -> None:
        self._tell("Not saved", f"{NOT_SAVED} Try again when the banner at the top has gone.")

    def _tell(self, title: str, text: str) -> None:
        if self._box is not None and self._box.isVisible():
            return  # one message at a time, not one per keystroke
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self.parent_widget
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(self._box_gone)
        self._box = box
        box.open()

    def _box_gone(self) -> None:
        self._box = None

    def catch_unhandled(self) -> None:
        """Turn connection errors escaping a slot into "not saved" (see the module doc)."""
        if self._hook is not None:
            return
        previous = sys.excepthook

        def hook(kind, value, traceback) -> None:  # type: ignore[no-untyped-def]
            if isValid(self) and isinstance(value, Exception) and self.noticed(value):
                if not _from_background(traceback):  # a person's action failed: say so
                    self.not_saved()
                return
            previous(kind, value, traceback)

        sys.excepthook = hook
        self._hook = (hook, previous)

    def stop(self) -> None:
        self._stopped = True
        self._probe.stop()
        self.banner.hide()
        if self._hook is not None:
            hook, previous = self._hook
            if sys.excepthook is hook:
                sys.excepthook = previous
            self._hook = None


def _from_background(traceback: TracebackType | None) -> bool:
    """True when the failing code ran on a background result (a list refresh), not a click:
    the banner says enough, a "not saved" box would puzzle someone who did nothing."""
    return traceback is not None and traceback.tb_frame.f_code is TaskRunner._finished.__code__
