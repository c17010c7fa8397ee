"""Restore: only a sound ccmdesk database, the current one kept first, an older one migrated;
and the start-up check that finds a damaged file and the newest sound backup."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from ccmdesk.services.audit import Actor
from ccmdesk.services.backup import BackupError, backup, backup_on_exit, list_backups
from ccmdesk.services.restore import find_damage, restore
from ccmdesk.storage import migrate
from ccmdesk.storage.database import integrity_problems, open_database
from ccmdesk.storage.inspect import APPLICATION_ID
from ccmdesk.storage.models import AuditEvent, Patient, Practice
from tests.damage import corrupt_middle_page, digest, fill, patients_in, practice_file
from tests.factories import add_staff, make_database

CLI = Actor.command_line()


def url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def live(tmp_path) -> Path:
    """The practice's database, closed: 400 patients."""
    return practice_file(tmp_path / "ccmdesk.sqlite3", 400)


def test_corruption_in_the_middle_of_the_file_is_found(live):
    assert integrity_problems(live) == []
    corrupt_middle_page(live)
    problems = integrity_problems(live)
    assert problems and problems[0]


def test_a_backup_is_restored_the_current_database_kept_and_the_restore_audited(live, tmp_path):
    folder = tmp_path / "bk"
    db = open_database(url(live), backups=folder)
    copy = backup(db, "", folder, CLI)
    fill(db, 5, prefix="LATE")  # entered after the backup
    db.close()

    done = restore(url(live), copy, folder, CLI, now=dt.datetime(2026, 11, 17, 9))

    assert patients_in(live) == 400
    assert done.kept is not None and done.kept.name == (
        "ccmdesk-before-restore-20261117-090000.sqlite3"
    )
    assert patients_in(done.kept) == 405  # nothing is lost: the replaced database is kept
    assert done.migrated_from is None and "kept as" in done.describe()
    db = open_database(url(live), backups=folder)
    try:
        with db.transaction() as session:
            event = session.scalars(select(AuditEvent).where(AuditEvent.action == "restore")).one()
        assert event.actor == CLI.name and copy.name in event.detail
    finally:
        db.close()


def test_an_older_backup_is_migrated_after_the_restore(live, tmp_path):
    old = tmp_path / "old.sqlite3"
    engine = create_engine(url(old))
    with engine.begin() as connection:
        connection.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
        migrate.upgrade(connection, "0001")
        connection.execute(
            text(
                "INSERT INTO practice (id, name, address, phone, after_hours_phone)"
                " VALUES (1, 'Old Practice', '', '', '')"
            )
        )
    engine.dispose()

    done = restore(url(live), old, tmp_path / "bk", CLI)

    assert done.migrated_from == "0001"
    db = open_database(url(live), backups=tmp_path / "bk")
    try:
        with db.transaction() as session:
            assert session.scalars(select(Practice.name)).one() == "Old Practice"
            assert session.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
                migrate.head_revision()
            )
    finally:
        db.close()


def _text_file(tmp_path: Path) -> Path:
    path = tmp_path / "letter.sqlite3"
    path.write_text("Dear Dr. Whitfield,")
    return path


def _foreign(tmp_path: Path) -> Path:
    path = tmp_path / "music.sqlite3"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE track (title TEXT)")
    connection.commit()
    connection.close()
    return path


def _newer(tmp_path: Path) -> Path:
    path = practice_file(tmp_path / "newer.sqlite3", 10)
    connection = sqlite3.connect(path)
    connection.execute("UPDATE alembic_version SET version_num = '0999'")
    connection.commit()
    connection.close()
    return path


def _damaged(tmp_path: Path) -> Path:
    path = practice_file(tmp_path / "damaged.sqlite3", 400)
    corrupt_middle_page(path)
    return path


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.sqlite3"
    sqlite3.connect(path).close()
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_text_file, "not an SQLite database"),
        (_foreign, "did not create"),
        (_newer, "newer version of ccmdesk"),
        (_damaged, "is damaged"),
        (_empty, "holds no ccmdesk data"),
        (lambda tmp_path: tmp_path / "missing.sqlite3", "no such file"),
    ],
)
def test_a_bad_file_is_refused_in_one_line_and_nothing_changes(live, tmp_path, make, reason):
    offered = make(tmp_path)
    before = digest(live)
    with pytest.raises(BackupError, match=reason) as refused:
        restore(url(live), offered, tmp_path / "bk", CLI)
    assert "\n" not in str(refused.value)
    assert digest(live) == before
    assert not (tmp_path / "bk").exists()  # not even a copy of the current database


def test_restore_will_not_overwrite_a_file_that_is_not_a_ccmdesk_database(live, tmp_path):
    other = _foreign(tmp_path)
    before = digest(other)
    with pytest.raises(BackupError, match="not a ccmdesk database"):
        restore(url(other), live, tmp_path / "bk", CLI)
    assert digest(other) == before


