"""Start-up: a damaged database is said plainly, and the newest sound backup restores it;
a normal session leaves today's backup and one made on closing."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from ccmdesk import app, paths
from ccmdesk.services import users
from ccmdesk.services.backup import automatic_backup, list_backups
from ccmdesk.services.restore import Damage
from ccmdesk.storage.database import integrity_problems
from ccmdesk.ui import signin
from ccmdesk.ui.integrity_dialog import IntegrityDialog
from ccmdesk.ui.main_window import MainWindow
from tests.damage import corrupt_middle_page, digest, fill, patients_in
from tests.factories import add_staff, make_database


def close_when_loaded(seen: list[int]) -> None:
    """Close the main window once its list is loaded, noting how many patients it shows."""
    windows = [
        w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()
    ]
    if not windows or not windows[0].loaded:
        QTimer.singleShot(50, lambda: close_when_loaded(seen))
        return
    seen.append(windows[0].model.total())
    windows[0].close()


@pytest.fixture(autouse=True)
def no_window_left_behind(qapp):
    """Delete the windows run_gui made, so no later test finds them among the top levels."""
    yield
    import shiboken6

    for widget in QApplication.topLevelWidgets():
        if not shiboken6.isValid(widget) or widget.parent() is not None:
            continue  # a menu or popup of a window deleted just before
        if isinstance(widget, MainWindow) or widget.windowTitle() == "ccmdesk":
            widget.close()
            shiboken6.delete(widget)


@pytest.fixture
def signed_in(monkeypatch) -> None:
    """The first staff member signs in (tests/ui/test_signin.py drives the sign-in itself)."""
    monkeypatch.setattr(signin, "start_session", lambda shell, db, **_: users.current_user(db, 1))


@pytest.fixture
def damaged(tmp_path) -> Path:
    """A practice of 400 patients with a sound exit backup, then 3 more, then a bad page."""
    path = tmp_path / "practice" / "ccmdesk.sqlite3"
    db = make_database(path)
    add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    fill(db, 400)
    automatic_backup(db, "exit", dt.datetime(2026, 11, 16, 18), paths.backups_dir())
    fill(db, 3, prefix="NEW")
    db.close()
    corrupt_middle_page(path)
    return path


def test_the_damage_is_said_plainly_and_the_newest_sound_backup_restored(
    damaged, signed_in, qapp, monkeypatch
):
    asked: list[Damage] = []

    def restore_it(parent, damage: Damage) -> str:
        asked.append(damage)
        return IntegrityDialog.RESTORE

    monkeypatch.setattr(IntegrityDialog, "ask", classmethod(lambda cls, p, d: restore_it(p, d)))
    seen: list[int] = []
    QTimer.singleShot(50, lambda: close_when_loaded(seen))

    assert app.run_gui(f"sqlite:///{damaged}") == 0

    (damage,) = asked
    text, more = IntegrityDialog.message(damage)
    assert text.startswith("The practice database is damaged: ")
    assert "11/16/2026" in more and "kept in the backups folder" in more
    assert seen == [400]  # the window opened on the restored practice
    assert integrity_problems(damaged, thorough=True) == [] and patients_in(damaged) == 400
    kinds = [b.kind for b in list_backups(paths.backups_dir(), "ccmdesk")]
    assert "before-restore" in kinds  # the damaged file, kept


def test_quitting_leaves_the_damaged_file_as_it_is(damaged, signed_in, qapp, monkeypatch):
    monkeypatch.setattr(IntegrityDialog, "ask", classmethod(lambda cls, p, d: cls.QUIT))
    before = digest(damaged)
    assert app.run_gui(f"sqlite:///{damaged}") == 1
    assert digest(damaged) == before
    kinds = [b.kind for b in list_backups(paths.backups_dir(), "ccmdesk")]
    assert kinds == ["exit"]


def test_without_a_sound_backup_the_only_way_is_to_quit(tmp_path):
    damage = Damage(
        tmp_path / "ccmdesk.sqlite3", "database disk image is malformed", None, tmp_path
    )
    text, more = IntegrityDialog.message(damage)
    assert "malformed" in text and "No sound backup" in more and str(tmp_path) in more


def test_a_session_makes_todays_backup_and_one_on_closing(practice, signed_in, qapp, caplog):
    caplog.set_level(logging.INFO, logger="ccmdesk.services.backup")
    seen: list[int] = []
    QTimer.singleShot(50, lambda: close_when_loaded(seen))
    assert app.run_gui(practice["db"].url) == 0
    assert seen == [3]
    assert "daily backup written" in caplog.text  # at start, off the GUI thread
    # ... and the copy made on closing is now the day's newest, the one rotation keeps
    (copy,) = list_backups(paths.backups_dir(), "ccmdesk")
    assert copy.kind == "exit" and integrity_problems(copy.path) == []
