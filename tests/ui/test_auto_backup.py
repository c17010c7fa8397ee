"""The window's daily backup: made off the GUI thread, once a day, and a failure is said."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMainWindow

from ccmdesk.services.backup import BackupError, list_backups
from ccmdesk.ui import auto_backup
from ccmdesk.ui.auto_backup import DailyBackups
from tests.ui.conftest import wait_idle


@pytest.fixture
def holder(ctx, qtbot):
    main = QMainWindow()
    qtbot.addWidget(main)
    main.show()
    return main


def test_one_backup_a_day_while_the_window_is_open(holder, ctx, qtbot, clock, tmp_path):
    folder = tmp_path / "bk"
    daily = DailyBackups(holder, ctx, folder)
    daily.start()
    qtbot.waitUntil(lambda: daily.last is not None, timeout=10_000)
    assert "backup is made" in holder.statusBar().currentMessage()
    first = daily.last

    daily.check()  # an hour later, the same day: nothing to do
    wait_idle(qtbot, ctx)
    assert [b.path for b in list_backups(folder, "ccmdesk")] == [first]

    clock.advance(24 * 3600)
    daily.check()
    qtbot.waitUntil(lambda: daily.last != first, timeout=10_000)
    assert [b.kind for b in list_backups(folder, "ccmdesk")] == ["daily", "daily"]
    assert daily.timer.isActive() and daily.timer.interval() == auto_backup.HOUR_MS


def test_a_failed_backup_is_said_in_the_status_bar(holder, ctx, qtbot, tmp_path, monkeypatch):
    def full_disk(db, now, backups):
        raise BackupError("No space left on device")

    monkeypatch.setattr(auto_backup, "backup_if_due", full_disk)
    daily = DailyBackups(holder, ctx, tmp_path / "bk")
    daily.check()
    qtbot.waitUntil(lambda: not daily.running, timeout=10_000)
    assert "could not be made" in holder.statusBar().currentMessage()
    assert daily.last is None
