"""Composition root: open the database, build the context and the main window, run Qt.

Everything the window needs is created here and passed in explicitly.
"""

from __future__ import annotations

import sys

from ccmdesk import paths
from ccmdesk.storage.database import Database, open_database


def build_window(db: Database, settings_path: str | None = None):  # -> MainWindow
    """The main window on ``db`` (a QApplication must exist)."""
    from PySide6.QtCore import QSettings

    from ccmdesk.services.practice import practice_info
    from ccmdesk.ui.context import AppContext
    from ccmdesk.ui.main_window import MainWindow
    from ccmdesk.ui.tasks import TaskRunner

    name, zone = practice_info(db)
    path = settings_path or str(paths.user_data_dir() / "settings.ini")
    settings = QSettings(path, QSettings.Format.IniFormat)
    ctx = AppContext(db=db, zone=zone, settings=settings, tasks=TaskRunner())
    return MainWindow(ctx, name)


def run_gui(url: str) -> int:
    """Open the application on ``url`` and run until the window closes."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ccmdesk")
    app.setOrganizationName("ccmdesk")
    db = open_database(url)
    try:
        window = build_window(db)
        window.show()
        window.start()
        QTimer.singleShot(0, window.recover_timers)
        return app.exec()
    finally:
        db.close()
