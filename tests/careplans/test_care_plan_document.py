"""The care-plan document (SPEC §1.5): JSON, checks before signing, merge, diff."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ccmdesk.domain.care_plan import (
    ELEMENTS,
    Allergy,
    Caregiver,
    CarePlanContent,
    CommunityService,
    Coordination,
    Goal,
    Intervention,
    Medication,
    Problem,
    SymptomPlan,
    caregiver_from_text,
    diff,
    merge,
    merge_paragraphs,
    parse_date,
    validate,
)

TODAY = dt.date(2026, 11, 16)


def signable() -> CarePlanContent:
    """A plan with every element filled in."""
    return CarePlanContent(
        problems=[Problem("E11.9", "Type 2 diabetes mellitus without complications", "Diabetes")],
        expected_outcome="Fewer complications.",
        prognosis="Good.",
        goals=[Goal("Lower A1c", "A1c test", "Below 7.5%", "2027-05-16", "active")],
        symptoms=[SymptomPlan("Low sugar", "Drink juice", "If it happens twice", "If you faint")],
        interventions=[Intervention("Review sugars", "Care manager", "Monthly")],
        medications=[Medication("Metformin", "500 mg", "By mouth", "Twice a day", "Dr. A", "")],
        allergies=[Allergy("Penicillin", "Hives", "moderate")],
        services=[CommunityService("Meals on Wheels", "(555) 010-0190", "active")],
        coordination=[Coordination("Oak Pharmacy", "Pharmacy", "(555) 010-0160", "2026-11-01")],
        next_review="2027-05-16",
        patient_goals="Dance at the wedding.",
        preferences="Morning calls.",
        caregiver=Caregiver("Ada Clarke", "Daughter", "(555) 010-0177", "Rides"),
    )


# -- JSON ---------------------------------------------------------------------------------


def test_json_round_trip_keeps_every_element():
    plan = signable()
    again = CarePlanContent.from_json(plan.to_json())
    assert again == plan
    assert again.to_json() == plan.to_json()
    stored = json.loads(plan.to_json())
    assert stored["schema"] == 1
    assert {e.key for e in ELEMENTS} <= set(stored)


def test_reading_is_forgiving_missing_keys_default_and_unknown_keys_are_ignored():
    plan = CarePlanContent.from_dict(
        {"goals": [{"goal": "Walk", "surprise": "x"}, "not an item"], "prognosis": None, "new": 1}
    )
    assert plan.goals == [Goal(goal="Walk"), Goal()]
    assert plan.prognosis == "" and plan.problems == [] and plan.caregiver == Caregiver()
    with pytest.raises(ValueError):
        CarePlanContent.from_dict([])  # type: ignore[arg-type]


def test_copy_is_deep():
    plan = signable()
    twin = plan.copy()
    twin.goals[0].status = "met"
    twin.caregiver.name = "Someone else"
    assert plan.goals[0].status == "active" and plan.caregiver.name == "Ada Clarke"


# -- checks before signing ------------------------------------------------------------------


def test_a_complete_plan_has_no_problems():
    assert validate(signable(), TODAY) == []


def paths(plan: CarePlanContent, **kw) -> dict[str, str]:
    return {p.path: p.message for p in validate(plan, TODAY, **kw)}


def test_an_empty_plan_names_every_missing_element():
    found = paths(CarePlanContent())
    for path in (
        "problems",
        "expected_outcome",
        "prognosis",
        "goals",
        "symptoms",
        "interventions",
        "allergies",
        "next_review",
        "patient_goals",
    ):
        assert path in found, path
    assert found["goals"] == "Goals: add at least one"
    assert found["allergies"].startswith("Allergies: list the allergies, or tick")


def test_item_problems_name_the_item_and_the_field():
    plan = signable()
    plan.goals.append(Goal("Walk every day", "Steps", "", "13/45/2026", "done"))
    plan.medications.append(Medication(name="Aspirin"))
    found = paths(plan)
    assert found["goals[1].target"] == "Goal 2 (Walk every day) - Target: missing"
    assert found["goals[1].due"] == "Goal 2 (Walk every day) - Due date: '13/45/2026' is not a date"
    assert found["goals[1].status"].startswith("Goal 2 (Walk every day) - Status: choose")
    assert found["medications[1].dose"] == "Medication 2 (Aspirin) - Dose: missing"
    assert found["medications[1].frequency"] == "Medication 2 (Aspirin) - Frequency: missing"


def test_dates_and_allergies_and_caregiver_rules():
    plan = signable()
    plan.next_review = "11/15/2026"  # yesterday, typed the US way
    plan.coordination[0].last_exchange = "2026-12-01"
    plan.no_known_allergies = True
    plan.caregiver = Caregiver(phone="(555) 010-0177")
    found = paths(plan)
    assert found["next_review"] == "Next review date: 11/15/2026 is in the past"
    assert found["coordination[0].last_exchange"].endswith("Last exchange: in the future")
    assert "untick 'No known allergies'" in found["allergies"]
    assert found["caregiver.name"].startswith("Caregiver: Name is empty")
    plan = signable()
    plan.next_review = "2028-01-01"
    assert "at least once a year" in paths(plan)["next_review"]
    plan.next_review = "soon"
    assert "'soon' is not a date" in paths(plan)["next_review"]


def test_no_known_allergies_is_enough_and_codes_can_be_checked():
    plan = signable()
    plan.allergies, plan.no_known_allergies = [], True
    assert validate(plan, TODAY) == []
    plan.problems.append(Problem("X99.9", "Made up"))
    found = paths(plan, known_code=lambda code: code != "X99.9")
    message = "Problem 2 - ICD-10-CM code: X99.9 is not an ICD-10-CM code"
    assert found == {"problems[1].code": message}


def test_typed_dates():
    assert parse_date("2027-03-05") == dt.date(2027, 3, 5)
    assert parse_date(" 3/5/2027 ") == dt.date(2027, 3, 5)
    for text in ("", "2027-02-30", "next week", "2027-3-5", "13/01/2027"):
        assert parse_date(text) is None, text


# -- merge ----------------------------------------------------------------------------------


def test_merge_adds_only_what_is_missing_and_never_changes_the_base():
    base = signable()
    before = base.to_json()
    addition = CarePlanContent(
        goals=[
            Goal("  lower a1c.", "other", "other", "2030-01-01"),  # the same goal, other case
            Goal("Walk daily", "Minutes", "30 a day", "2027-01-01"),
        ],
        symptoms=[SymptomPlan("LOW SUGAR", "other advice"), SymptomPlan("Chest pain", "Sit down")],
        interventions=[Intervention("Review sugars", "Someone else", "Weekly")],
        expected_outcome="Fewer complications.\n\nBetter energy.",
        next_review="2099-01-01",
    )
    merged = merge(base, addition)
    assert base.to_json() == before
    assert [g.goal for g in merged.goals] == ["Lower A1c", "Walk daily"]
    assert merged.goals[0].target == "Below 7.5%"  # the base's item wins
    assert [s.sign for s in merged.symptoms] == ["Low sugar", "Chest pain"]
    assert len(merged.interventions) == 1
    assert merged.expected_outcome == "Fewer complications.\n\nBetter energy."
    assert merged.next_review == "2027-05-16"
    assert merge(merged, addition) == merged  # merging again adds nothing


def test_merge_paragraphs():
    assert merge_paragraphs("", "A.\n\nB.") == "A.\n\nB."
    assert merge_paragraphs("A.", "a\n\nC.") == "A.\n\nC."


# -- diff -------------------------------------------------------------------------------------


def test_diff_is_readable_per_element():
    old = signable()
    new = old.copy()
    new.goals[0].status = "met"
    new.goals.append(Goal("Walk daily", "Minutes", "30 a day", "2027-01-01"))
    new.medications[0].dose = "1000 mg"
    new.allergies = []
    new.no_known_allergies = True
    new.prognosis = "Fair."
    new.caregiver.phone = "(555) 010-0178"
    changes = {c.element: c for c in diff(old, new)}
    assert list(changes) == [
        "prognosis",
        "goals",
        "medications",
        "allergies",
        "no_known_allergies",
        "caregiver",
    ]
    assert changes["goals"].label == "Goals"
    assert changes["goals"].lines == (
        "Changed Lower A1c: Status: Working on it → Met",
        "Added: Walk daily (Minutes; 30 a day; 2027-01-01; Working on it)",
    )
    assert changes["medications"].lines == ("Changed Metformin: Dose: 500 mg → 1000 mg",)
    assert changes["allergies"].lines == ("Removed: Penicillin (Hives; moderate)",)
    assert changes["prognosis"].lines == ("Was: Good.", "Now: Fair.")
    assert changes["no_known_allergies"].lines == ("Ticked 'No known allergies'",)
    assert changes["caregiver"].lines == ("Changed Phone: (555) 010-0177 → (555) 010-0178",)
    assert diff(old, old.copy()) == []


def test_caregiver_from_the_patient_record_line():
    assert caregiver_from_text("Wife: Ann Lee, (309) 555-0123") == Caregiver(
        "Ann Lee", "Wife", "(309) 555-0123"
    )
    assert caregiver_from_text("Ann Lee") == Caregiver("Ann Lee")
    assert caregiver_from_text("  ") == Caregiver()
    # nothing typed is lost when the line does not follow the pattern
    assert caregiver_from_text("Neighbor Bob, upstairs").name == "Neighbor Bob, upstairs"
