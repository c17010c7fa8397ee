"""The background task helper: results come back on the GUI thread, newest wins."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QThread

from ccmdesk.ui.tasks import TaskRunner


def test_results_arrive_on_the_gui_thread_and_newer_tasks_supersede_older(qtbot):
    runner = TaskRunner()
    got: list[tuple[str, bool]] = []
    gui = QThread.currentThread()
    release = threading.Event()

    def slow() -> str:
        release.wait(5)
        return "old"

    runner.run(slow, lambda r: got.append((r, QThread.currentThread() is gui)), key="rows:1")
    runner.run(
        lambda: "new", lambda r: got.append((r, QThread.currentThread() is gui)), key="rows:1"
    )
    qtbot.waitUntil(lambda: got == [("new", True)], timeout=5000)
    release.set()
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    time.sleep(0.05)
    qtbot.wait(50)
    assert got == [("new", True)]  # the stale result was dropped


def test_errors_are_handed_back(qtbot):
    runner = TaskRunner()
    errors: list[Exception] = []

    def fail() -> None:
        raise ValueError("no such month")

    runner.run(fail, lambda r: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert str(errors[0]) == "no such month"
