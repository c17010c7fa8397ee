"""Reading the audit trail: filters, pages, what changed, the CSV, and append-only."""

from __future__ import annotations

import ast
import csv
import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from ccmdesk.services import audit
from ccmdesk.services.audit import Actor, AuditTrailIsAppendOnly
from ccmdesk.services.audit_trail import (
    CSV_COLUMNS,
    AuditFilter,
    AuditTrailError,
    audit_page,
    export_csv,
    filter_choices,
    may_read,
)
from ccmdesk.storage.models import AuditEvent
from tests.factories import add_patient, add_staff

UTC = dt.timezone.utc
PACKAGE = Path(__file__).resolve().parents[2] / "ccmdesk"


@pytest.fixture
def trail(db):
    """An administrator, a nurse, two patients and a handful of events on known days."""
    admin = add_staff(db, "Ann Admin", "non_clinical", administrator=True)
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    ada = add_patient(db, "M1", first="Ada", last="Lovelace")
    bo = add_patient(db, "M2", first="Bo", last="Brummell")
    nina, ann = Actor(nurse, "Nina Okafor"), Actor(admin, "Ann Admin")
    events = [
        # 22:30 on 11/03 in New York, although already 11/04 in UTC
        ((11, 4, 3, 30), nina, "update", "time_entry", ada),
        ((11, 4, 15, 0), nina, "create", "condition", ada),
        ((11, 5, 15, 0), nina, "update", "patient", bo),
        ((11, 6, 15, 0), ann, "close", "month_close", None),
        ((11, 7, 15, 0), nina, "delete", "time_entry", 999),  # the patient is gone
    ]
    with db.transaction() as session:
        for (month, day, hour, minute), actor, action, entity, patient in events:
            at = dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)
            audit.record(
                session,
                actor,
                action,
                entity,
                entity_id=7,
                patient_id=patient,
                before={"note": "called", "staff_id": nurse, "minutes": 12},
                after={"note": "called back", "staff_id": admin, "minutes": 12},
                detail=f"{action} {entity}",
                at=at,
            )
    return {
        "db": db,
        "admin": ann,
        "nurse": nina,
        "admin_id": admin,
        "nurse_id": nurse,
        "ada": ada,
        "bo": bo,
    }


def test_only_someone_who_may_read_the_trail_reads_it(trail):
    db = trail["db"]
    assert may_read(db, trail["admin"]) and may_read(db, Actor.command_line())
    assert not may_read(db, trail["nurse"])
    with pytest.raises(AuditTrailError, match=r"Nina Okafor .* may not read the audit trail"):
        audit_page(db, trail["nurse"])
    with pytest.raises(AuditTrailError):
        filter_choices(db, trail["nurse"])
    assert audit_page(db, Actor.command_line()).total == 5


def test_newest_first_with_names_and_mrns_and_a_gone_patient_left_blank(trail):
    page = audit_page(trail["db"], trail["admin"])
    assert page.total == 5 and not page.has_newer and not page.has_older
    assert [row.action for row in page.rows] == ["delete", "close", "update", "create", "update"]
    gone, closed, bo = page.rows[0], page.rows[1], page.rows[2]
    assert (gone.patient_id, gone.patient_name, gone.patient_mrn) == (999, "", "")
    assert (closed.patient_id, closed.patient_name) == (None, "")
    assert (bo.patient_name, bo.patient_mrn) == ("Brummell, Bo", "M2")
    assert bo.at == dt.datetime(2026, 11, 5, 15, 0, tzinfo=UTC)


def test_what_changed_reads_as_a_person_would(trail):
    row = audit_page(trail["db"], trail["admin"]).rows[0]
    assert row.summary == 'note: "called" → "called back"; staff: Nina Okafor → Ann Admin'
    by_field = {change.field: change for change in row.changes}
    assert by_field["note"].before == "called" and by_field["note"].after == "called back"
    assert by_field["note"].changed and not by_field["minutes"].changed
    assert by_field["minutes"].before == by_field["minutes"].after == "12"


