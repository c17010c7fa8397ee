"""GUI fixtures: a main window on a real database file, with a clock tests can move."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QSettings

from ccmdesk.services import users
from ccmdesk.ui.context import AppContext
from ccmdesk.ui.main_window import MainWindow
from ccmdesk.ui.tasks import TaskRunner
from tests.factories import add_entry, add_patient, add_staff, practitioner_npi

UTC = dt.timezone.utc


class FakeClock:
    """The stopwatch reads the clock; tests move it instead of sleeping."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 11, 17, 15, 0, tzinfo=UTC))  # 10:00 in New York


@pytest.fixture
def practice(db):
    """Two practitioners' worth of patients with a little time logged this month."""
    doctor = add_staff(db, "Dana Whitfield", "practitioner", "MD", npi=practitioner_npi(1))
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    ada = add_patient(db, "M1", first="Ada", last="Lovelace", practitioner_id=doctor)
    bo = add_patient(db, "M2", first="Bo", last="Brummell", practitioner_id=doctor)
    cy = add_patient(db, "M3", first="Cy", last="Young", practitioner_id=doctor, consent=None)
    add_entry(db, ada, nurse, dt.datetime(2026, 11, 3, 15, tzinfo=UTC), 12)
    add_entry(db, bo, nurse, dt.datetime(2026, 11, 4, 15, tzinfo=UTC), 25)
    return {"db": db, "doctor": doctor, "nurse": nurse, "ada": ada, "bo": bo, "cy": cy}


@pytest.fixture
def ctx(practice, clock, tmp_path, qapp):
    from zoneinfo import ZoneInfo

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    tasks = TaskRunner()
    context = AppContext(
        db=practice["db"],
        zone=ZoneInfo("America/New_York"),
        settings=settings,
        tasks=tasks,
        clock=clock,
        user=users.current_user(practice["db"], practice["nurse"]),
    )
    yield context
    tasks.wait()


@pytest.fixture
def window(ctx, qtbot):
    main = MainWindow(ctx, "Test Practice")
    qtbot.addWidget(main)
    main.start()
    qtbot.waitUntil(lambda: main.loaded, timeout=10_000)
    yield main
    ctx.tasks.wait()


def wait_idle(qtbot, ctx) -> None:
    """Let background work finish and its results arrive on the GUI thread."""
    qtbot.waitUntil(lambda: not ctx.tasks.busy, timeout=10_000)
