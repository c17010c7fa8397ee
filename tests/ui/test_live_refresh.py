"""Live refresh: a seat sees what another seat (another engine, another process) saved."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ccmdesk.domain.time import Month
from ccmdesk.services import month_close, patient_record, time_log, users
from ccmdesk.services.audit import Actor
from ccmdesk.services.imports.patients import import_patients
from ccmdesk.storage.database import open_database
from tests.factories import DOCTOR_NPI, add_staff, practitioner_npi
from tests.services.csvfiles import GOOD_PATIENTS, PATIENT_HEADER, write_csv
from tests.ui.conftest import wait_idle

UTC = dt.timezone.utc
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def seat_a(practice):
    """Another workstation: its own engine on the same database file."""
    other = open_database(practice["db"].url)
    yield other
    other.close()


@pytest.fixture
def live(window, qtbot):
    """Seat B, polling fast so the test does not wait two seconds a step."""
    window.live.timer.setInterval(50)
    wait_idle(qtbot, window.ctx)
    return window


def nurse(practice) -> Actor:
    return Actor(practice["nurse"], "Nina Okafor")


def add_minutes(db, practice, patient, clock, minutes: int) -> None:
    end = clock.now - dt.timedelta(hours=1)
    start = end - dt.timedelta(minutes=minutes)
    who = nurse(practice)
    time_log.add_manual(db, patient, who.id, start, end, who, now=clock.now)


def test_another_seats_time_entry_shows_within_a_poll(live, practice, seat_a, clock, qtbot):
    assert live.rows[practice["bo"]].minutes == 25
    with qtbot.waitSignal(live.live.arrived, timeout=5_000) as arrived:
        add_minutes(seat_a, practice, practice["bo"], clock, 10)
    assert arrived.args[0].patient_ids == {practice["bo"]}
    qtbot.waitUntil(lambda: live.rows[practice["bo"]].minutes == 35, timeout=5_000)
    shown = live.model.patient_row(live.model.row_of(practice["bo"]))
    assert shown.minutes == 35  # the row the table shows, not just the window's dict


def test_a_poll_with_nothing_new_changes_nothing_and_never_says_working(live, qtbot):
    resets = []
    live.model.modelReset.connect(lambda: resets.append(1))
    messages = []
    live.statusBar().messageChanged.connect(messages.append)
    arrived = []
    live.live.arrived.connect(arrived.append)
    qtbot.wait(400)  # several polls
    assert not resets and not arrived
    assert "Working…" not in messages
    assert not live.ctx.tasks.busy


def test_another_process_on_the_same_file(live, practice, clock, qtbot):
    """Two ccmdesk processes on one SQLite file (a small office's shared folder)."""
    script = textwrap.dedent(
        f"""
        import datetime as dt
        from ccmdesk.services import time_log
        from ccmdesk.services.audit import Actor
        from ccmdesk.storage.database import open_database
        db = open_database({practice["db"].url!r})
        now = dt.datetime.fromisoformat({clock.now.isoformat()!r})
        end = now - dt.timedelta(hours=1)
        who = Actor({practice["nurse"]}, "Nina Okafor")
        time_log.add_manual(db, {practice["cy"]}, who.id, end - dt.timedelta(minutes=4), end, who,
                            now=now)
        db.close()
        """
    )
    with qtbot.waitSignal(live.live.arrived, timeout=20_000):
        subprocess.run([sys.executable, "-c", script], check=True, cwd=REPO, timeout=60)
    qtbot.waitUntil(lambda: live.rows[practice["cy"]].minutes == 4, timeout=5_000)


def test_the_open_patient_is_shown_afresh_but_typing_is_kept(live, practice, seat_a, qtbot):
    assert live.open_patient(practice["ada"])
    detail = live.record.detail
    values = {"phone": "555-0199"}
    with qtbot.waitSignal(live.live.arrived, timeout=5_000):
        patient_record.update_patient(
            seat_a, detail.id, detail.row_version, values, nurse(practice)
        )
    qtbot.waitUntil(lambda: live.record.overview.phone.text() == "555-0199", timeout=5_000)
    assert not live.record.overview.dirty

    live.record.overview.language.clear()
    qtbot.keyClicks(live.record.overview.language, "Portuguese")  # typed, not saved yet
    assert live.record.overview.dirty
    detail = live.record.detail
    with qtbot.waitSignal(live.live.arrived, timeout=5_000):
        patient_record.update_patient(
            seat_a, detail.id, detail.row_version, {"phone": "555-0142"}, nurse(practice)
        )
    qtbot.waitUntil(lambda: live.record.detail.phone == "555-0142", timeout=5_000)
    assert live.record.overview.language.text() == "Portuguese"  # not overwritten
    assert live.record.overview.phone.text() == "555-0199"  # the screen as it was typed on


def test_a_new_patient_elsewhere_reloads_the_list(live, practice, seat_a, tmp_path, qtbot):
    total = live.model.total()
    row = GOOD_PATIENTS[1].replace(DOCTOR_NPI, practitioner_npi(1))
    with qtbot.waitSignal(live.live.arrived, timeout=5_000) as arrived:
        import_patients(
            seat_a, write_csv(tmp_path, "new.csv", PATIENT_HEADER, [row]), nurse(practice)
        )
    assert arrived.args[0].new_patients
    qtbot.waitUntil(lambda: live.model.total() == total + 1, timeout=5_000)
    assert any(r.last_name == "Brummell" and r.mrn == "P-2" for r in live.rows.values())


def test_a_month_closed_elsewhere_makes_its_time_log_read_only(
    live, practice, seat_a, clock, qtbot
):
    manager = add_staff(seat_a, "Olga Manager", "non_clinical", office_manager=True)
    october = Month(2026, 10)
    live.month_combo.setCurrentIndex(1)  # October, which is over
    wait_idle(qtbot, live.ctx)
    assert live.open_patient(practice["ada"])
    note = live.record.time_log.closed_note
    assert not note.isVisibleTo(live.record.time_log)
    live.ctx.user = users.current_user(seat_a, manager)  # the month-end window needs reports
    reports = live.open_reports()
    qtbot.waitUntil(lambda: reports.loaded, timeout=10_000)
    assert reports.month == october and reports.close_button.isEnabled()
    with qtbot.waitSignal(live.live.arrived, timeout=5_000) as arrived:
        month_close.close_month(seat_a, october, Actor(manager, "Olga Manager"), clock.now)
    assert arrived.args[0].months == {october}
    assert note.isVisibleTo(live.record.time_log)  # read-only at once
    qtbot.waitUntil(lambda: reports.loaded and not reports.close_button.isEnabled(), timeout=10_000)
    assert reports.reopen_button.isEnabled()
    reports.close()
