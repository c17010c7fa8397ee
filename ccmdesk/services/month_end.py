"""Month-end documents for the office manager, as bytes, each print or export audited.

The screens call these; the command line builds the same documents from the
same report modules, so a PDF saved from the window and one printed by
``ccmdesk billing --pdf`` agree.
"""

from __future__ import annotations

import datetime as dt
import io

from sqlalchemy import select

from ccmdesk.domain.time import Month
from ccmdesk.services import audit
from ccmdesk.services.access import Permission, require
from ccmdesk.services.billing import MonthReport
from ccmdesk.services.billing_csv import write_billing_csv
from ccmdesk.storage.database import Database
from ccmdesk.storage.models import Patient


def _allowed(db: Database, actor: audit.Actor, permission: Permission) -> None:
    """Checked before the document is built, so a refusal costs nothing."""
    with db.transaction() as session:
        require(session, actor, permission)


def _audit(
    db: Database, actor: audit.Actor, action: str, what: str, detail: str, mrn: str | None = None
) -> None:
    """One print or export in the trail; a patient's document is filed under the patient."""
    with db.transaction() as session:
        patient_id = None
        if mrn is not None:
            patient_id = session.scalar(select(Patient.id).where(Patient.mrn == mrn))
        audit.record(session, actor, action, what, patient_id=patient_id, detail=detail)


def billing_csv_bytes(report: MonthReport, actor: audit.Actor, db: Database) -> bytes:
    """The SPEC §2.2 export, byte for byte what ``billing --csv`` writes."""
    _allowed(db, actor, Permission.RUN_REPORTS)
    buffer = io.StringIO(newline="")
    write_billing_csv(report, buffer)
    _audit(db, actor, "export", "billing_csv", f"{report.month}: {len(report.rows)} rows")
    return buffer.getvalue().encode("utf-8")


def billing_pdf_bytes(
    db: Database, report: MonthReport, actor: audit.Actor, now: dt.datetime | None = None
) -> bytes:
    from ccmdesk.reports.billing_pdf import render_billing_summary
    from ccmdesk.reports.billing_summary import load_billing_summary

    _allowed(db, actor, Permission.RUN_REPORTS)
    data = render_billing_summary(load_billing_summary(db, report, now))
    _audit(db, actor, "print", "billing_summary", f"{report.month}")
    return data


def time_log_pdf_bytes(
    db: Database, mrn: str, month: Month, actor: audit.Actor, now: dt.datetime | None = None
) -> bytes:
    """One patient-month's time log; raises ``TimeLogError`` when there is none."""
    from ccmdesk.reports.timelog_load import load_time_log
    from ccmdesk.reports.timelog_pdf import render_time_log

    _allowed(db, actor, Permission.PRINT_PATIENT)
    data = render_time_log(load_time_log(db, mrn, month, now))
    _audit(db, actor, "print", "time_log", f"{mrn} {month}", mrn)
    return data


def care_plan_pdf_bytes(db: Database, mrn: str, actor: audit.Actor) -> bytes:
    """The patient's current care plan; raises ``CarePlanError`` when there is none."""
    from ccmdesk.reports.care_plan_pdf import render_care_plan
    from ccmdesk.services.care_plans import printable_plan

    _allowed(db, actor, Permission.PRINT_PATIENT)
    data = render_care_plan(printable_plan(db, mrn))
    _audit(db, actor, "print", "care_plan", mrn, mrn)
    return data
