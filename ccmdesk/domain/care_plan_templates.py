"""Care-plan templates by condition (``resources/care_plan_templates/*.json``).

A template is a starting point, never a plan: goals, warning signs,
interventions and community services written in plain language for one
condition, with the ICD-10-CM prefixes it applies to.  Starting a plan offers
the templates matching the patient's coded conditions and merges the chosen
ones (:func:`ccmdesk.domain.care_plan.merge`), so an item that two templates
share ("Stay active") appears once.

File format (one file per condition; the file name is the template's key)::

    {"title": "Type 2 diabetes", "icd10_prefixes": ["E11"],
     "sources": ["ADA Standards of Care in Diabetes 2025"],
     "expected_outcome": "...",
     "goals": [{"goal": "...", "measure": "...", "target": "...", "due_in_months": 6}],
     "symptoms": [{"sign": "...", "what_to_do": "...", "call_practice": "...", "call_911": "..."}],
     "interventions": [{"what": "...", "who": "...", "how_often": "..."}],
     "services": [{"name": "...", "contact": "", "status": "suggested"}]}

Unknown keys are refused, so a misspelt key cannot silently drop advice.
A goal's due date is ``due_in_months`` after the day the plan is started.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ccmdesk.domain.care_plan import (
    SERVICE_STATUSES,
    CarePlanContent,
    CommunityService,
    Goal,
    Intervention,
    Problem,
    SymptomPlan,
    merge,
)
from ccmdesk.domain.icd10 import normalize_icd10
from ccmdesk.domain.time import months_before

_TOP_KEYS = {
    "title",
    "icd10_prefixes",
    "sources",
    "expected_outcome",
    "goals",
    "symptoms",
    "interventions",
    "services",
}
_ITEM_KEYS = {
    "goals": {"goal", "measure", "target", "due_in_months"},
    "symptoms": {"sign", "what_to_do", "call_practice", "call_911"},
    "interventions": {"what", "who", "how_often"},
    "services": {"name", "contact", "status"},
}
_REQUIRED_ITEM_KEYS = {
    "goals": {"goal", "measure", "target", "due_in_months"},
    "symptoms": {"sign", "what_to_do"},
    "interventions": {"what", "who", "how_often"},
    "services": {"name", "status"},
}


class TemplateError(ValueError):
    """A template file that cannot be used; the message names the file and key."""


@dataclass(frozen=True)
class TemplateGoal:
    goal: str
    measure: str
    target: str
    due_in_months: int


@dataclass(frozen=True)
class CarePlanTemplate:
    key: str
    title: str
    icd10_prefixes: tuple[str, ...]
    sources: tuple[str, ...]
    expected_outcome: str
    goals: tuple[TemplateGoal, ...]
    symptoms: tuple[SymptomPlan, ...]
    interventions: tuple[Intervention, ...]
    services: tuple[CommunityService, ...]

    def matches(self, code: str) -> bool:
        """True when ``code`` (dot optional) starts with one of the prefixes."""
        code = normalize_icd10(code)
        return any(code.startswith(prefix) for prefix in self.icd10_prefixes)

    def content(self, start: dt.date) -> CarePlanContent:
        """The template as plan content, goals due counted from ``start``."""
        return CarePlanContent(
            expected_outcome=self.expected_outcome,
            goals=[
                Goal(g.goal, g.measure, g.target, add_months(start, g.due_in_months).isoformat())
                for g in self.goals
            ],
            symptoms=[SymptomPlan(**vars(s)) for s in self.symptoms],
            interventions=[Intervention(**vars(i)) for i in self.interventions],
            services=[CommunityService(**vars(s)) for s in self.services],
        )


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's end (Jan 31 + 1 -> Feb 28)."""
    return months_before(day, -months)


# -- loading ----------------------------------------------------------------------


def load_templates(folder: Path) -> tuple[CarePlanTemplate, ...]:
    """Every ``*.json`` template in ``folder``, by key."""
    return tuple(_load(path) for path in sorted(folder.glob("*.json")))


@cache
def default_templates() -> tuple[CarePlanTemplate, ...]:
    """The shipped templates, read once."""
    from ccmdesk.paths import resource

    return load_templates(resource("care_plan_templates"))


