"""Every kind of change the issue lists leaves an audit event with its before and after.

Each test makes the change through the service a screen would call, then reads
the event back through the audit-trail service an administrator reads it with.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from ccmdesk.domain.time import Month
from ccmdesk.services import care_plans as cp
from ccmdesk.services import month_close, month_end, patient_record, time_log, users
from ccmdesk.services.audit import Actor
from ccmdesk.services.audit_trail import AuditFilter, AuditRow, audit_page
from ccmdesk.services.billing import compute_month
from ccmdesk.services.practice import set_fee_override
from ccmdesk.services.practice_settings import update_practice
from tests.careplans.helpers import NOW, TODAY, Practice3, complete, setup_practice
from tests.factories import add_staff

UTC = dt.timezone.utc
OCTOBER = Month(2026, 10)


@pytest.fixture
def practice(db) -> Practice3:
    return setup_practice(db)


@pytest.fixture
def manager(db) -> Actor:
    return Actor(add_staff(db, "Olive Office", "non_clinical", office_manager=True), "Olive Office")


@pytest.fixture
def admin(db) -> Actor:
    return Actor(add_staff(db, "Ann Admin", "non_clinical", administrator=True), "Ann Admin")


def latest(db, **filters) -> AuditRow:
    """The newest event matching ``filters``, as the administrator's browser reads it."""
    page = audit_page(db, Actor.command_line(), AuditFilter(**filters), limit=1)
    assert page.total >= 1, f"no audit event for {filters}"
    return page.rows[0]


def values(text: str | None) -> dict | None:
    return None if text is None else json.loads(text)


def test_patient_update(db, practice):
    detail = patient_record.load_patient(db, practice.patient_id)
    patient_record.update_patient(
        db, practice.patient_id, detail.row_version, {"phone": "555-010-0123"}, practice.nurse
    )
    event = latest(db, entity="patient", action="update")
    assert (event.patient_id, event.actor_id) == (practice.patient_id, practice.nurse.id)
    assert values(event.before) == {"phone": ""}
    assert values(event.after) == {"phone": "555-010-0123"}
    assert event.summary == 'phone: — → "555-010-0123"'


def test_condition_added_and_changed(db, practice):
    patient_record.add_condition(db, practice.patient_id, "I5022", practice.nurse)
    added = latest(db, entity="condition", action="create")
    assert added.before is None and values(added.after)["code"] == "I5022"
    assert values(added.after)["chronic"] is True
    patient_record.update_condition(db, added.entity_id, practice.nurse, chronic=False)
    changed = latest(db, entity="condition", action="update")
    assert changed.entity_id == added.entity_id and changed.patient_id == practice.patient_id
    assert (values(changed.before), values(changed.after)) == (
        {"chronic": True},
        {"chronic": False},
    )
    assert changed.summary == "chronic: yes → no"


def test_consent_recorded_and_withdrawn(db, practice):
    patient_record.record_consent(
        db, practice.patient_id, TODAY, "written", practice.nurse, told=(True,) * 4, today=TODAY
    )
    consent = latest(db, entity="consent_record", action="create")
    assert values(consent.after) == {
        "consent_date": "2026-11-16",
        "method": "written",
        "declined": False,
    }
    patient_record.record_opt_out(db, consent.entity_id, TODAY, practice.nurse, today=TODAY)
    opt_out = latest(db, entity="consent_record", action="update")
    assert values(opt_out.before) == {"opt_out_date": None}
    assert values(opt_out.after) == {"opt_out_date": "2026-11-16"}
    assert opt_out.summary == "opt out date: — → 11/16/2026"


def test_time_entry_start_stop_edit_delete(db, practice):
    nurse = practice.nurse
    start = NOW - dt.timedelta(minutes=20)
    entry_id = time_log.start_timer(
        db, practice.patient_id, nurse.id, nurse, note="called", now=start
    ).created_id
    started = latest(db, entity="time_entry", action="start")
    assert started.entity_id == entry_id and started.patient_id == practice.patient_id
    assert values(started.after)["end_at"] is None
    assert values(started.after)["start_at"] == start.isoformat()

    time_log.stop_timer(db, entry_id, nurse, now=NOW)
    stopped = latest(db, entity="time_entry", action="stop")
    assert values(stopped.after)["end_at"] == NOW.isoformat()

    time_log.edit_entry(db, entry_id, nurse, note="called back", now=NOW)
    edited = latest(db, entity="time_entry", action="update")
    assert values(edited.before) == {"note": "called"}
    assert values(edited.after) == {"note": "called back"}
    assert edited.summary == 'note: "called" → "called back"'

    time_log.delete_entry(db, entry_id, "logged for the wrong patient", nurse, now=NOW)
    deleted = latest(db, entity="time_entry", action="delete")
    assert values(deleted.before)["note"] == "called back"
    assert values(deleted.before)["end_at"] == NOW.isoformat()
    assert deleted.detail == "logged for the wrong patient"
    assert deleted.summary.startswith("was activity: ")
    assert "start: 11/16/2026 9:40:00 AM" in deleted.summary  # the practice's clock


