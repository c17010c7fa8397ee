"""Closing a month after billing: it blocks every change to its entries until reopened."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from ccmdesk.domain.time import Month
from ccmdesk.services import time_log
from ccmdesk.services.audit import Actor
from ccmdesk.services.imports import ImportRejected
from ccmdesk.services.imports.time_entries import import_time
from ccmdesk.services.month_close import (
    MonthCloseError,
    close_month,
    closed_months,
    month_status,
    reopen_month,
)
from ccmdesk.services.time_log import MonthClosedError
from ccmdesk.storage.models import AuditEvent, MonthClose, TimeEntry
from tests.factories import add_patient, add_staff
from tests.services.csvfiles import TIME_HEADER, write_csv

UTC = dt.timezone.utc
MARCH = Month(2026, 3)
T0 = dt.datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 10:00 in New York
APRIL_2 = dt.datetime(2026, 4, 2, 15, 0, tzinfo=UTC)  # 11:00 in New York


@pytest.fixture
def setup(db):
    manager = add_staff(db, "Lisa Carrington", "non_clinical", office_manager=True)
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    patient = add_patient(db, "M-1")
    actor = Actor(nurse, "Nina Okafor")
    entry = time_log.add_manual(
        db, patient, nurse, T0, T0 + dt.timedelta(minutes=25), actor, now=APRIL_2
    ).created_id
    return db, Actor(manager, "Lisa Carrington"), actor, nurse, patient, entry


def audit(db, action: str) -> list[AuditEvent]:
    with db.transaction() as session:
        return list(
            session.scalars(
                select(AuditEvent).where(
                    AuditEvent.entity == "month_close", AuditEvent.action == action
                )
            )
        )


def test_close_records_who_and_when_and_is_audited(setup):
    db, manager, *_ = setup
    assert month_status(db, MARCH).closed is False
    status = close_month(db, MARCH, manager, now=APRIL_2)
    assert (status.closed, status.closed_at, status.closed_by) == (True, APRIL_2, "Lisa Carrington")
    assert month_status(db, MARCH) == status
    assert [s.month for s in closed_months(db)] == [MARCH]
    (event,) = audit(db, "close")
    assert (event.actor, event.actor_id, event.at) == ("Lisa Carrington", manager.id, APRIL_2)
    assert json.loads(event.after)["month"] == "2026-03"


def test_close_refuses_a_month_not_over_or_already_closed(setup):
    db, manager, *_ = setup
    last_evening = dt.datetime(2026, 4, 1, 3, 59, tzinfo=UTC)  # 23:59 on March 31st, New York
    with pytest.raises(MonthCloseError, match=r"2026-03 is not over yet.*04/01/2026"):
        close_month(db, MARCH, manager, now=last_evening)
    close_month(db, MARCH, manager, now=last_evening + dt.timedelta(minutes=1))
    with pytest.raises(MonthCloseError, match="2026-03 is already closed"):
        close_month(db, MARCH, manager, now=APRIL_2)
    assert len(audit(db, "close")) == 1


def test_close_refuses_while_a_stopwatch_runs(setup):
    db, manager, actor, nurse, patient, _ = setup
    time_log.start_timer(db, patient, nurse, actor, now=T0 + dt.timedelta(days=5))
    with pytest.raises(MonthCloseError, match=r"stopwatch .* still running"):
        close_month(db, MARCH, manager, now=APRIL_2)
    (running,) = time_log.running_timers(db)
    time_log.stop_timer(db, running.id, actor, now=T0 + dt.timedelta(days=5, minutes=9))
    assert close_month(db, MARCH, manager, now=APRIL_2).closed


def _import_file(tmp_path, start: str):
    return write_csv(tmp_path, "time.csv", TIME_HEADER, [f"M-1,Nina Okafor,{start},,15,,"])


def test_closed_month_blocks_each_kind_of_change_and_reopen_allows_it(setup, tmp_path):
    db, manager, actor, nurse, patient, entry = setup
    close_month(db, MARCH, manager, now=APRIL_2)
    now = APRIL_2 + dt.timedelta(hours=1)
    attempts = {
        "add": lambda: time_log.add_manual(
            db, patient, nurse, T0 + dt.timedelta(days=1), T0 + dt.timedelta(days=1, minutes=5),
            actor, now=now,
        ),
        "add into it from April": lambda: time_log.add_manual(
            db, patient, nurse, dt.datetime(2026, 4, 1, 3, 50, tzinfo=UTC),
            dt.datetime(2026, 4, 1, 4, 30, tzinfo=UTC), actor, now=now,
        ),
        "edit": lambda: time_log.edit_entry(db, entry, actor, note="late fix", now=now),
        "move out": lambda: time_log.edit_entry(
            db, entry, actor, start=T0 - dt.timedelta(days=20),
            end=T0 - dt.timedelta(days=20, minutes=-25), now=now,
        ),
        "delete": lambda: time_log.delete_entry(db, entry, "duplicate", actor, now=now),
    }  # fmt: skip
    for name, attempt in attempts.items():
        with pytest.raises(MonthClosedError, match="2026-03 is closed"):
            attempt()
            pytest.fail(f"{name} was allowed in a closed month")
    with pytest.raises(ImportRejected) as rejected:
        import_time(db, _import_file(tmp_path, "2026-03-20T09:00"), actor, now=now)
    assert "2026-03 is closed" in "\n".join(rejected.value.lines())
    with db.transaction() as session:
        entries = session.scalars(select(TimeEntry)).all()
    assert [(e.id, e.note, e.deleted_at) for e in entries] == [(entry, "", None)]

    status = reopen_month(db, MARCH, "Late fax from cardiology", manager, now=now)
    assert not status.closed
    assert (status.reopened_at, status.reopened_by, status.reopen_reason) == (
        now,
        "Lisa Carrington",
        "Late fax from cardiology",
    )
    assert (status.closed_at, status.closed_by) == (APRIL_2, "Lisa Carrington")
    for attempt in attempts.values():
        attempt()
    import_time(db, _import_file(tmp_path, "2026-03-21T09:00"), actor, now=now)
    (event,) = audit(db, "reopen")
    assert (event.detail, event.actor) == ("Late fax from cardiology", "Lisa Carrington")


def test_reopen_needs_a_reason_and_a_closed_month(setup):
    db, manager, *_ = setup
    with pytest.raises(MonthCloseError, match="2026-03 is not closed"):
        reopen_month(db, MARCH, "no reason to", manager)
    close_month(db, MARCH, manager, now=APRIL_2)
    for reason in ("", "   "):
        with pytest.raises(MonthCloseError, match="say why"):
            reopen_month(db, MARCH, reason, manager)
    assert month_status(db, MARCH).closed and audit(db, "reopen") == []


def test_close_again_after_reopening_keeps_the_history(setup):
    db, manager, *_ = setup
    command_line = Actor.command_line()
    close_month(db, MARCH, manager, now=APRIL_2)
    reopen_month(db, MARCH, "correction", manager, now=APRIL_2 + dt.timedelta(days=1))
    later = APRIL_2 + dt.timedelta(days=2)
    status = close_month(db, MARCH, command_line, now=later)
    # The command line has no staff id: the name comes from the audit trail.
    assert (status.closed, status.closed_at, status.closed_by) == (True, later, command_line.name)
    with db.transaction() as session:
        rows = session.scalars(select(MonthClose).order_by(MonthClose.id)).all()
    assert [(r.reopened_at is not None, r.reopen_reason) for r in rows] == [
        (True, "correction"),
        (False, None),
    ]
    assert month_status(db, Month(2026, 2)).closed is False