def test_filters_by_patient_user_action_and_entity(trail):
    db, admin = trail["db"], trail["admin"]

    def actions(**filters) -> list[str]:
        return [row.action for row in audit_page(db, admin, AuditFilter(**filters)).rows]

    assert actions(patient_id=trail["ada"]) == ["create", "update"]
    assert actions(actor_id=trail["admin_id"]) == ["close"]
    assert actions(action="update") == ["update", "update"]
    assert actions(entity="time_entry") == ["delete", "update"]
    assert actions(patient_id=trail["ada"], entity="time_entry", action="update") == ["update"]
    assert actions(actor_id=trail["admin_id"], action="update") == []


def test_dates_are_the_practices_calendar_days(trail):
    db, admin = trail["db"], trail["admin"]
    third = dt.date(2026, 11, 3)
    page = audit_page(db, admin, AuditFilter(first_day=third, last_day=third))
    # 03:30 UTC on 11/04 is 10:30 PM on 11/03 in New York
    assert [row.entity for row in page.rows] == ["time_entry"]
    page = audit_page(db, admin, AuditFilter(first_day=dt.date(2026, 11, 4)))
    assert page.total == 4
    page = audit_page(db, admin, AuditFilter(last_day=dt.date(2026, 11, 5)))
    assert page.total == 3
    with pytest.raises(AuditTrailError, match="'from' date is after the 'to' date"):
        audit_page(db, admin, AuditFilter(first_day=third, last_day=third - dt.timedelta(days=1)))


def test_pages_and_the_total(trail):
    db, admin = trail["db"], trail["admin"]
    first = audit_page(db, admin, limit=2)
    second = audit_page(db, admin, offset=2, limit=2)
    last = audit_page(db, admin, offset=4, limit=2)
    assert (first.total, second.total, last.total) == (5, 5, 5)
    assert first.has_older and not first.has_newer
    assert second.has_older and second.has_newer
    assert not last.has_older and len(last.rows) == 1
    ids = [row.id for page in (first, second, last) for row in page.rows]
    assert ids == [row.id for row in audit_page(db, admin).rows]


def test_choices_offer_everyone_and_the_actions_present(trail):
    choices = filter_choices(trail["db"], trail["admin"])
    assert [user.name for user in choices.users] == ["Ann Admin", "Nina Okafor"]
    labels = [patient.label for patient in choices.patients]
    assert labels == ["Brummell, Bo · M2", "Lovelace, Ada · M1"]
    assert choices.actions == ("close", "create", "delete", "update")
    assert choices.entities == ("condition", "month_close", "patient", "time_entry")


def test_csv_export_has_every_matching_event_and_is_audited(trail, tmp_path):
    db, admin = trail["db"], trail["admin"]
    target = tmp_path / "trail.csv"
    filters = AuditFilter(patient_id=trail["ada"])
    assert export_csv(db, admin, filters, target) == 2
    with target.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    when, user, action, entity, entity_id, mrn, name = rows[2][:7]
    assert when == "2026-11-03T22:30:00-05:00"  # the practice's time, with its offset
    assert (user, action, entity, entity_id) == ("Nina Okafor", "update", "time_entry", "7")
    assert (mrn, name) == ("M1", "Lovelace, Ada")
    assert rows[2][7] == "update time_entry"
    assert '"note": "called"' in rows[2][8] and '"note": "called back"' in rows[2][9]
    assert not list(tmp_path.glob("*.partial"))
    exported = audit_page(db, admin, AuditFilter(action="export")).rows
    assert len(exported) == 1
    assert exported[0].entity == "audit_trail" and exported[0].actor_id == trail["admin_id"]
    assert exported[0].detail == f"patient_id={trail['ada']}; 2 events"
    assert exported[0].patient_id == trail["ada"]  # the patient's own trail shows the export


