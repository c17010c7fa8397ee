"""What differs between SQLite and PostgreSQL must not differ for ccmdesk.

Each test runs on both backends (tests/conftest.py).  SQLite ignores the
length of a ``VARCHAR(n)``; PostgreSQL refuses a longer value with a database
error, which would reach the user as "unexpected error" on a multi-seat
practice only.  So every way text reaches a limited column refuses an
over-long value itself, with a message, on both.  Instants keep their offset
through aggregates as well as plain columns, whatever the server's own zone.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from ccmdesk.services.audit import Actor
from ccmdesk.services.imports import ImportRejected
from ccmdesk.services.imports.staff import import_staff
from ccmdesk.services.patient_record import RecordError, load_patient, update_patient
from ccmdesk.services.users import SignInError, UserError, UserForm, save_user, sign_in
from ccmdesk.storage.models import AuditEvent, Staff, TimeEntry
from tests.factories import NOW, add_entry, add_patient, add_staff
from tests.services.csvfiles import STAFF_HEADER, write_csv

ADMIN = Actor.command_line()


def test_an_over_long_staff_name_in_an_import_is_a_problem_of_its_row(db, tmp_path):
    path = write_csv(tmp_path, "staff.csv", STAFF_HEADER, [f"{'N' * 201},RN,clinical_staff,"])
    with pytest.raises(ImportRejected) as rejected:
        import_staff(db, path, ADMIN)
    assert [(p.line, p.column) for p in rejected.value.problems] == [(2, "name")]
    assert "longer than 200" in rejected.value.problems[0].problem


def test_an_over_long_language_is_refused_beside_its_field(db):
    patient = add_patient(db, "MRN-1")
    version = load_patient(db, patient).row_version
    with pytest.raises(RecordError) as refused:
        update_patient(db, patient, version, {"language": "L" * 41}, ADMIN)
    assert refused.value.field == "language"
    update_patient(db, patient, version, {"language": "L" * 40}, ADMIN)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "N" * 201),
        ("credential", "C" * 21),
        ("phone", "5" * 41),
        ("login", "l" * 101),
    ],
)
def test_an_over_long_user_field_is_refused_beside_it(db, field, value):
    form = UserForm(**{"name": "Nina Okafor", "login": "nina", field: value})
    with pytest.raises(UserError) as refused:
        save_user(db, None, form, ADMIN)
    assert refused.value.field == field
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Staff)) == 0


def test_signing_in_with_a_pasted_essay_is_just_a_wrong_user_name(db):
    with pytest.raises(SignInError, match="wrong user name or password"):
        sign_in(db, "x" * 5000, "whatever")
    with db.transaction() as session:
        (actor,) = session.scalars(select(AuditEvent.actor)).all()
    assert len(actor) <= 200


def test_instants_survive_aggregates_in_any_server_zone(db):
    nurse = add_staff(db, "Nina Nurse", "clinical_staff", "RN")
    patient = add_patient(db, "MRN-1")
    # 00:30 UTC on the 1st: still the previous day in New York, already in Kolkata.
    first = dt.datetime(2026, 3, 1, 0, 30, 15, tzinfo=dt.timezone.utc)
    later = first + dt.timedelta(days=3, microseconds=250_000)
    add_entry(db, patient, nurse, first, 20)
    add_entry(db, patient, nurse, later, 20)
    with db.transaction() as session:
        low, high = session.execute(
            select(func.min(TimeEntry.start_at), func.max(TimeEntry.start_at))
        ).one()
    from ccmdesk.storage.month_facts import _as_utc

    assert (_as_utc(low), _as_utc(high)) == (first, later)
    assert _as_utc(high).utcoffset() == dt.timedelta(0)


def test_a_second_running_stopwatch_for_one_person_is_refused_by_the_database(db):
    from sqlalchemy.exc import IntegrityError

    nurse = add_staff(db, "Nina Nurse", "clinical_staff", "RN")
    patient = add_patient(db, "MRN-1")
    running = {"patient_id": patient, "staff_id": nurse, "activity": "phone_call"}
    with db.transaction() as session:
        session.add(TimeEntry(**running, start_at=NOW, source="timer", created_at=NOW))
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(TimeEntry(**running, start_at=NOW, source="timer", created_at=NOW))


def test_a_fee_too_large_for_its_column_is_refused_as_a_fee(db):
    from ccmdesk.domain.fees import FeeScheduleError
    from ccmdesk.services.practice import fee_schedule, set_fee_override

    with pytest.raises(FeeScheduleError, match="more than a fee can be"):
        set_fee_override(db, 2026, "99490", "100000000.00", ADMIN)
    set_fee_override(db, 2026, "99490", "99999999.99", ADMIN)
    with db.transaction() as session:
        assert str(fee_schedule(session, 2026).amounts["99490"]) == "99999999.99"


def test_replacing_a_demo_never_empties_a_real_practice(db):
    from ccmdesk.services.demo import build_demo
    from ccmdesk.storage.models import Patient

    add_patient(db, "MRN-1")
    with pytest.raises(ValueError, match="or one holding an earlier demo"):
        build_demo(db, patients=5, months=1, replace_demo=True)
    with db.transaction() as session:
        assert session.scalars(select(Patient.mrn)).all() == ["MRN-1"]
