"""An unexpected error is logged, explained in a non-modal dialog, and the window stays open."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMainWindow, QPushButton

from ccmdesk import logs
from ccmdesk.ui.error_dialog import ErrorDialog, install_excepthook

SECRET = "Quintessa Zebulon-Ashcroft"


@pytest.fixture
def log_file(tmp_path):
    path = logs.setup_logging(tmp_path / "logs")
    yield path
    logs.stop_logging()


@pytest.fixture
def reporter(log_file):
    installed = install_excepthook()
    yield installed
    installed.uninstall()


def fail_with_a_name() -> None:
    raise ValueError(f"{SECRET} could not be saved")


@pytest.mark.qt_no_exception_capture
def test_an_error_in_a_slot_shows_the_dialog_and_the_window_stays(
    window, qtbot, reporter, log_file
):
    window.show()
    button = QPushButton("Save", window)
    button.clicked.connect(fail_with_a_name)
    button.click()  # PySide6 hands the slot's exception to sys.excepthook

    dialog = reporter.dialog
    assert isinstance(dialog, ErrorDialog)
    qtbot.waitUntil(dialog.isVisible)
    assert not dialog.isModal() and window.isVisible()
    assert "Something went wrong" in dialog.heading.text()
    assert "before this last action is saved" in dialog.body.text()
    assert "try again" in dialog.body.text() and str(log_file) in dialog.body.text()
    assert "ValueError" in dialog.detail.text() and SECRET not in dialog.detail.text()
    window.reload_list()  # the window still works
    qtbot.waitUntil(lambda: window.loaded, timeout=10_000)

    text = log_file.read_text(encoding="utf-8")
    assert "fail_with_a_name" in text and "builtins.ValueError" in text
    assert SECRET not in text


def test_calling_the_hook_directly_reuses_one_dialog_and_counts(qtbot, reporter):
    main = QMainWindow()
    qtbot.addWidget(main)
    main.show()
    for _ in range(2):
        try:
            fail_with_a_name()
        except ValueError:
            sys.excepthook(*sys.exc_info())
    dialog = reporter.dialog
    assert dialog is not None and dialog.isVisible() and main.isVisible()
    assert "2 times" in dialog.heading.text()


def test_the_button_opens_the_log_folder(qtbot, reporter, log_file, monkeypatch):
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    dialog = reporter.show(RuntimeError)
    dialog.open_folder.click()
    assert opened == [str(log_file.parent)]


def test_without_a_log_file_the_dialog_says_so(qtbot):
    dialog = ErrorDialog(None)
    qtbot.addWidget(dialog)
    dialog.note(KeyError)
    assert "no log file could be written" in dialog.body.text()
    assert not dialog.open_folder.isEnabled()


def test_interrupts_go_to_the_previous_hook_and_uninstall_restores_it(log_file):
    seen: list[type[BaseException]] = []
    previous = sys.excepthook
    sys.excepthook = lambda kind, error, tb: seen.append(kind)
    try:
        reporter = install_excepthook(log_file)
        sys.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)
        assert seen == [KeyboardInterrupt] and reporter.dialog is None
        reporter.uninstall()
        assert sys.excepthook is not reporter
    finally:
        sys.excepthook = previous
