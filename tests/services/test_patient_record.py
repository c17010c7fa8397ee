"""Reading and editing one patient's record: validation, audit, conflicts."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from ccmdesk.domain.time import Month
from ccmdesk.services import patient_record as record
from ccmdesk.services.audit import Actor
from ccmdesk.services.patient_list import CONSENTED, DECLINED, NO_CONSENT, OPTED_OUT, patient_list
from ccmdesk.services.patient_record import RecordError
from ccmdesk.storage.models import AuditEvent, Patient
from tests.factories import add_entry, add_patient, add_staff, practitioner_npi

UTC = dt.timezone.utc
TODAY = dt.date(2026, 11, 30)
NOW = dt.datetime(2026, 11, 30, 15, tzinfo=UTC)


@pytest.fixture
def setup(db):
    doctor = add_staff(db, "Dana Whitfield", "practitioner", "MD", npi=practitioner_npi(1))
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    desk = add_staff(db, "Sam Front", "non_clinical")
    patient = add_patient(db, "M1", practitioner_id=doctor, consent=None, visit=None)
    return db, doctor, nurse, desk, patient, Actor(nurse, "Nina Okafor")


def test_update_validates_each_field_and_writes_nothing_on_error(setup):
    db, doctor, nurse, desk, patient, actor = setup
    detail = record.load_patient(db, patient)
    cases = [
        ({"first_name": "  "}, "first_name"),
        ({"dob": dt.date(2030, 1, 1)}, "dob"),
        ({"sex": "Q"}, "sex"),
        ({"mbi": "1EG4-TE5-MK7"}, "mbi"),
        ({"billing_practitioner_id": nurse}, "billing_practitioner_id"),
        ({"care_manager_id": desk}, "care_manager_id"),
        ({"mrn": "X"}, "mrn"),
    ]
    for values, field in cases:
        with pytest.raises(RecordError) as caught:
            record.update_patient(db, patient, detail.row_version, values, actor, TODAY)
        assert caught.value.field == field
    assert record.load_patient(db, patient) == detail


def test_update_saves_audits_and_refuses_a_stale_copy(setup):
    db, doctor, nurse, desk, patient, actor = setup
    detail = record.load_patient(db, patient)
    changes = record.update_patient(
        db,
        patient,
        detail.row_version,
        {"mbi": "1eg4-te5-mk73", "phone": "555-0142", "care_manager_id": nurse},
        actor,
        TODAY,
    )
    assert changes.patient_ids == {patient}
    saved = record.load_patient(db, patient)
    assert (saved.mbi, saved.phone, saved.care_manager_id) == ("1EG4TE5MK73", "555-0142", nurse)
    with db.transaction() as session:
        event = session.scalars(select(AuditEvent)).one()
    assert json.loads(event.before) == {"mbi": None, "phone": "", "care_manager_id": None}
    with pytest.raises(RecordError, match="someone else saved"):
        record.update_patient(db, patient, detail.row_version, {"phone": "1"}, actor, TODAY)
    with db.transaction() as session:
        assert session.get(Patient, patient).phone == "555-0142"


def test_conditions_add_override_resolve(setup):
    db, *_, patient, actor = setup
    with pytest.raises(RecordError, match="not an ICD-10-CM code"):
        record.add_condition(db, patient, "E11.99X", actor)
    record.add_condition(db, patient, "j06.9", actor)
    with pytest.raises(RecordError, match="already on the problem list"):
        record.add_condition(db, patient, "J069", actor)
    acute = next(c for c in record.load_patient(db, patient).conditions if c.code == "J069")
    assert not acute.chronic and acute.description.lower().startswith("acute upper")
    record.update_condition(db, acute.id, actor, chronic=True)
    acute = next(c for c in record.load_patient(db, patient).conditions if c.code == "J069")
    assert acute.chronic and acute.chronic_overridden
    with pytest.raises(RecordError, match="before the onset"):
        record.update_condition(
            db, acute.id, actor, onset=dt.date(2026, 5, 1), resolved=dt.date(2026, 4, 1)
        )


def test_consent_decline_opt_out_and_the_list_status(setup):
    db, doctor, nurse, desk, patient, actor = setup
    other = add_patient(db, "M2", last="Other", practitioner_id=doctor, consent=None)
    told = (True, True, True, True)
    with pytest.raises(RecordError, match="all four points"):
        record.record_consent(
            db,
            patient,
            dt.date(2026, 10, 1),
            "verbal",
            actor,
            told=(True, True, False, True),
            today=TODAY,
        )
    with pytest.raises(RecordError, match="future"):
        record.record_consent(
            db, patient, dt.date(2026, 12, 1), "verbal", actor, told=told, today=TODAY
        )
    november = Month(2026, 11)
    status = {r.mrn: r.consent for r in patient_list(db, november, NOW)}
    assert status == {"M1": NO_CONSENT, "M2": NO_CONSENT}
    record.record_consent(
        db,
        other,
        dt.date(2026, 10, 2),
        "verbal",
        actor,
        told=(False,) * 4,
        declined=True,
        today=TODAY,
    )
    record.record_consent(
        db, patient, dt.date(2026, 10, 1), "written", actor, told=told, today=TODAY
    )
    status = {r.mrn: r.consent for r in patient_list(db, november, NOW)}
    assert status == {"M1": CONSENTED, "M2": DECLINED}
    consent = record.load_patient(db, patient).consents[0]
    assert consent.told_all and consent.obtained_by == "Nina Okafor"
    record.record_opt_out(db, consent.id, dt.date(2026, 10, 20), actor, today=TODAY)
    status = {r.mrn: r.consent for r in patient_list(db, november, NOW)}
    assert status["M1"] == OPTED_OUT
    assert {r.mrn: r.consent for r in patient_list(db, Month(2026, 10), NOW)}["M1"] == CONSENTED


def test_visit_and_complex_month(setup):
    db, doctor, _nurse, _desk, patient, actor = setup
    record.add_initiating_visit(db, patient, dt.date(2026, 9, 1), "awv", actor, today=TODAY)
    with pytest.raises(RecordError):
        record.add_initiating_visit(db, patient, dt.date(2026, 9, 1), "lunch", actor, today=TODAY)
    month = Month(2026, 11)
    with pytest.raises(RecordError, match=r"Nina Okafor \(clinical staff\) may not flag complex"):
        record.set_complex_month(db, patient, month, True, actor)  # a practitioner's judgement
    actor = Actor(doctor, "Dana Whitfield")
    assert record.set_complex_month(db, patient, month, True, actor).months == {month}
    assert record.set_complex_month(db, patient, month, True, actor).patient_ids == set()
    detail = record.load_patient(db, patient)
    assert detail.complex_months == {"2026-11"}
    assert [v.visit_type for v in detail.visits] == ["awv"]
    record.set_complex_month(db, patient, month, False, actor)
    assert record.load_patient(db, patient).complex_months == set()


def test_patient_list_figures(setup):
    db, doctor, nurse, desk, patient, actor = setup
    enrolled = add_patient(db, "M2", first="Bea", last="Able", practitioner_id=doctor)
    add_entry(db, enrolled, nurse, dt.datetime(2026, 11, 3, 15, tzinfo=UTC), 12)
    rows = {r.mrn: r for r in patient_list(db, Month(2026, 11), NOW)}
    bea = rows["M2"]
    assert (bea.minutes, bea.minutes_to_next, bea.chronic_conditions) == (12, 8, 2)
    assert bea.needs_minutes and not bea.billable
    assert bea.status == "Not enough minutes"
    assert bea.last_contact == dt.datetime(2026, 11, 3, 15, tzinfo=UTC)
    assert bea.review_due  # no care plan version with a review date yet
    assert bea.practitioner == "Dana Whitfield"
    assert rows["M1"].status.startswith("No consent on file")
    assert bea.age_on(TODAY) == 78
