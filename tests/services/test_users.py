"""Users: passwords, first run, sign-in with lock-out, resets, the last administrator."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ccmdesk.domain import passwords
from ccmdesk.services import users
from ccmdesk.services.access import Permission
from ccmdesk.services.audit import Actor
from ccmdesk.services.users import PracticeForm, SignInError, UserError, UserForm
from ccmdesk.storage.models import AuditEvent, Practice, Staff
from tests.factories import add_staff, practitioner_npi

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 17, 15, 0, tzinfo=UTC)
PRACTICE = PracticeForm(
    name="Riverbend Family Medicine",
    npi=None,
    address="12 Mill Road, Riverbend, OH 45000",
    phone="(555) 201-3300",
    after_hours_phone="(555) 201-3399",
    time_zone="America/New_York",
)
ADMIN = UserForm(
    name="Dana Whitfield", credential="MD", role="practitioner", npi=practitioner_npi(1)
)


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch):
    """A cheaper scrypt cost for these tests (test_the_real_cost... checks the real one)."""
    monkeypatch.setattr(passwords, "LOG2_N", 12)


@pytest.fixture
def admin(db):
    """A practice whose first administrator (login "dana") has signed up."""
    form = UserForm(**{**vars(ADMIN), "login": "dana"})
    return users.first_run(db, PRACTICE, form, "first-password", now=NOW)


def add_user(db, admin, name: str, login: str, role: str = "clinical_staff", **flags) -> int:
    """A user with password "temporary1", already changed to "nurse-password"."""
    staff_id = users.save_user(
        db, None, UserForm(name=name, role=role, login=login, **flags), admin.actor, "temporary1"
    )
    users.change_password(db, staff_id, "temporary1", "nurse-password")
    return staff_id


def events(db, action: str) -> list[AuditEvent]:
    with db.transaction() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        session.expunge_all()
        return list(rows)


# -- hashing ------------------------------------------------------------------------------


def test_hashes_are_salted_and_verify_only_the_right_password():
    first, second = (
        passwords.hash_password("correct horse"),
        passwords.hash_password("correct horse"),
    )
    assert first != second and first.startswith("scrypt$12$8$1$")
    assert passwords.verify_password("correct horse", first)
    assert passwords.verify_password("correct horse", second)
    assert not passwords.verify_password("correct horsE", first)
    for broken in (None, "", "plain", "scrypt$99$8$1$AAAA$AAAA", first.replace("$12$", "$x$")):
        assert not passwords.verify_password("correct horse", broken)


def test_the_real_cost_is_kept_and_cheaper_hashes_are_upgraded(monkeypatch):
    cheap = passwords.hash_password("correct horse")  # cost 2^12 (this module's fixture)
    monkeypatch.setattr(passwords, "LOG2_N", 15)
    assert passwords.needs_rehash(cheap)
    real = passwords.hash_password("correct horse")
    assert real.startswith("scrypt$15$8$1$") and not passwords.needs_rehash(real)


def test_password_policy_is_length_not_composition():
    for bad, why in (("short", "at least 8"), (" padded pass", "space")):
        with pytest.raises(passwords.PasswordPolicyError, match=why):
            passwords.check_policy(bad)
    passwords.check_policy("alllowercase")


# -- first run ----------------------------------------------------------------------------


def test_first_run_creates_the_practice_and_an_administrator_who_is_signed_in(db, admin):
    assert not users.needs_first_run(db)
    assert admin.label == "Dana Whitfield, MD" and not admin.must_change_password
    assert admin.may(Permission.MANAGE_USERS) and admin.may(Permission.SIGN_CARE_PLANS)
    assert not admin.may(Permission.RUN_REPORTS)
    with db.transaction() as session:
        practice = session.get(Practice, 1)
        assert (practice.name, practice.time_zone) == (PRACTICE.name, "America/New_York")
    assert users.sign_in(db, "DANA ", "first-password", now=NOW).staff_id == admin.staff_id
    with pytest.raises(UserError, match="already has users"):
        users.first_run(db, PRACTICE, UserForm(name="X", login="x"), "another-password")


@pytest.mark.parametrize(
    ("practice", "admin", "password", "field"),
    [
        ({"name": " "}, {}, "first-password", "practice_name"),
        ({"npi": "1234567890"}, {}, "first-password", "practice_npi"),
        ({"time_zone": "Mars/Olympus"}, {}, "first-password", "time_zone"),
        ({}, {"login": None}, "first-password", "login"),
        ({}, {"login": "da na"}, "first-password", "login"),
        ({}, {"npi": None}, "first-password", "npi"),
        ({}, {"name": ""}, "first-password", "name"),
        ({}, {}, "short", "password"),
    ],
)
def test_first_run_names_the_wrong_field_and_writes_nothing(db, practice, admin, password, field):
    practice_form = PracticeForm(**{**vars(PRACTICE), **practice})
    admin_form = UserForm(**{**vars(ADMIN), "login": "dana", **admin})
    with pytest.raises(UserError) as refused:
        users.first_run(db, practice_form, admin_form, password, now=NOW)
    assert refused.value.field == field
    assert users.needs_first_run(db)
    with db.transaction() as session:
        assert session.scalars(select(Staff)).all() == []
        assert session.get(Practice, 1).name == "Test Practice"  # the factory's, untouched


def test_an_older_database_makes_a_staff_member_its_administrator(db):
    doctor = add_staff(db, "Dana Whitfield", "practitioner", "MD", npi=practitioner_npi(1))
    add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    practice, staff = users.first_run_prefill(db)
    assert practice is not None and practice.name == "Test Practice"
    assert [row.name for row in staff] == ["Dana Whitfield", "Nina Okafor"]
    form = UserForm(
        name="Dana Whitfield",
        credential="MD",
        role="practitioner",
        npi=practitioner_npi(1),
        login="dana",
    )
    admin = users.first_run(db, PRACTICE, form, "first-password", now=NOW, staff_id=doctor)
    assert admin.staff_id == doctor  # no second Dana, no NPI clash
    with db.transaction() as session:
        assert session.scalar(select(Staff).where(Staff.id == doctor)).administrator
        assert len(session.scalars(select(Staff)).all()) == 2
    assert users.first_run_prefill(db) == (None, [])  # afterwards the list is the admin's


# -- sign-in and lock-out ------------------------------------------------------------------


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer_and_are_audited(db, admin):
    for login in ("dana", "nobody"):
        with pytest.raises(SignInError) as refused:
            users.sign_in(db, login, "not-the-password", now=NOW)
        assert str(refused.value) == "wrong user name or password"
    failed = events(db, "sign_in_failed")  # kept although the sign-in was refused
    assert [(e.actor_id, e.actor) for e in failed] == [
        (admin.staff_id, "Dana Whitfield"),
        (None, "nobody"),
    ]
    with db.transaction() as session:
        assert session.get(Staff, admin.staff_id).failed_sign_ins == 1


def test_lock_out_after_five_misses_doubles_and_a_good_sign_in_clears_it(db, admin):
    now = NOW
    for _ in range(4):
        with pytest.raises(SignInError, match=r"^wrong user name or password$"):
            users.sign_in(db, "dana", "guess", now=now)
    with pytest.raises(SignInError, match="sign-in is locked for 30 seconds"):
        users.sign_in(db, "dana", "guess", now=now)
    # locked: even the right password waits
    with pytest.raises(SignInError, match="try again in 21 seconds"):
        users.sign_in(db, "dana", "first-password", now=now + dt.timedelta(seconds=10))
    now += dt.timedelta(seconds=31)
    with pytest.raises(SignInError, match="locked for 60 seconds"):
        users.sign_in(db, "dana", "guess", now=now)
    now += dt.timedelta(seconds=61)
    with pytest.raises(SignInError, match="locked for 2 minutes"):
        users.sign_in(db, "dana", "guess", now=now)
    with db.transaction() as session:
        member = session.get(Staff, admin.staff_id)
        member.failed_sign_ins = 40  # a long siege: the lock stops growing at 15 minutes
        member.locked_until = None
    with pytest.raises(SignInError, match="locked for 15 minutes"):
        users.sign_in(db, "dana", "guess", now=now)
    now += dt.timedelta(minutes=15, seconds=1)
    assert users.sign_in(db, "dana", "first-password", now=now).staff_id == admin.staff_id
    with db.transaction() as session:
        member = session.get(Staff, admin.staff_id)
        assert (member.failed_sign_ins, member.locked_until) == (0, None)


def test_unlocking_checks_the_same_password_with_the_same_lock_out(db, admin):
    with pytest.raises(SignInError, match=r"^wrong password$"):
        users.confirm_password(db, admin.staff_id, "guess", now=NOW)
    assert users.confirm_password(db, admin.staff_id, "first-password", now=NOW).may(
        Permission.MANAGE_USERS
    )
    assert len(events(db, "sign_in_failed")) == 1 and events(db, "sign_in") == []


def test_a_deactivated_user_cannot_sign_in(db, admin):
    nurse = add_user(db, admin, "Nina Okafor", "nina")
    users.save_user(
        db, nurse, UserForm(name="Nina Okafor", login="nina", active=False), admin.actor
    )
    with pytest.raises(SignInError, match="no longer an active user"):
        users.sign_in(db, "nina", "nurse-password", now=NOW)
    assert users.current_user(db, nurse) is None


def test_session_events_are_audited(db, admin):
    for action in ("lock", "unlock", "sign_out"):
        users.record_session_event(db, admin.actor, action, NOW)
    assert [e.actor_id for e in events(db, "lock") + events(db, "sign_out")] == [admin.staff_id] * 2
    with pytest.raises(ValueError, match="not a session event"):
        users.record_session_event(db, admin.actor, "delete")


# -- passwords: change and reset -----------------------------------------------------------------


def test_changing_a_password_needs_the_current_one(db, admin):
    with pytest.raises(UserError) as refused:
        users.change_password(db, admin.staff_id, "wrong", "second-password")
    assert refused.value.field == "old_password"
    with pytest.raises(UserError) as refused:
        users.change_password(db, admin.staff_id, "first-password", "first-password")
    assert refused.value.field == "password"
    users.change_password(db, admin.staff_id, "first-password", "second-password")
    assert users.sign_in(db, "dana", "second-password", now=NOW)


def test_a_reset_gives_a_temporary_password_to_replace_and_lifts_the_lock(db, admin):
    nurse = add_user(db, admin, "Nina Okafor", "nina")
    for _ in range(5):
        with pytest.raises(SignInError):
            users.sign_in(db, "nina", "forgotten", now=NOW)
    users.reset_password(db, nurse, "k7mq-3vtx-p2nh", admin.actor)
    signed = users.sign_in(db, "nina", "k7mq-3vtx-p2nh", now=NOW)
    assert signed.must_change_password
    users.change_password(db, nurse, "k7mq-3vtx-p2nh", "nina-chose-this")
    assert not users.sign_in(db, "nina", "nina-chose-this", now=NOW).must_change_password
    with pytest.raises(UserError, match="may not manage users"):
        users.reset_password(db, admin.staff_id, "nurse-sets-it", Actor(nurse, "Nina Okafor"))


def test_a_new_user_given_a_password_must_change_it(db, admin):
    staff_id = users.save_user(
        db, None, UserForm(name="Nina Okafor", login="Nina"), admin.actor, "temporary1"
    )
    assert users.sign_in(db, "nina", "temporary1", now=NOW).must_change_password
    with pytest.raises(UserError) as refused:
        users.save_user(db, None, UserForm(name="Nino", login="NINA"), admin.actor)
    assert refused.value.field == "login" and "taken by Nina Okafor" in str(refused.value)
    assert staff_id


# -- the administrator's list ---------------------------------------------------------------


def test_the_last_administrator_is_kept(db, admin):
    me = UserForm(**{**vars(ADMIN), "login": "dana"})
    for change in ({"administrator": False}, {"active": False}):
        with pytest.raises(UserError) as refused:
            users.save_user(db, admin.staff_id, UserForm(**{**vars(me), **change}), admin.actor)
        assert refused.value.field == "administrator"
    add_user(db, admin, "Lisa Carrington", "lisa", "non_clinical", administrator=True)
    users.save_user(
        db, admin.staff_id, UserForm(**{**vars(me), "administrator": False}), admin.actor
    )
    assert not users.current_user(db, admin.staff_id).may(Permission.MANAGE_USERS)


def test_the_list_shows_roles_and_locks_and_the_audit_never_holds_a_hash(db, admin):
    add_user(db, admin, "Lisa Carrington", "lisa", "non_clinical", office_manager=True)
    add_staff(db, "Amber Nolan", "non_clinical")
    rows = {row.name: row for row in users.list_users(db, admin.actor)}
    assert rows["Dana Whitfield"].roles == "practitioner, administrator"
    assert rows["Lisa Carrington"].roles == "non-clinical staff, office manager"
    assert (rows["Amber Nolan"].login, rows["Amber Nolan"].has_password) == (None, False)
    with db.transaction() as session:
        texts = [f"{e.before}{e.after}" for e in session.scalars(select(AuditEvent))]
    assert texts and not any("scrypt" in text for text in texts)
    with pytest.raises(UserError, match="may not manage users"):
        users.list_users(db, Actor(rows["Lisa Carrington"].id, "Lisa Carrington"))


def test_the_demo_practice_can_sign_in(tmp_path):
    from ccmdesk.services.demo import DEMO_PASSWORD, build_demo
    from ccmdesk.storage.database import open_database

    db = open_database(f"sqlite:///{tmp_path / 'demo.sqlite3'}", backups=tmp_path / "bk")
    try:
        build_demo(db, patients=5, months=1, today=dt.date(2026, 11, 16), now=NOW)
        assert not users.needs_first_run(db)
        assert "demo-pass" in users.sign_in_hint(db) and DEMO_PASSWORD == "demo-pass"
        signed = {
            login: users.sign_in(db, login, DEMO_PASSWORD, now=NOW)
            for login in ("megan", "helen", "lisa", "amber")
        }
        assert signed["megan"].may(Permission.LOG_TIME)
        assert signed["helen"].may(Permission.MANAGE_USERS)
        assert signed["helen"].may(Permission.SIGN_CARE_PLANS)
        assert signed["lisa"].may(Permission.CLOSE_MONTHS)
        assert not signed["lisa"].may(Permission.MANAGE_USERS)
        assert not signed["amber"].may(Permission.LOG_TIME)
        with db.transaction() as session:
            hashes = set(session.scalars(select(Staff.password_hash)))
        assert len(hashes) == 1  # hashed once for all
    finally:
        db.close()
