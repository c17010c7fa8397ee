"""Every table model passes pytest-qt's model tester; search and filters work."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ccmdesk.domain.time import Month
from ccmdesk.services import time_log
from ccmdesk.services.patient_list import patient_list
from ccmdesk.ui.patient_table import Column, PatientTableModel
from ccmdesk.ui.time_log_view import TimeLogModel

NY = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 11, 17, 15, tzinfo=dt.timezone.utc)


def rows(practice):
    return patient_list(practice["db"], Month(2026, 11), NOW)


def test_patient_model_passes_the_model_tester(qtmodeltester, practice):
    model = PatientTableModel(NY, lambda: dt.date(2026, 11, 17))
    model.set_rows(rows(practice))
    qtmodeltester.check(model)
    model.set_search("love")
    qtmodeltester.check(model)


def test_time_log_model_passes_the_model_tester(qtmodeltester, practice):
    model = TimeLogModel(NY)
    model.set_entries(time_log.month_log(practice["db"], practice["ada"], Month(2026, 11)))
    assert model.rowCount() == 1
    qtmodeltester.check(model)


def test_search_matches_name_mrn_dob_and_phone(practice):
    model = PatientTableModel(NY, lambda: dt.date(2026, 11, 17))
    model.set_rows(rows(practice))
    names = lambda: [model.patient_row(r).name for r in range(model.rowCount())]  # noqa: E731
    model.set_search("LOVEL")
    assert names() == ["Lovelace, Ada"]
    model.set_search("m2")
    assert names() == ["Brummell, Bo"]
    model.set_search("05/17/1948")  # every test patient shares this DOB
    assert len(names()) == 3
    model.set_search("1948-05-17")
    assert len(names()) == 3
    model.set_search("Young, Cy")
    assert names() == ["Young, Cy"]
    model.set_search("")
    assert len(names()) == 3


def test_quick_filters_and_sorting(practice):
    model = PatientTableModel(NY, lambda: dt.date(2026, 11, 17))
    model.set_rows(rows(practice))
    names = lambda: [model.patient_row(r).name for r in range(model.rowCount())]  # noqa: E731
    model.set_quick_filter("Needs minutes this month")
    assert names() == ["Lovelace, Ada"]  # 12 min; Bo has 25, Cy has no consent
    model.set_quick_filter("Ready to bill")
    assert names() == ["Brummell, Bo"]
    model.set_quick_filter("No consent")
    assert names() == ["Young, Cy"]
    model.set_quick_filter("Care plan review due")
    assert names() == ["Brummell, Bo", "Lovelace, Ada"]  # consented, no plan review date
    model.set_quick_filter("All")
    from PySide6.QtCore import Qt

    model.sort(Column.MINUTES, Qt.SortOrder.DescendingOrder)
    assert names() == ["Brummell, Bo", "Lovelace, Ada", "Young, Cy"]
    assert model.data(model.index(0, Column.MINUTES)) == "25 min"
    assert model.data(model.index(1, Column.NEEDED)) == "8 min → 99490"
