"""Writing the append-only audit trail (SPEC §3, §1.6).

Services call :func:`record` inside the same transaction as the change it
describes, so the trail and the data can never disagree.  There is
deliberately no function here that updates or deletes an audit row, and the
ORM refuses to flush one (:func:`_refuse_change`) or to run a bulk
``update(AuditEvent)`` / ``delete(AuditEvent)`` (:func:`_refuse_bulk_change`).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

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


class AuditTrailIsAppendOnly(RuntimeError):
    """Something tried to change or remove an audit event (a bug, never a user error)."""


@event.listens_for(AuditEvent, "before_update")
def _refuse_change(mapper, connection, target) -> None:  # type: ignore[no-untyped-def]
    raise AuditTrailIsAppendOnly(f"audit event {target.id} cannot be changed")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_removal(mapper, connection, target) -> None:  # type: ignore[no-untyped-def]
    raise AuditTrailIsAppendOnly(f"audit event {target.id} cannot be deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    """Bulk ORM statements skip the mapper events above, so they are checked here."""
    if (state.is_update or state.is_delete) and any(
        mapper.class_ is AuditEvent for mapper in state.all_mappers
    ):
        raise AuditTrailIsAppendOnly("audit events cannot be updated or deleted")
