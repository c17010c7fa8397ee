"""A practice's PostgreSQL server: connecting, migrating, refusing, the demo.

These need a server of their own (tests/postgres.py); everything that also
holds on SQLite runs on both through the ``db`` fixture instead.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ccmdesk.services.demo import build_demo
from ccmdesk.storage import migrate
from ccmdesk.storage.database import DatabaseError, open_database
from ccmdesk.storage.models import AuditEvent, Patient, Practice, Staff, TimeEntry

pytestmark = pytest.mark.postgres

UTC = dt.timezone.utc
START = dt.datetime(2026, 10, 5, 14, 0, tzinfo=UTC)


@pytest.fixture
def fresh(postgres, request):
    """The URL of a new, empty database on the test server, dropped afterwards."""
    name = request.node.name.removeprefix("test_")[:30]
    url = postgres.create_database(name)
    yield url
    postgres.drop_database(name)


def raw_engine(url: str):
    return create_engine(url, poolclass=NullPool)


def test_a_seat_names_itself_and_checks_its_pooled_connections(fresh):
    db = open_database(fresh)
    try:
        assert db.engine.pool._pre_ping
        with db.engine.connect() as connection:
            assert connection.execute(text("SHOW application_name")).scalar() == "ccmdesk"
    finally:
        db.close()
    # A plain postgresql:// URL uses the driver ccmdesk ships; the URL's own settings win.
    plain = make_url(fresh).set(drivername="postgresql")
    plain = plain.update_query_dict({"application_name": "front-desk"})
    db = open_database(plain.render_as_string(hide_password=False))
    try:
        assert db.engine.dialect.driver == "psycopg"
        with db.engine.connect() as connection:
            assert connection.execute(text("SHOW application_name")).scalar() == "front-desk"
    finally:
        db.close()


def test_the_partial_indexes_are_there(postgres_url):
    engine = raw_engine(postgres_url)
    try:
        indexes = {i["name"]: i for i in inspect(engine).get_indexes("time_entry")}
    finally:
        engine.dispose()
    month = indexes["ix_time_entry_month"]
    assert month["column_names"][:2] == ["start_at", "end_at"]
    assert month["dialect_options"]["postgresql_where"] == "(deleted_at IS NULL)"
    running = indexes["uq_time_entry_running"]
    assert running["unique"] and running["column_names"] == ["staff_id"]
    assert "end_at IS NULL" in running["dialect_options"]["postgresql_where"]


def test_upgrade_0004_settles_two_running_stopwatches_on_postgres(fresh):
    engine = raw_engine(fresh)
    with engine.begin() as connection:
        migrate.upgrade(connection, "0003")
        connection.execute(
            text(
                "INSERT INTO staff (id, name, credential, role, active, created_at, phone)"
                " VALUES (1, 'Nina Nurse', 'RN', 'clinical_staff', true, :at, '')"
            ),
            {"at": START},
        )
        connection.execute(
            text(
                "INSERT INTO patient (id, mrn, first_name, last_name, dob, phone, address,"
                " language, caregiver, part_b, row_version, created_at, updated_at)"
                " VALUES (1, 'M1', 'Ada', 'Test', '1948-05-17', '', '', '', '', true, 1, :at, :at)"
            ),
            {"at": START},
        )
        for entry_id, hours, heartbeat in ((1, 0, 5), (2, 1, None), (3, 2, None)):
            start = START + dt.timedelta(hours=hours)
            connection.execute(
                text(
                    "INSERT INTO time_entry (id, patient_id, staff_id, start_at, heartbeat_at,"
                    " activity, note, source, edit_count, created_at, row_version)"
                    " VALUES (:id, 1, 1, :start, :beat, 'phone_call', '', 'timer', 0, :start, 1)"
                ),
                {
                    "id": entry_id,
                    "start": start,
                    "beat": start + dt.timedelta(minutes=heartbeat) if heartbeat else None,
                },
            )
    engine.dispose()

    db = open_database(fresh)
    try:
        with db.transaction() as session:
            entries = {e.id: e for e in session.scalars(select(TimeEntry))}
            recovered = session.scalars(
                select(AuditEvent.entity_id).where(AuditEvent.action == "recover")
            ).all()
    finally:
        db.close()
    assert entries[3].end_at is None and entries[3].deleted_at is None  # the newest runs on
    assert entries[1].end_at == START + dt.timedelta(minutes=5)  # stopped at its heartbeat
    assert entries[2].deleted_at is not None and entries[2].end_at is None
    assert sorted(recovered) == [1, 2]


def test_every_migration_goes_down_and_up_again(fresh):
    engine = raw_engine(fresh)
    try:
        with engine.begin() as connection:
            migrate.upgrade(connection)
        with engine.begin() as connection:
            from alembic import command

            command.downgrade(migrate._config(connection), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        with engine.begin() as connection:
            migrate.upgrade(connection)
        assert "uq_time_entry_running" in {
            i["name"] for i in inspect(engine).get_indexes("time_entry")
        }
    finally:
        engine.dispose()


def test_seats_started_together_on_a_new_database_all_open_it(fresh):
    opened, failed = [], []

    def seat() -> None:
        try:
            opened.append(open_database(fresh))
        except Exception as error:  # collected and asserted below
            failed.append(error)

    seats = [threading.Thread(target=seat) for _ in range(3)]
    for thread in seats:
        thread.start()
    for thread in seats:
        thread.join(60)
    for db in opened:
        db.close()
    assert failed == [] and len(opened) == 3


def test_another_applications_database_is_refused_and_left_untouched(fresh):
    engine = raw_engine(fresh)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE recipes (id serial PRIMARY KEY, name text)"))
        connection.execute(text("INSERT INTO recipes (name) VALUES ('soup')"))
    try:
        with pytest.raises(DatabaseError, match="did not create"):
            open_database(fresh)
        assert inspect(engine).get_table_names() == ["recipes"]
    finally:
        engine.dispose()


def test_a_database_from_a_newer_ccmdesk_is_refused(fresh):
    open_database(fresh).close()
    engine = raw_engine(fresh)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    engine.dispose()
    with pytest.raises(DatabaseError, match="newer version of ccmdesk"):
        open_database(fresh)


def test_an_unreachable_server_is_one_line_without_the_password(postgres):
    url = postgres.url.set(password="s3cret", port=1, database="ccmdesk")
    with pytest.raises(DatabaseError) as refused:
        open_database(url.render_as_string(hide_password=False))
    message = str(refused.value)
    assert "\n" not in message and "s3cret" not in message
    assert message.startswith("cannot connect to postgresql+psycopg://")


def test_a_role_that_may_not_create_tables_is_one_clear_line(fresh, postgres):
    engine = raw_engine(fresh)
    with engine.begin() as connection:
        if not connection.execute(
            text("SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar():
            pytest.skip("the test server's role may not create roles")
        connection.execute(text("DROP ROLE IF EXISTS ccmdesk_test_reader"))
        connection.execute(text("CREATE ROLE ccmdesk_test_reader LOGIN"))
        connection.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
    engine.dispose()
    reader = make_url(fresh).set(username="ccmdesk_test_reader")
    try:
        with pytest.raises(DatabaseError) as refused:
            open_database(reader.render_as_string(hide_password=False))
        assert "\n" not in str(refused.value)
        assert "permission denied" in str(refused.value)
    finally:
        engine = raw_engine(postgres.url)
        with engine.begin() as connection:
            connection.execute(text("DROP ROLE IF EXISTS ccmdesk_test_reader"))
        engine.dispose()


def test_demo_on_a_server_rebuilds_an_earlier_demo_and_refuses_a_real_practice(fresh):
    db = open_database(fresh)
    today = dt.date(2026, 11, 15)
    try:
        first = build_demo(db, patients=12, months=2, today=today)
        again = build_demo(db, patients=12, months=2, today=today)
        assert (again.patients, again.time_entries) == (first.patients, first.time_entries)
        with db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(Patient)) == 12
            assert session.scalar(select(func.min(Staff.id))) == 1  # ids from 1 again
            assert session.scalar(select(func.count()).select_from(Practice)) == 1
            session.execute(text("UPDATE practice SET name = 'A real practice'"))
        with pytest.raises(ValueError, match="only fills an empty database"):
            build_demo(db, patients=12, months=2, today=today)
        with db.transaction() as session:
            assert session.scalar(select(func.count()).select_from(Patient)) == 12
    finally:
        db.close()
