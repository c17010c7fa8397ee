"""The database goes away while a stopwatch runs: the banner, the kept Stop, the return.

On SQLite an engine event makes every statement fail while the "outage" lasts;
on PostgreSQL a TCP relay between ccmdesk and the server cuts every connection
and refuses new ones, as a pulled network cable or a stopped server would.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
import sqlite3
import threading
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import event

from ccmdesk.services import time_log, users
from ccmdesk.services.audit import Actor
from ccmdesk.services.pending_stops import FILE_NAME
from ccmdesk.storage.database import Database
from ccmdesk.storage.models import TimeEntry
from ccmdesk.ui import connection
from ccmdesk.ui.connection import BANNER_TEXT, NOT_SAVED
from ccmdesk.ui.context import AppContext
from ccmdesk.ui.main_window import CloseWhileRunningDialog, MainWindow
from ccmdesk.ui.tasks import TaskRunner
from tests.factories import add_entry, add_patient, add_staff, practitioner_npi
from tests.ui.conftest import wait_idle

UTC = dt.timezone.utc


class Outage:
    """Every statement on ``db`` fails, as on a share or server that has gone, while down."""

    def __init__(self, db: Database) -> None:
        self.is_down = False
        event.listen(db.engine, "before_cursor_execute", self._statement)

    def _statement(self, *_args) -> None:  # type: ignore[no-untyped-def]
        if self.is_down:
            raise sqlite3.OperationalError("unable to open database file")

    def down(self) -> None:
        self.is_down = True

    def up(self) -> None:
        self.is_down = False


@pytest.fixture
def outage(practice) -> Outage:
    return Outage(practice["db"])


@pytest.fixture(autouse=True)
def close_quietly(monkeypatch):
    """A test that fails with a stopwatch running must not hang on the close question."""
    monkeypatch.setattr(CloseWhileRunningDialog, "ask", classmethod(lambda cls, *a: cls.LEAVE))


def quick(window: MainWindow, monkeypatch) -> MainWindow:
    """Poll and probe every few milliseconds instead of every few seconds."""
    monkeypatch.setattr(connection, "FIRST_PROBE_MS", 10)
    monkeypatch.setattr(connection, "PROBE_MS", 50)
    window.live.timer.setInterval(50)
    window.live.connection.catch_unhandled()  # as at start; pytest-qt swaps hooks per phase
    return window


def entry(db: Database, entry_id: int) -> TimeEntry:
    with db.transaction() as session:
        return session.get(TimeEntry, entry_id)


def banner_up(window: MainWindow) -> bool:
    return not window.live.connection.banner.isHidden()


def kept_file(user_data) -> list[dict]:
    path = user_data / FILE_NAME
    return json.loads(path.read_text())["stops"] if path.exists() else []


def start_timing(window: MainWindow, patient: int, clock) -> int:
    assert window.open_patient(patient)
    window.toggle_action.trigger()  # Start: written at once
    assert window.stopwatch.running
    return window.stopwatch.entry.id


def test_stop_while_away_is_kept_and_saved_at_the_click_when_back(
    window, practice, clock, outage, user_data, monkeypatch, qtbot
):
    quick(window, monkeypatch)
    db, ada = practice["db"], practice["ada"]
    started = clock.now
    entry_id = start_timing(window, ada, clock)
    clock.advance(7 * 60)

    outage.down()
    window.stopwatch.beat()  # a heartbeat that cannot be written is dropped quietly
    qtbot.waitUntil(lambda: banner_up(window), timeout=5_000)  # the poll noticed
    assert " ".join(window.live.connection.banner.text().splitlines()) == BANNER_TEXT
    assert window.stopwatch.running  # and counting, from the clock:
    qtbot.waitUntil(lambda: window.stopwatch.time.text() == "0:07:00", timeout=2_000)
    window.stopwatch.note.setPlainText("Called back about refills")  # not saved: offline
    clock.advance(5)
    clicked = clock.now
    window.toggle_action.trigger()  # Stop, with the server away
    assert not window.stopwatch.running
    (kept,) = kept_file(user_data)
    assert (kept["entry_id"], kept["stopped"]) == (entry_id, clicked.isoformat())
    assert kept["note"] == "Called back about refills"
    banner = window.live.connection.banner
    assert "Kept to save: Ada Lovelace, stopped at 10:07 AM." in banner.text()

    clock.advance(3 * 60)  # the outage goes on; the probe keeps failing
    qtbot.wait(300)
    assert banner_up(window)
    outage.up()
    qtbot.waitUntil(lambda: not banner_up(window), timeout=5_000)
    saved = entry(db, entry_id)
    assert (saved.start_at, saved.end_at) == (started, clicked)  # not a minute lost or added
    assert saved.note == "Called back about refills"
    assert kept_file(user_data) == []
    qtbot.waitUntil(lambda: window.rows[ada].minutes == 19, timeout=5_000)  # 12 + 7


def test_a_kept_stop_survives_closing_ccmdesk(
    window, ctx, practice, clock, outage, user_data, monkeypatch, qtbot
):
    quick(window, monkeypatch)
    db = practice["db"]
    entry_id = start_timing(window, practice["bo"], clock)
    clock.advance(11 * 60 + 30)
    outage.down()
    clicked = clock.now
    window.toggle_action.trigger()  # Stop: the click finds the server gone
    assert banner_up(window) and not window.stopwatch.running
    window.close()  # ccmdesk is closed before the server comes back
    outage.up()
    assert entry(db, entry_id).end_at is None  # still running in the database

    clock.advance(3600)  # ccmdesk started again an hour later
    again = AppContext(
        db=db, zone=ctx.zone, settings=ctx.settings, tasks=TaskRunner(), clock=clock, user=ctx.user
    )
    second = MainWindow(again, "Test Practice")
    qtbot.addWidget(second)
    second.start()
    assert entry(db, entry_id).end_at == clicked
    assert kept_file(user_data) == []
    wait_idle(qtbot, again)
    assert second.rows[practice["bo"]].minutes == 25 + 11
    second.close()
    again.tasks.wait()


def test_other_changes_while_away_say_not_saved_and_keep_the_typing(
    window, practice, outage, monkeypatch, qtbot
):
    quick(window, monkeypatch)
    assert window.open_patient(practice["ada"])
    phone = window.record.overview.phone
    phone.clear()
    qtbot.keyClicks(phone, "555-0123")
    outage.down()
    qtbot.mouseClick(window.record.overview.save_button, Qt.MouseButton.LeftButton)
    boxes = [b for b in window.findChildren(QMessageBox) if NOT_SAVED in b.text()]
    assert len(boxes) == 1
    assert phone.text() == "555-0123" and window.record.overview.dirty  # still on screen
    assert banner_up(window)
    window.toggle_action.trigger()  # Start while away: not started, not pretended
    assert not window.stopwatch.running
    assert len([b for b in window.findChildren(QMessageBox) if b.isVisible()]) <= 1
    boxes[0].close()
    outage.up()
    qtbot.waitUntil(lambda: not banner_up(window), timeout=5_000)
    assert window.record.overview.save()  # what was typed saves once it is back
    wait_idle(qtbot, window.ctx)
    assert window.record.detail.phone == "555-0123"


def test_a_kept_stop_is_given_up_if_stopped_elsewhere_meanwhile(
    window, practice, clock, outage, user_data, monkeypatch, qtbot
):
    quick(window, monkeypatch)
    db = practice["db"]
    entry_id = start_timing(window, practice["ada"], clock)
    clock.advance(300)
    outage.down()
    window.toggle_action.trigger()
    outage.is_down = False
    nurse = Actor(practice["nurse"], "Nina Okafor")
    time_log.recover_timer(db, entry_id, "now", nurse, clock.now)  # at another seat
    ended = entry(db, entry_id).end_at
    qtbot.waitUntil(lambda: not banner_up(window), timeout=5_000)
    assert entry(db, entry_id).end_at == ended  # not moved by the kept Stop
    assert kept_file(user_data) == []
    told = [b.text() for b in window.findChildren(QMessageBox) if "could not be saved" in b.text()]
    assert told and "already been stopped elsewhere" in told[0]


# -- a real PostgreSQL server behind a relay that can be cut ------------------------------


class Relay:
    """127.0.0.1:port -> the server; ``cut()`` drops every connection and refuses new ones."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()  # the server "has gone"
                continue
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.open = False
        with self.lock:
            for end in self.sockets:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
            self.sockets.clear()

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def on_postgres(postgres, clock, tmp_path, monkeypatch, qtbot, qapp):
    """A window on a real PostgreSQL server, reached through a relay that can be cut."""
    from sqlalchemy.engine import make_url

    from tests.factories import make_postgres_database

    url = make_url(postgres.create_database("connection_loss"))
    relay = Relay(url.host, url.port)
    db = make_postgres_database(url.set(port=relay.port).render_as_string(hide_password=False))
    doctor = add_staff(db, "Dana Whitfield", "practitioner", "MD", npi=practitioner_npi(1))
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    ada = add_patient(db, "M1", first="Ada", last="Lovelace", practitioner_id=doctor)
    add_entry(db, ada, nurse, dt.datetime(2026, 11, 3, 15, tzinfo=UTC), 12)
    ctx = AppContext(
        db=db,
        zone=ZoneInfo("America/New_York"),
        settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
        tasks=TaskRunner(),
        clock=clock,
        user=users.current_user(db, nurse),
    )
    window = MainWindow(ctx, "Test Practice")
    qtbot.addWidget(window)
    window.start()
    qtbot.waitUntil(lambda: window.loaded, timeout=10_000)
    quick(window, monkeypatch)
    yield window, relay, ada
    relay.restore()
    wait_idle(qtbot, ctx)
    window.close()
    qtbot.wait(50)  # results still queued land while the server can be reached
    db.close()
    relay.close()
    postgres.drop_database("connection_loss")


