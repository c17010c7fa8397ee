"""The comprehensive care plan as a document (SPEC §1.5): schema, JSON, checks, merge, diff.

A care-plan version stores its elements as one JSON document
(``care_plan_version.content``).  This module is that document's schema, in
plain dataclasses, so the editor, the services, the PDF and the tests share
one definition and none of them needs a database.

Choices made here:

* **Drafts keep whatever was typed.**  Every field is text (dates too, as
  typed: ``YYYY-MM-DD`` or ``MM/DD/YYYY``), so an autosave never fails and
  never drops a half-typed value.  :func:`validate` is what a plan must pass
  before it is signed; it names the element, the item and the field.
* **Reading is forgiving, writing is exact.**  :meth:`CarePlanContent.from_dict`
  fills missing keys with defaults and ignores unknown ones, so a document
  written by an older version still opens; :meth:`to_json` is canonical
  (sorted keys), so equal plans give equal text.
* **Items are matched by their main words** (a goal by its goal, a
  medication by its name ...), ignoring case and spacing: that is how
  :func:`merge` avoids duplicates and how :func:`diff` pairs old and new items.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1

GOAL_STATUSES: dict[str, str] = {
    "active": "Working on it",
    "met": "Met",
    "not_met": "Not met",
    "changed": "Changed",
}
SERVICE_STATUSES: dict[str, str] = {
    "suggested": "Suggested",
    "referred": "Referred",
    "active": "Using now",
    "declined": "Declined",
    "ended": "Ended",
}
ALLERGY_SEVERITIES: dict[str, str] = {
    "": "Not known",
    "mild": "Mild",
    "moderate": "Moderate",
    "severe": "Severe",
}
#: How far ahead a signed plan may set its next review (CCM plans are
#: reviewed at least once a year).
MAX_REVIEW_DAYS = 366


# -- the items ------------------------------------------------------------------


@dataclass
class Problem:
    """A coded condition; ``plain_name`` is how the patient's copy names it."""

    code: str = ""
    description: str = ""
    plain_name: str = ""


@dataclass
class Goal:
    goal: str = ""
    measure: str = ""
    target: str = ""
    due: str = ""  # a date, as typed
    status: str = "active"


@dataclass
class SymptomPlan:
    """A symptom or warning sign and what to do about it."""

    sign: str = ""
    what_to_do: str = ""
    call_practice: str = ""  # when to call the practice
    call_911: str = ""  # when to call 911


@dataclass
class Intervention:
    what: str = ""
    who: str = ""
    how_often: str = ""


@dataclass
class Medication:
    name: str = ""
    dose: str = ""
    route: str = ""
    frequency: str = ""
    prescriber: str = ""
    notes: str = ""


@dataclass
class Allergy:
    substance: str = ""
    reaction: str = ""
    severity: str = ""


@dataclass
class CommunityService:
    name: str = ""
    contact: str = ""
    status: str = "suggested"


@dataclass
class Coordination:
    """Another provider or agency the practice works with for this patient."""

    who: str = ""
    role: str = ""
    contact: str = ""
    last_exchange: str = ""  # a date, as typed


@dataclass
class Caregiver:
    name: str = ""
    relationship: str = ""
    phone: str = ""
    helps_with: str = ""

    def is_empty(self) -> bool:
        return not any(_text(getattr(self, f.name)) for f in dataclasses.fields(self))


