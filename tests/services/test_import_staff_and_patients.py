"""SPEC §2.1 staff and patient imports: validation, all-or-nothing, re-import."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from ccmdesk.services.audit import Actor
from ccmdesk.services.imports import ImportRejected
from ccmdesk.services.imports.patients import import_patients
from ccmdesk.services.imports.staff import import_staff
from ccmdesk.storage.models import (
    AuditEvent,
    ComplexMonth,
    Condition,
    ConsentRecord,
    InitiatingVisit,
    Patient,
    Staff,
)
from tests.services.csvfiles import (
    GOOD_PATIENTS,
    GOOD_STAFF,
    PATIENT_HEADER,
    STAFF_HEADER,
    write_csv,
)

ACTOR = Actor.command_line()
TODAY = dt.date(2026, 11, 30)


def count(db, model) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def rejected_lines(call) -> list[str]:
    with pytest.raises(ImportRejected) as caught:
        call()
    return caught.value.lines()


@pytest.fixture
def staffed(db, tmp_path):
    import_staff(db, write_csv(tmp_path, "staff.csv", STAFF_HEADER, GOOD_STAFF), ACTOR)
    return db


def test_staff_import_and_reimport(db, tmp_path):
    path = write_csv(tmp_path, "staff.csv", STAFF_HEADER, GOOD_STAFF)
    first = import_staff(db, path, ACTOR)
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    again = import_staff(db, path, ACTOR)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert count(db, Staff) == 3


def test_staff_reimport_updates_by_npi_and_by_name_with_audit(db, tmp_path):
    import_staff(db, write_csv(tmp_path, "a.csv", STAFF_HEADER, GOOD_STAFF), ACTOR)
    changed = [
        "Dana Whitfield-Lee,MD,practitioner,1234567893",  # same NPI, new name
        "Nina Okafor,LPN,clinical_staff,",  # same name, new credential
    ]
    summary = import_staff(db, write_csv(tmp_path, "b.csv", STAFF_HEADER, changed), ACTOR)
    assert (summary.created, summary.updated) == (0, 2)
    with db.transaction() as session:
        names = set(session.scalars(select(Staff.name)))
        assert names == {"Dana Whitfield-Lee", "Nina Okafor", "Sam Front"}
        updates = session.scalars(select(AuditEvent).where(AuditEvent.action == "update")).all()
        assert {(u.before, u.after) for u in updates} == {
            ('{"name": "Dana Whitfield"}', '{"name": "Dana Whitfield-Lee"}'),
            ('{"credential": "RN"}', '{"credential": "LPN"}'),
        }


def test_staff_errors_are_all_reported_and_nothing_written(db, tmp_path):
    rows = [
        "Dana Whitfield,MD,practitioner,1234567890",  # bad check digit
        ",RN,clinical_staff,",  # no name
        "Pat Doe,RN,nurse,",  # unknown role
        "Lee Smith,NP,practitioner,",  # practitioner without NPI
        "Ok Person,RN,clinical_staff,",
        "Ok Person,RN,clinical_staff,",  # same name twice without NPI
    ]
    path = write_csv(tmp_path, "staff.csv", STAFF_HEADER, rows)
    lines = rejected_lines(lambda: import_staff(db, path, ACTOR))
    assert [
        line.split(": ")[0].rsplit(":", 1)[1] + ":" + line.split(": ")[1] for line in lines
    ] == [
        "2:npi",
        "3:name",
        "4:role",
        "5:npi",
        "7:name",
    ]
    assert lines[0].startswith(f"{path}:2: npi: '1234567890' is not a valid NPI")
    assert count(db, Staff) == 0


def test_header_problems(db, tmp_path):
    path = write_csv(tmp_path, "staff.csv", "name,credentail,role,npi", GOOD_STAFF)
    lines = rejected_lines(lambda: import_staff(db, path, ACTOR))
    assert lines == [f"{path}:1: credentail: unknown column; expected name,credential,role,npi"]
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "the file is empty" in rejected_lines(lambda: import_staff(db, empty, ACTOR))[0]
    missing = write_csv(tmp_path, "m.csv", "credential,npi", [",1234567893"])
    lines = rejected_lines(lambda: import_staff(db, missing, ACTOR))
    assert lines == [
        f"{missing}:1: name: column is missing from the header",
        f"{missing}:1: role: column is missing from the header",
    ]


def test_row_with_wrong_number_of_cells_and_non_utf8(db, tmp_path):
    path = write_csv(tmp_path, "s.csv", STAFF_HEADER, ["A,RN,clinical_staff", *GOOD_STAFF])
    assert rejected_lines(lambda: import_staff(db, path, ACTOR)) == [
        f"{path}:2: row: has 3 cells, the header has 4"
    ]
    latin = tmp_path / "latin.csv"
    latin.write_bytes((STAFF_HEADER + "\nJos\xe9 Ruiz,RN,clinical_staff,\n").encode("latin-1"))
    assert rejected_lines(lambda: import_staff(db, latin, ACTOR)) == [
        f"{latin}:2: row: is not UTF-8 text; save the file as CSV UTF-8"
    ]


def test_patient_import_creates_everything(staffed, tmp_path):
    db = staffed
    path = write_csv(tmp_path, "patients.csv", PATIENT_HEADER, GOOD_PATIENTS)
    summary = import_patients(db, path, ACTOR, today=TODAY)
    assert (summary.created, summary.updated, summary.unchanged) == (2, 0, 0)
    with db.transaction() as session:
        ada = session.scalars(select(Patient).where(Patient.mrn == "P-1")).one()
        assert ada.mbi == "1EG4TE5MK73"  # dashes removed, upper case
        assert ada.sex == "F" and ada.part_b is True
        assert ada.care_plan_date == dt.date(2026, 1, 6)
        bo = session.scalars(select(Patient).where(Patient.mrn == "P-2")).one()
        assert bo.mbi is None and bo.part_b is True  # empty part_b -> y
        conditions = {
            c.code: c.chronic
            for c in session.scalars(select(Condition).where(Condition.patient_id == bo.id))
        }
        assert conditions == {"J449": True, "F32A": True, "J069": False}
        consent = session.scalars(
            select(ConsentRecord).where(ConsentRecord.patient_id == bo.id)
        ).one()
        assert consent.method == "written" and consent.opt_out_date == dt.date(2026, 2, 14)
        assert consent.told_cost_sharing and consent.told_one_practitioner
        assert session.scalars(select(ComplexMonth.month)).all() == ["2026-02"]
        assert count(db, InitiatingVisit) == 2


def test_patient_reimport_is_idempotent_and_updates_only_what_changed(staffed, tmp_path):
    db = staffed
    path = write_csv(tmp_path, "patients.csv", PATIENT_HEADER, GOOD_PATIENTS)
    import_patients(db, path, ACTOR, today=TODAY)
    tables = (Patient, Condition, ConsentRecord, InitiatingVisit, ComplexMonth)
    counts = [count(db, t) for t in tables]
    again = import_patients(db, path, ACTOR, today=TODAY)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert [count(db, t) for t in tables] == counts

    changed = [GOOD_PATIENTS[0].replace("555-0100", "555-0199").replace("E11.9;I10", "E11.9;N18.4")]
    summary = import_patients(
        db, write_csv(tmp_path, "p2.csv", PATIENT_HEADER, changed), ACTOR, today=TODAY
    )
    assert (summary.created, summary.updated) == (0, 1)
    with db.transaction() as session:
        ada = session.scalars(select(Patient).where(Patient.mrn == "P-1")).one()
        assert ada.phone == "555-0199"
        codes = set(session.scalars(select(Condition.code).where(Condition.patient_id == ada.id)))
        assert codes == {"E119", "I10", "N184"}  # nothing removed by an import


def test_patient_errors_name_row_and_column_and_write_nothing(staffed, tmp_path):
    db = staffed
    rows = [
        "P-1,Ada,Lovelace,1944-02-30,F,,,,,,,,,,,",  # impossible date
        "P-2,Bo,,1950-07-30,Q,1EG4-TE5-MK7,,,maybe,E11.9;XYZ,,,,,,",
        "P-3,Cy,Dee,1950-07-30,,,,1234567893,,,2026-01-05,,,,,2026-13",
        "P-3,Di,Eff,2030-01-01,,,,9999999999,,,,verbal,,,,",
        "P-5,Ed,Gee,1950-07-30,,,,,,,2026-02-01,verbal,,,2026-01-01,",
    ]
    path = write_csv(tmp_path, "p.csv", PATIENT_HEADER, rows)
    lines = rejected_lines(lambda: import_patients(db, path, ACTOR, today=TODAY))
    where = [line[len(str(path)) + 1 :].split(": ")[0:2] for line in lines]
    assert where == [
        ["2", "dob"],
        ["3", "last_name"],
        ["3", "sex"],
        ["3", "mbi"],
        ["3", "part_b"],
        ["3", "conditions"],
        ["4", "consent_method"],
        ["4", "complex_months"],
        ["5", "mrn"],
        ["5", "dob"],
        ["5", "billing_npi"],
        ["5", "consent_date"],
        ["6", "opt_out_date"],
    ]
    assert f"{path}:2: dob: '1944-02-30' is not a real date" in lines
    assert f"{path}:3: conditions: 'XYZ' is not an ICD-10-CM code" in lines
    assert f"{path}:5: dob: 2030-01-01 is in the future" in lines
    assert count(db, Patient) == 0


def test_patient_import_needs_known_practitioner_npi(db, tmp_path):
    path = write_csv(tmp_path, "p.csv", PATIENT_HEADER, GOOD_PATIENTS[:1])
    lines = rejected_lines(lambda: import_patients(db, path, ACTOR, today=TODAY))
    assert lines == [
        f"{path}:2: billing_npi: no practitioner with NPI 1234567893; import the staff file first"
    ]


def test_mbi_belonging_to_another_patient_is_refused(staffed, tmp_path):
    db = staffed
    import_patients(
        db, write_csv(tmp_path, "a.csv", PATIENT_HEADER, GOOD_PATIENTS), ACTOR, today=TODAY
    )
    thief = ["P-9,Ida,Ink,1940-01-01,,1EG4TE5MK73,,,,,,,,,,"]
    path = write_csv(tmp_path, "b.csv", PATIENT_HEADER, thief)
    assert rejected_lines(lambda: import_patients(db, path, ACTOR, today=TODAY)) == [
        f"{path}:2: mbi: 1EG4TE5MK73 already belongs to patient P-1"
    ]
    assert count(db, Patient) == 2


def test_two_people_with_one_name_told_apart_by_npi_reimport_cleanly(db, tmp_path):
    rows = ["Jane Doe,RN,clinical_staff,", "Jane Doe,MD,practitioner,1234567893"]
    path = write_csv(tmp_path, "staff.csv", STAFF_HEADER, rows)
    first = import_staff(db, path, ACTOR)
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    again = import_staff(db, path, ACTOR)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert count(db, Staff) == 2


def test_a_name_imported_without_npi_gets_its_npi_later(db, tmp_path):
    import_staff(
        db, write_csv(tmp_path, "a.csv", STAFF_HEADER, ["Lee Park,NP,clinical_staff,"]), ACTOR
    )
    later = write_csv(tmp_path, "b.csv", STAFF_HEADER, ["Lee Park,NP,practitioner,1234567893"])
    summary = import_staff(db, later, ACTOR)
    assert (summary.created, summary.updated) == (0, 1)
    with db.transaction() as session:
        assert session.scalars(select(Staff.npi)).all() == ["1234567893"]
