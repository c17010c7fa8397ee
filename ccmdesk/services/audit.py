"""Writing the append-only audit trail (SPEC §3, §1.6).

Services call :func:`record` inside the same transaction as the change it
describes, so the trail and the data can never disagree.  There is
deliberately no function here that updates or deletes an audit row.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from ccmdesk.storage.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who is acting: a signed-in staff member, or the command line.

    ``trusted`` marks the command line, which acts with the operating-system
    account that owns the database file (see services/access.py).
    """

    id: int | None
    name: str
    trusted: bool = False

    @classmethod
    def command_line(cls) -> Actor:
        try:
            user = getpass.getuser()
        except Exception:  # no user name in some service environments
            user = "unknown"
        return cls(None, f"command line ({user})", trusted=True)


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def to_json(values: dict[str, Any] | None) -> str | None:
    if values is None:
        return None
    return json.dumps({key: _plain(value) for key, value in values.items()}, sort_keys=True)


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    *,
    entity_id: int | None = None,
    patient_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
    at: dt.datetime | None = None,
) -> None:
    """Append one audit event to the session's transaction."""
    session.add(
        AuditEvent(
            at=at or dt.datetime.now(dt.timezone.utc),
            actor_id=actor.id,
            actor=actor.name,
            action=action,
            entity=entity,
            entity_id=entity_id,
            patient_id=patient_id,
            before=to_json(before),
            after=to_json(after),
            detail=detail,
        )
    )
