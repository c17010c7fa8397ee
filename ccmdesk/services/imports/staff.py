"""``ccmdesk import staff FILE.csv``: ``name,credential,role,npi``.

Staff are matched by NPI, else by exact name; a match is updated, anything
else is added.  Practitioners must carry an NPI (claims need it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from ccmdesk.domain.identifiers import normalize_npi, npi_problem
from ccmdesk.domain.vocabulary import STAFF_ROLES
from ccmdesk.services import audit
from ccmdesk.services.access import Permission, require
from ccmdesk.services.imports.common import ImportSummary, Problems, read_rows
from ccmdesk.storage.database import Database
from ccmdesk.storage.limits import too_long
from ccmdesk.storage.models import Staff

COLUMNS = ("name", "credential", "role", "npi")
REQUIRED = ("name", "role")


@dataclass(frozen=True)
class StaffRow:
    line: int
    name: str
    credential: str
    role: str
    npi: str | None


def _validate(path: Path, problems: Problems) -> list[StaffRow]:
    rows: list[StaffRow] = []
    npi_lines: dict[str, int] = {}
    name_lines: dict[str, int] = {}
    for row in read_rows(path, COLUMNS, REQUIRED, problems):
        name, role, credential = row.get("name"), row.get("role"), row.get("credential")
        npi = normalize_npi(row.get("npi")) or None
        ok = True
        if not name:
            problems.add(row.line, "name", "is empty")
            ok = False
        elif overlong := too_long(Staff.name, name):  # PostgreSQL would refuse it at the INSERT
            problems.add(row.line, "name", overlong)
            ok = False
        if role not in STAFF_ROLES:
            problems.add(row.line, "role", f"{role!r} is not one of {', '.join(STAFF_ROLES)}")
            ok = False
        if len(credential) > 20:
            problems.add(row.line, "credential", "is longer than 20 characters")
            ok = False
        if npi is not None:
            problem = npi_problem(npi)
            if problem:
                problems.add(row.line, "npi", f"{row.get('npi')!r} is not a valid NPI: {problem}")
                ok = False
            elif npi in npi_lines:
                problems.add(row.line, "npi", f"{npi} is also on line {npi_lines[npi]}")
                ok = False
            else:
                npi_lines[npi] = row.line
        elif role == "practitioner":
            problems.add(row.line, "npi", "a practitioner needs an NPI to bill")
            ok = False
        if npi is None and name:
            if name in name_lines:
                problems.add(row.line, "name", f"{name!r} is also on line {name_lines[name]}")
                ok = False
            name_lines[name] = row.line
        if ok:
            rows.append(StaffRow(row.line, name, credential, role, npi))
    return rows


def _match(
    row: StaffRow,
    by_npi: dict[str, Staff],
    by_name: dict[str, list[Staff]],
    named_without_npi: set[str],
) -> tuple[Staff | None, str | None]:
    """The staff member a row speaks of (None: a new one), or why it is ambiguous.

    An NPI identifies a person.  A name alone matches the one person of that
    name without an NPI (or, failing that, the only one of that name); two
    people may share a name as long as their NPIs tell them apart.  A row with
    a new NPI takes over a same-named person without one, unless the file
    itself also lists that name without an NPI (then they are two people).
    """
    if row.npi and row.npi in by_npi:
        return by_npi[row.npi], None
    if row.npi and row.name in named_without_npi:
        return None, None
    named = by_name.get(row.name, [])
    without_npi = [m for m in named if not m.npi]
    if len(without_npi) > 1:
        return None, f"{len(without_npi)} staff without an NPI are named so; add the NPI"
    if without_npi:
        return without_npi[0], None
    if row.npi is None and len(named) == 1:
        return named[0], None
    if row.npi is None and len(named) > 1:
        return None, f"{len(named)} staff are named so; add the NPI"
    return None, None


def import_staff(db: Database, path: Path, actor: audit.Actor) -> ImportSummary:
    problems = Problems()
    rows = _validate(path, problems)
    problems.raise_if_any(str(path))
    summary = ImportSummary("staff", rows=len(rows))
    now = dt.datetime.now(dt.timezone.utc)
    with db.write() as session:
        require(session, actor, Permission.MANAGE_USERS)
        existing = list(session.scalars(select(Staff)))
        by_npi = {s.npi: s for s in existing if s.npi}
        by_name: dict[str, list[Staff]] = {}
        for member in existing:
            by_name.setdefault(member.name, []).append(member)
        named_without_npi = {row.name for row in rows if row.npi is None}
        for row in rows:
            member, problem = _match(row, by_npi, by_name, named_without_npi)
            if problem:
                problems.add(row.line, "name", problem)
                continue
            values = {"name": row.name, "credential": row.credential, "role": row.role}
            if row.npi:
                values["npi"] = row.npi
            if member is None:
                member = Staff(**values, active=True, created_at=now)
                session.add(member)
                session.flush()
                by_name.setdefault(member.name, []).append(member)
                if member.npi:
                    by_npi[member.npi] = member
                audit.record(session, actor, "create", "staff", entity_id=member.id, after=values)
                summary.created += 1
                continue
            before = {k: getattr(member, k) for k in values if getattr(member, k) != values[k]}
            if not before:
                summary.unchanged += 1
                continue
            for key in before:
                setattr(member, key, values[key])
            after = {k: values[k] for k in before}
            audit.record(
                session, actor, "update", "staff", entity_id=member.id, before=before, after=after
            )
            summary.updated += 1
        problems.raise_if_any(str(path))  # rolls the transaction back
        audit.record(session, actor, "import", "staff", detail=summary.describe())
    return summary
