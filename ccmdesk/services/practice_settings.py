"""The practice's own settings (SPEC §3): name, NPI, address, phones, time zone.

Changing them is an administrator's job (``EDIT_SETTINGS``) and, like every
change, is in the audit trail with the values before and after.  The name and
phones are printed on every care plan; the time zone decides which calendar
month (and so which bill) a minute of care belongs to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from sqlalchemy import select

from ccmdesk.domain.identifiers import normalize_npi, npi_problem
from ccmdesk.domain.time import zone_or_none
from ccmdesk.services import audit
from ccmdesk.services.access import Permission, require
from ccmdesk.storage.database import Database
from ccmdesk.storage.models import Practice

FIELDS = ("name", "npi", "address", "phone", "after_hours_phone", "time_zone")
_LONGEST = {"name": 200, "phone": 40, "after_hours_phone": 40, "address": 1000}
_LABELS = {"name": "Name", "phone": "Phone", "after_hours_phone": "After-hours phone"}


class SettingsError(ValueError):
    """A refused change; ``field`` names what was wrong ("" for permission)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


@dataclass(frozen=True)
class PracticeSettings:
    name: str = ""
    npi: str | None = None
    address: str = ""
    phone: str = ""
    after_hours_phone: str = ""
    #: An IANA zone name; ``None`` means "the computer's zone" (see practice_zone).
    time_zone: str | None = None


def _clean(field: str, value: object) -> str | None:
    text = "" if value is None else str(value).strip()
    if field == "name" and not text:
        raise SettingsError("name", "the practice needs a name")
    if field == "npi":
        if not text:
            return None
        problem = npi_problem(text)
        if problem:
            raise SettingsError("npi", f"NPI {problem}")
        return normalize_npi(text)
    if field == "time_zone":
        if not text:
            return None
        if zone_or_none(text) is None:
            raise SettingsError("time_zone", f"{text!r} is not a time zone (e.g. America/Chicago)")
        return text
    longest = _LONGEST.get(field)
    if longest and len(text) > longest:
        label = _LABELS.get(field, field.capitalize())
        raise SettingsError(field, f"{label} is longer than {longest} characters")
    return text


def _current(row: Practice | None) -> PracticeSettings:
    if row is None:
        return PracticeSettings()
    return PracticeSettings(
        name=row.name or "",
        npi=row.npi,
        address=row.address or "",
        phone=row.phone or "",
        after_hours_phone=row.after_hours_phone or "",
        time_zone=row.time_zone,
    )


def load_practice(db: Database) -> PracticeSettings:
    with db.transaction() as session:
        return _current(session.scalar(select(Practice).order_by(Practice.id).limit(1)))


def update_practice(
    db: Database, values: Mapping[str, object], actor: audit.Actor
) -> PracticeSettings:
    """Save the fields in ``values`` (others stay as they are); the settings now.

    Nothing changed, nothing written: no audit event for a dialog closed with OK.
    """
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise SettingsError(sorted(unknown)[0], "this is not a practice setting")
    cleaned = {field: _clean(field, value) for field, value in values.items()}
    with db.transaction() as session:
        require(session, actor, Permission.EDIT_SETTINGS, lambda m: SettingsError("", m))
        row = session.scalar(select(Practice).order_by(Practice.id).limit(1))
        if row is None:  # first run normally creates it; never leave settings unsaveable
            row = Practice(id=1, name="")
            session.add(row)
            session.flush()
        now = asdict(_current(row))
        changed = [field for field in FIELDS if field in cleaned and cleaned[field] != now[field]]
        if not changed:
            return _current(row)
        for field in changed:
            setattr(row, field, cleaned[field])
        audit.record(
            session,
            actor,
            "update",
            "practice",
            entity_id=row.id,
            before={field: now[field] for field in changed},
            after={field: cleaned[field] for field in changed},
        )
        return _current(row)
