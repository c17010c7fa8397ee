"""Users: first run, sign-in with lock-out, passwords, and the administrator's user list.

A user is a staff member with a login and a password hash (SPEC §3).  The
rules, enforced here for every seat:

* sign-in compares against a slow salted hash (domain/passwords.py); the
  message for a wrong password and an unknown login is the same, so the
  screen does not tell a guesser which logins exist;
* after :data:`FREE_ATTEMPTS` wrong passwords in a row the login is locked
  for 30 seconds, doubling with each further miss up to 15 minutes.  The
  count lives in the database, so moving to another seat gains nothing, and
  a good sign-in clears it;
* an administrator's reset sets a temporary password the user must replace
  at their next sign-in;
* the last active administrator cannot be removed or demoted (nobody could
  manage users any more).

Every change, sign-in, failed sign-in, lock and sign-out is in the audit trail.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ccmdesk.domain import passwords
from ccmdesk.domain.identifiers import normalize_npi, npi_problem
from ccmdesk.domain.vocabulary import STAFF_ROLES
from ccmdesk.services import audit
from ccmdesk.services.access import Permission, permissions_of, require, role_label
from ccmdesk.storage.database import Database
from ccmdesk.storage.limits import longest, too_long
from ccmdesk.storage.models import Practice, Setting, Staff

UTC = dt.timezone.utc
FREE_ATTEMPTS = 5
FIRST_LOCK = dt.timedelta(seconds=30)
LONGEST_LOCK = dt.timedelta(minutes=15)


class UserError(ValueError):
    """A refused user change; ``field`` names what was wrong."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


class SignInError(ValueError):
    """Sign-in refused; the message is safe to show as it is."""


@dataclass(frozen=True)
class SignedIn:
    """The person working at a seat, as the screens need them."""

    staff_id: int
    name: str
    credential: str
    role: str
    permissions: frozenset[Permission]
    must_change_password: bool

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(self.staff_id, self.name)

    @property
    def label(self) -> str:
        return f"{self.name}, {self.credential}" if self.credential else self.name

    def may(self, permission: Permission) -> bool:
        return permission in self.permissions


@dataclass(frozen=True)
class UserRow:
    id: int
    name: str
    credential: str
    role: str
    npi: str | None
    phone: str
    login: str | None
    has_password: bool
    office_manager: bool
    administrator: bool
    active: bool
    locked_until: dt.datetime | None
    roles: str


@dataclass(frozen=True)
class UserForm:
    """What the user editor (or the first-run wizard) submits."""

    name: str
    credential: str = ""
    role: str = "clinical_staff"
    npi: str | None = None
    phone: str = ""
    login: str | None = None
    office_manager: bool = False
    administrator: bool = False
    active: bool = True


@dataclass(frozen=True)
class PracticeForm:
    name: str
    npi: str | None
    address: str
    phone: str
    after_hours_phone: str
    time_zone: str


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(UTC)


# -- first run -------------------------------------------------------------------------


def needs_first_run(db: Database) -> bool:
    """True until the practice exists and someone can sign in."""
    with db.transaction() as session:
        if session.get(Practice, 1) is None:
            return True
        return not session.scalar(
            select(func.count())
            .select_from(Staff)
            .where(Staff.active, Staff.administrator, Staff.password_hash.is_not(None))
        )


def first_run(
    db: Database,
    practice: PracticeForm,
    admin: UserForm,
    password: str,
    now: dt.datetime | None = None,
    staff_id: int | None = None,
) -> SignedIn:
    """Create (or complete) the practice and its first administrator, in one transaction.

    ``staff_id`` makes an existing staff member the administrator (an older
    database has staff but no users: the physician-owner is already on the list).
    """
    now = _now(now)
    check_practice(practice)
    if not (admin.login or "").strip():
        raise UserError("login", "the administrator needs a user name to sign in with")
    passwords_ok = _checked_password(password)
    with db.transaction() as session:
        if session.scalar(
            select(func.count()).select_from(Staff).where(Staff.password_hash.is_not(None))
        ):
            raise UserError("login", "this practice already has users; sign in instead")
        row = session.get(Practice, 1)
        if row is None:
            row = Practice(id=1)
            session.add(row)
        for key, value in vars(practice).items():
            setattr(row, key, value)
        member = session.get(Staff, staff_id) if staff_id is not None else None
        if member is None:
            member = Staff(created_at=now)
            session.add(member)
        member.password_hash = passwords_ok
        member.must_change_password = False
        _apply_form(session, member, UserForm(**{**vars(admin), "administrator": True}))
        session.flush()
        actor = audit.Actor(member.id, member.name)
        audit.record(session, actor, "create", "practice", entity_id=1, after=vars(practice))
        audit.record(session, actor, "create", "user", entity_id=member.id, after=_public(member))
        return _signed_in(member)