def test_care_plan_drafted_and_signed(db, practice):
    version_id = cp.start_plan(db, practice.patient_id, practice.nurse, now=NOW).created_id
    started = latest(db, entity="care_plan_version", action="create")
    assert started.entity_id == version_id and values(started.after)["number"] == 1
    content = complete(cp.load_version(db, version_id).content)
    cp.save_draft(db, version_id, content, practice.nurse, now=NOW)
    saved = latest(db, entity="care_plan_version", action="update")
    assert "prognosis" in values(saved.after)["elements"].split(",")
    cp.sign(db, version_id, practice.doctor, now=NOW)
    signed = latest(db, entity="care_plan_version", action="sign")
    assert signed.actor_id == practice.doctor.id and signed.patient_id == practice.patient_id
    assert values(signed.after)["number"] == 1 and "content_sha256" in values(signed.after)


def test_month_closed_and_reopened(db, practice, manager):
    month_close.close_month(db, OCTOBER, manager, now=NOW)
    closed = latest(db, entity="month_close", action="close")
    assert values(closed.after) == {"month": "2026-10", "closed_at": NOW.isoformat()}
    later = NOW + dt.timedelta(hours=1)
    month_close.reopen_month(db, OCTOBER, "late fax from cardiology", manager, now=later)
    reopened = latest(db, entity="month_close", action="reopen")
    assert values(reopened.before) == {"month": "2026-10", "closed_at": NOW.isoformat()}
    assert values(reopened.after) == {"month": "2026-10", "reopened_at": later.isoformat()}
    assert reopened.detail == "late fax from cardiology" and reopened.actor_id == manager.id


def test_fee_override(db, practice, manager):
    set_fee_override(db, 2026, "99490", Decimal("61.50"), manager)
    set_fee_override(db, 2026, "99490", "63.00", manager)
    event = latest(db, entity="fee_override")
    assert (values(event.before), values(event.after)) == ({"amount": "61.50"}, {"amount": "63.00"})
    assert event.detail == "2026 99490"


def test_practice_settings(db, practice, admin):
    update_practice(db, {"phone": "(555) 010-0200", "time_zone": "America/Chicago"}, admin)
    event = latest(db, entity="practice", action="update")
    assert values(event.before) == {"phone": "(555) 010-0100", "time_zone": "America/New_York"}
    assert values(event.after) == {"phone": "(555) 010-0200", "time_zone": "America/Chicago"}
    assert event.actor_id == admin.id


def test_users_created_and_changed(db, practice, admin):
    form = users.UserForm(name="Rita Nurse", credential="RN")
    staff_id = users.save_user(db, None, form, admin)
    created = latest(db, entity="user", action="create")
    assert created.entity_id == staff_id and values(created.after)["name"] == "Rita Nurse"
    users.save_user(db, staff_id, users.UserForm(**{**vars(form), "credential": "LPN"}), admin)
    changed = latest(db, entity="user", action="update")
    assert (values(changed.before), values(changed.after)) == (
        {"credential": "RN"},
        {"credential": "LPN"},
    )


def test_prints_and_exports(db, practice, manager):
    report = compute_month(db, OCTOBER)
    month_end.billing_csv_bytes(report, manager, db)
    exported = latest(db, action="export")
    assert (exported.entity, exported.actor_id) == ("billing_csv", manager.id)
    assert exported.detail.startswith("2026-10")
    month_end.billing_pdf_bytes(db, report, manager, NOW)
    printed = latest(db, action="print")
    assert (printed.entity, printed.detail) == ("billing_summary", "2026-10")


def test_a_patients_printed_care_plan_is_filed_under_the_patient(db, practice):
    version_id = cp.start_plan(db, practice.patient_id, practice.nurse, now=NOW).created_id
    content = complete(cp.load_version(db, version_id).content)
    cp.save_draft(db, version_id, content, practice.nurse, now=NOW)
    cp.sign(db, version_id, practice.doctor, now=NOW)
    month_end.care_plan_pdf_bytes(db, "MRN-1", practice.nurse)
    printed = latest(db, action="print", patient_id=practice.patient_id)
    assert (printed.entity, printed.actor_id) == ("care_plan", practice.nurse.id)
