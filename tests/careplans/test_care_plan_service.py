"""Care plans through the service: drafts, sign-off, versions, copies, reviews (SPEC §1.5)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from ccmdesk.domain.time import Month
from ccmdesk.services import care_plans as cp
from ccmdesk.services.audit import Actor
from ccmdesk.storage.models import (
    AuditEvent,
    CarePlan,
    CarePlanCopy,
    CarePlanVersion,
    Condition,
    ConsentRecord,
)
from ccmdesk.storage.month_facts import load_month
from tests.careplans.helpers import NOW, TODAY, complete, setup_practice
from tests.factories import add_patient

LATER = NOW + dt.timedelta(days=30)


@pytest.fixture
def practice(db):
    return setup_practice(db)


def start(db, practice, **kw) -> int:
    return cp.start_plan(db, practice.patient_id, practice.nurse, now=NOW, **kw).created_id


def signed_plan(db, practice) -> int:
    """Version 1, completed by the nurse and signed by the billing practitioner."""
    version_id = start(db, practice)
    content = complete(cp.load_version(db, version_id).content)
    cp.save_draft(db, version_id, content, practice.nurse, now=NOW)
    cp.sign(db, version_id, practice.doctor, now=NOW)
    return version_id


def snapshot(db) -> tuple:
    """Everything a refused action must leave untouched."""
    with db.engine.connect() as connection:
        versions = connection.execute(select(CarePlanVersion.__table__).order_by("id")).all()
        plans = connection.execute(select(CarePlan.__table__).order_by("id")).all()
        copies = connection.execute(select(func.count()).select_from(CarePlanCopy)).scalar()
        audit = connection.execute(select(func.count()).select_from(AuditEvent)).scalar()
    return versions, plans, copies, audit


# -- starting ----------------------------------------------------------------------------


def test_starting_offers_and_merges_the_templates_of_the_patients_conditions(db, practice):
    offered = cp.offered_templates(db, practice.patient_id)
    assert [(m.template.key, m.codes) for m in offered] == [
        ("type2_diabetes", ("E119",)),
        ("hyperlipidemia", ("E785",)),
        ("hypertension", ("I10",)),
    ]
    changes = cp.start_plan(db, practice.patient_id, practice.nurse, now=NOW)
    assert changes.patient_ids == {practice.patient_id}
    assert changes.months == {Month(2026, 11)}  # the month's no_care_plan may change
    version = cp.load_version(db, changes.created_id)
    plan = version.content
    # chronic, unresolved conditions only: no J06.9 (acute), no resolved J44.9
    assert [p.code for p in plan.problems] == ["E11.9", "E78.5", "I10"]
    assert plan.problems[0].description == "Type 2 diabetes mellitus without complications"
    goals = [g.goal for g in plan.goals]
    assert goals.count("Stay active") == 1 and goals.count("Keep your blood pressure under control")
    assert "Lower your LDL (bad) cholesterol" in goals and "Avoid low blood sugar" in goals
    assert plan.caregiver.name == "Ada Clarke" and plan.caregiver.relationship == "Daughter"
    assert version.info.status == "draft" and version.info.author == "Florence Night, RN"


def test_chosen_templates_only(db, practice):
    version_id = start(db, practice, templates=["hypertension"])
    goals = [g.goal for g in cp.load_version(db, version_id).content.goals]
    assert "Avoid low blood sugar" not in goals and "Eat less salt (sodium)" in goals
    other = add_patient(db, "MRN-2", practitioner_id=practice.doctor.id)
    with pytest.raises(cp.CarePlanError, match="no care plan template 'gout'"):
        cp.start_plan(db, other, practice.nurse, templates=["gout"], now=NOW)


def test_a_patient_has_one_plan_and_only_clinical_people_write_it(db, practice):
    start(db, practice)
    before = snapshot(db)
    with pytest.raises(cp.CarePlanError, match="already has a care plan"):
        start(db, practice)
    other = add_patient(db, "MRN-2", practitioner_id=practice.doctor.id)
    for actor in (practice.desk, Actor.command_line(), Actor(999, "Nobody")):
        with pytest.raises(cp.NotAllowedError, match="clinical staff and practitioners"):
            cp.start_plan(db, other, actor, now=NOW)
    assert snapshot(db)[:2] == before[:2]


# -- drafts -------------------------------------------------------------------------------


def test_a_draft_saves_anything_typed_and_an_unchanged_save_writes_nothing(db, practice):
    version_id = start(db, practice)
    draft = cp.load_version(db, version_id)
    half_typed = draft.content.copy()
    half_typed.goals[0].due = "12/3"  # not a date yet
    half_typed.goals[0].target = ""
    half_typed.prognosis = "Good, as long as"
    changes = cp.save_draft(db, version_id, half_typed, practice.nurse, now=LATER)
    assert changes.patient_ids == {practice.patient_id}
    again = cp.load_version(db, version_id)
    assert again.content == half_typed
    assert again.row_version == draft.row_version + 1
    assert again.info.updated_at == LATER
    before = snapshot(db)
    assert cp.save_draft(db, version_id, half_typed, practice.nurse, now=LATER) == cp.Changes()
    assert snapshot(db) == before
    with db.transaction() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "update").order_by(AuditEvent.id)
        ).all()[-1]
    assert '"elements": "prognosis,goals"' in event.after


def test_a_save_over_someone_elses_newer_save_is_refused(db, practice):
    version_id = start(db, practice)
    loaded = cp.load_version(db, version_id)
    mine, theirs = loaded.content.copy(), loaded.content.copy()
    theirs.prognosis = "Theirs"
    cp.save_draft(db, version_id, theirs, practice.doctor, row_version=loaded.row_version)
    mine.prognosis = "Mine"
    before = snapshot(db)
    with pytest.raises(cp.StaleCopyError, match="someone else saved"):
        cp.save_draft(db, version_id, mine, practice.nurse, row_version=loaded.row_version)
    assert snapshot(db) == before
    assert cp.load_version(db, version_id).content.prognosis == "Theirs"


# -- signing ---------------------------------------------------------------------------------


def test_an_incomplete_draft_cannot_be_signed_and_says_what_is_missing(db, practice):
    version_id = start(db, practice)
    before = snapshot(db)
    with pytest.raises(cp.PlanNotReadyError) as refused:
        cp.sign(db, version_id, practice.doctor, now=NOW)
    paths = {p.path for p in refused.value.problems}
    assert paths == {"prognosis", "allergies", "next_review", "patient_goals"}
    assert "Prognosis: write the prognosis" in str(refused.value)
    assert snapshot(db) == before


def test_only_the_patients_billing_practitioner_signs(db, practice):
    version_id = start(db, practice)
    cp.save_draft(db, version_id, complete(cp.load_version(db, version_id).content), practice.nurse)
    before = snapshot(db)
    for actor, message in (
        (practice.other_doctor, "Alan Turing is not Edith Clarke's billing practitioner"),
        (practice.nurse, "only the patient's billing practitioner"),
        (practice.desk, "only the patient's billing practitioner"),
        (Actor.command_line(), "only the patient's billing practitioner"),
    ):
        with pytest.raises(cp.NotAllowedError, match=message):
            cp.sign(db, version_id, actor, now=NOW)
    assert snapshot(db) == before
    changes = cp.sign(db, version_id, practice.doctor, now=NOW)
    assert changes.patient_ids == {practice.patient_id}
    info = cp.load_version(db, version_id).info
    assert (info.status, info.signed_by, info.signed_at) == ("signed", "Grace Hopper, MD", NOW)
    assert info.next_review_date == TODAY + dt.timedelta(days=180)
    with db.transaction() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "sign")).one()
    assert event.actor_id == practice.doctor.id and "content_sha256" in event.after


def test_a_signed_version_never_changes_and_a_refused_attempt_writes_nothing(db, practice):
    version_id = signed_plan(db, practice)
    signed = cp.load_version(db, version_id)
    before = snapshot(db)
    edited = signed.content.copy()
    edited.prognosis = "Quietly rewritten"
    with pytest.raises(cp.SignedVersionError, match="version 1 was signed by Grace Hopper"):
        cp.save_draft(db, version_id, edited, practice.doctor)
    with pytest.raises(cp.SignedVersionError):
        cp.sign(db, version_id, practice.doctor)
    # Not even a direct ORM write gets past: the flush is refused and rolled back.
    refused = pytest.raises(cp.SignedVersionError, match="is signed and cannot change")
    with refused, db.transaction() as session:
        row = session.get(CarePlanVersion, version_id)
        row.content = edited.to_json()
    refused = pytest.raises(cp.SignedVersionError, match="cannot be deleted")
    with refused, db.transaction() as session:
        session.delete(session.get(CarePlanVersion, version_id))
    assert snapshot(db) == before
    assert cp.load_version(db, version_id).content == signed.content


def test_editing_a_signed_plan_starts_a_new_draft(db, practice):
    first = signed_plan(db, practice)
    with db.transaction() as session:  # a condition coded since the plan was signed
        session.add(Condition(patient_id=practice.patient_id, code="I4891", chronic=True))
    changes = cp.new_draft(
        db, practice.patient_id, practice.nurse, templates=["atrial_fibrillation"]
    )
    draft = cp.load_version(db, changes.created_id)
    assert draft.info.number == 2 and draft.info.status == "draft"
    assert [p.code for p in draft.content.problems][-1] == "I48.91"
    assert "Prevent a stroke: take your blood thinner every day" in {
        g.goal for g in draft.content.goals
    }
    signed = cp.load_version(db, first).content
    assert draft.content.prognosis == signed.prognosis  # everything else carried over
    with pytest.raises(cp.CarePlanError, match="version 2 is still a draft"):
        cp.new_draft(db, practice.patient_id, practice.nurse)
    history = cp.history(db, practice.patient_id)
    assert history.current.id == first and history.draft.id == draft.info.id


# -- history, comparison, copies -----------------------------------------------------------------


def test_history_and_a_readable_comparison(db, practice):
    first = signed_plan(db, practice)
    second = cp.new_draft(db, practice.patient_id, practice.nurse, now=LATER).created_id
    revised = cp.load_version(db, second).content
    revised.goals[0].status = "met"
    revised.medications[0].dose = "1000 mg"
    revised.next_review = (TODAY + dt.timedelta(days=200)).isoformat()
    cp.save_draft(db, second, revised, practice.nurse, now=LATER)
    cp.sign(db, second, practice.doctor, now=LATER)

    history = cp.history(db, practice.patient_id)
    assert [(v.number, v.status, v.author, v.signed_by) for v in history.versions] == [
        (1, "signed", "Florence Night, RN", "Grace Hopper, MD"),
        (2, "signed", "Florence Night, RN", "Grace Hopper, MD"),
    ]
    assert [v.created_at for v in history.versions] == [NOW, LATER]
    assert [v.signed_at for v in history.versions] == [NOW, LATER]
    assert history.current.number == 2 and history.draft is None

    changes = {c.label: c.lines for c in cp.compare(db, first, second)}
    assert changes["Goals"] == (
        "Changed Keep your A1c in your target range: Status: Working on it → Met",
    )
    assert changes["Medications"] == ("Changed Metformin: Dose: 500 mg → 1000 mg",)
    assert list(changes) == ["Goals", "Medications", "Next review date"]
    assert cp.compare(db, first, first) == []
    other = add_patient(db, "MRN-2", practitioner_id=practice.doctor.id)
    other_version = cp.start_plan(db, other, practice.nurse, now=NOW).created_id
    with pytest.raises(cp.CarePlanError, match="different patients"):
        cp.compare(db, first, other_version)


def test_copies_given_are_recorded_and_listed(db, practice):
    version_id = signed_plan(db, practice)
    changes = cp.record_copy(
        db, version_id, TODAY, "in_person", " Edith  Clarke ", practice.desk, now=NOW
    )
    cp.record_copy(
        db, version_id, TODAY, "mailed", "Ada Clarke (daughter)", practice.nurse, now=NOW
    )
    assert changes.created_id and changes.patient_ids == {practice.patient_id}
    (version,) = cp.history(db, practice.patient_id).versions
    assert [(c.given_on, c.method_label, c.given_to, c.recorded_by) for c in version.copies] == [
        (TODAY, "In person", "Edith Clarke", "Frank Front"),
        (TODAY, "Mailed", "Ada Clarke (daughter)", "Florence Night, RN"),
    ]


@pytest.mark.parametrize(
    ("given_on", "method", "given_to", "message"),
    [
        (TODAY, "fax", "Edith", "how was the copy given"),
        (TODAY, "printed", "  ", "to whom"),
        (TODAY + dt.timedelta(days=1), "printed", "Edith", "in the future"),
        (TODAY - dt.timedelta(days=1), "printed", "Edith", "before the plan was signed"),
    ],
)
def test_a_wrong_copy_record_is_refused(db, practice, given_on, method, given_to, message):
    version_id = signed_plan(db, practice)
    before = snapshot(db)
    with pytest.raises(cp.CarePlanError, match=message):
        cp.record_copy(db, version_id, given_on, method, given_to, practice.nurse, now=NOW)
    assert snapshot(db) == before


def test_a_draft_is_not_given_as_the_care_plan(db, practice):
    version_id = start(db, practice)
    with pytest.raises(cp.CarePlanError, match="only a signed version"):
        cp.record_copy(db, version_id, TODAY, "printed", "Edith", practice.nurse, now=NOW)


# -- review due and billing ------------------------------------------------------------------------


def test_review_due_lists_enrolled_patients_without_a_plan_or_with_a_review_due(db, practice):
    doctor = practice.doctor.id
    no_plan = add_patient(db, "MRN-NOPLAN", last="Noplan", practitioner_id=doctor)
    add_patient(db, "MRN-NOCONSENT", last="Noconsent", practitioner_id=doctor, consent=None)
    opted_out = add_patient(db, "MRN-OPTOUT", last="Optout", practitioner_id=doctor)
    with db.transaction() as session:
        session.execute(
            update(ConsentRecord)
            .where(ConsentRecord.patient_id == opted_out)
            .values(opt_out_date=dt.date(2026, 6, 10))
        )
    draft_only = add_patient(db, "MRN-DRAFT", last="Draftonly", practitioner_id=doctor)
    cp.start_plan(db, draft_only, practice.nurse, now=NOW)
    signed_plan(db, practice)  # next review TODAY + 180 days

    due = cp.reviews_due(db, TODAY)
    assert [(r.mrn, r.has_plan, r.signed, r.next_review_date) for r in due] == [
        ("MRN-DRAFT", True, False, None),
        ("MRN-NOPLAN", False, False, None),
    ]
    assert due[1].patient_id == no_plan and due[1].name == "Noplan, Ada"
    review = TODAY + dt.timedelta(days=180)
    later = cp.reviews_due(db, review)
    assert [r.mrn for r in later] == ["MRN-DRAFT", "MRN-NOPLAN", "MRN-1"]
    assert later[-1].next_review_date == review and later[-1].care_manager == "Florence Night, RN"
    # an open revision does not hide a review that is due: the signed version counts
    cp.new_draft(db, practice.patient_id, practice.nurse)
    assert cp.reviews_due(db, review)[-1].mrn == "MRN-1"


def test_the_first_saved_version_establishes_the_care_plan_for_billing(db, practice):
    zone = dt.timezone.utc
    with db.transaction() as session:
        (record,) = load_month(session, Month(2026, 11), zone, [practice.patient_id])
    assert record.facts.care_plan_date is None  # no_care_plan
    start(db, practice)
    with db.transaction() as session:
        (record,) = load_month(session, Month(2026, 11), zone, [practice.patient_id])
    assert record.facts.care_plan_date == TODAY
