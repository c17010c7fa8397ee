"""An unexpected error: log it, tell the person plainly, keep the window open.

Installed as ``sys.excepthook``, which PySide6 also calls for an exception
raised in a slot.  The traceback goes to the log file (without the error's
message, which may name a patient: see ccmdesk/logs.py); the person sees a
non-modal dialog saying what happened to their work and what to do, with the
log file's path and a button that opens its folder.  The window stays: every
action is its own transaction, so what was done before the failing action is
already saved, and closing would only lose what is on screen.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLayout,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)

Hook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


class ErrorDialog(QDialog):
    """Non-modal: ccmdesk keeps working behind it, and a second error reuses it."""

    def __init__(self, log_file: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.log_file = log_file
        self.count = 0
        self.setWindowTitle("ccmdesk: something went wrong")
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        layout = QVBoxLayout(self)
        self.heading = QLabel()
        self.heading.setStyleSheet("font-weight: bold; font-size: 15px;")
        layout.addWidget(self.heading)
        where = str(log_file) if log_file else "(no log file could be written on this computer)"
        self.body = QLabel(
            "Everything you did before this last action is saved: ccmdesk saves each"
            " change the moment you make it. The last action may not have been saved;"
            " please check it.\n\n"
            "What to do: try again. If it keeps happening, send the log file below to"
            " whoever supports ccmdesk for your practice. It holds no patient information.\n\n"
            f"Log file: {where}"
        )
        self.body.setWordWrap(True)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.body)
        self.detail = QLabel()
        self.detail.setStyleSheet("color: #666;")
        layout.addWidget(self.detail)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.open_folder = QPushButton("Open log folder")
        self.open_folder.setEnabled(log_file is not None)
        buttons.addButton(self.open_folder, QDialogButtonBox.ButtonRole.ActionRole)
        self.open_folder.clicked.connect(self.show_log_folder)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        self.setWindowIcon(icon)
        self.body.setMinimumWidth(480)
        # word-wrapped text: a window does not ask its label for the height a width needs
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)

    def note(self, error_type: type[BaseException]) -> None:
        """Count one more error and show which kind (never its message)."""
        self.count += 1
        self.heading.setText(
            "Something went wrong in ccmdesk."
            if self.count == 1
            else f"Something went wrong in ccmdesk ({self.count} times now)."
        )
        self.detail.setText(f"Details for support: {error_type.__name__}")

    def show_log_folder(self) -> None:
        if self.log_file is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.log_file.parent)))


class ErrorReporter:
    """The ``sys.excepthook``: logs every unexpected error, shows the dialog on the GUI thread."""

    def __init__(self, log_file: Path | None) -> None:
        self.log_file = log_file
        self.dialog: ErrorDialog | None = None  # kept: Qt would delete a parentless orphan
        self.previous: Hook = sys.excepthook
        self.previous_thread_hook = threading.excepthook

    def __call__(
        self, kind: type[BaseException], error: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self.previous(kind, error, tb)
            return
        log.error("unexpected error", exc_info=(kind, error, tb))
        if QApplication.instance() is None or threading.current_thread() is not (
            threading.main_thread()
        ):
            return  # no widgets off the GUI thread; the log has it
        try:
            self.show(kind)
        except Exception:  # never let the error report raise in turn
            log.error("the error dialog could not be shown", exc_info=True)

    def show(self, kind: type[BaseException]) -> ErrorDialog:
        if self.dialog is None:
            self.dialog = ErrorDialog(self.log_file)
        self.dialog.note(kind)
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def thread_hook(self, args: threading.ExceptHookArgs) -> None:
        """An error in a plain worker thread: logged (the window learns of it otherwise)."""
        if args.exc_value is not None:
            log.error(
                "unexpected error in thread %s",
                args.thread.name if args.thread else "?",
                exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
            )

    def install(self) -> ErrorReporter:
        self.previous, self.previous_thread_hook = sys.excepthook, threading.excepthook
        sys.excepthook = self
        threading.excepthook = self.thread_hook
        return self

    def uninstall(self) -> None:
        if sys.excepthook is self:
            sys.excepthook = self.previous
        if threading.excepthook == self.thread_hook:
            threading.excepthook = self.previous_thread_hook
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None


def install_excepthook(log_file: Path | None = None) -> ErrorReporter:
    """Route unexpected errors to the log and the dialog; ``uninstall()`` puts things back."""
    if log_file is None:
        from ccmdesk.logs import current_log_file

        log_file = current_log_file()
    return ErrorReporter(log_file).install()
