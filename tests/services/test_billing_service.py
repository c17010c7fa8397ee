"""The month service over a real database file, and the SPEC §2.2 CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from sqlalchemy import event

from ccmdesk.domain.time import Month
from ccmdesk.services.billing import compute_month, live_figures
from ccmdesk.services.billing_csv import CSV_COLUMNS, write_billing_csv
from ccmdesk.storage.models import CarePlan, CarePlanVersion, ConsentRecord, FeeOverride, TimeEntry
from tests.factories import NOW, add_entry, add_patient, add_staff, practitioner_npi

UTC = dt.timezone.utc
MARCH = Month(2026, 3)


def at(day: int, hour: int = 14) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, 0, tzinfo=UTC)  # 10:00 in New York


def csv_rows(report) -> list[dict[str, str]]:
    buffer = io.StringIO()
    write_billing_csv(report, buffer)
    return list(csv.DictReader(io.StringIO(buffer.getvalue())))


def test_month_list_codes_reasons_and_csv(db):
    zoe = add_staff(db, "Zoe Zimmer", "practitioner", "MD", npi=practitioner_npi(2))
    amy = add_staff(db, "Amy Adams", "practitioner", "NP", npi=practitioner_npi(1))
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    desk = add_staff(db, "Sam Front", "non_clinical")

    billable = add_patient(db, "M1", first="Cal", last="Baker", practitioner_id=zoe)
    add_entry(db, billable, nurse, at(3), 25)
    add_entry(db, billable, nurse, at(4), 30, deleted=True)  # never counts
    add_entry(db, billable, desk, at(5), 30)  # front desk never counts

    short = add_patient(db, "M2", first="Ann", last="Baker", practitioner_id=zoe)
    add_entry(db, short, nurse, at(3), 19.99)

    no_consent = add_patient(db, "M3", last="Carter", practitioner_id=amy, consent=None)
    add_entry(db, no_consent, nurse, at(6), 45)

    add_patient(db, "M4", last="Later", practitioner_id=amy, consent=dt.date(2026, 5, 1))
    opted = add_patient(db, "M5", last="Gone", practitioner_id=amy)
    with db.transaction() as session:
        consent = session.query(ConsentRecord).filter_by(patient_id=opted).one()
        consent.opt_out_date = dt.date(2026, 1, 20)
    orphan = add_patient(db, "M6", last="Orphan", practitioner_id=None)
    add_entry(db, orphan, nurse, at(7), 61)
    with db.transaction() as session:  # a running stopwatch is not yet time
        session.add(
            TimeEntry(
                patient_id=orphan,
                staff_id=nurse,
                start_at=at(9),
                activity="phone_call",
                source="timer",
                created_at=NOW,
            )
        )

    report = compute_month(db, MARCH)
    rows = csv_rows(report)
    assert list(rows[0]) == list(CSV_COLUMNS)
    # sorted by billing practitioner (Amy before Zoe, none last), then patient name
    assert [r["mrn"] for r in rows] == ["M3", "M2", "M1", "M6"]
    by_mrn = {r["mrn"]: r for r in rows}
    assert by_mrn["M1"] == {
        "month": "2026-03",
        "mrn": "M1",
        "patient_name": "Baker, Cal",
        "billing_npi": practitioner_npi(2),
        "minutes": "25",
        "clinical_minutes": "25",
        "practitioner_minutes": "0",
        "billable": "yes",
        "codes": "99490",
        "amount": "66.13",
        "reasons": "",
    }
    assert (by_mrn["M2"]["minutes"], by_mrn["M2"]["reasons"]) == ("19", "under_threshold")
    assert by_mrn["M3"]["reasons"] == "no_consent"
    assert by_mrn["M3"]["minutes"] == "45" and by_mrn["M3"]["amount"] == "0.00"
    assert by_mrn["M6"]["billing_npi"] == ""
    assert by_mrn["M6"]["reasons"] == "no_billing_practitioner"
    assert by_mrn["M6"]["codes"] == "" and by_mrn["M6"]["billable"] == "no"


def test_opted_out_patient_with_time_is_listed(db):
    doctor = add_staff(db, "Dana Whitfield", "practitioner", "MD", npi=practitioner_npi(1))
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    patient = add_patient(db, "M1", practitioner_id=doctor)
    with db.transaction() as session:
        session.query(ConsentRecord).filter_by(patient_id=patient).one().opt_out_date = dt.date(
            2026, 2, 3
        )
    add_entry(db, patient, nurse, at(2), 22)
    (row,) = compute_month(db, MARCH).rows
    assert row.result.reasons == ("opted_out",)
    (feb,) = compute_month(db, Month(2026, 2)).rows  # still enrolled in February
    assert (feb.result.minutes, feb.result.reasons) == (0, ("under_threshold",))
    assert compute_month(db, Month(2026, 4)).rows == []  # gone, and no time logged
    add_entry(db, patient, nurse, dt.datetime(2026, 2, 10, 15, tzinfo=UTC), 20)
    (feb,) = compute_month(db, Month(2026, 2)).rows
    assert feb.result.billable  # the opt-out month is still billable


def test_care_plan_version_establishes_the_plan(db):
    doctor = add_staff(db, "Dana Whitfield", "practitioner", "MD", npi=practitioner_npi(1))
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    patient = add_patient(db, "M1", practitioner_id=doctor, care_plan=None)
    add_entry(db, patient, nurse, at(2), 22)
    assert compute_month(db, MARCH).rows[0].result.reasons == ("no_care_plan",)
    with db.transaction() as session:
        plan = CarePlan(patient_id=patient, created_at=NOW)
        session.add(plan)
        session.flush()
        saved = dt.datetime(2026, 3, 20, 15, tzinfo=UTC)
        session.add(
            CarePlanVersion(
                care_plan_id=plan.id, number=1, content="{}", created_at=saved, updated_at=saved
            )
        )
    assert compute_month(db, MARCH).rows[0].result.billable
    assert compute_month(db, Month(2026, 2)).rows[0].result.reasons[-2:] == (
        "no_care_plan",
        "under_threshold",
    )


def test_fee_overrides_and_missing_year(db):
    doctor = add_staff(db, "Dana Whitfield", "practitioner", "MD", npi=practitioner_npi(1))
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    patient = add_patient(db, "M1", practitioner_id=doctor)
    add_entry(db, patient, nurse, at(2), 41)
    assert compute_month(db, MARCH).rows[0].result.amount == Decimal("116.57")
    with db.transaction() as session:
        session.add(FeeOverride(year=2026, code="99490", amount=Decimal("70.00")))
    report = compute_month(db, MARCH)
    assert report.rows[0].result.amount == Decimal("120.44")
    assert report.fees.note == ""
    future = compute_month(db, Month(2027, 1))
    assert future.fees.note == (
        "No 2027 fee schedule is on file; the latest earlier one (2026) with the"
        " practice's 2026 amounts is used."
    )
    assert future.fees.amount("99490") == Decimal("70.00")  # the practice's rate carries on


def test_month_costs_the_same_few_queries_for_many_patients(db):
    doctor = add_staff(db, "Dana Whitfield", "practitioner", "MD", npi=practitioner_npi(1))
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")

    def queries_for_month() -> int:
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            compute_month(db, MARCH)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    first = add_patient(db, "M0", practitioner_id=doctor)
    add_entry(db, first, nurse, at(2), 5)
    few = queries_for_month()
    for index in range(1, 40):
        patient = add_patient(db, f"M{index}", practitioner_id=doctor)
        add_entry(db, patient, nurse, at(2 + index % 20), 5 + index)
    assert queries_for_month() == few <= 12


def test_live_figures_for_one_patient(db):
    doctor = add_staff(db, "Dana Whitfield", "practitioner", "MD", npi=practitioner_npi(1))
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    patient = add_patient(db, "M1", practitioner_id=doctor)
    add_entry(db, patient, nurse, at(2), 12)
    add_entry(db, patient, nurse, at(9), 14)
    now = dt.datetime(2026, 3, 29, 16, 0, tzinfo=UTC)  # noon on the 29th in New York
    live = live_figures(db, patient, now=now)
    assert live.month == MARCH
    assert (live.minutes, live.minutes_to_next, live.next_codes) == (26, 14, "99490 99439")
    assert live.days_left == 3  # 29th, 30th, 31st
    early = live_figures(db, patient, now=now, month=Month(2026, 2))
    assert (early.minutes, early.minutes_to_next) == (0, 20)


def test_fee_override_service_sets_changes_removes_and_audits(db):
    from decimal import Decimal as D

    import pytest
    from sqlalchemy import select

    from ccmdesk.domain.fees import FeeScheduleError
    from ccmdesk.services.audit import Actor
    from ccmdesk.services.practice import fee_schedule, set_fee_override
    from ccmdesk.storage.models import AuditEvent

    manager = add_staff(db, "Lisa Carrington", "non_clinical", office_manager=True)
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    with pytest.raises(
        FeeScheduleError, match=r"Nina Okafor \(clinical staff\) may not change the fee"
    ):
        set_fee_override(db, 2026, "99490", "99.00", Actor(nurse, "Nina Okafor"))
    actor = Actor(manager, "Lisa Carrington")
    set_fee_override(db, 2026, "99490", "71.20", actor)
    set_fee_override(db, 2026, "99490", "72.00", actor)
    with db.transaction() as session:
        assert fee_schedule(session, 2026).amount("99490") == D("72.00")
    set_fee_override(db, 2026, "99490", None, actor)
    with db.transaction() as session:
        assert fee_schedule(session, 2026).amount("99490") == D("66.13")
        trail = session.scalars(select(AuditEvent).where(AuditEvent.entity == "fee_override"))
        assert [(e.before, e.after) for e in trail] == [
            (None, '{"amount": "71.20"}'),
            ('{"amount": "71.20"}', '{"amount": "72.00"}'),
            ('{"amount": "72.00"}', None),
        ]
    for year, code, amount in (
        (2026, "99999", "1.00"),
        (2026, "99490", "-1"),
        (2026, "99490", "12.345"),
        (1066, "99490", "1.00"),
    ):
        with pytest.raises(FeeScheduleError):
            set_fee_override(db, year, code, amount, actor)