@dataclass
class CarePlanContent:
    """Every element of SPEC §1.5 (who wrote and signed it lives on the version)."""

    problems: list[Problem] = field(default_factory=list)
    expected_outcome: str = ""
    prognosis: str = ""
    goals: list[Goal] = field(default_factory=list)
    symptoms: list[SymptomPlan] = field(default_factory=list)
    interventions: list[Intervention] = field(default_factory=list)
    medications: list[Medication] = field(default_factory=list)
    allergies: list[Allergy] = field(default_factory=list)
    no_known_allergies: bool = False
    services: list[CommunityService] = field(default_factory=list)
    coordination: list[Coordination] = field(default_factory=list)
    next_review: str = ""  # a date, as typed
    patient_goals: str = ""  # the patient's own goals, in their words
    preferences: str = ""
    caregiver: Caregiver = field(default_factory=Caregiver)

    # -- JSON --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (items are flat text, so no deep walk is needed)."""
        data: dict[str, Any] = {"schema": SCHEMA_VERSION}
        for element in ELEMENTS:
            value = getattr(self, element.key)
            if element.item_type is not None:
                data[element.key] = [dict(vars(item)) for item in value]
            elif element.key == "caregiver":
                data[element.key] = dict(vars(value))
            else:
                data[element.key] = value
        return data

    def to_json(self) -> str:
        """Canonical text: equal plans give equal JSON."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CarePlanContent:
        """Read a stored or typed document; missing keys take their defaults."""
        if not isinstance(data, dict):
            raise ValueError("a care plan document must be a JSON object")
        values: dict[str, Any] = {}
        for element in ELEMENTS:
            if element.key not in data:
                continue
            raw = data[element.key]
            if element.item_type is not None:
                items = raw if isinstance(raw, list) else []
                values[element.key] = [_item(element.item_type, x) for x in items]
            elif element.key == "caregiver":
                values[element.key] = _item(Caregiver, raw)
            elif element.key == "no_known_allergies":
                values[element.key] = bool(raw)
            else:
                values[element.key] = _text_value(raw)
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> CarePlanContent:
        return cls.from_dict(json.loads(text))

    def copy(self) -> CarePlanContent:
        """A deep copy (every item is flat text, so one level down is deep enough)."""
        values: dict[str, Any] = {}
        for element in ELEMENTS:
            value = getattr(self, element.key)
            if element.item_type is not None:
                value = [type(item)(**vars(item)) for item in value]
            elif element.key == "caregiver":
                value = Caregiver(**vars(value))
            values[element.key] = value
        return CarePlanContent(**values)


def _text_value(value: Any) -> str:
    return "" if value is None else str(value)


def _item(kind: type, data: Any) -> Any:
    if not isinstance(data, dict):
        return kind()
    names = _field_names(kind)
    return kind(**{k: _text_value(v) for k, v in data.items() if k in names})


@functools.cache
def _field_names(kind: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(kind))


# -- what the elements are called -----------------------------------------------


@dataclass(frozen=True)
class Element:
    """One element of the plan: its staff-facing label, its items and their fields."""

    key: str
    label: str
    item_type: type | None = None  # the item class for list elements
    item_label: str = ""
    identity: str = ""  # the field that names an item (merge, diff)
    fields: tuple[tuple[str, str], ...] = ()  # (field, label) of an item


ELEMENTS: tuple[Element, ...] = (
    Element(
        "problems",
        "Problem list",
        Problem,
        "Problem",
        "code",
        (("code", "ICD-10-CM code"), ("description", "Description"), ("plain_name", "Plain name")),
    ),
    Element("expected_outcome", "Expected outcome"),
    Element("prognosis", "Prognosis"),
    Element(
        "goals",
        "Goals",
        Goal,
        "Goal",
        "goal",
        (
            ("goal", "Goal"),
            ("measure", "Measure"),
            ("target", "Target"),
            ("due", "Due date"),
            ("status", "Status"),
        ),
    ),
    Element(
        "symptoms",
        "Symptom management",
        SymptomPlan,
        "Warning sign",
        "sign",
        (
            ("sign", "Symptom or warning sign"),
            ("what_to_do", "What to do"),
            ("call_practice", "When to call the practice"),
            ("call_911", "When to call 911"),
        ),
    ),
    Element(
        "interventions",
        "Planned interventions",
        Intervention,
        "Intervention",
        "what",
        (("what", "What"), ("who", "Who is responsible"), ("how_often", "How often")),
    ),
    Element(
        "medications",
        "Medications",
        Medication,
        "Medication",
        "name",
        (
            ("name", "Name"),
            ("dose", "Dose"),
            ("route", "Route"),
            ("frequency", "Frequency"),
            ("prescriber", "Prescriber"),
            ("notes", "Notes"),
        ),
    ),
    Element(
        "allergies",
        "Allergies",
        Allergy,
        "Allergy",
        "substance",
        (("substance", "Substance"), ("reaction", "Reaction"), ("severity", "Severity")),
    ),
    Element("no_known_allergies", "No known allergies"),
    Element(
        "services",
        "Community and social services",
        CommunityService,
        "Service",
        "name",
        (("name", "Name"), ("contact", "Contact"), ("status", "Status")),
    ),
    Element(
        "coordination",
        "Coordination with other providers",
        Coordination,
        "Provider or agency",
        "who",
        (
            ("who", "Who"),
            ("role", "Role"),
            ("contact", "Contact"),
            ("last_exchange", "Last exchange"),
        ),
    ),
    Element("next_review", "Next review date"),
    Element("patient_goals", "Patient's own goals"),
    Element("preferences", "Patient's preferences"),
    Element(
        "caregiver",
        "Caregiver",
        fields=(
            ("name", "Name"),
            ("relationship", "Relationship"),
            ("phone", "Phone"),
            ("helps_with", "How they help"),
        ),
    ),
)
ELEMENT_BY_KEY: dict[str, Element] = {e.key: e for e in ELEMENTS}
LIST_ELEMENTS: tuple[Element, ...] = tuple(e for e in ELEMENTS if e.item_type is not None)


def identity(text: str) -> str:
    """How items are matched: case, spacing and end punctuation do not count."""
    return " ".join(str(text).casefold().split()).rstrip(" .;:")


def _text(value: str) -> str:
    return str(value).strip()


# -- dates as typed -----------------------------------------------------------------

_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_date(text: str) -> dt.date | None:
    """A typed date (``YYYY-MM-DD`` or ``MM/DD/YYYY``), or None when it is not one."""
    text = _text(text)
    try:
        if match := _US_DATE.fullmatch(text):
            return dt.date(int(match[3]), int(match[1]), int(match[2]))
        if len(text) == 10:
            return dt.date.fromisoformat(text)
    except ValueError:
        return None
    return None


# -- validation before signing -------------------------------------------------------


@dataclass(frozen=True)
class PlanProblem:
    """One reason a plan cannot be signed yet, naming the element, item and field."""

    element: str
    index: int | None
    field: str | None
    message: str

    @property
    def path(self) -> str:
        """Where the editor should put the cursor: ``goals[1].target``."""
        where = self.element if self.index is None else f"{self.element}[{self.index}]"
        return f"{where}.{self.field}" if self.field else where


def validate(
    plan: CarePlanContent,
    today: dt.date,
    known_code: Callable[[str], bool] | None = None,
) -> list[PlanProblem]:
    """Everything that stops ``plan`` from being signed on ``today`` (empty: ready).

    ``known_code`` says whether a problem's ICD-10-CM code exists (the
    service passes the shipped code set); without it only the form is checked.
    """
    return list(_problems(plan, today, known_code))


def _problems(
    plan: CarePlanContent, today: dt.date, known_code: Callable[[str], bool] | None
) -> Iterator[PlanProblem]:
    def need(key: str, what: str) -> Iterator[PlanProblem]:
        if not _text(getattr(plan, key)):
            label = ELEMENT_BY_KEY[key].label
            yield PlanProblem(key, None, None, f"{label}: {what}")

    yield from _required_lists(plan)
    for i, problem in enumerate(plan.problems):
        code = _text(problem.code)
        if code and known_code is not None and not known_code(code):
            yield _item_problem("problems", i, "code", f"{code} is not an ICD-10-CM code", problem)
    yield from need("expected_outcome", "write the outcome you expect")
    yield from need("prognosis", "write the prognosis")
    for i, goal in enumerate(plan.goals):
        if _text(goal.status) not in GOAL_STATUSES:
            yield _item_problem(
                "goals", i, "status", "choose active, met, not met or changed", goal
            )
        if _text(goal.due) and parse_date(goal.due) is None:
            yield _item_problem("goals", i, "due", f"{goal.due!r} is not a date", goal)
    if plan.allergies and plan.no_known_allergies:
        yield PlanProblem(
            "allergies",
            None,
            None,
            "Allergies: allergies are listed, so untick 'No known allergies'",
        )
    if not plan.allergies and not plan.no_known_allergies:
        yield PlanProblem(
            "allergies",
            None,
            None,
            "Allergies: list the allergies, or tick 'No known allergies'",
        )
    for i, allergy in enumerate(plan.allergies):
        if _text(allergy.severity) not in ALLERGY_SEVERITIES:
            yield _item_problem(
                "allergies", i, "severity", "choose mild, moderate or severe", allergy
            )
    for i, service in enumerate(plan.services):
        if _text(service.status) not in SERVICE_STATUSES:
            yield _item_problem("services", i, "status", "choose a status", service)
    for i, other in enumerate(plan.coordination):
        if _text(other.last_exchange):
            day = parse_date(other.last_exchange)
            if day is None:
                yield _item_problem(
                    "coordination",
                    i,
                    "last_exchange",
                    f"{other.last_exchange!r} is not a date",
                    other,
                )
            elif day > today:
                yield _item_problem("coordination", i, "last_exchange", "in the future", other)
    yield from _review_problems(plan, today)
    yield from need("patient_goals", "write the patient's own goals, in their words")
    if not plan.caregiver.is_empty() and not _text(plan.caregiver.name):
        yield PlanProblem(
            "caregiver", None, "name", "Caregiver: Name is empty (or clear the caregiver)"
        )


#: Per list element: must it have an item, and which fields every item needs.
_REQUIRED: dict[str, tuple[bool, tuple[str, ...]]] = {
    "problems": (True, ("code", "description")),
    "goals": (True, ("goal", "measure", "target", "due")),
    "symptoms": (True, ("sign", "what_to_do")),
    "interventions": (True, ("what", "who", "how_often")),
    "medications": (False, ("name", "dose", "frequency")),
    "allergies": (False, ("substance",)),
    "services": (False, ("name",)),
    "coordination": (False, ("who", "role")),
}


def _required_lists(plan: CarePlanContent) -> Iterator[PlanProblem]:
    for key, (needs_one, names) in _REQUIRED.items():
        element = ELEMENT_BY_KEY[key]
        items = getattr(plan, key)
        if needs_one and not items:
            yield PlanProblem(key, None, None, f"{element.label}: add at least one")
        for i, item in enumerate(items):
            for name in names:
                if not _text(getattr(item, name)):
                    yield _item_problem(key, i, name, "missing", item)


def _item_problem(key: str, index: int, name: str, what: str, item: Any) -> PlanProblem:
    """``Goal 2 (Walk every day) - Target: missing``: element, item and field named."""
    element = ELEMENT_BY_KEY[key]
    words = _text(getattr(item, element.identity))
    named = f" ({_short(words)})" if words and name != element.identity else ""
    label = dict(element.fields)[name]
    return PlanProblem(
        key, index, name, f"{element.item_label} {index + 1}{named} - {label}: {what}"
    )


def _review_problems(plan: CarePlanContent, today: dt.date) -> Iterator[PlanProblem]:
    label = ELEMENT_BY_KEY["next_review"].label
    if not _text(plan.next_review):
        yield PlanProblem("next_review", None, None, f"{label}: set the date of the next review")
        return
    day = parse_date(plan.next_review)
    if day is None:
        yield PlanProblem("next_review", None, None, f"{label}: {plan.next_review!r} is not a date")
    elif day < today:
        yield PlanProblem("next_review", None, None, f"{label}: {day:%m/%d/%Y} is in the past")
    elif (day - today).days > MAX_REVIEW_DAYS:
        yield PlanProblem(
            "next_review", None, None, f"{label}: review the plan at least once a year"
        )


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# -- merging (templates into a plan) ------------------------------------------------------


def merge(base: CarePlanContent, addition: CarePlanContent) -> CarePlanContent:
    """``base`` plus what ``addition`` holds that ``base`` lacks; never a duplicate.

    List items are matched by :func:`identity` of their main field (the first
    one wins, so ``base`` is never changed); text elements gain the paragraphs
    they do not already contain.  Neither argument is modified.
    """
    merged = base.copy()
    extra = addition.copy()
    for element in LIST_ELEMENTS:
        items = getattr(merged, element.key)
        seen = {identity(getattr(item, element.identity)) for item in items}
        for item in getattr(extra, element.key):
            key = identity(getattr(item, element.identity))
            if key and key not in seen:
                seen.add(key)
                items.append(item)
    for key in ("expected_outcome", "prognosis", "patient_goals", "preferences"):
        setattr(merged, key, merge_paragraphs(getattr(merged, key), getattr(extra, key)))
    merged.no_known_allergies = merged.no_known_allergies and not merged.allergies
    if merged.caregiver.is_empty():
        merged.caregiver = extra.caregiver
    if not _text(merged.next_review):
        merged.next_review = extra.next_review
    return merged


def merge_paragraphs(text: str, more: str) -> str:
    """``text`` followed by the paragraphs of ``more`` it does not already have."""
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    seen = {identity(p) for p in paragraphs}
    for paragraph in more.split("\n\n"):
        if paragraph.strip() and identity(paragraph) not in seen:
            seen.add(identity(paragraph))
            paragraphs.append(paragraph.strip())
    return "\n\n".join(paragraphs)


# -- comparing two versions ------------------------------------------------------------


@dataclass(frozen=True)
class ElementChange:
    """What changed in one element, as lines a person reads."""

    element: str
    label: str
    lines: tuple[str, ...]


def diff(old: CarePlanContent, new: CarePlanContent) -> list[ElementChange]:
    """The elements that differ, in plan order, each with readable lines.

    Items are paired by their main field; an item whose main field itself was
    edited shows as one removed and one added.
    """
    changes = []
    for element in ELEMENTS:
        before, after = getattr(old, element.key), getattr(new, element.key)
        if before == after:
            continue
        if element.item_type is not None:
            lines = _list_lines(element, before, after)
        elif element.key == "caregiver":
            lines = _field_lines(element, before, after)
        elif element.key == "no_known_allergies":
            lines = [f"{'Ticked' if after else 'Unticked'} 'No known allergies'"]
        else:
            lines = [f"Was: {_shown(before)}", f"Now: {_shown(after)}"]
        if lines:
            changes.append(ElementChange(element.key, element.label, tuple(lines)))
    return changes


def _shown(text: str) -> str:
    return " ".join(str(text).split()) or "(empty)"


def _summary(element: Element, item: Any) -> str:
    main = _shown(getattr(item, element.identity))
    rest = [
        _shown(_display(name, getattr(item, name)))
        for name, _ in element.fields
        if name != element.identity and _text(getattr(item, name))
    ]
    return f"{main} ({'; '.join(rest)})" if rest else main


def _display(name: str, value: str) -> str:
    if name == "status":
        return GOAL_STATUSES.get(value) or SERVICE_STATUSES.get(value) or value
    return value


def _list_lines(element: Element, before: list[Any], after: list[Any]) -> list[str]:
    unmatched: dict[str, list[Any]] = {}
    for item in before:
        unmatched.setdefault(identity(getattr(item, element.identity)), []).append(item)
    lines, added = [], []
    for item in after:
        olds = unmatched.get(identity(getattr(item, element.identity)))
        if olds:
            old = olds.pop(0)
            lines += _field_lines(element, old, item, prefix=True)
        else:
            added.append(item)
    for items in unmatched.values():
        lines += [f"Removed: {_summary(element, item)}" for item in items]
    lines += [f"Added: {_summary(element, item)}" for item in added]
    return lines


def _field_lines(element: Element, old: Any, new: Any, prefix: bool = False) -> list[str]:
    lines = []
    name = _shown(getattr(new, element.identity)) if prefix else ""
    for attr, label in element.fields:
        was, now = getattr(old, attr), getattr(new, attr)
        if was == now:
            continue
        change = f"{label}: {_shown(_display(attr, was))} → {_shown(_display(attr, now))}"
        lines.append(f"Changed {name}: {change}" if prefix else f"Changed {change}")
    return lines


def caregiver_from_text(text: str) -> Caregiver:
    """A caregiver from the patient record's one line (``Wife: Ann Lee, (309) 555-0123``).

    The relationship is what comes before a colon, the phone the last comma
    part holding seven or more digits; anything else stays in the name, so
    nothing typed in the record is lost.
    """
    text = " ".join(text.split())
    if not text:
        return Caregiver()
    relationship = ""
    head, colon, rest = text.partition(":")
    if colon and len(head) <= 30 and not any(c.isdigit() for c in head):
        relationship, text = head.strip(), rest.strip()
    phone = ""
    name, comma, tail = text.rpartition(",")
    if comma and sum(c.isdigit() for c in tail) >= 7:
        phone, text = tail.strip(), name.strip()
    return Caregiver(name=text, relationship=relationship, phone=phone)
