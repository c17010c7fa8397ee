"""The shipped condition templates and how they merge (resources/care_plan_templates)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter

import pytest

from ccmdesk.domain.care_plan import LIST_ELEMENTS, Problem, identity, validate
from ccmdesk.domain.care_plan_templates import (
    TemplateError,
    default_templates,
    load_templates,
    matching_templates,
    plain_name,
    plan_from_templates,
)
from ccmdesk.domain.icd10 import default_index

START = dt.date(2026, 1, 31)

#: The conditions the issue asks for, each with a code a patient might carry.
REQUIRED = {
    "type 2 diabetes": "E11.65",
    "hypertension": "I10",
    "heart failure": "I50.22",
    "COPD": "J44.1",
    "chronic kidney disease": "N18.31",
    "depression": "F33.1",
    "hyperlipidemia": "E78.5",
    "atrial fibrillation": "I48.91",
    "asthma": "J45.40",
    "osteoarthritis": "M17.11",
}


def test_every_required_condition_has_a_complete_template():
    for condition, code in REQUIRED.items():
        matches = matching_templates([code])
        assert matches, f"no template for {condition} ({code})"
        for match in matches:
            t = match.template
            assert t.goals and t.symptoms and t.interventions and t.sources, t.key
            assert t.expected_outcome
            assert match.codes == (code.replace(".", ""),)


def test_template_prefixes_are_real_icd10_categories():
    index = default_index()
    for template in default_templates():
        for prefix in template.icd10_prefixes:
            assert index.description(prefix[:3]), (template.key, prefix)


def test_template_goals_become_measurable_dated_goals():
    for template in default_templates():
        content = template.content(START)
        for goal in content.goals:
            assert goal.goal and goal.measure and goal.target and goal.status == "active"
            due = dt.date.fromisoformat(goal.due)
            assert START < due <= dt.date(2027, 1, 31)
    diabetes = next(t for t in default_templates() if t.key == "type2_diabetes")
    months = {g.goal: g.due_in_months for g in diabetes.goals}
    dues = {g.goal: g.due for g in diabetes.content(START).goals}
    assert months["Avoid low blood sugar"] == 3
    assert dues["Avoid low blood sugar"] == "2026-04-30"  # Jan 31 + 3 months, clamped


JARGON = re.compile(
    r"\b(dyspnea|edema|syncope|hypo|hyper|tachycardia|exacerbation|prn|titrat\w*|adherence"
    r"|po|bid|tid|qd)\b",
    re.IGNORECASE,
)


def test_warning_signs_say_when_to_call_and_everything_is_in_plain_words():
    for template in default_templates():
        for sign in template.symptoms:
            assert sign.call_practice or sign.call_911, (template.key, sign.sign)
        content = template.content(START)
        text = " ".join(
            [content.expected_outcome]
            + [" ".join(vars(i).values()) for e in LIST_ELEMENTS for i in getattr(content, e.key)]
        )
        assert not JARGON.search(text), (template.key, JARGON.search(text))


def test_shared_items_are_worded_the_same_in_every_template():
    """An item two templates share must be identical, so merge order cannot matter."""
    seen: dict[tuple[str, str], dict] = {}
    for template in default_templates():
        content = template.content(START)
        for element in LIST_ELEMENTS:
            for item in getattr(content, element.key):
                key = (element.key, identity(getattr(item, element.identity)))
                if key in seen:
                    assert vars(item) == seen[key], (template.key, key)
                seen.setdefault(key, vars(item))


def test_three_conditions_merge_without_duplicates():
    codes = ["E11.9", "I10", "E78.5"]
    matches = matching_templates(codes)
    assert [m.template.key for m in matches] == ["type2_diabetes", "hypertension", "hyperlipidemia"]
    templates = [m.template for m in matches]
    problems = [Problem(c, default_index().description(c) or "") for c in codes]
    plan = plan_from_templates(problems, templates, START)
    for element in LIST_ELEMENTS:
        keys = [identity(getattr(i, element.identity)) for i in getattr(plan, element.key)]
        assert len(keys) == len(set(keys)), (element.key, Counter(keys).most_common(1))
    goals = {g.goal for g in plan.goals}
    signs = {s.sign for s in plan.symptoms}
    for template in templates:
        assert {g.goal for g in template.goals} <= goals
        assert {s.sign for s in template.symptoms} <= signs
        assert template.expected_outcome in plan.expected_outcome
    total = sum(len(t.goals) for t in templates)
    assert len(plan.goals) < total  # "Stay active" and blood pressure are shared
    assert [p.plain_name for p in plan.problems] == [
        "Type 2 diabetes",
        "High blood pressure",
        "High cholesterol",
    ]
    # merged templates leave only what a person must decide before signing
    left = {p.path for p in validate(plan, START)}
    assert left == {"prognosis", "allergies", "next_review", "patient_goals"}


def test_combination_codes_are_named_after_every_matching_template():
    assert plain_name("I13.0", default_templates()) == (
        "Heart failure, chronic kidney disease and high blood pressure"
    )
    assert plain_name("Z99.89", default_templates()) == ""


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "X", "icd10_prefixes": ["E11"], "expected_outcome": "Y", "goalz": []}, "goalz"),
        ({"title": "X", "icd10_prefixes": [], "expected_outcome": "Y"}, "icd10_prefixes"),
        ({"title": "", "icd10_prefixes": ["E11"], "expected_outcome": "Y"}, "title"),
        (
            {
                "title": "X",
                "icd10_prefixes": ["E11"],
                "expected_outcome": "Y",
                "goals": [{"goal": "g", "measure": "m", "target": "t"}],
            },
            "goals[0].due_in_months: missing",
        ),
        (
            {
                "title": "X",
                "icd10_prefixes": ["E11"],
                "expected_outcome": "Y",
                "services": [{"name": "n", "status": "maybe"}],
            },
            "services[0].status",
        ),
    ],
)
def test_a_broken_template_file_is_refused_naming_the_key(tmp_path, data, message):
    (tmp_path / "broken.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(TemplateError, match=r"broken\.json: .*" + message.replace("[", r"\[")):
        load_templates(tmp_path)
