"""File → Database…: choosing this computer's file or the practice server, testing, saving."""

from __future__ import annotations

import argparse

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog, QInputDialog, QMessageBox
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from ccmdesk import app, cli, paths
from ccmdesk.services import users
from ccmdesk.services.connectivity import explain, hide_password, server_url
from ccmdesk.storage.database import open_database
from ccmdesk.ui.database_dialog import (
    ASK_PASSWORD_KEY,
    URL_KEY,
    DatabaseDialog,
    complete_url,
    saved_url,
)
from ccmdesk.ui.tasks import TaskRunner
from tests.factories import add_staff


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def dialog(settings, qtbot, qapp):
    tasks = TaskRunner()
    box = DatabaseDialog(settings, tasks, "sqlite:////somewhere/ccmdesk.sqlite3")
    qtbot.addWidget(box)
    yield box
    tasks.wait()


def fill_server(box: DatabaseDialog, url: str, password: str = "") -> None:
    parsed = make_url(url)
    box.server.setChecked(True)
    box.host.setText(parsed.host)
    box.port.setValue(parsed.port)
    box.database.setText(parsed.database)
    box.user.setText(parsed.username)
    box.password.setText(password)


def run_test(box: DatabaseDialog, qtbot) -> str:
    box.test_button.click()
    qtbot.waitUntil(lambda: box.test_button.isEnabled(), timeout=15_000)
    return box.outcome.text()


def test_this_computers_file_is_the_default_and_saving_it_clears_the_setting(dialog, settings):
    assert dialog.local.isChecked() and not dialog.fields.isEnabled()
    settings.setValue(URL_KEY, "postgresql+psycopg://someone@server/ccmdesk")
    dialog.save()
    assert saved_url(settings) is None
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.url() == paths.sqlite_url(paths.default_database_path())


def test_a_server_url_is_built_from_the_fields_and_the_password_is_never_shown(dialog):
    fill_server(dialog, "postgresql+psycopg://nurse@frontdesk-pc:5433/ccmdesk", "s3cret!@")
    url = dialog.url()
    assert make_url(url).password == "s3cret!@"
    assert make_url(url).host == "frontdesk-pc" and make_url(url).port == 5433
    assert "s3cret" not in hide_password(url)
    assert make_url(url).drivername == "postgresql+psycopg"


def test_missing_fields_are_named_before_anything_is_tried(dialog, qtbot):
    dialog.server.setChecked(True)
    dialog.host.setText("frontdesk-pc")
    dialog.user.setText("")
    dialog.test_button.click()
    assert dialog.outcome.text() == "Fill in the user."
    dialog.save()
    assert dialog.outcome.text() == "Fill in the user." and dialog.isVisible() is False


@pytest.mark.postgres
def test_test_connection_on_a_real_server_says_what_is_there(dialog, postgres, qtbot):
    url = postgres.create_database("database_dialog")
    try:
        fill_server(dialog, url)
        text = run_test(dialog, qtbot)
        assert text.startswith("Connected to PostgreSQL ") and "is empty" in text
        assert dialog.report.ok
        open_database(url).close()  # ccmdesk sets it up ...
        text = run_test(dialog, qtbot)
        assert "holds a ccmdesk database (schema" in text and "this version's" in text
    finally:
        postgres.drop_database("database_dialog")


@pytest.mark.postgres
def test_test_connection_says_plainly_what_went_wrong(dialog, postgres, qtbot):
    fill_server(dialog, postgres.database_url("does_not_exist"), "hunter2")
    text = run_test(dialog, qtbot)
    assert "has no database “" in text and "hunter2" not in text
    dialog.port.setValue(1)  # nothing listens there
    text = run_test(dialog, qtbot)
    assert text.startswith("Nothing answers at ") and not dialog.report.ok


