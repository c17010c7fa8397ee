"""Who may do what: roles enforced in the services, whatever screen or command calls.

A staff member's permissions come from two things on their record:

* their clinical ``role`` (SPEC §2.1): ``clinical_staff`` log time, edit
  patients and draft care plans; a ``practitioner`` does all that and also
  signs care plans and flags complex months; ``non_clinical`` staff do none of
  it, but may print a patient's care plan or time log and record the copy given;
* the application roles they hold besides it: an **office manager** runs
  reports, prints and exports, closes and reopens months and edits the fee
  schedule (but not clinical content); an **administrator** manages users,
  practice settings, backups and restore, and reads the audit trail.

A small practice often gives one person several (the physician-owner who is
also the administrator), so the application roles are flags, not a fourth
value of ``role``.

The command line acts with the operating-system account that can open the
database file anyway, so :meth:`Actor.command_line` is trusted with every
permission except those that need a person (signing a care plan checks its
signer itself).  The record is read from the database on every check, so a
user deactivated at one seat loses access at every seat at their next action.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from sqlalchemy.orm import Session

from ccmdesk.services.audit import Actor
from ccmdesk.storage.models import Staff


class Permission(enum.Enum):
    """What can be allowed; the value reads in a sentence ("may not …")."""

    LOG_TIME = "log care-management time"
    EDIT_PATIENTS = "change patient records"
    DRAFT_CARE_PLANS = "write care plans"
    SIGN_CARE_PLANS = "sign care plans"
    FLAG_COMPLEX = "flag complex months"
    PRINT_PATIENT = "print a patient's care plan or time log"
    RUN_REPORTS = "run billing reports and exports"
    CLOSE_MONTHS = "close or reopen months"
    EDIT_FEES = "change the fee schedule"
    MANAGE_USERS = "manage users"
    EDIT_SETTINGS = "change practice settings"
    MANAGE_BACKUPS = "make or restore backups"
    READ_AUDIT = "read the audit trail"


P = Permission
CLINICAL = frozenset({P.LOG_TIME, P.EDIT_PATIENTS, P.DRAFT_CARE_PLANS, P.PRINT_PATIENT})
PRACTITIONER = CLINICAL | {P.SIGN_CARE_PLANS, P.FLAG_COMPLEX}
OFFICE_MANAGER = frozenset({P.RUN_REPORTS, P.CLOSE_MONTHS, P.EDIT_FEES, P.PRINT_PATIENT})
ADMINISTRATOR = frozenset({P.MANAGE_USERS, P.EDIT_SETTINGS, P.MANAGE_BACKUPS, P.READ_AUDIT})
#: Nothing here needs a person, so the command line may do all of it.
COMMAND_LINE = frozenset(Permission) - {P.SIGN_CARE_PLANS}

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "clinical_staff": CLINICAL,
    "practitioner": PRACTITIONER,
    # the front desk hands the patient their care plan and records that it did
    "non_clinical": frozenset({P.PRINT_PATIENT}),
}


class AccessDenied(Exception):
    """The actor may not do this; the message says who, what and whom to ask."""


def permissions_of(staff: Staff | None) -> frozenset[Permission]:
    """Everything an (active) staff member may do."""
    if staff is None or not staff.active:
        return frozenset()
    granted = set(ROLE_PERMISSIONS.get(staff.role, frozenset()))
    if staff.office_manager:
        granted |= OFFICE_MANAGER
    if staff.administrator:
        granted |= ADMINISTRATOR
    return frozenset(granted)


def role_label(staff: Staff) -> str:
    """The roles a person holds, as a user list shows them."""
    parts = [
        {"clinical_staff": "clinical staff", "practitioner": "practitioner"}.get(
            staff.role, "non-clinical staff"
        )
    ]
    if staff.office_manager:
        parts.append("office manager")
    if staff.administrator:
        parts.append("administrator")
    return ", ".join(parts)


def actor_permissions(session: Session, actor: Actor) -> frozenset[Permission]:
    if actor.trusted:
        return COMMAND_LINE
    if actor.id is None:
        return frozenset()
    return permissions_of(session.get(Staff, actor.id))


def _who_grants(permission: Permission) -> str:
    if permission in ADMINISTRATOR:
        return "an administrator"
    if permission in OFFICE_MANAGER and permission not in CLINICAL:
        return "an office manager"
    if permission in PRACTITIONER - CLINICAL:
        return "a practitioner"
    return "clinical staff"


def require(
    session: Session,
    actor: Actor,
    permission: Permission,
    error: Callable[[str], Exception] = AccessDenied,
) -> None:
    """Raise ``error(message)`` unless ``actor`` holds ``permission`` now.

    Services pass their own error class so every screen that already shows
    that service's refusals shows this one too.
    """
    if permission in actor_permissions(session, actor):
        return
    staff = session.get(Staff, actor.id) if actor.id is not None else None
    if staff is None:
        who = f"{actor.name} (not signed in as a staff member)"
    elif not staff.active:
        who = f"{staff.name} (no longer an active user)"
    else:
        who = f"{staff.name} ({role_label(staff)})"
    raise error(f"{who} may not {permission.value}; this is for {_who_grants(permission)}")