def test_the_whole_trail_is_exported_not_just_a_page(trail, tmp_path):
    db, admin = trail["db"], trail["admin"]
    with db.transaction() as session:
        for minute in range(450):
            at = dt.datetime(2026, 10, 1, tzinfo=UTC) + dt.timedelta(minutes=minute)
            audit.record(session, admin, "sign_in", "user", entity_id=1, at=at)
    target = tmp_path / "all.csv"
    assert export_csv(db, admin, AuditFilter(), target) == 455
    assert target.read_bytes().count(b"\r\n") == 456
    assert "all events; 455 events" in audit_page(db, admin).rows[0].detail


def test_a_refused_export_writes_no_file_and_nothing_in_the_trail(trail, tmp_path):
    target = tmp_path / "trail.csv"
    with pytest.raises(AuditTrailError):
        export_csv(trail["db"], trail["nurse"], AuditFilter(), target)
    assert not target.exists() and not list(tmp_path.glob("*.partial"))
    assert audit_page(trail["db"], trail["admin"]).total == 5


def test_text_a_spreadsheet_would_run_is_exported_as_text(trail, tmp_path):
    db, admin = trail["db"], trail["admin"]
    with db.transaction() as session:
        audit.record(session, admin, "delete", "time_entry", detail="=HYPERLINK(1)")
    target = tmp_path / "trail.csv"
    export_csv(db, admin, AuditFilter(action="delete"), target)
    assert "'=HYPERLINK(1)" in target.read_text(encoding="utf-8")


# -- append-only -------------------------------------------------------------------------


def test_an_audit_event_cannot_be_deleted_or_changed_through_the_orm(trail):
    db = trail["db"]
    with (
        pytest.raises(AuditTrailIsAppendOnly, match="cannot be deleted"),
        db.transaction() as session,
    ):
        session.delete(session.scalars(select(AuditEvent).limit(1)).one())
    with (
        pytest.raises(AuditTrailIsAppendOnly, match="cannot be changed"),
        db.transaction() as session,
    ):
        session.scalars(select(AuditEvent).limit(1)).one().detail = "nothing happened"
    with pytest.raises(AuditTrailIsAppendOnly), db.transaction() as session:
        session.execute(update(AuditEvent).values(detail="rewritten"))
    with pytest.raises(AuditTrailIsAppendOnly), db.transaction() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.action == "close"))
    page = audit_page(db, trail["admin"])
    assert page.total == 5 and "rewritten" not in {row.detail for row in page.rows}


def _statements_changing_the_trail(source: str) -> list[int]:
    """Lines calling ``update``/``delete`` on ``AuditEvent`` (or its table), or such SQL text."""
    sql = re.compile(r"\b(update\s+audit_event|delete\s+from\s+audit_event)\b", re.IGNORECASE)
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and sql.search(node.value)
        ):
            lines.append(node.lineno)
        if not isinstance(node, ast.Call) or not node.args:
            continue
        called = (
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        )
        names, target = set(), node.args[0]
        while isinstance(target, ast.Attribute):  # models.AuditEvent.__table__
            names.add(target.attr)
            target = target.value
        names.add(getattr(target, "id", ""))
        if called in {"update", "delete"} and "AuditEvent" in names:
            lines.append(node.lineno)
    return lines


def test_the_scan_finds_such_statements():
    assert _statements_changing_the_trail("session.execute(delete(AuditEvent))") == [1]
    assert _statements_changing_the_trail("sa.update(models.AuditEvent.__table__)") == [1]
    assert _statements_changing_the_trail("x = update(AuditEvent.__table__)") == [1]
    assert _statements_changing_the_trail("text('DELETE FROM audit_event')") == [1]
    assert _statements_changing_the_trail('"""Never update(AuditEvent) here."""') == []


def test_nothing_in_the_package_updates_or_deletes_audit_events():
    offenders = [
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line in _statements_changing_the_trail(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