def _load(path: Path) -> CarePlanTemplate:
    where = path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise TemplateError(f"{where}: {error}") from None
    if not isinstance(data, dict):
        raise TemplateError(f"{where}: must hold a JSON object")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise TemplateError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    title = _string(data, "title", where)
    prefixes = tuple(normalize_icd10(p) for p in _list(data, "icd10_prefixes", where))
    if not prefixes or not all(p.isalnum() and p.isascii() for p in prefixes):
        raise TemplateError(f"{where}: icd10_prefixes: give ICD-10-CM code prefixes")
    items = {key: _items(data, key, where) for key in _ITEM_KEYS}
    for i, service in enumerate(items["services"]):
        if service["status"] not in SERVICE_STATUSES:
            raise TemplateError(f"{where}: services[{i}].status: {service['status']!r}")
    goals = []
    for i, goal in enumerate(items["goals"]):
        months = goal.pop("due_in_months")
        if not isinstance(months, int) or not 1 <= months <= 12:
            raise TemplateError(f"{where}: goals[{i}].due_in_months: 1 to 12 months")
        goals.append(TemplateGoal(**goal, due_in_months=months))
    return CarePlanTemplate(
        key=path.stem,
        title=title,
        icd10_prefixes=prefixes,
        sources=tuple(_list(data, "sources", where)),
        expected_outcome=_string(data, "expected_outcome", where),
        goals=tuple(goals),
        symptoms=tuple(SymptomPlan(**s) for s in items["symptoms"]),
        interventions=tuple(Intervention(**i) for i in items["interventions"]),
        services=tuple(CommunityService(**{"contact": "", **s}) for s in items["services"]),
    )


def _string(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise TemplateError(f"{where}: {key}: must be non-empty text")
    return value.strip()


def _list(data: dict[str, Any], key: str, where: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TemplateError(f"{where}: {key}: must be a list of text")
    return [v.strip() for v in value]


def _items(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise TemplateError(f"{where}: {key}: must be a list")
    items = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise TemplateError(f"{where}: {key}[{i}]: must be an object")
        unknown = set(item) - _ITEM_KEYS[key]
        missing = _REQUIRED_ITEM_KEYS[key] - set(item)
        if unknown or missing:
            bad = sorted(unknown)[0] if unknown else sorted(missing)[0]
            problem = "unknown key" if unknown else "missing"
            raise TemplateError(f"{where}: {key}[{i}].{bad}: {problem}")
        for name, text in item.items():
            if name != "due_in_months" and not isinstance(text, str):
                raise TemplateError(f"{where}: {key}[{i}].{name}: must be text")
        items.append({k: v.strip() if isinstance(v, str) else v for k, v in item.items()})
    return items


# -- choosing and merging -------------------------------------------------------------


@dataclass(frozen=True)
class TemplateMatch:
    """A template offered for a patient, and which of their codes it matched."""

    template: CarePlanTemplate
    codes: tuple[str, ...]


def matching_templates(
    codes: Iterable[str], templates: Sequence[CarePlanTemplate] | None = None
) -> list[TemplateMatch]:
    """The templates matching any of ``codes``, in the order of the codes."""
    templates = default_templates() if templates is None else templates
    found: dict[str, list[str]] = {}
    for code in codes:
        for template in templates:
            if template.matches(code):
                found.setdefault(template.key, []).append(normalize_icd10(code))
    by_key = {t.key: t for t in templates}
    return [TemplateMatch(by_key[key], tuple(found[key])) for key in found]


def plan_from_templates(
    problems: Sequence[Problem],
    templates: Sequence[CarePlanTemplate],
    start: dt.date,
    base: CarePlanContent | None = None,
) -> CarePlanContent:
    """``base`` (or an empty plan) with ``problems`` and ``templates`` merged in.

    A problem without a plain name takes it from the templates matching its
    code (:func:`plain_name`).
    """
    addition = CarePlanContent(problems=[Problem(**vars(p)) for p in problems])
    for problem in addition.problems:
        if not problem.plain_name.strip():
            problem.plain_name = plain_name(problem.code, templates)
    plan = merge(base or CarePlanContent(), addition)
    for template in templates:
        plan = merge(plan, template.content(start))
    return plan


def plain_name(code: str, templates: Sequence[CarePlanTemplate]) -> str:
    """The everyday name of a code from the templates that match it, or "".

    A combination code matches several ("I13.0": heart failure, kidney
    disease and high blood pressure); the most specific prefix comes first.
    """
    code = normalize_icd10(code)

    def specificity(template: CarePlanTemplate) -> int:
        return max(len(p) for p in template.icd10_prefixes if code.startswith(p))

    matching = [t for t in templates if t.matches(code)]
    titles = [t.title for t in sorted(matching, key=specificity, reverse=True)]
    if not titles:
        return ""
    later = [t[0].lower() + t[1:] if t[1:2].islower() else t for t in titles[1:]]
    return titles[0] if not later else f"{', '.join([titles[0], *later[:-1]])} and {later[-1]}"
