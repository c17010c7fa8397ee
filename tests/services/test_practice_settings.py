"""Practice settings: administrators only, checked field by field, audited."""

from __future__ import annotations

import pytest

from ccmdesk.services.audit import Actor
from ccmdesk.services.audit_trail import AuditFilter, audit_page
from ccmdesk.services.practice import practice_zone
from ccmdesk.services.practice_settings import (
    PracticeSettings,
    SettingsError,
    load_practice,
    update_practice,
)
from tests.factories import DOCTOR_NPI, add_staff


@pytest.fixture
def admin(db) -> Actor:
    return Actor(add_staff(db, "Ann Admin", "non_clinical", administrator=True), "Ann Admin")


def practice_events(db) -> int:
    return audit_page(db, Actor.command_line(), AuditFilter(entity="practice")).total


def test_an_administrator_changes_the_settings(db, admin):
    saved = update_practice(
        db,
        {
            "name": "  Maple Street Primary Care ",
            "npi": "1234 567 893",
            "address": "12 Maple Street\nSpringfield",
            "phone": "(555) 010-0100",
            "after_hours_phone": "(555) 010-0199",
            "time_zone": "America/Chicago",
        },
        admin,
    )
    assert saved == PracticeSettings(
        name="Maple Street Primary Care",
        npi=DOCTOR_NPI,
        address="12 Maple Street\nSpringfield",
        phone="(555) 010-0100",
        after_hours_phone="(555) 010-0199",
        time_zone="America/Chicago",
    )
    assert load_practice(db) == saved
    with db.transaction() as session:
        assert str(practice_zone(session)) == "America/Chicago"
    assert practice_events(db) == 1


def test_only_an_administrator_may(db):
    nurse = Actor(add_staff(db, "Nina Okafor", "clinical_staff", "RN"), "Nina Okafor")
    manager = Actor(add_staff(db, "Olive Office", "non_clinical", office_manager=True), "Olive")
    for actor in (nurse, manager):
        with pytest.raises(SettingsError, match="may not change practice settings"):
            update_practice(db, {"phone": "1"}, actor)
    assert load_practice(db).phone == "" and practice_events(db) == 0


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"name": "  "}, "name", "the practice needs a name"),
        ({"npi": "1234567890"}, "npi", "NPI check digit does not match"),
        ({"npi": "12345"}, "npi", "NPI must be 10 digits"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "'Mars/Olympus' is not a time zone"),
        ({"phone": "5" * 41}, "phone", "Phone is longer than 40 characters"),
        ({"after_hours_phone": "5" * 41}, "after_hours_phone", "After-hours phone is longer"),
        ({"colour": "blue"}, "colour", "not a practice setting"),
    ],
)
def test_a_wrong_value_is_refused_and_named(db, admin, values, field, message):
    with pytest.raises(SettingsError, match=message) as refused:
        update_practice(db, values, admin)
    assert refused.value.field == field
    assert load_practice(db).name == "Test Practice" and practice_events(db) == 0


def test_saving_what_is_there_writes_nothing(db, admin):
    current = load_practice(db)
    assert update_practice(db, {"name": "Test Practice", "npi": ""}, admin) == current
    assert practice_events(db) == 0


def test_clearing_the_npi_and_zone_is_a_change(db, admin):
    update_practice(db, {"npi": DOCTOR_NPI, "time_zone": "America/Denver"}, admin)
    saved = update_practice(db, {"npi": "", "time_zone": ""}, admin)
    assert (saved.npi, saved.time_zone) == (None, None)
    event = audit_page(db, admin, AuditFilter(entity="practice")).rows[0]
    assert event.summary == f'npi: "{DOCTOR_NPI}" → —; time zone: "America/Denver" → —'
