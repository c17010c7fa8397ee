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
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ccmdesk.domain import passwords
from ccmdesk.domain.identifiers import normalize_npi
from ccmdesk.domain.vocabulary import STAFF_ROLES
from ccmdesk.services import audit
from ccmdesk.services.access import Permission, permissions_of, require, role_label
from ccmdesk.storage.database import Database
from ccmdesk.storage.models import Practice, Staff

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
) -> SignedIn:
    """Create (or complete) the practice and its first administrator, in one transaction."""
    now = _now(now)
    _check_practice(practice)
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
        member = Staff(created_at=now, password_hash=passwords_ok)
        session.add(member)
        _apply_form(session, member, UserForm(**{**vars(admin), "administrator": True}))
        session.flush()
        actor = audit.Actor(member.id, member.name)
        audit.record(session, actor, "create", "practice", entity_id=1, after=vars(practice))
        audit.record(session, actor, "create", "user", entity_id=member.id, after=_public(member))
        return _signed_in(member)


def _check_practice(practice: PracticeForm) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not practice.name.strip():
        raise UserError("practice_name", "the practice needs a name")
    if practice.npi:
        try:
            normalize_npi(practice.npi)
        except ValueError as error:
            raise UserError("practice_npi", str(error)) from error
    try:
        ZoneInfo(practice.time_zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise UserError("time_zone", f"unknown time zone {practice.time_zone!r}") from error


# -- sign-in ---------------------------------------------------------------------------


def sign_in(db: Database, login: str, password: str, now: dt.datetime | None = None) -> SignedIn:
    """The user behind ``login``/``password``, or :class:`SignInError` saying why not."""
    now = _now(now)
    login = login.strip().lower()
    with db.transaction() as session:
        member = session.scalar(select(Staff).where(func.lower(Staff.login) == login))
        if member is None or member.password_hash is None:
            audit.record(session, audit.Actor(None, login), "sign_in_failed", "user", at=now)
            passwords.verify_password(password, _DUMMY_HASH)  # same time either way
            raise SignInError("wrong user name or password")
        if member.locked_until is not None and member.locked_until > now:
            wait = int((member.locked_until - now).total_seconds()) + 1
            raise SignInError(f"too many wrong passwords; try again in {_duration(wait)}")
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
                raise SignInError(
                    f"wrong user name or password; {detail.replace('locked', 'sign-in is locked')}"
                )
            raise SignInError("wrong user name or password")
        if not member.active:
            raise SignInError(f"{member.name} is no longer an active user; ask an administrator")
        member.failed_sign_ins = 0
        member.locked_until = None
        if passwords.needs_rehash(member.password_hash):
            member.password_hash = passwords.hash_password(password)
        audit.record(
            session,
            audit.Actor(member.id, member.name),
            "sign_in",
            "user",
            entity_id=member.id,
            at=now,
        )
        return _signed_in(member)


_DUMMY_HASH = passwords.hash_password("not a password anyone has")


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


def record_session_event(db: Database, actor: audit.Actor, action: str) -> None:
    """Sign-out, lock and unlock, in the audit trail."""
    if action not in ("sign_out", "lock", "unlock"):
        raise ValueError(f"not a session event: {action}")
    with db.transaction() as session:
        audit.record(session, actor, action, "user", entity_id=actor.id)


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
        return [
            UserRow(
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
            for m in members
        ]


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


def _apply_form(session: Session, member: Staff, form: UserForm) -> None:
    name = form.name.strip()
    if not name:
        raise UserError("name", "a user needs a name")
    if form.role not in STAFF_ROLES:
        raise UserError("role", f"role must be one of {', '.join(STAFF_ROLES)}")
    npi = None
    if form.npi and form.npi.strip():
        try:
            npi = normalize_npi(form.npi)
        except ValueError as error:
            raise UserError("npi", str(error)) from error
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
    return bool(member.active and member.administrator and member.password_hash)


def _keep_an_administrator(session: Session) -> None:
    admins = session.scalar(
        select(func.count())
        .select_from(Staff)
        .where(Staff.active, Staff.administrator, Staff.password_hash.is_not(None))
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
