"""Who may do what, at the service layer: every screen and command gets the same answer.

One row per role, one column per use case; each case is a real service call
that either succeeds or is refused with a message saying who may do it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from ccmdesk.domain.time import Month
from ccmdesk.services import care_plans, month_close, month_end, patient_record, practice, time_log
from ccmdesk.services import users as users_service
from ccmdesk.services.access import COMMAND_LINE, Permission
from ccmdesk.services.audit import Actor
from ccmdesk.services.billing import compute_month
from tests.factories import add_entry, add_patient, add_staff, practitioner_npi

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
OCTOBER, NOVEMBER = Month(2026, 10), Month(2026, 11)

CASES = (
    "log time",
    "edit patient",
    "draft care plan",
    "flag complex month",
    "print time log",
    "run reports",
    "close month",
    "edit fees",
    "manage users",
)
Y, N = True, False
#: role -> allowed, in the order of CASES
MATRIX = {
    "clinical staff": (Y, Y, Y, N, Y, N, N, N, N),
    "practitioner": (Y, Y, Y, Y, Y, N, N, N, N),
    "front desk": (N, N, N, N, Y, N, N, N, N),
    "office manager": (N, N, N, N, Y, Y, Y, Y, N),
    "administrator": (N, N, N, N, Y, N, N, N, Y),
}
ROLES = {
    "clinical staff": ("clinical_staff", {}),
    "practitioner": ("practitioner", {}),
    "front desk": ("non_clinical", {}),
    "office manager": ("non_clinical", {"office_manager": True}),
    "administrator": ("non_clinical", {"administrator": True}),
}


@pytest.fixture
def office(db):
    doctor = add_staff(db, "Dana Whitfield", "practitioner", "MD", npi=practitioner_npi(1))
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    ada = add_patient(db, "M1", first="Ada", last="Lovelace", practitioner_id=doctor)
    add_entry(db, ada, nurse, dt.datetime(2026, 10, 6, 14, tzinfo=UTC), 24)
    return {"db": db, "doctor": doctor, "ada": ada}


def _cases(db, patient: int, actor: Actor) -> dict[str, Callable[[], object]]:
    start = dt.datetime(2026, 11, 16, 14, tzinfo=UTC)
    return {
        "log time": lambda: time_log.add_manual(
            db, patient, actor.id, start, start + dt.timedelta(minutes=12), actor, now=NOW
        ),
        "edit patient": lambda: patient_record.update_patient(
            db,
            patient,
            patient_record.load_patient(db, patient).row_version,
            {"phone": "(555) 201-0000"},
            actor,
            now=NOW,
        ),
        "draft care plan": lambda: care_plans.start_plan(db, patient, actor, now=NOW),
        "flag complex month": lambda: patient_record.set_complex_month(
            db, patient, NOVEMBER, True, actor
        ),
        "print time log": lambda: month_end.time_log_pdf_bytes(db, "M1", OCTOBER, actor, NOW),
        "run reports": lambda: month_end.billing_csv_bytes(compute_month(db, OCTOBER), actor, db),
        "close month": lambda: month_close.close_month(db, OCTOBER, actor, now=NOW),
        "edit fees": lambda: practice.set_fee_override(db, 2026, "99490", "70.00", actor),
        "manage users": lambda: users_service.list_users(db, actor),
    }


def _allowed(call: Callable[[], object]) -> bool:
    """True when the service did it; False when it refused for want of the right."""
    try:
        call()
    except Exception as error:  # each service refuses with its own error class
        text = str(error)
        if " may not " in text or "only active clinical staff and practitioners" in text:
            return False
        raise
    return True


@pytest.mark.parametrize("role", list(MATRIX))
def test_each_role_is_allowed_and_refused_what_the_matrix_says(office, role):
    db = office["db"]
    clinical_role, flags = ROLES[role]
    npi = practitioner_npi(2) if clinical_role == "practitioner" else None
    staff_id = add_staff(db, f"Test {role}", clinical_role, npi=npi, **flags)
    if role == "practitioner":  # complex months are flagged by the patient's own practitioner
        staff_id = office["doctor"]
    actor = Actor(staff_id, f"Test {role}")
    cases = _cases(db, office["ada"], actor)
    outcome = {case: _allowed(cases[case]) for case in CASES}
    assert outcome == dict(zip(CASES, MATRIX[role], strict=True))


def test_a_refusal_says_who_may_and_whom_to_ask(office):
    db = office["db"]
    desk = add_staff(db, "Amber Nolan", "non_clinical")
    with pytest.raises(time_log.TimeEntryError) as refused:
        _cases(db, office["ada"], Actor(desk, "Amber Nolan"))["log time"]()
    assert str(refused.value) == (
        "Amber Nolan (non-clinical staff) may not log care-management time; "
        "this is for clinical staff"
    )
    with pytest.raises(month_close.MonthCloseError, match="this is for an office manager"):
        _cases(db, office["ada"], Actor(desk, "Amber Nolan"))["close month"]()


def test_a_deactivated_user_loses_every_right_at_their_next_action(office):
    db = office["db"]
    manager = add_staff(db, "Lisa Carrington", "non_clinical", office_manager=True)
    actor = Actor(manager, "Lisa Carrington")
    assert _allowed(_cases(db, office["ada"], actor)["edit fees"])
    with db.transaction() as session:
        from ccmdesk.storage.models import Staff

        session.get(Staff, manager).active = False
    with pytest.raises(month_close.MonthCloseError, match="no longer an active user"):
        _cases(db, office["ada"], actor)["close month"]()


def test_the_command_line_may_do_everything_a_person_need_not_do_themselves(office):
    assert Permission.SIGN_CARE_PLANS not in COMMAND_LINE
    cases = _cases(office["db"], office["ada"], Actor.command_line())
    for case in ("edit patient", "run reports", "close month", "edit fees", "manage users"):
        assert _allowed(cases[case]), case
