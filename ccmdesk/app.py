"""Composition root: open the database, build the context and the main window, run Qt.

Everything the window needs is created here and passed in explicitly.

Start-up shows a plain window at once ("Opening …") and does the slow part —
importing SQLAlchemy and the services, opening and checking the database — on
a worker thread, then builds the real window in place of the first.  Only
non-Qt modules are imported on the worker; every widget is made on the GUI
thread.
"""

from __future__ import annotations

import importlib
import sys
import threading
from typing import TYPE_CHECKING, Any

from ccmdesk import paths

if TYPE_CHECKING:
    from ccmdesk.services.users import SignedIn
    from ccmdesk.storage.database import Database
    from ccmdesk.ui.main_window import MainWindow

SETTINGS_FILE = "settings.ini"
#: Written by File → Database… (ccmdesk/ui/database_dialog.py).
DATABASE_URL_KEY = "database/url"


def settings_path() -> str:
    return str(paths.user_data_dir() / SETTINGS_FILE)


def saved_database_url() -> str | None:
    """The database chosen in File → Database… (None: this computer's own file)."""
    if not (paths.user_data_dir() / SETTINGS_FILE).exists():
        return None  # and no Qt import: ``ccmdesk billing`` stays quick
    from PySide6.QtCore import QSettings

    value = QSettings(settings_path(), QSettings.Format.IniFormat).value(DATABASE_URL_KEY)
    return str(value) if value else None


def build_window(
    db: Database, settings_file: str | None = None, user: SignedIn | None = None
) -> MainWindow:
    """The main window on ``db`` for the signed-in ``user`` (a QApplication must exist)."""
    from PySide6.QtCore import QSettings

    from ccmdesk.services.practice import practice_info
    from ccmdesk.ui.context import AppContext
    from ccmdesk.ui.main_window import MainWindow
    from ccmdesk.ui.tasks import TaskRunner

    name, zone = practice_info(db)
    settings = QSettings(settings_file or settings_path(), QSettings.Format.IniFormat)
    ctx = AppContext(db=db, zone=zone, settings=settings, tasks=TaskRunner(), user=user)
    return MainWindow(ctx, name)


def _sign_in(shell: Any, db: Database) -> SignedIn | None:
    """First run on a new practice, else sign-in; over the "Opening…" window."""
    from PySide6.QtCore import QSettings, QTimer

    from ccmdesk.services.practice import practice_info
    from ccmdesk.ui import signin

    settings = QSettings(settings_path(), QSettings.Format.IniFormat)
    name, _ = practice_info(db)
    # While the password is typed, load the main window's code (~0.15 s) so that it
    # opens sooner once the password is accepted (tests/benchmarks/signin_bench.py).
    QTimer.singleShot(0, lambda: importlib.import_module("ccmdesk.ui.main_window"))
    return signin.start_session(shell, db, settings=settings, practice_name=name)


def _prepare(url: str, result: dict[str, Any]) -> None:
    """Worker thread: the slow, Qt-free part of start-up."""
    try:
        from ccmdesk.services import (  # noqa: F401  (imported here, off the GUI thread)
            billing,
            month_end,
            patient_list,
            patient_record,
            time_log,
        )
        from ccmdesk.services.restore import find_damage
        from ccmdesk.storage.database import open_database

        damage = find_damage(url)  # PRAGMA quick_check; the GUI thread asks what to do
        if damage is not None:
            result["damage"] = damage
            return
        result["db"] = open_database(url)
    except Exception as error:  # shown to the user on the GUI thread
        result["error"] = error


def _shell():  # -> QMainWindow
    """The first window: where the real one will be, saying what is happening."""
    from PySide6.QtCore import QByteArray, QSettings, Qt
    from PySide6.QtWidgets import QLabel, QMainWindow

    shell = QMainWindow()
    shell.setWindowTitle("ccmdesk")
    label = QLabel("Opening the practice…")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setStyleSheet("font-size: 18px; color: #555;")
    shell.setCentralWidget(label)
    geometry = QSettings(settings_path(), QSettings.Format.IniFormat).value("window/geometry")
    if not (isinstance(geometry, QByteArray) and shell.restoreGeometry(geometry)):
        shell.resize(1400, 860)
    return shell


def run_gui(url: str) -> int:
    """Open the application on ``url`` and run until the window closes."""
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ccmdesk")
    app.setOrganizationName("ccmdesk")
    from ccmdesk.ui.icons import app_icon

    app.setWindowIcon(app_icon())
    from ccmdesk.logs import setup_logging
    from ccmdesk.ui.error_dialog import install_excepthook

    reporter = install_excepthook(setup_logging())
    from ccmdesk.ui.database_dialog import complete_url

    completed = complete_url(url, QSettings(settings_path(), QSettings.Format.IniFormat))
    if completed is None:  # asked for the server's password and cancelled
        reporter.uninstall()
        return 1
    url = completed
    shell = _shell()
    shell.show()
    result: dict[str, Any] = {}
    worker = threading.Thread(target=_prepare, args=(url, result), daemon=True)
    worker.start()
    state: dict[str, Any] = {"code": 0}

    def finish() -> None:
        if worker.is_alive():
            QTimer.singleShot(20, finish)
            return
        if "damage" in result:
            from ccmdesk.ui.integrity_dialog import settle_damage

            if not settle_damage(shell, url, result):
                state["code"] = 1
                shell.close()
                return
        if "error" in result:
            QMessageBox.critical(shell, "ccmdesk cannot open the practice", str(result["error"]))
            state["code"] = 1
            shell.close()
            return
        user = _sign_in(shell, result["db"])
        if user is None:  # Quit at the sign-in screen
            shell.close()
            return
        window = build_window(result["db"], user=user)
        app.aboutToQuit.connect(window.session.sign_out)  # audited, while the database is open
        window.setGeometry(shell.geometry())
        window.show()
        shell.close()
        state["window"] = window  # keep a reference: Qt would delete an orphan
        window.start()
        QTimer.singleShot(0, window.recover_timers)
        from ccmdesk.ui.auto_backup import start_daily_backups

        start_daily_backups(window)

    QTimer.singleShot(0, finish)
    try:
        code = app.exec()
    finally:
        worker.join()
        reporter.uninstall()
        if "db" in result:
            from ccmdesk.services.backup import backup_on_exit

            backup_on_exit(result["db"])
            result["db"].close()
    return state["code"] or code
