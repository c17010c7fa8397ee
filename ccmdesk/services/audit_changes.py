"""Reading an audit event's before/after JSON as a person would: what changed.

The trail stores values exactly as the service saw them (ISO dates, UTC
instants, staff ids).  An administrator reading it wants
``note: "called" → "called back"`` and times on the practice's clock, so
this module turns the stored JSON into labelled, formatted field changes.
Pure functions: no Qt, no SQL (the caller passes the staff names it knows).
Activities read as the time log shows them ("Phone call", not ``phone_call``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ccmdesk.domain.vocabulary import ACTIVITY_LABELS

#: Fields that hold a staff id: shown as the person's name.
STAFF_FIELDS = frozenset(
    {
        "staff_id",
        "billing_practitioner_id",
        "care_manager_id",
        "obtained_by_id",
        "practitioner_id",
        "flagged_by_id",
        "signed_by_id",
        "author_id",
        "closed_by_id",
        "reopened_by_id",
        "deleted_by_id",
    }
)
EMPTY = "—"
SUMMARY_VALUE_CHARS = 40
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@dataclass(frozen=True)
class FieldChange:
    """One field of an event: its label and the value before and after, formatted."""

    field: str
    label: str
    before: str
    after: str
    changed: bool


def parse(text: str | None) -> dict[str, Any] | None:
    """The stored JSON as a dict; anything else (old or odd rows) under ``value``."""
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return {"value": text}
    return value if isinstance(value, dict) else {"value": value}


def label(field: str) -> str:
    """``billing_practitioner_id`` → ``billing practitioner``; ``start_at`` → ``start``."""
    for suffix in ("_id", "_at"):
        if field.endswith(suffix) and len(field) > len(suffix):
            field = field[: -len(suffix)]
            break
    return field.replace("_", " ")


def show(
    field: str, value: Any, zone: dt.tzinfo, staff: Mapping[int, str], *, quote: bool = True
) -> str:
    """One stored value as it reads on screen (US dates, practice-local times)."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field in STAFF_FIELDS and isinstance(value, int):
        return staff.get(value, f"staff #{value}")
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        if field == "activity" and value in ACTIVITY_LABELS:
            return ACTIVITY_LABELS[value]
        if _DATE.match(value):
            try:
                return dt.date.fromisoformat(value).strftime("%m/%d/%Y")
            except ValueError:
                pass
        elif _INSTANT.match(value):
            try:
                instant = dt.datetime.fromisoformat(value)
            except ValueError:
                instant = None
            if instant is not None and instant.tzinfo is not None:
                local = instant.astimezone(zone)
                return local.strftime("%m/%d/%Y %I:%M:%S %p").replace(" 0", " ", 1)
        return f'"{value}"' if quote else value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def field_changes(
    before_text: str | None,
    after_text: str | None,
    zone: dt.tzinfo,
    staff: Mapping[int, str],
) -> tuple[FieldChange, ...]:
    """Every field named in before or after, in stored (alphabetical) order."""
    before, after = parse(before_text), parse(after_text)
    fields = sorted(set(before or {}) | set(after or {}))
    changes = []
    for field in fields:
        old = (before or {}).get(field)
        new = (after or {}).get(field)
        changes.append(
            FieldChange(
                field,
                label(field),
                show(field, old, zone, staff, quote=False) if before is not None else "",
                show(field, new, zone, staff, quote=False) if after is not None else "",
                before is not None and after is not None and old != new,
            )
        )
    return tuple(changes)


def _short(text: str) -> str:
    if len(text) <= SUMMARY_VALUE_CHARS:
        return text
    return text[: SUMMARY_VALUE_CHARS - 1].rstrip() + "…"


def summary(
    before_text: str | None,
    after_text: str | None,
    zone: dt.tzinfo,
    staff: Mapping[int, str],
) -> str:
    """One line: ``note: "called" → "called back"; activity: …`` for a change,
    ``code: "E119"; chronic: yes`` for a new record, and the same, prefixed
    ``was``, for values that were removed."""
    before, after = parse(before_text), parse(after_text)
    if before is None and after is None:
        return ""
    parts = []
    if before is not None and after is not None:
        for field in sorted(set(before) | set(after)):
            old, new = before.get(field), after.get(field)
            if old == new:
                continue
            parts.append(
                f"{label(field)}: {_short(show(field, old, zone, staff))}"
                f" → {_short(show(field, new, zone, staff))}"
            )
        return "; ".join(parts)
    values = after if after is not None else before
    assert values is not None
    text = "; ".join(
        f"{label(field)}: {_short(show(field, values[field], zone, staff))}"
        for field in sorted(values)
    )
    return text if after is not None else f"was {text}"
