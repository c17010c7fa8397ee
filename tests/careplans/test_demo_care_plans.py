"""The demo practice's care plans: plausible, valid when signed, and billing unchanged."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ccmdesk.domain.care_plan import CarePlanContent, validate
from ccmdesk.domain.icd10 import default_index
from ccmdesk.reports.care_plan_pdf import render_care_plan
from ccmdesk.services import care_plans as cp
from ccmdesk.services.demo import build_demo
from ccmdesk.storage.database import open_database
from ccmdesk.storage.models import CarePlan, CarePlanCopy, CarePlanVersion, Patient, Staff

CHICAGO = ZoneInfo("America/Chicago")
TODAY = dt.date(2026, 11, 15)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    db = open_database(f"sqlite:///{folder / 'demo.sqlite3'}", backups=folder / "bk")
    build_demo(db, patients=60, months=4, today=TODAY)
    with db.sessions() as session:
        rows = {
            model: session.scalars(select(model).order_by(model.id)).all()
            for model in (Patient, Staff, CarePlan, CarePlanVersion, CarePlanCopy)
        }
    yield db, rows
    db.close()


def local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(CHICAGO).date()


def test_every_dated_plan_exists_and_its_first_version_keeps_the_billing_date(demo):
    _, rows = demo
    patients = {p.id: p for p in rows[Patient]}
    planned = {p.id for p in rows[Patient] if p.care_plan_date}
    assert {plan.patient_id for plan in rows[CarePlan]} == planned
    assert len(planned) > 30
    patient_of = {plan.id: plan.patient_id for plan in rows[CarePlan]}
    first: dict[int, dt.datetime] = {}
    for v in rows[CarePlanVersion]:
        pid = patient_of[v.care_plan_id]
        first[pid] = min(first.get(pid, v.created_at), v.created_at)
    for pid, created in first.items():
        assert local_day(created) == patients[pid].care_plan_date


def test_versions_are_signed_by_the_billing_practitioner_and_valid_when_signed(demo):
    _, rows = demo
    patients = {p.id: p for p in rows[Patient]}
    patient_of = {plan.id: plan.patient_id for plan in rows[CarePlan]}
    by_plan = defaultdict(list)
    for v in sorted(rows[CarePlanVersion], key=lambda v: v.number):
        by_plan[v.care_plan_id].append(v)
    index = default_index()
    drafts = 0
    for plan_id, versions in by_plan.items():
        patient = patients[patient_of[plan_id]]
        assert [v.number for v in versions] == list(range(1, len(versions) + 1))
        assert all(v.signed_at for v in versions[:-1])  # only the newest may be a draft
        for v in versions:
            assert v.author_id == patient.care_manager_id
            assert v.created_at <= v.updated_at
            if v.signed_at is None:
                drafts += 1
                continue
            assert v.signed_by_id == patient.billing_practitioner_id
            assert v.created_at <= v.signed_at and local_day(v.signed_at) <= TODAY
            content = CarePlanContent.from_json(v.content)
            problems = validate(
                content, local_day(v.signed_at), lambda c: bool(index.description(c))
            )
            assert problems == [], (patient.mrn, v.number, problems)
            assert v.next_review_date.isoformat() == content.next_review
    assert drafts >= 1
    assert any(len(versions) > 1 for versions in by_plan.values())


def test_copies_are_given_after_signing_and_the_team_has_direct_lines(demo):
    _, rows = demo
    versions = {v.id: v for v in rows[CarePlanVersion]}
    assert len(rows[CarePlanCopy]) > len(rows[CarePlan]) / 2
    for copy in rows[CarePlanCopy]:
        version = versions[copy.version_id]
        assert version.signed_at is not None
        assert local_day(version.signed_at) <= copy.given_on <= TODAY
        assert copy.given_to
    assert {c.method for c in rows[CarePlanCopy]} >= {"printed", "in_person", "portal"}
    for member in rows[Staff]:
        assert bool(member.phone) == (member.role != "non_clinical")


def test_the_demo_shows_reviews_due_and_prints(demo):
    db, rows = demo
    due = cp.reviews_due(db, TODAY)
    assert any(not r.has_plan for r in due) and any(r.next_review_date for r in due)
    reports = cp.printable_plans(db, now=dt.datetime(2026, 11, 15, 18, tzinfo=dt.timezone.utc))
    assert len(reports) == len(rows[CarePlan])
    assert any(r.draft for r in reports) and any(not r.draft for r in reports)
    for report in reports[:3]:
        assert render_care_plan(report).startswith(b"%PDF")