def check_practice(practice: PracticeForm) -> None:
    """Raise :class:`UserError` naming the field when the practice's details will not do."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not practice.name.strip():
        raise UserError("practice_name", "the practice needs a name")
    problem = npi_problem(practice.npi) if practice.npi else None
    if problem:
        raise UserError("practice_npi", f"NPI {problem}")
    try:
        ZoneInfo(practice.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise UserError("time_zone", f"unknown time zone {practice.time_zone!r}") from error


# -- sign-in ---------------------------------------------------------------------------


def sign_in(db: Database, login: str, password: str, now: dt.datetime | None = None) -> SignedIn:
    """The user behind ``login``/``password``, or :class:`SignInError` saying why not.

    A refusal is raised after the transaction commits, so the miss count and
    the audit event of a wrong password are kept.
    """
    now = _now(now)
    login = login.strip().lower()
    with db.transaction() as session:
        member = session.scalar(select(Staff).where(func.lower(Staff.login) == login))
        if member is None or member.password_hash is None:
            typed = login[: longest(Staff.login)]  # no login is longer; the column agrees
            audit.record(session, audit.Actor(None, typed), "sign_in_failed", "user", at=now)
            passwords.verify_password(password, _dummy_hash())  # same time either way
            refusal: str | None = "wrong user name or password"
        else:
            refusal = _check_password(session, member, password, now, "wrong user name or password")
        if refusal is None:
            assert member is not None
            audit.record(
                session,
                audit.Actor(member.id, member.name),
                "sign_in",
                "user",
                entity_id=member.id,
                at=now,
            )
            return _signed_in(member)
    raise SignInError(refusal)


def confirm_password(
    db: Database, staff_id: int, password: str, now: dt.datetime | None = None
) -> SignedIn:
    """Unlocking a locked seat: the same checks and lock-out as :func:`sign_in`.

    Success is not audited here (the screen records ``unlock`` with
    :func:`record_session_event`); a wrong password is, as at sign-in.
    """
    now = _now(now)
    with db.transaction() as session:
        member = session.get(Staff, staff_id)
        if member is None or member.password_hash is None:
            refusal: str | None = "this user can no longer sign in; ask an administrator"
        else:
            refusal = _check_password(session, member, password, now, "wrong password")
        if refusal is None:
            assert member is not None
            return _signed_in(member)
    raise SignInError(refusal)


def _check_password(
    session: Session, member: Staff, password: str, now: dt.datetime, wrong: str
) -> str | None:
    """Why ``member`` may not sign in with ``password`` (None: they may).

    Counts the misses in the database and locks the login after
    :data:`FREE_ATTEMPTS`; a good password clears the count.
    """
    if member.locked_until is not None and member.locked_until > now:
        wait = int((member.locked_until - now).total_seconds()) + 1
        return f"too many wrong passwords; try again in {_duration(wait)}"
    if not passwords.verify_password(password, member.password_hash):
        member.failed_sign_ins += 1
        detail = ""
        extra = member.failed_sign_ins - FREE_ATTEMPTS
        if extra >= 0:
            lock = min(FIRST_LOCK * (2**extra), LONGEST_LOCK)
            member.locked_until = now + lock
            detail = f"locked for {_duration(int(lock.total_seconds()))}"
        audit.record(
            session,
            audit.Actor(member.id, member.name),
            "sign_in_failed",
            "user",
            entity_id=member.id,
            detail=detail,
            at=now,
        )
        if detail:
            return f"{wrong}; {detail.replace('locked', 'sign-in is locked')}"
        return wrong
    if not member.active:
        return f"{member.name} is no longer an active user; ask an administrator"
    member.failed_sign_ins = 0
    member.locked_until = None
    if passwords.needs_rehash(member.password_hash):
        member.password_hash = passwords.hash_password(password)
    return None


@functools.cache
def _dummy_hash() -> str:
    """Hashed once, on the first unknown login (not at import: it costs ~0.15 s)."""
    return passwords.hash_password("not a password anyone has")


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"


def current_user(db: Database, staff_id: int) -> SignedIn | None:
    """The signed-in person as the database has them now (roles may have changed)."""
    with db.transaction() as session:
        member = session.get(Staff, staff_id)
        if member is None or not member.active:
            return None
        return _signed_in(member)


def record_session_event(
    db: Database, actor: audit.Actor, action: str, now: dt.datetime | None = None
) -> None:
    """Sign-out, lock and unlock, in the audit trail."""
    if action not in ("sign_out", "lock", "unlock"):
        raise ValueError(f"not a session event: {action}")
    with db.transaction() as session:
        audit.record(session, actor, action, "user", entity_id=actor.id, at=now)


SIGN_IN_HINT_KEY = "sign_in_hint"


def sign_in_hint(db: Database) -> str:
    """A line the sign-in screen shows under the form (the demo's logins); usually empty."""
    import json

    with db.transaction() as session:
        value = session.get(Setting, SIGN_IN_HINT_KEY)
        return str(json.loads(value.value)) if value is not None else ""


def first_run_prefill(db: Database) -> tuple[PracticeForm | None, list[UserRow]]:
    """What an older database already knows: its practice row and its staff.

    Only while :func:`needs_first_run`: afterwards the staff list is an
    administrator's (:func:`list_users`).
    """
    if not needs_first_run(db):
        return None, []
    with db.transaction() as session:
        row = session.get(Practice, 1)
        practice = None
        if row is not None:
            practice = PracticeForm(
                name=row.name or "",
                npi=row.npi,
                address=row.address or "",
                phone=row.phone or "",
                after_hours_phone=row.after_hours_phone or "",
                time_zone=row.time_zone or "",
            )
        members = session.scalars(select(Staff).where(Staff.active).order_by(Staff.name))
        return practice, [_row(m) for m in members]


def _signed_in(member: Staff) -> SignedIn:
    return SignedIn(
        staff_id=member.id,
        name=member.name,
        credential=member.credential,
        role=member.role,
        permissions=permissions_of(member),
        must_change_password=member.must_change_password,
    )


# -- passwords -------------------------------------------------------------------------


def _checked_password(password: str) -> str:
    try:
        passwords.check_policy(password)
    except passwords.PasswordPolicyError as error:
        raise UserError("password", str(error)) from error
    return passwords.hash_password(password)


def change_password(db: Database, staff_id: int, old: str, new: str) -> None:
    """The user replaces their own password (knowing the current one)."""
    hashed = _checked_password(new)
    with db.transaction() as session:
        member = session.get(Staff, staff_id)
        if member is None or not passwords.verify_password(old, member.password_hash):
            raise UserError("old_password", "the current password is not right")
        if old == new:
            raise UserError("password", "the new password must differ from the current one")
        member.password_hash = hashed
        member.must_change_password = False
        audit.record(
            session,
            audit.Actor(member.id, member.name),
            "change_password",
            "user",
            entity_id=member.id,
        )


def reset_password(db: Database, staff_id: int, temporary: str, actor: audit.Actor) -> None:
    """An administrator sets a temporary password, to be replaced at next sign-in."""
    hashed = _checked_password(temporary)
    with db.transaction() as session:
        require(session, actor, Permission.MANAGE_USERS, lambda m: UserError("", m))
        member = session.get(Staff, staff_id)
        if member is None:
            raise UserError("", f"no staff member with id {staff_id}")
        if not member.login:
            raise UserError("login", f"{member.name} has no user name yet; give them one first")
        member.password_hash = hashed
        member.must_change_password = True
        member.failed_sign_ins = 0
        member.locked_until = None
        audit.record(session, actor, "reset_password", "user", entity_id=member.id)


# -- the administrator's list ----------------------------------------------------------


def list_users(db: Database, actor: audit.Actor) -> list[UserRow]:
    with db.transaction() as session:
        require(session, actor, Permission.MANAGE_USERS, lambda m: UserError("", m))
        members = session.scalars(select(Staff).order_by(Staff.active.desc(), Staff.name))
        return [_row(m) for m in members]


def _row(m: Staff) -> UserRow:
    return UserRow(
        id=m.id,
        name=m.name,
        credential=m.credential,
        role=m.role,
        npi=m.npi,
        phone=m.phone,
        login=m.login,
        has_password=m.password_hash is not None,
        office_manager=m.office_manager,
        administrator=m.administrator,
        active=m.active,
        locked_until=m.locked_until,
        roles=role_label(m),
    )


def save_user(
    db: Database,
    staff_id: int | None,
    form: UserForm,
    actor: audit.Actor,
    password: str | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Create (``staff_id`` None) or change a user; returns their id.

    A new user given a ``password`` must change it at first sign-in (the
    administrator knows it).
    """
    hashed = _checked_password(password) if password else None
    with db.transaction() as session:
        require(session, actor, Permission.MANAGE_USERS, lambda m: UserError("", m))
        if staff_id is None:
            member = Staff(created_at=_now(now))
            session.add(member)
            before = None
        else:
            member = session.get(Staff, staff_id)
            if member is None:
                raise UserError("", f"no staff member with id {staff_id}")
            before = _public(member)
        was_admin = _can_administer(member)
        _apply_form(session, member, form)
        if hashed:
            member.password_hash = hashed
            member.must_change_password = True
        session.flush()
        if was_admin and not _can_administer(member):
            _keep_an_administrator(session)
        after = _public(member)
        if before is None:
            audit.record(session, actor, "create", "user", entity_id=member.id, after=after)
        else:
            changed = {k for k in after if after[k] != before[k]}
            if changed:
                audit.record(
                    session,
                    actor,
                    "update",
                    "user",
                    entity_id=member.id,
                    before={k: before[k] for k in changed},
                    after={k: after[k] for k in changed},
                )
        return member.id


#: Text fields of the user form and how the messages name them.
_TEXT_FIELDS = {
    "name": "the name",
    "credential": "the credential",
    "phone": "the direct line",
    "login": "the user name",
}


def _check_lengths(form: UserForm) -> None:
    """Refuse what will not fit its column (PostgreSQL would fail the save; SQLite would not)."""
    for field, label in _TEXT_FIELDS.items():
        overlong = too_long(getattr(Staff, field), (getattr(form, field) or "").strip())
        if overlong:
            raise UserError(field, f"{label} {overlong}")


def _apply_form(session: Session, member: Staff, form: UserForm) -> None:
    # A new member is already in the session, half filled: the uniqueness
    # queries below must not flush it.
    with session.no_autoflush:
        _check_and_apply(session, member, form)


def _check_and_apply(session: Session, member: Staff, form: UserForm) -> None:
    name = form.name.strip()
    if not name:
        raise UserError("name", "a user needs a name")
    _check_lengths(form)
    if form.role not in STAFF_ROLES:
        raise UserError("role", f"role must be one of {', '.join(STAFF_ROLES)}")
    npi = None
    if form.npi and form.npi.strip():
        problem = npi_problem(form.npi)
        if problem:
            raise UserError("npi", f"NPI {problem}")
        npi = normalize_npi(form.npi)
        owner = session.scalar(select(Staff.name).where(Staff.npi == npi, Staff.id != member.id))
        if owner:
            raise UserError("npi", f"NPI {npi} already belongs to {owner}")
    if form.role == "practitioner" and npi is None:
        raise UserError("npi", "a practitioner needs an NPI (claims are billed under it)")
    login = (form.login or "").strip().lower() or None
    if login is not None:
        if any(ch.isspace() for ch in login):
            raise UserError("login", "a user name cannot contain spaces")
        owner = session.scalar(
            select(Staff.name).where(func.lower(Staff.login) == login, Staff.id != member.id)
        )
        if owner:
            raise UserError("login", f"the user name {login!r} is taken by {owner}")
    member.name = name
    member.credential = form.credential.strip()
    member.role = form.role
    member.npi = npi
    member.phone = form.phone.strip()
    member.login = login
    member.office_manager = form.office_manager
    member.administrator = form.administrator
    member.active = form.active


def _can_administer(member: Staff) -> bool:
    return bool(member.active and member.administrator and member.password_hash and member.login)


def _keep_an_administrator(session: Session) -> None:
    admins = session.scalar(
        select(func.count())
        .select_from(Staff)
        .where(
            Staff.active,
            Staff.administrator,
            Staff.password_hash.is_not(None),
            Staff.login.is_not(None),
        )
    )
    if not admins:
        raise UserError(
            "administrator", "the practice needs at least one active administrator who can sign in"
        )


def _public(member: Staff) -> dict[str, object]:
    """What the audit trail keeps of a user (never the password hash)."""
    return {
        "name": member.name,
        "credential": member.credential,
        "role": member.role,
        "npi": member.npi,
        "phone": member.phone,
        "login": member.login,
        "office_manager": member.office_manager,
        "administrator": member.administrator,
        "active": member.active,
    }
