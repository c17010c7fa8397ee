"""The printed care plan: every element is on paper, in large type (pypdf reads it back)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
from collections import Counter

import pytest
from pypdf import PdfReader

from ccmdesk.reports.care_plan_data import long_date, typed_date
from ccmdesk.reports.care_plan_pdf import render_care_plan, write_care_plan
from ccmdesk.services import care_plans as cp
from tests.careplans.helpers import NOW, TODAY, complete, setup_practice

LATER = NOW + dt.timedelta(days=3)


def words(text: str) -> str:
    """Text with every run of white space as one space (lines wrap anywhere)."""
    return " ".join(text.split())


def pdf_pages(data: bytes) -> list[str]:
    return [words(page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]


@pytest.fixture
def signed(db):
    """A patient with three conditions and a complete, signed plan, plus a copy given."""
    practice = setup_practice(db)
    version_id = cp.start_plan(db, practice.patient_id, practice.nurse, now=NOW).created_id
    content = complete(cp.load_version(db, version_id).content)
    content.goals[1].status = "met"
    cp.save_draft(db, version_id, content, practice.nurse, now=NOW)
    cp.sign(db, version_id, practice.doctor, now=LATER)
    report = cp.printable_plan(db, "MRN-1", now=LATER)
    return practice, version_id, report


def test_the_report_data_is_the_signed_version_in_local_time(signed):
    _, _, report = signed
    assert (report.version_number, report.draft) == (1, False)
    assert report.patient_name == "Edith Clarke" and report.mrn == "MRN-1"
    assert report.practice_phone == "(555) 010-0100"
    assert report.after_hours_phone == "(555) 010-0199"
    assert (report.care_manager, report.care_manager_phone) == (
        "Florence Night, RN",
        "(555) 010-0142",
    )
    assert report.billing_practitioner == report.signed_by == "Grace Hopper, MD"
    assert report.signed_at == LATER.astimezone(report.signed_at.tzinfo)
    assert report.signed_at.utcoffset() == dt.timedelta(hours=-5)  # New York, November
    assert report.written_on == TODAY and report.printed_on == LATER.date()


def test_every_element_of_the_plan_is_in_the_pdf(signed):
    _, _, report = signed
    pages = pdf_pages(render_care_plan(report))
    text = " ".join(pages)
    c = report.content

    expected = [
        "Maple Street Primary Care",
        "(555) 010-0100",
        "(555) 010-0199",
        "24 hours a day, 7 days a week",
        "Florence Night, RN",
        "Direct line: (555) 010-0142",
        "Call 911",
        "Edith Clarke",
        long_date(dt.date(1948, 5, 17)),
        c.prognosis,
        c.patient_goals,
        c.preferences,
        typed_date(c.next_review),
        "No known allergies" if c.no_known_allergies else "Penicillin",
        "Grace Hopper, MD",
        f"Signed by: Grace Hopper, MD, {long_date(report.signed_at.date())}",
        "Written by: Florence Night, RN",
    ]
    expected += [p for p in c.expected_outcome.split("\n\n")]
    for problem in c.problems:
        expected += [problem.plain_name, problem.code, problem.description]
    for goal in c.goals:
        expected += [goal.goal, goal.measure, goal.target, typed_date(goal.due)]
    expected += ["(Met)", "(Working on it)"]
    for sign in c.symptoms:
        expected += [sign.sign, sign.what_to_do, sign.call_practice, sign.call_911]
    for item in c.interventions:
        expected += [item.what, item.who, item.how_often]
    for med in c.medications:
        expected += [med.name, med.dose, "By mouth, twice a day", med.prescriber, med.notes]
    for allergy in c.allergies:
        expected += [allergy.substance, allergy.reaction, allergy.severity.capitalize()]
    for service in c.services:
        expected += [service.name, service.contact or "Ask your care manager"]
    expected += ["Using now", "Suggested"]
    for other in c.coordination:
        expected += [other.who, other.role, other.contact, typed_date(other.last_exchange)]
    g = c.caregiver
    expected += [f"{g.name} ({g.relationship})", g.phone, g.helps_with]

    missing = [item for item in expected if item and words(item) not in text]
    assert missing == []
    assert "DRAFT" not in text


def test_every_page_says_page_x_of_y_and_who_to_call(signed):
    pages = pdf_pages(render_care_plan(signed[2]))
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert "Questions? Call us at (555) 010-0100" in page
        assert "(555) 010-0199" in page
        assert "Care plan for Edith Clarke" in page


def test_the_type_is_large(signed):
    """Body text 13 pt; nothing smaller than the 11.5 pt footer."""
    sizes: Counter[float] = Counter()

    def visit(text, cm, tm, font, size) -> None:  # type: ignore[no-untyped-def]
        if text.strip():
            scale = (tm[0] ** 2 + tm[1] ** 2) ** 0.5 * (cm[0] ** 2 + cm[1] ** 2) ** 0.5
            sizes[round(size * scale, 1)] += len(text.strip())

    for page in PdfReader(io.BytesIO(render_care_plan(signed[2]))).pages:
        page.extract_text(visitor_text=visit)
    assert min(sizes) >= 11.5
    assert sizes.most_common(1)[0][0] >= 13


def test_an_unsigned_plan_prints_as_a_draft_on_every_page(db):
    practice = setup_practice(db)
    cp.start_plan(db, practice.patient_id, practice.nurse, now=NOW)
    report = cp.printable_plan(db, "MRN-1", now=NOW)
    assert report.draft and report.signed_by is None
    pages = pdf_pages(render_care_plan(report))
    assert "DRAFT: your doctor has not signed this plan yet" in pages[0]
    assert all("DRAFT - not yet signed by your doctor" in page for page in pages)
    assert "Signed by: Not signed yet (DRAFT)" in pages[-1]


def test_the_signed_version_is_printed_even_while_a_revision_is_open(db, signed):
    practice, version_id, _ = signed
    draft = cp.new_draft(db, practice.patient_id, practice.nurse, now=LATER).created_id
    changed = cp.load_version(db, draft).content
    changed.prognosis = "Not signed yet: must not be printed"
    cp.save_draft(db, draft, changed, practice.nurse, now=LATER)
    report = cp.printable_plan(db, "MRN-1", now=LATER)
    assert (report.version_number, report.draft) == (1, False)
    assert "must not be printed" not in " ".join(pdf_pages(render_care_plan(report)))


def test_rendering_is_byte_stable_and_writing_is_all_or_nothing(signed, tmp_path):
    report = signed[2]
    first = render_care_plan(report)
    assert first.startswith(b"%PDF") and render_care_plan(report) == first
    other = dataclasses.replace(report, patient_name="Someone Else")
    assert render_care_plan(other) != first
    path = write_care_plan(report, tmp_path / "plan.pdf")
    assert path.read_bytes() == first
    assert not list(tmp_path.glob("*.partial"))


def test_user_text_is_printed_as_text_not_markup(db, signed):
    practice, version_id, _ = signed
    draft = cp.new_draft(db, practice.patient_id, practice.nurse, now=LATER).created_id
    content = cp.load_version(db, draft).content
    content.patient_goals = "Keep my <b>garden</b> & see A < B\nand walk daily"
    cp.save_draft(db, draft, content, practice.nurse, now=LATER)
    content.next_review = (TODAY + dt.timedelta(days=90)).isoformat()
    cp.save_draft(db, draft, content, practice.nurse, now=LATER)
    cp.sign(db, draft, practice.doctor, now=LATER)
    text = " ".join(pdf_pages(render_care_plan(cp.printable_plan(db, "MRN-1", now=LATER))))
    assert "Keep my <b>garden</b> & see A < B and walk daily" in text


def test_missing_plan_and_unknown_mrn_are_clear_errors(db):
    setup_practice(db)
    with pytest.raises(cp.CarePlanError, match="MRN-1 has no care plan yet"):
        cp.printable_plan(db, "MRN-1")
    with pytest.raises(cp.CarePlanError, match="no patient has MRN MRN-404"):
        cp.printable_plan(db, "MRN-404")


def test_long_dates_read_naturally():
    assert long_date(dt.date(2027, 3, 5)) == "March 5, 2027"
    assert typed_date("03/05/2027") == "March 5, 2027"
    assert typed_date(" in spring ") == "in spring"
    assert re.fullmatch(r"\w+ \d{1,2}, \d{4}", long_date(TODAY))
