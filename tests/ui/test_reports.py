"""The month-end window: totals, CSV and PDF, month close, batches with progress."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
from pypdf import PdfReader

from ccmdesk.domain.time import Month
from ccmdesk.services import time_log, users
from ccmdesk.services.billing import compute_month
from ccmdesk.services.billing_csv import write_billing_csv
from ccmdesk.ui.batch import BatchJob
from ccmdesk.ui.reports_window import Ask
from tests.factories import add_entry, add_staff

UTC = dt.timezone.utc
OCTOBER = Month(2026, 10)


@pytest.fixture
def reports(window, practice, qtbot):
    db = practice["db"]
    # month end is the office manager's work (services/access.py)
    manager = add_staff(db, "Lisa Carrington", "non_clinical", office_manager=True)
    window.set_user(users.current_user(db, manager))
    add_entry(db, practice["ada"], practice["nurse"], dt.datetime(2026, 10, 6, 14, tzinfo=UTC), 24)
    add_entry(db, practice["bo"], practice["nurse"], dt.datetime(2026, 10, 7, 14, tzinfo=UTC), 45)
    add_entry(db, practice["cy"], practice["nurse"], dt.datetime(2026, 10, 8, 14, tzinfo=UTC), 9)
    dialog = window.open_reports()
    qtbot.waitUntil(lambda: dialog.loaded, timeout=10_000)
    assert dialog.month == OCTOBER  # month end is about the month just over
    return dialog


def test_the_summary_agrees_with_the_billing_engine(reports, practice):
    report = compute_month(practice["db"], OCTOBER)
    assert reports.model.rowCount() == len(report.rows) == 3
    assert [reports.model.data(reports.model.index(r, 1)) for r in range(3)] == [
        row.patient.mrn for row in report.rows
    ]
    assert reports.totals.text() == (
        "3 patients on the list · 2 billable · 1 not billable · estimated $182.70"
    )


def test_csv_export_is_the_billing_csv(reports, practice, tmp_path, monkeypatch, qtbot):
    target = tmp_path / "october.csv"
    monkeypatch.setattr(Ask, "save_path", staticmethod(lambda *a: str(target)))
    reports.export_csv.click()
    qtbot.waitUntil(lambda: "Saved" in reports.message.text(), timeout=10_000)
    expected = io.StringIO(newline="")
    write_billing_csv(compute_month(practice["db"], OCTOBER), expected)
    assert target.read_bytes() == expected.getvalue().encode("utf-8")


def test_billing_pdf_is_saved_off_the_gui_thread(reports, tmp_path, monkeypatch, qtbot):
    target = tmp_path / "october.pdf"
    monkeypatch.setattr(Ask, "save_path", staticmethod(lambda *a: str(target)))
    reports.save_pdf.click()
    qtbot.waitUntil(lambda: "Saved" in reports.message.text(), timeout=20_000)
    text = "".join(page.extract_text() for page in PdfReader(target).pages)
    assert "CCM billing summary" in text and "$182.70" in text


def test_close_and_reopen_the_month(reports, practice, monkeypatch, window):
    db = practice["db"]
    reports.close_button.click()
    assert "Closed" in reports.status.text()
    assert time_log.month_is_closed(db, OCTOBER)
    assert not reports.close_button.isEnabled() and reports.reopen_button.isEnabled()
    monkeypatch.setattr(Ask, "reopen_reason", staticmethod(lambda *a: None))
    reports.reopen_button.click()  # no reason: nothing happens
    assert time_log.month_is_closed(db, OCTOBER)
    monkeypatch.setattr(Ask, "reopen_reason", staticmethod(lambda *a: "Late fax from cardiology"))
    reports.reopen_button.click()
    assert not time_log.month_is_closed(db, OCTOBER)
    assert "Open" in reports.status.text()


def test_the_current_month_cannot_be_closed(reports):
    reports.month_combo.setCurrentIndex(0)  # November, still running
    reports.close_button.click()
    assert "not over yet" in reports.message.text()


def test_time_logs_of_selected_patients_in_one_batch(reports, tmp_path, monkeypatch, qtbot):
    monkeypatch.setattr(Ask, "folder", staticmethod(lambda *a: str(tmp_path)))
    reports.table.selectAll()
    steps: list[int] = []
    reports.time_logs.click()
    reports.job.progress.connect(lambda done, total: steps.append(done))
    qtbot.waitUntil(lambda: "saved in" in reports.message.text(), timeout=30_000)
    names = sorted(p.name for p in tmp_path.glob("time-log-*.pdf"))
    assert names == [
        "time-log-M1-2026-10.pdf",
        "time-log-M2-2026-10.pdf",
        "time-log-M3-2026-10.pdf",
    ]
    assert reports.message.text().startswith("3 time logs saved in")
    assert not reports.progress.isVisible()


def test_a_batch_can_be_cancelled_and_reports_progress(qtbot):
    started, release = threading.Event(), threading.Event()
    seen: list[tuple[int, int]] = []

    def work(item: int) -> int:
        if item == 0:
            started.set()
            release.wait(5)
        return item

    job = BatchJob(list(range(10)), work)
    job.progress.connect(lambda done, total: seen.append((done, total)))
    results = []
    job.finished.connect(results.append)
    job.start()
    assert started.wait(5)
    job.cancel()
    release.set()
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    assert results[0].cancelled and results[0].done == [0]
    assert seen == [(1, 10)]