def test_plain_words_for_the_usual_failures():
    url = "postgresql+psycopg://nurse:hunter2@db.example:5432/ccmdesk"

    def said(message: str) -> str:
        return explain(OperationalError("connect", {}, Exception(message)), url)

    assert said('FATAL:  password authentication failed for user "nurse"') == (
        "The server at db.example:5432 refused the user name or password."
    )
    assert said("failed to resolve host 'db.example': Name or service not known").startswith(
        "The computer name “db.example” is not known"
    )
    assert said("connection timeout expired") == "No answer from db.example:5432 within 5 seconds."
    odd = said("something odd happened with hunter2 in it")
    assert odd.startswith("Cannot connect to db.example:5432:") and "hunter2" not in odd


def test_the_password_is_kept_only_when_remembered(dialog, settings, qtbot, monkeypatch):
    fill_server(dialog, "postgresql+psycopg://nurse@frontdesk-pc:5432/ccmdesk", "hunter2")
    dialog.save()
    stored = saved_url(settings)
    assert stored and make_url(stored).password is None and "hunter2" not in stored
    assert str(settings.value(ASK_PASSWORD_KEY)).lower() == "true"
    assert dialog.saved and "hunter2" not in dialog.saved

    asked = []

    def answer(*args, **kwargs):
        asked.append(args[2])
        return "hunter2", True

    monkeypatch.setattr(QInputDialog, "getText", answer)
    completed = complete_url(stored, settings)
    assert make_url(completed).password == "hunter2" and "nurse" in asked[0]
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", False))
    assert complete_url(stored, settings) is None  # cancelled: ccmdesk does not start
    assert complete_url("sqlite:////x.sqlite3", settings) == "sqlite:////x.sqlite3"

    dialog.remember.setChecked(True)
    dialog.save()
    assert make_url(saved_url(settings)).password == "hunter2"
    assert str(settings.value(ASK_PASSWORD_KEY)).lower() == "false"
    assert complete_url(saved_url(settings), settings) == saved_url(settings)


def test_the_saved_choice_opens_the_next_start_unless_db_is_given(user_data, capsys):
    settings_file = user_data / app.SETTINGS_FILE
    user_data.mkdir(parents=True, exist_ok=True)
    assert app.saved_database_url() is None
    assert app.DATABASE_URL_KEY == URL_KEY
    settings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    url = server_url("frontdesk-pc", 5432, "ccmdesk", "nurse")
    settings.setValue(URL_KEY, url)
    settings.sync()
    assert app.saved_database_url() == url
    plain = argparse.Namespace(db=None)
    assert cli._database_url(plain, gui=True) == url  # the window opens the saved choice
    default = paths.sqlite_url(paths.default_database_path())
    assert cli._database_url(plain) == default  # commands keep SPEC §2's default ...
    assert "frontdesk-pc" in capsys.readouterr().err  # ... and say which one the window uses
    assert cli._database_url(argparse.Namespace(db="sqlite:////x")) == "sqlite:////x"
    demo = cli._database_url(plain, demo=True)  # the demo never touches the real database
    assert demo == paths.sqlite_url(paths.demo_database_path())


def test_the_menu_offers_it_to_administrators_only(window, ctx, practice, monkeypatch, qtbot):
    assert window.database_action.text() == "Database…"
    assert DatabaseDialog.ask(window, ctx) is None  # a nurse: told, nothing opened
    told = [b.text() for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert any("for an administrator" in text for text in told)

    admin = add_staff(practice["db"], "Ada Admin", "non_clinical", administrator=True)
    window.set_user(users.current_user(practice["db"], admin))

    def choose_file(self) -> int:  # what the administrator does in the (modal) dialog
        self.local.setChecked(True)
        self.save()
        return self.result()

    monkeypatch.setattr(DatabaseDialog, "exec", choose_file)
    saved = DatabaseDialog.ask(window, ctx)
    assert saved == paths.sqlite_url(paths.default_database_path())
    assert any("From the next start" in b.text() for b in window.findChildren(QMessageBox))
