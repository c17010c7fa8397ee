"""Month end for the office manager: the month's billing at a glance, the billing
PDF and CSV, batches of care plans and time logs, and closing the month.

Everything slow (the month, the PDFs) runs off the GUI thread.  "Print" opens
the PDF in the system's viewer, which has the platform's print dialog.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    Qt,
    QUrl,
    Signal,
)
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.domain.time import Month
from ccmdesk.domain.vocabulary import REASON_LABELS
from ccmdesk.files import write_bytes_atomically
from ccmdesk.services import month_close, month_end
from ccmdesk.services.billing import BillingRow, MonthReport, compute_month
from ccmdesk.ui import fmt
from ccmdesk.ui.batch import BatchJob, BatchResult
from ccmdesk.ui.context import AppContext
from ccmdesk.ui.forms import problem_label, show_problem
from ccmdesk.ui.table_model import Index, RowsTableModel

TITLES = (
    "Patient",
    "MRN",
    "Billing practitioner",
    "Minutes",
    "Clinical",
    "Practitioner",
    "Codes",
    "Amount",
    "Status",
)


class Ask:
    """The window's questions, replaceable in tests."""

    @staticmethod
    def save_path(parent: QWidget, title: str, suggested: str, pattern: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(parent, title, suggested, pattern)
        return path or None

    @staticmethod
    def folder(parent: QWidget, title: str) -> str | None:
        return QFileDialog.getExistingDirectory(parent, title) or None

    @staticmethod
    def reopen_reason(parent: QWidget, month: Month) -> str | None:
        text, ok = QInputDialog.getText(
            parent, "Reopen month", f"Why is {month.first_day:%B %Y} reopened?"
        )
        return text.strip() if ok and text.strip() else None

    @staticmethod
    def open_file(path: Path) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class SummaryModel(RowsTableModel[BillingRow]):
    titles = TITLES

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row, column = self.row_at(index), index.column()
        if row is None:
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and 3 <= column <= 7:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        result, patient = row.result, row.patient
        practitioner = patient.billing_practitioner
        return (
            patient.patient_name,
            patient.mrn,
            practitioner.name if practitioner else "",
            str(result.minutes),
            str(result.clinical_minutes),
            str(result.practitioner_minutes),
            result.codes,
            f"{result.amount:.2f}",
            "Billable" if result.billable else "; ".join(REASON_LABELS[r] for r in result.reasons),
        )[column]


class ReportsWindow(QDialog):
    month_status_changed = Signal(object)  # Month

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Month end — billing and reports")
        self.resize(1200, 760)
        self.report: MonthReport | None = None
        self.job: BatchJob | None = None
        self.loaded = False

        self.month_combo = QComboBox()
        month = Month.of(ctx.today())
        for _ in range(13):
            self.month_combo.addItem(f"{month.first_day:%B %Y}", month)
            month = month.previous()
        self.month_combo.setCurrentIndex(1)  # month end is about the month just over
        self.status = QLabel()
        self.status.setStyleSheet("font-weight: 600;")
        self.close_button = QPushButton("Close month")
        self.close_button.setToolTip(
            "After billing: no entry of the month can change until it is reopened"
        )
        self.reopen_button = QPushButton("Reopen month…")
        top = QHBoxLayout()
        top.addWidget(QLabel("Month:"))
        top.addWidget(self.month_combo)
        top.addWidget(self.status, 1)
        top.addWidget(self.close_button)
        top.addWidget(self.reopen_button)

        self.model = SummaryModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(8, QHeaderView.ResizeMode.Stretch)
        self.totals = QLabel("Loading…")
        self.totals.setStyleSheet("font-size: 15px; font-weight: 600;")

        self.save_pdf = QPushButton("Save billing PDF…")
        self.print_pdf = QPushButton("Print billing PDF")
        self.print_pdf.setToolTip("Opens the PDF in your PDF viewer, which prints it")
        self.export_csv = QPushButton("Export CSV…")
        self.care_plans = QPushButton("Care plans of selected…")
        self.time_logs = QPushButton("Time logs of selected…")
        self.progress = QProgressBar()
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.message = problem_label()
        self.message.setStyleSheet("color: #1d2733;")
        buttons = QHBoxLayout()
        for button in (self.save_pdf, self.print_pdf, self.export_csv):
            buttons.addWidget(button)
        buttons.addSpacing(24)
        buttons.addWidget(self.care_plans)
        buttons.addWidget(self.time_logs)
        buttons.addStretch(1)
        buttons.addWidget(self.progress)
        buttons.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.totals)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self._connect_signals()
        self.reload()

    def _connect_signals(self) -> None:
        self.month_combo.currentIndexChanged.connect(self.reload)
        self.close_button.clicked.connect(self.close_month)
        self.reopen_button.clicked.connect(self.reopen_month)
        self.save_pdf.clicked.connect(lambda: self.billing_pdf(open_after=False))
        self.print_pdf.clicked.connect(lambda: self.billing_pdf(open_after=True))
        self.export_csv.clicked.connect(self.csv)
        self.care_plans.clicked.connect(lambda: self.batch("care plans"))
        self.time_logs.clicked.connect(lambda: self.batch("time logs"))
        self.cancel_button.clicked.connect(self.cancel_batch)

    @property
    def month(self) -> Month:
        return self.month_combo.currentData()

    # -- loading -------------------------------------------------------------------

    def reload(self) -> None:
        self.loaded = False
        db, month = self.ctx.db, self.month
        self.totals.setText(f"Loading {month}…")
        self._busy(True)
        self.ctx.tasks.run(
            lambda: (compute_month(db, month), month_close.month_status(db, month)),
            self._loaded,
            self._failed,
            key="reports",
        )

    def _loaded(self, result: tuple[MonthReport, month_close.MonthStatus]) -> None:
        self.report, status = result
        self.model.set_rows(self.report.rows)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(8, QHeaderView.ResizeMode.Stretch)
        rows = self.report.rows
        billable = [r for r in rows if r.result.billable]
        total = sum((r.result.amount for r in billable), Decimal("0.00"))
        self.totals.setText(
            f"{len(rows)} patients on the list · {len(billable)} billable · "
            f"{len(rows) - len(billable)} not billable · estimated ${total:,.2f}"
        )
        self._show_status(status)
        self._busy(False)
        self.loaded = True

    def _show_status(self, status: month_close.MonthStatus) -> None:
        if status.closed:
            when = fmt.local_day(status.closed_at, self.ctx.zone)
            self.status.setText(f"  Closed {when} by {status.closed_by or 'unknown'}")
            self.status.setStyleSheet("font-weight: 600; color: #1b7f3b;")
        else:
            self.status.setText("  Open: entries can still change")
            self.status.setStyleSheet("font-weight: 600; color: #7a4b00;")
        self.close_button.setEnabled(not status.closed)
        self.reopen_button.setEnabled(status.closed)

    def _failed(self, error: Exception) -> None:
        self._busy(False)
        show_problem(self.message, str(error))

    def _busy(self, busy: bool) -> None:
        for button in (
            self.save_pdf,
            self.print_pdf,
            self.export_csv,
            self.care_plans,
            self.time_logs,
        ):
            button.setEnabled(not busy)

    # -- month close ---------------------------------------------------------------

    def close_month(self) -> None:
        try:
            status = month_close.close_month(
                self.ctx.db, self.month, self.ctx.actor, self.ctx.clock()
            )
        except month_close.MonthCloseError as error:
            show_problem(self.message, str(error))
            return
        show_problem(self.message, f"{self.month.first_day:%B %Y} is closed.")
        self._show_status(status)
        self.month_status_changed.emit(self.month)

    def reopen_month(self) -> None:
        reason = Ask.reopen_reason(self, self.month)
        if reason is None:
            return
        try:
            status = month_close.reopen_month(
                self.ctx.db, self.month, reason, self.ctx.actor, self.ctx.clock()
            )
        except month_close.MonthCloseError as error:
            show_problem(self.message, str(error))
            return
        show_problem(self.message, f"{self.month.first_day:%B %Y} is open again.")
        self._show_status(status)
        self.month_status_changed.emit(self.month)

    # -- documents ------------------------------------------------------------------

    def billing_pdf(self, open_after: bool) -> None:
        if self.report is None:
            return
        report = self.report
        if open_after:
            target = Path(tempfile.mkdtemp(prefix="ccmdesk-")) / f"billing-{report.month}.pdf"
        else:
            chosen = Ask.save_path(
                self, "Save billing summary", f"billing-{report.month}.pdf", "PDF (*.pdf)"
            )
            if chosen is None:
                return
            target = Path(chosen)
        db, actor, now = self.ctx.db, self.ctx.actor, self.ctx.clock()

        def work() -> Path:
            write_bytes_atomically(target, month_end.billing_pdf_bytes(db, report, actor, now))
            return target

        self._busy(True)
        show_problem(self.message, "Laying out the billing summary…")
        self.ctx.tasks.run(work, lambda path: self._written(path, open_after), self._failed)

    def csv(self) -> None:
        if self.report is None:
            return
        chosen = Ask.save_path(
            self, "Export billing CSV", f"billing-{self.report.month}.csv", "CSV (*.csv)"
        )
        if chosen is None:
            return
        report, actor, db, target = self.report, self.ctx.actor, self.ctx.db, Path(chosen)
        self._busy(True)
        self.ctx.tasks.run(
            lambda: write_bytes_atomically(target, month_end.billing_csv_bytes(report, actor, db)),
            lambda path: self._written(path, False),
            self._failed,
        )

    def _written(self, path: Path, open_after: bool) -> None:
        self._busy(False)
        show_problem(self.message, f"Saved {path}")
        if open_after:
            Ask.open_file(path)

    def selected_mrns(self) -> list[str]:
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [self.model.rows[row].patient.mrn for row in rows]

    def batch(self, kind: str) -> None:
        mrns = self.selected_mrns()
        if not mrns:
            show_problem(self.message, "Select the patients first (Ctrl+A selects all).")
            return
        folder = Ask.folder(self, f"Save {kind} in folder")
        if folder is None:
            return
        from ccmdesk.reports.timelog import TimeLogError
        from ccmdesk.services.care_plans import CarePlanError

        db, actor, month, now = self.ctx.db, self.ctx.actor, self.month, self.ctx.clock()
        target = Path(folder)
        if kind == "care plans":

            def work(mrn: str) -> Path:
                return write_bytes_atomically(
                    target / f"care-plan-{mrn}.pdf", month_end.care_plan_pdf_bytes(db, mrn, actor)
                )

            skip: tuple[type[Exception], ...] = (CarePlanError,)
        else:

            def work(mrn: str) -> Path:
                return write_bytes_atomically(
                    target / f"time-log-{mrn}-{month}.pdf",
                    month_end.time_log_pdf_bytes(db, mrn, month, actor, now),
                )

            skip = (TimeLogError,)
        self.job = BatchJob(mrns, work, skip, self)
        self.job.progress.connect(self._batch_progress)
        self.job.finished.connect(lambda result: self._batch_done(kind, target, result))
        self.progress.setRange(0, len(mrns))
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self._busy(True)
        self.job.start(self.ctx.tasks.pool)

    def _batch_progress(self, done: int, total: int) -> None:
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} of {total}")

    def cancel_batch(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _batch_done(self, kind: str, folder: Path, result: BatchResult) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self._busy(False)
        text = f"{len(result.done)} {kind} saved in {folder}"
        if result.skipped:
            text += f"; {len(result.skipped)} skipped ({result.skipped[0][1]}"
            text += ", …)" if len(result.skipped) > 1 else ")"
        if result.cancelled:
            text += "; cancelled"
        show_problem(self.message, text)

    def done_loading(self) -> bool:
        return self.loaded and not self.ctx.tasks.busy

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self.cancel_batch()
        super().closeEvent(event)


__all__ = ["Ask", "ReportsWindow"]