def test_restoring_needs_the_administrator(live, tmp_path):
    db = open_database(url(live), backups=tmp_path / "bk")
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    admin = add_staff(db, "Ann Admin", "non_clinical", administrator=True)
    copy = backup(db, tmp_path / "copy.sqlite3", tmp_path / "bk", CLI)
    fill(db, 1, prefix="LATE")
    db.close()
    assert copy is not None
    with pytest.raises(BackupError, match="may not make or restore backups"):
        restore(url(live), copy, tmp_path / "bk", Actor(nurse, "Nina Okafor"))
    assert patients_in(live) == 401
    restore(url(live), copy, tmp_path / "bk", Actor(admin, "Ann Admin"))
    assert patients_in(live) == 400


def test_restore_onto_a_new_computer_creates_the_database(live, tmp_path):
    target = tmp_path / "new" / "ccmdesk.sqlite3"
    done = restore(url(target), live, tmp_path / "bk", CLI)
    assert done.kept is None and patients_in(target) == 400


def test_a_server_database_is_not_restored_by_ccmdesk(live, tmp_path):
    with pytest.raises(BackupError, match="pg_restore"):
        restore("postgresql+psycopg://seat@db/ccmdesk", live, tmp_path / "bk", CLI)


def test_start_up_finds_the_damage_and_the_newest_sound_backup_restores_it(live, tmp_path):
    folder = tmp_path / "bk"
    db = open_database(url(live), backups=folder)
    good = backup_on_exit(db, dt.datetime(2026, 11, 16, 18), folder)
    fill(db, 3, prefix="NEW")
    db.close()
    # A newer copy that is itself damaged (made from a failing disk, say) is passed over.
    newest = folder / "ccmdesk-daily-20261117-080000.sqlite3"
    newest.write_bytes(live.read_bytes())
    corrupt_middle_page(newest)
    assert find_damage(url(live), folder) is None  # sound: nothing to say

    corrupt_middle_page(live)
    damage = find_damage(url(live), folder)

    assert damage is not None and damage.backup is not None
    assert damage.backup.path == good and "11/16/2026" in damage.backup.describe()
    restore(url(live), damage.backup.path, folder, CLI)
    assert integrity_problems(live, thorough=True) == []
    assert patients_in(live) == 400
    kept = [b for b in list_backups(folder, "ccmdesk") if b.kind == "before-restore"]
    assert len(kept) == 1 and integrity_problems(kept[0].path)  # the damaged file, kept as it was
    db = open_database(url(live), backups=folder)
    try:
        with db.transaction() as session:
            assert session.scalar(select(Patient.mrn).where(Patient.mrn == "NEW00000")) is None
    finally:
        db.close()


def test_no_sound_backup_is_said_as_such(live, tmp_path):
    corrupt_middle_page(live)
    damage = find_damage(url(live), tmp_path / "bk")
    assert damage is not None and damage.backup is None


def test_files_that_are_not_ours_are_left_to_open_database_to_explain(tmp_path):
    assert find_damage(url(_text_file(tmp_path)), tmp_path / "bk") is None
    assert find_damage(url(_foreign(tmp_path)), tmp_path / "bk") is None
    assert find_damage(url(tmp_path / "none.sqlite3"), tmp_path / "bk") is None
    assert find_damage("postgresql+psycopg://seat@db/ccmdesk", tmp_path / "bk") is None


def test_restore_into_a_database_that_is_open_elsewhere(tmp_path):
    """An idle seat that has the file open reads the restored data at its next action."""
    path = tmp_path / "ccmdesk.sqlite3"
    db = make_database(path)
    fill(db, 10)
    copy = backup(db, tmp_path / "copy.sqlite3", tmp_path / "bk", CLI)
    fill(db, 5, prefix="LATE")
    assert copy is not None
    try:
        restore(url(path), copy, tmp_path / "bk", CLI)
        with db.transaction() as session:
            assert len(session.scalars(select(Patient.id)).all()) == 10
    finally:
        db.close()
    assert integrity_problems(path, thorough=True) == []


def test_a_database_too_damaged_to_write_into_is_replaced_whole(live, tmp_path, monkeypatch):
    from ccmdesk.services import restore as restore_service

    copy = tmp_path / "copy.sqlite3"
    copy.write_bytes(live.read_bytes())
    corrupt_middle_page(live)

    def refuses(source: Path, target: Path) -> Path:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(restore_service, "restore_sqlite_file", refuses)
    restore(url(live), copy, tmp_path / "bk", CLI)
    assert integrity_problems(live) == [] and patients_in(live) == 400
    assert not (tmp_path / "ccmdesk.sqlite3.restoring").exists()


def test_a_sound_database_that_refuses_the_copy_is_left_as_it_was(live, tmp_path, monkeypatch):
    from ccmdesk.services import restore as restore_service

    copy = practice_file(tmp_path / "small.sqlite3", 10)
    before = digest(live)

    def locked(source: Path, target: Path) -> Path:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(restore_service, "restore_sqlite_file", locked)
    with pytest.raises(BackupError, match="nothing was changed: database is locked"):
        restore(url(live), copy, tmp_path / "bk", CLI)
    assert digest(live) == before
