"""The composition root opens the real window on a database and closes cleanly."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from ccmdesk import app
from ccmdesk.ui.main_window import MainWindow


def test_run_gui_opens_the_practice_and_remembers_the_layout(
    practice, user_data, qapp, monkeypatch
):
    from ccmdesk.services import users
    from ccmdesk.ui import signin

    # the nurse signs in (tests/ui/test_signin.py drives the dialogs themselves)
    nurse = users.current_user(practice["db"], practice["nurse"])
    monkeypatch.setattr(signin, "start_session", lambda *a, **k: nurse)
    seen: list[str] = []

    def close_when_loaded() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        if not windows or not windows[0].loaded:
            QTimer.singleShot(50, close_when_loaded)
            return
        seen.append(windows[0].windowTitle())
        seen.append(str(windows[0].model.total()))
        windows[0].close()

    QTimer.singleShot(50, close_when_loaded)
    assert app.run_gui(practice["db"].url) == 0
    assert seen == ["ccmdesk — Test Practice", "3"]
    saved = (user_data / "settings.ini").read_text()
    assert "[window]" in saved and "geometry=@ByteArray" in saved


def test_a_database_that_cannot_be_opened_is_explained_in_a_window(tmp_path, monkeypatch, qapp):
    from PySide6.QtWidgets import QMessageBox

    foreign = tmp_path / "letters.sqlite3"
    foreign.write_text("not a database")
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "critical", staticmethod(lambda parent, title, text: shown.append(text))
    )
    assert app.run_gui(f"sqlite:///{foreign}") == 1
    assert len(shown) == 1 and "not an SQLite database" in shown[0]
    assert foreign.read_text() == "not a database"
