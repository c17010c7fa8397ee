"""Backups: daily and on exit, checked before they get their name, rotated 14 days + 12 months."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from ccmdesk.services import backup as backups_service
from ccmdesk.services.audit import Actor
from ccmdesk.services.backup import (
    BackupError,
    backup,
    backup_if_due,
    backup_name,
    backup_on_exit,
    list_backups,
    rotate,
)
from ccmdesk.storage.database import integrity_problems
from ccmdesk.storage.models import AuditEvent
from tests.damage import fill, patients_in
from tests.factories import add_staff, make_database

STAMP = "%Y%m%d-%H%M%S"
CLI_NAME = Actor.command_line().name


@pytest.fixture
def sqlite_db(tmp_path):
    database = make_database(tmp_path / "ccmdesk.sqlite3")
    fill(database, 20)
    yield database
    database.close()


def touch(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"")
    return path


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_rotation_keeps_14_days_and_12_months_and_nothing_else_automatic(tmp_path):
    folder = tmp_path / "bk"
    day = dt.datetime(2025, 1, 1, 9, 0)
    while day.date() <= dt.date(2026, 11, 30):
        touch(folder, f"ccmdesk-daily-{day:{STAMP}}.sqlite3")
        day += dt.timedelta(days=1)
    # Closing ccmdesk twice on the last day: the later exit copy is that day's newest.
    touch(folder, "ccmdesk-exit-20261130-120000.sqlite3")
    touch(folder, "ccmdesk-exit-20261130-170000.sqlite3")
    protected = {
        touch(folder, name).name
        for name in (
            "ccmdesk-manual-20250301-100000.sqlite3",
            "ccmdesk-before-restore-20250302-100000.sqlite3",
            "ccmdesk-before-0003-20250303-100000.sqlite3",
            "ccmdesk-20240101-100000.sqlite3",  # a hand copy from before copies had kinds
            "ccmdesk-demo-daily-20240101-100000.sqlite3",  # another database's copy
            "notes.txt",
        )
    }

    deleted = rotate(folder, "ccmdesk")

    days = [dt.date(2026, 11, 30) - dt.timedelta(days=n) for n in range(1, 14)]
    expected_daily = {f"ccmdesk-daily-{d:%Y%m%d}-090000.sqlite3" for d in days}
    expected_daily.add("ccmdesk-exit-20261130-170000.sqlite3")
    month_ends = [dt.date(2026, m + 1, 1) - dt.timedelta(days=1) for m in range(1, 11)]
    month_ends.append(dt.date(2025, 12, 31))  # 11 earlier months + November in the days
    expected_monthly = {f"ccmdesk-daily-{d:%Y%m%d}-090000.sqlite3" for d in month_ends}
    assert names(folder) == expected_daily | expected_monthly | protected
    assert len(expected_daily) == 14 and len(expected_monthly) == 11
    assert len(deleted) == 699 + 2 - 25
    assert rotate(folder, "ccmdesk") == []  # stable: a second pass deletes nothing


def test_backup_if_due_makes_one_checked_copy_a_day(sqlite_db, tmp_path):
    folder = tmp_path / "bk"
    morning = dt.datetime(2026, 11, 17, 8, 30)
    first = backup_if_due(sqlite_db, morning, folder)
    assert first is not None and first.name == "ccmdesk-daily-20261117-083000.sqlite3"
    assert integrity_problems(first) == [] and patients_in(first) == 20
    assert backup_if_due(sqlite_db, morning + dt.timedelta(hours=9), folder) is None
    second = backup_if_due(sqlite_db, morning + dt.timedelta(days=1), folder)
    assert second is not None and second != first
    assert names(folder) == {first.name, second.name}  # no -wal, -shm or .partial beside them


def test_exit_copies_count_as_the_days_backup_and_twenty_days_rotate_to_fourteen(
    sqlite_db, tmp_path
):
    folder = tmp_path / "bk"
    kept = touch(folder, "ccmdesk-before-restore-20261101-080000.sqlite3").name
    start = dt.datetime(2026, 11, 1, 18, 0)
    for day in range(20):
        assert backup_on_exit(sqlite_db, start + dt.timedelta(days=day), folder) is not None
    assert backup_if_due(sqlite_db, start + dt.timedelta(days=19, hours=1), folder) is None
    automatic = [b for b in list_backups(folder, "ccmdesk") if b.automatic]
    assert [b.taken.day for b in automatic] == list(range(20, 6, -1))
    assert kept in names(folder)


def test_a_copy_that_fails_its_check_never_gets_a_name_and_rotates_nothing(
    sqlite_db, tmp_path, monkeypatch
):
    folder = tmp_path / "bk"
    old = {
        touch(folder, backup_name("ccmdesk", "daily", dt.datetime(2026, 10, d, 9))).name
        for d in range(1, 21)
    }
    monkeypatch.setattr(
        backups_service, "integrity_problems", lambda path, **_: ["page 7 is never used"]
    )
    with pytest.raises(BackupError, match="failed its check: page 7"):
        backup_if_due(sqlite_db, dt.datetime(2026, 11, 17, 9), folder)
    assert names(folder) == old
    assert backup_on_exit(sqlite_db, dt.datetime(2026, 11, 17, 18), folder) is None  # logged
    assert names(folder) == old


def test_a_copy_interrupted_half_way_leaves_nothing_that_looks_like_a_backup(
    sqlite_db, tmp_path, monkeypatch
):
    folder = tmp_path / "bk"

    def half_then_fail(source: Path, target: Path) -> Path:
        target.write_bytes(source.read_bytes()[:8192])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backups_service, "backup_sqlite_file", half_then_fail)
    with pytest.raises(OSError, match="No space"):
        backup_if_due(sqlite_db, dt.datetime(2026, 11, 17, 9), folder)
    assert not folder.exists() or names(folder) == set()


def test_a_backup_by_hand_needs_the_administrator_and_is_audited(sqlite_db, tmp_path):
    nurse = add_staff(sqlite_db, "Nina Okafor", "clinical_staff", "RN")
    admin = add_staff(sqlite_db, "Ann Admin", "non_clinical", administrator=True)
    target = tmp_path / "copy.sqlite3"
    with pytest.raises(BackupError, match="may not make or restore backups"):
        backup(sqlite_db, target, tmp_path / "bk", Actor(nurse, "Nina Okafor"))
    assert not target.exists()

    assert backup(sqlite_db, target, tmp_path / "bk", Actor(admin, "Ann Admin")) == target
    assert patients_in(target) == 20
    default = backup(sqlite_db, "", tmp_path / "bk", Actor.command_line())
    assert default is not None and default.name.startswith("ccmdesk-manual-")
    with sqlite_db.transaction() as session:
        events = session.execute(
            select(AuditEvent.actor, AuditEvent.detail)
            .where(AuditEvent.action == "backup")
            .order_by(AuditEvent.id)
        ).all()
    assert [actor for actor, _ in events] == ["Ann Admin", CLI_NAME]
    assert str(target) in events[0][1]


def test_a_backup_by_hand_is_never_rotated_away(sqlite_db, tmp_path):
    folder = tmp_path / "bk"
    by_hand = backup(sqlite_db, "", folder, Actor.command_line())
    assert by_hand is not None
    for day in range(1, 31):
        backup_on_exit(sqlite_db, dt.datetime(2027, 1, day, 18), folder)
    assert by_hand.exists()


def test_a_server_database_is_not_backed_up_by_ccmdesk(sqlite_db, tmp_path):
    server = dataclasses.replace(sqlite_db, url="postgresql+psycopg://seat@db/ccmdesk", path=None)
    with pytest.raises(BackupError, match="pg_dump"):
        backup(server, "", tmp_path / "bk", Actor.command_line())
    assert backup_if_due(server, dt.datetime(2026, 11, 17, 9), tmp_path / "bk") is None
    assert backup_on_exit(server, dt.datetime(2026, 11, 17, 9), tmp_path / "bk") is None
    assert not (tmp_path / "bk").exists()


def test_a_live_database_is_copied_consistently_while_a_writer_holds_it(sqlite_db, tmp_path):
    """The online backup API copies committed data only, whatever another connection is doing."""
    assert sqlite_db.path is not None
    writer = sqlite3.connect(sqlite_db.path)
    try:
        writer.execute("BEGIN")
        writer.execute("DELETE FROM patient")  # not committed
        copy = backup_if_due(sqlite_db, dt.datetime(2026, 11, 17, 9), tmp_path / "bk")
    finally:
        writer.rollback()
        writer.close()
    assert copy is not None and patients_in(copy) == 20
