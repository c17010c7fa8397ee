"""Opening, creating, refusing and migrating database files (real SQLite files)."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from ccmdesk.storage import migrate
from ccmdesk.storage.database import DatabaseError, open_database
from ccmdesk.storage.inspect import APPLICATION_ID
from ccmdesk.storage.models import Base, Patient, Practice, TimeEntry
from ccmdesk.storage.types import NaiveDateTimeError
from tests.factories import NOW, add_patient, add_staff


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def url(path):
    return f"sqlite:///{path}"


def test_new_file_gets_the_whole_schema_and_safe_pragmas(tmp_path):
    path = tmp_path / "sub" / "new.sqlite3"
    db = open_database(url(path), backups=tmp_path / "bk")
    try:
        tables = set(inspect(db.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        with db.engine.connect() as connection:
            pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") >= 5000
            assert pragma("synchronous") == 2  # FULL
            assert pragma("application_id") == APPLICATION_ID
            version = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert version.scalar() == migrate.head_revision()
    finally:
        db.close()
    assert not (tmp_path / "bk").exists()  # nothing to back up for a new file


def test_empty_file_is_initialised(tmp_path):
    path = tmp_path / "empty.sqlite3"
    path.touch()
    db = open_database(url(path), backups=tmp_path / "bk")
    db.close()
    assert path.stat().st_size > 0


@pytest.mark.sqlite_only  # the file itself
def test_reopening_a_current_database_keeps_its_data(db, tmp_path):
    add_patient(db, "MRN-1")
    path = db.path
    db.close()
    again = open_database(url(path), backups=tmp_path / "bk")
    try:
        with again.transaction() as session:
            assert session.scalars(select(Patient.mrn)).all() == ["MRN-1"]
    finally:
        again.close()
    assert not (tmp_path / "bk").exists()


def test_foreign_keys_are_enforced(db):
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(
            TimeEntry(
                patient_id=999,
                staff_id=999,
                start_at=NOW,
                end_at=NOW + dt.timedelta(minutes=5),
                activity="phone_call",
                source="manual",
                created_at=NOW,
            )
        )


def test_check_constraints_guard_vocabularies(db):
    staff = add_staff(db, "Nina Nurse", "clinical_staff", "RN")
    patient = add_patient(db, "MRN-1")
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(
            TimeEntry(
                patient_id=patient,
                staff_id=staff,
                start_at=NOW,
                end_at=NOW + dt.timedelta(minutes=5),
                activity="gossip",
                source="manual",
                created_at=NOW,
            )
        )


def test_instants_round_trip_as_utc_and_naive_values_are_refused(db):
    staff = add_staff(db, "Nina Nurse", "clinical_staff", "RN")
    patient = add_patient(db, "MRN-1")
    chicago = dt.timezone(dt.timedelta(hours=-6))
    start = dt.datetime(2026, 3, 1, 9, 30, 15, 250000, tzinfo=chicago)
    with db.transaction() as session:
        session.add(
            TimeEntry(
                patient_id=patient,
                staff_id=staff,
                start_at=start,
                end_at=start + dt.timedelta(minutes=20),
                activity="phone_call",
                source="timer",
                created_at=NOW,
            )
        )
    with db.transaction() as session:
        stored = session.scalars(select(TimeEntry.start_at)).one()
    assert stored == start
    assert stored.utcoffset() == dt.timedelta(0)
    assert stored.hour == 15
    with pytest.raises(StatementError) as caught, db.transaction() as session:
        session.add(
            TimeEntry(
                patient_id=patient,
                staff_id=staff,
                start_at=dt.datetime(2026, 3, 1, 9, 30),
                activity="phone_call",
                source="timer",
                created_at=NOW,
            )
        )
    assert isinstance(caught.value.orig, NaiveDateTimeError)


def test_a_text_file_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "notes.sqlite3"
    path.write_text("my shopping list\n" * 200)
    before = digest(path)
    with pytest.raises(DatabaseError, match="not an SQLite database"):
        open_database(url(path), backups=tmp_path / "bk")
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.sqlite3"]


def test_another_applications_sqlite_file_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE recipes (id INTEGER PRIMARY KEY, name TEXT)")
    connection.execute("INSERT INTO recipes (name) VALUES ('soup')")
    connection.commit()
    connection.close()
    before = digest(path)
    with pytest.raises(DatabaseError, match="did not create"):
        open_database(url(path), backups=tmp_path / "bk")
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.db"]


@pytest.mark.sqlite_only  # the file itself
def test_a_database_from_a_newer_ccmdesk_is_refused_and_left_untouched(db, tmp_path):
    path = db.path
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    db.close()
    before = digest(path)
    with pytest.raises(DatabaseError, match="newer version of ccmdesk"):
        open_database(url(path), backups=tmp_path / "bk")
    assert digest(path) == before


def test_an_older_database_is_backed_up_then_migrated(tmp_path):
    path = tmp_path / "old.sqlite3"
    backups = tmp_path / "bk"
    # Build a database at the first revision, as the previous release left it.
    from sqlalchemy import create_engine

    engine = create_engine(url(path))
    with engine.begin() as connection:
        connection.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
        migrate.upgrade(connection, "0001")
        connection.execute(
            text(
                "INSERT INTO practice (id, name, address, phone, after_hours_phone) "
                "VALUES (1, 'Old Practice', '', '', '')"
            )
        )
    engine.dispose()
    assert migrate.known_revisions()[0] == "0001" != migrate.head_revision()
    original = digest(path)

    db = open_database(url(path), backups=backups)
    try:
        with db.transaction() as session:
            assert session.scalars(select(Practice.name)).one() == "Old Practice"
        assert "fee_override" in inspect(db.engine).get_table_names()
    finally:
        db.close()
    copies = list(backups.iterdir())
    assert len(copies) == 1 and copies[0].name.startswith("old-before-")
    saved = sqlite3.connect(copies[0])
    try:
        assert saved.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
        assert saved.execute("SELECT name FROM practice").fetchone()[0] == "Old Practice"
    finally:
        saved.close()
    assert original != digest(path)


def test_the_models_match_the_migrations(db):
    """Every table and column of models.py is created by the migrations, and vice versa."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_a_place_that_cannot_hold_a_database_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(DatabaseError, match="cannot open"):
        open_database(url(blocker / "ccmdesk.sqlite3"), backups=tmp_path / "bk")


def test_known_revisions_agree_with_alembic():
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate._config())
    walked = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert migrate.known_revisions() == walked
    assert migrate.head_revision() == script.get_current_head()
