"""What another seat saved meanwhile, read back from the audit trail.

When a save is refused because the record changed since the screen loaded
it, "someone else saved" alone leaves the person guessing what to redo.  Every
change bumps the record's ``row_version`` and writes exactly one audit event
in the same transaction, so the newest ``current - seen`` events of that record
are precisely the saves the refused screen has not seen: who made them, when,
and what they changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccmdesk.services import audit
from ccmdesk.services.audit_changes import parse, show
from ccmdesk.storage.models import AuditEvent, Staff

UTC = dt.timezone.utc
#: More saves than this since the screen loaded: the oldest are not described.
MAX_SAVES = 10
VALUE_CHARS = 40


@dataclass(frozen=True)
class Save:
    """One save by another seat: an audit event, its JSON already parsed."""

    actor_id: int | None
    actor: str
    at: dt.datetime
    action: str
    before: dict[str, object]
    after: dict[str, object]


def saves_since(
    session: Session,
    seen: int,
    current: int,
    *,
    entity: str,
    entity_id: int | None = None,
    patient_id: int | None = None,
    actions: Collection[str] = ("update",),
) -> list[Save]:
    """The saves between row_version ``seen`` and ``current``, oldest first."""
    count = min(current - seen, MAX_SAVES)
    if count <= 0:
        return []
    query = select(AuditEvent).where(AuditEvent.entity == entity, AuditEvent.action.in_(actions))
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    if patient_id is not None:
        query = query.where(AuditEvent.patient_id == patient_id)
    events = session.scalars(query.order_by(AuditEvent.id.desc()).limit(count)).all()
    return [
        Save(
            e.actor_id,
            e.actor,
            e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC),
            e.action,
            parse(e.before) or {},
            parse(e.after) or {},
        )
        for e in reversed(events)
    ]


def clock(at: dt.datetime, zone: dt.tzinfo, now: dt.datetime | None = None) -> str:
    """``10:42 AM`` on the practice's clock; the date too when it was not today."""
    local = at.astimezone(zone)
    today = (now or dt.datetime.now(UTC)).astimezone(zone).date()
    time = local.strftime("%I:%M %p").lstrip("0")
    return time if local.date() == today else f"{local:%m/%d/%Y} {time}"


def who(saves: Sequence[Save], actor: audit.Actor) -> str:
    """The people who saved, in order; the refused person themself marked as such."""
    names: list[str] = []
    for save in saves:
        name = save.actor
        if actor.id is not None and save.actor_id == actor.id:
            name = f"{name} (you, at another seat or window)"
        if name not in names:
            names.append(name)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def staff_names(session: Session) -> dict[int, str]:
    return {row.id: row.name for row in session.execute(select(Staff.id, Staff.name))}


def _short(text: str) -> str:
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1].rstrip() + "…"


def field_changes(
    saves: Sequence[Save],
    labels: Mapping[str, str],
    zone: dt.tzinfo,
    staff: Mapping[int, str],
) -> list[str]:
    """``Phone "555-0100" → "555-0199"`` per field: first value before, last value after."""
    first: dict[str, object] = {}
    last: dict[str, object] = {}
    for save in saves:
        for field, value in save.after.items():
            first.setdefault(field, save.before.get(field))
            last[field] = value
    ordered = [f for f in labels if f in last] + sorted(f for f in last if f not in labels)
    return [
        f"{labels.get(f, f)} {_short(show(f, first[f], zone, staff))}"
        f" → {_short(show(f, last[f], zone, staff))}"
        for f in ordered
        if first[f] != last[f]
    ]


def describe(
    saves: Sequence[Save],
    actor: audit.Actor,
    zone: dt.tzinfo,
    what: Callable[[Sequence[Save]], list[str]],
    now: dt.datetime | None = None,
) -> str:
    """``Lisa Carrington at 10:42 AM (Phone "1" → "2")``, or "" with nothing to say."""
    if not saves:
        return ""
    changes = what(saves)
    said = f"{who(saves, actor)} at {clock(saves[-1].at, zone, now)}"
    return f"{said} ({'; '.join(changes)})" if changes else said
