"""The time log of one patient-month: the data, the PDF read back, and its refusals.

March 2026 in New York holds every kind of entry an auditor asks about: time
before consent, an overlap between a nurse and the practitioner, face-to-face
and front-desk time, an edited entry, a deleted one, an imported one, a
stopwatch entry, and one that runs past midnight into April.  Clocks spring
forward on March 8th, so the log shows both EST and EDT.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ccmdesk.domain.time import Month
from ccmdesk.reports import timelog_load
from ccmdesk.reports.timelog import TimeLogError
from ccmdesk.reports.timelog_load import load_time_log
from ccmdesk.reports.timelog_pdf import render_time_log
from ccmdesk.services import time_log
from ccmdesk.services.audit import Actor
from ccmdesk.services.billing import compute_month
from ccmdesk.services.month_close import close_month
from ccmdesk.storage.models import Patient, TimeEntry
from tests.factories import NOW, add_patient, add_staff, practitioner_npi
from tests.reports.month_data import APRIL_2, MARCH
from tests.reports.pdfcheck import flat, page_texts

UTC = dt.timezone.utc
MBI = "1EG4TE5MK73"


def utc(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def patient(db):
    zoe = add_staff(db, "Zoe Zimmer", "practitioner", "MD", npi=practitioner_npi(2))
    nurse = add_staff(db, "Nina Okafor", "clinical_staff", "RN")
    desk = add_staff(db, "Sam Front", "non_clinical")
    actor = Actor(nurse, "Nina Okafor")
    pid = add_patient(
        db,
        "T-1",
        practitioner_id=zoe,
        consent=dt.date(2026, 3, 5),
        visit=dt.date(2026, 2, 20),
        care_plan=dt.date(2026, 3, 6),
    )
    with db.transaction() as session:
        session.get(Patient, pid).mbi = MBI

    def manual(start, minutes, staff=nurse, **options):
        end = start + dt.timedelta(minutes=minutes)
        made = time_log.add_manual(db, pid, staff, start, end, actor, now=APRIL_2, **options)
        return made.created_id

    manual(utc(3, 3, 14), 10, note="Before consent was given")  # 1
    second = manual(utc(3, 6, 15), 20, activity="phone_call", note="Called about sugars")  # 2
    manual(utc(3, 6, 15, 15), 10, staff=zoe, activity="medication_management")  # 3: 5 min shared
    manual(utc(3, 10, 14), 15, activity="face_to_face", note="Seen in clinic")  # 4
    manual(utc(3, 11, 14), 10, staff=desk, note="Scheduling")  # 5
    doomed = manual(utc(3, 12, 14), 12, note="Duplicate")  # 6
    with db.transaction() as session:  # 7: from an import file
        session.add(
            TimeEntry(
                patient_id=pid,
                staff_id=nurse,
                start_at=utc(3, 20, 14),
                end_at=utc(3, 20, 14, 8),
                activity="care_coordination",
                note="Imported from the old spreadsheet",
                source="import",
                created_at=NOW,
            )
        )
    time_log.start_timer(db, pid, nurse, actor, now=utc(3, 24, 14))  # 8: the stopwatch
    (running,) = time_log.running_timers(db)
    time_log.stop_timer(db, running.id, actor, note="Pharmacy call", now=utc(3, 24, 14, 6))
    manual(utc(4, 1, 3, 50), 30, activity="care_transition", note="ER follow-up")  # 9
    time_log.edit_entry(db, second, actor, note="Called about sugars and refills", now=APRIL_2)
    time_log.delete_entry(db, doomed, "Entered twice", actor, now=APRIL_2)
    return pid


def test_log_explains_the_billed_minutes(db, patient):
    log = load_time_log(db, "T-1", MARCH, now=APRIL_2)
    (row,) = [r for r in compute_month(db, MARCH).rows if r.patient.mrn == "T-1"]
    assert (log.minutes, log.clinical_minutes, log.practitioner_minutes) == (
        row.result.minutes,
        row.result.clinical_minutes,
        row.result.practitioner_minutes,
    )
    assert (log.codes, log.amount, log.billable) == (row.result.codes, row.result.amount, True)
    # counted: 20 + 10 + 8 + 6 + 10 (March's part of #9) = 54 min; #2 and #3 share 5 min
    assert log.counted_seconds == 54 * 60
    assert log.overlap_seconds == 5 * 60
    assert log.merged_seconds == 49 * 60 and log.minutes == 49
    assert log.clinical_minutes == 44 and log.practitioner_minutes == 10
    assert log.codes == "99490 99439"
    assert sum(e.counted_seconds for e in log.entries) == log.counted_seconds
    assert log.logged_seconds == sum(e.length_seconds for e in log.entries if not e.deleted)


def test_each_entry_says_whether_and_why_it_counts(db, patient):
    log = load_time_log(db, "T-1", MARCH, now=APRIL_2)
    assert [e.number for e in log.entries] == list(range(1, 10))
    assert [e.start for e in log.entries] == sorted(e.start for e in log.entries)
    counted = [e.counted_seconds // 60 for e in log.entries]
    assert counted == [0, 20, 10, 0, 0, 0, 8, 6, 10]
    remarks = [e.remark for e in log.entries]
    assert remarks[0] == "Before the consent date (03/05/2026): not countable"
    assert remarks[1:3] == ["", ""]
    assert remarks[3] == "Face-to-face time is logged but not countable"
    assert remarks[4] == "Non-clinical staff time is not countable"
    assert remarks[5] == "Deleted, not counted. Reason: Entered twice"
    assert remarks[6:8] == ["", ""]
    assert remarks[8] == "Only the part inside March counts this month"
    assert [e.source for e in log.entries][5:8] == ["Manual", "Import", "Timer"]
    assert [e.edited for e in log.entries] == [False, True] + [False] * 7
    assert log.entries[1].overlaps_with == (3,) and log.entries[2].overlaps_with == (2,)
    ((first, second, start, end),) = [(o.first, o.second, o.start, o.end) for o in log.overlaps]
    assert (first, second, start, end) == (2, 3, utc(3, 6, 15, 15), utc(3, 6, 15, 20))
    edit, delete = log.changes
    assert (edit.number, edit.action, edit.who) == (2, "Edited", "Nina Okafor")
    assert edit.what == (
        "note \u201cCalled about sugars\u201d \u2192 \u201cCalled about sugars and refills\u201d"
    )
    assert (delete.number, delete.action, delete.what) == (6, "Deleted", "reason: Entered twice")


def test_eligibility_facts_on_record(db, patient):
    log = load_time_log(db, "T-1", MARCH, now=APRIL_2)
    assert all(r.met for r in log.requirements) and len(log.requirements) == 8
    assert [c.code for c in log.conditions] == ["E11.9", "I10"]
    assert all(c.chronic and c.active for c in log.conditions)
    assert log.consent_applied is not None
    assert (log.consent_applied.consent_date, log.consent_applied.method) == (
        dt.date(2026, 3, 5),
        "verbal",
    )
    assert log.care_plan_date == dt.date(2026, 3, 6)
    assert [v.visit_date for v in log.visits] == [dt.date(2026, 2, 20)]
    assert (log.mbi, log.practitioner) == (MBI, "Zoe Zimmer, MD")


def test_pdf_shows_the_evidence_on_framed_pages(db, patient):
    pdf = render_time_log(load_time_log(db, "T-1", MARCH, now=APRIL_2))
    texts = page_texts(pdf)
    subject = f"Testpatient, Ada \u00b7 DOB 05/17/1948 \u00b7 MRN T-1 \u00b7 MBI {MBI}"
    for number, text in enumerate(texts, start=1):
        for expected in (
            "Test Practice",
            "CCM time log \u2014 March 2026",
            subject,
            "Month open",
            "Confidential \u2014 contains protected health information",
            "Generated 04/02/2026 11:00 AM EDT",
            f"Page {number} of {len(texts)}",
        ):
            assert expected in text, (number, expected)
    text = flat(" ".join(texts))
    for expected in (
        "All times are America/New_York time",
        "E11.9",
        "03/05/2026 Verbal",  # consent date and method
        "established 03/06/2026",
        "02/20/2026: E/M office visit",
        "Nina Okafor, RN",
        "Zoe Zimmer, MD",
        "Sam Front",
        "09:00:00\u201309:10:00 EST",  # before the clocks changed
        "10:00:00\u201310:08:00 EDT",  # after
        "23:50:00\u201300:20:00 EDT (ends 04/01)",
        "Phone call Called about sugars and refills",
        "Before the consent date (03/05/2026): not countable",
        "Face-to-face time is logged but not countable",
        "Non-clinical staff time is not countable",
        "Deleted, not counted. Reason: Entered twice",
        "Only the part inside March counts this month",
        "Shares time with #3: counted once",
        "#2 and #3 03/06/2026 10:15:00\u201310:20:00 EST 5:00",
        "Countable time 49:00",
        "Countable minutes (whole minutes, never rounded up) 49",
        "Codes for the month 99490 99439",
        "Estimated allowed amount $116.57",
        "Deleted: reason: Entered twice",
    ):
        assert expected in text, expected
    assert "Timer" in text and "Import" in text and "edited" in text


def test_closed_month_is_shown(db, patient):
    close_month(db, MARCH, Actor(None, "Lisa Manager", trusted=True), now=APRIL_2)
    pdf = render_time_log(load_time_log(db, "T-1", MARCH, now=APRIL_2))
    texts = page_texts(pdf)
    assert all("Month closed 04/02/2026 11:00 AM EDT by Lisa Manager" in t for t in texts)
    assert "these entries can no longer change" in flat(texts[0])


def test_unknown_patient_or_empty_month_is_refused(db, patient):
    with pytest.raises(TimeLogError, match="no patient with MRN 'NOPE'"):
        load_time_log(db, "NOPE", MARCH)
    with pytest.raises(TimeLogError, match="no time is logged for MRN 'T-1' in 2026-02"):
        load_time_log(db, "T-1", Month(2026, 2))


def test_entries_changing_while_read_are_read_again(db, patient, monkeypatch):
    real = timelog_load.month_log
    calls = []

    def stale_once(*args, **kwargs):
        views = real(*args, **kwargs)
        calls.append(len(views))
        return views[:-1] if len(calls) == 1 else views

    monkeypatch.setattr(timelog_load, "month_log", stale_once)
    log = load_time_log(db, "T-1", MARCH, now=APRIL_2)
    assert len(calls) == 2 and len(log.entries) == 9 and log.minutes == 49