@pytest.mark.postgres
def test_postgresql_network_cut_while_timing(on_postgres, clock, user_data, qtbot):
    window, relay, ada = on_postgres
    db = window.ctx.db
    started = clock.now
    entry_id = start_timing(window, ada, clock)
    clock.advance(9 * 60 + 41)

    relay.cut()  # the network goes: connections dropped, new ones refused
    qtbot.waitUntil(lambda: banner_up(window), timeout=10_000)
    assert window.stopwatch.running
    clock.advance(2)
    clicked = clock.now
    window.toggle_action.trigger()
    assert not window.stopwatch.running and len(kept_file(user_data)) == 1
    clock.advance(120)
    qtbot.wait(300)
    assert banner_up(window)

    relay.restore()  # ... and comes back
    qtbot.waitUntil(lambda: not banner_up(window), timeout=10_000)
    saved = entry(db, entry_id)
    assert (saved.start_at, saved.end_at) == (started, clicked)
    assert kept_file(user_data) == []
    qtbot.waitUntil(lambda: window.rows[ada].minutes == 21, timeout=10_000)  # 12 + 9


@pytest.mark.postgres
def test_postgresql_restarted_under_a_running_stopwatch(on_postgres, clock, user_data, qtbot):
    """The server restarts while a call is timed: every pooled connection is dead, yet
    Stop is written at once (the engine pings and replaces them) and no banner shows."""
    window, relay, ada = on_postgres
    db = window.ctx.db
    started = clock.now
    entry_id = start_timing(window, ada, clock)
    clock.advance(4 * 60 + 20)
    seen = []
    window.live.connection.online_changed.connect(seen.append)
    relay.cut()
    relay.restore()  # back at once, but the connections ccmdesk held are gone
    clicked = clock.now
    window.toggle_action.trigger()
    assert not window.stopwatch.running and kept_file(user_data) == []
    saved = entry(db, entry_id)
    assert (saved.start_at, saved.end_at) == (started, clicked)
    qtbot.wait(200)  # polls go on through fresh connections
    assert seen == [] and not banner_up(window)


def test_database_errors_that_are_not_about_the_connection_are_not_swallowed():
    from sqlalchemy.exc import IntegrityError, OperationalError

    from ccmdesk.services.connectivity import is_connection_error

    assert is_connection_error(OperationalError("SELECT 1", {}, Exception("gone")))
    assert not is_connection_error(IntegrityError("INSERT", {}, Exception("duplicate")))
    assert not is_connection_error(ValueError("no"))
