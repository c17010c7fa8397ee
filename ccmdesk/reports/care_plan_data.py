"""What a printed care plan shows: a plain data object, built by the care-plan service.

Step one of "reports in two steps" (DESIGN.md): everything the PDF needs is
here as plain values, already chosen (which version) and already local
(dates in the practice's zone), so :mod:`ccmdesk.reports.care_plan_pdf` only
lays it out and tests can check the data without reading a PDF.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ccmdesk.domain.care_plan import CarePlanContent, parse_date


@dataclass(frozen=True)
class CarePlanReport:
    """One patient's care plan as it will be printed."""

    practice_name: str
    practice_address: str
    practice_phone: str
    after_hours_phone: str
    patient_name: str
    patient_dob: dt.date
    mrn: str
    care_manager: str  # "Megan Hollis, RN", or "" when none is assigned
    care_manager_phone: str
    billing_practitioner: str
    version_number: int
    draft: bool
    author: str
    written_on: dt.date
    signed_by: str | None
    signed_at: dt.datetime | None  # local to the practice
    printed_on: dt.date
    content: CarePlanContent

    @property
    def file_stem(self) -> str:
        """A file name that sorts by patient: ``care-plan-MRN-000123-v3``."""
        safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in self.mrn)
        return f"care-plan-{safe}-v{self.version_number}"


def long_date(day: dt.date | None) -> str:
    """``March 5, 2027``: the form a patient reads without thinking."""
    if day is None:
        return ""
    return f"{day:%B} {day.day}, {day.year}"


def typed_date(text: str) -> str:
    """A date typed in the plan, written out long; anything else as typed."""
    day = parse_date(text)
    return long_date(day) if day else text.strip()


def clock_time(moment: dt.datetime) -> str:
    """``2:05 PM``."""
    return f"{moment:%I:%M %p}".lstrip("0")


def staff_label(name: str, credential: str) -> str:
    return f"{name}, {credential}" if credential else name
