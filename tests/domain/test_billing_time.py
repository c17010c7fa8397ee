"""SPEC §1.3: what time counts, month boundaries, DST, overlaps."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ccmdesk.domain.billing import evaluate
from tests.domain.billing_helpers import (
    DOCTOR,
    FEES_2026,
    FRONT_DESK,
    NURSE,
    NY,
    OTHER_DOCTOR,
    eligible,
    entry,
)


def test_call_across_midnight_at_month_end_is_split():
    """§1.3 an entry crossing the month boundary counts in each month for its part."""
    call = entry("2026-03-31 23:50", 25)  # 10 min in March, 15 min in April
    march = evaluate(eligible("2026-03", call), NY, FEES_2026)
    april = evaluate(eligible("2026-04", call), NY, FEES_2026)
    assert (march.minutes, april.minutes) == (10, 15)


def test_month_boundary_follows_the_practice_zone():
    call = entry("2026-03-31 21:00", 30)  # 01:00-01:30 UTC on April 1st
    assert evaluate(eligible("2026-03", call), NY, FEES_2026).minutes == 30
    utc = ZoneInfo("UTC")
    assert evaluate(eligible("2026-03", call), utc, FEES_2026).minutes == 0


def test_call_across_november_dst_change_counts_real_elapsed_time():
    """§1.3 2026-11-01 01:00-02:00 happens twice in New York: 01:30 EDT -> 01:10 EST
    is 40 real minutes, although the wall clock moved back 20."""
    start = dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.timezone.utc)  # 01:30 EDT
    end = dt.datetime(2026, 11, 1, 6, 10, tzinfo=dt.timezone.utc)  # 01:10 EST
    assert start.astimezone(NY).hour == 1 and end.astimezone(NY).hour == 1
    call = entry("2026-11-01 00:00", 0)
    call = call.__class__(call.id, start, end, NURSE, "clinical_staff", "phone_call")
    result = evaluate(eligible("2026-11", call), NY, FEES_2026)
    assert result.minutes == 40
    assert result.codes == "99490 99439"


def test_november_month_in_ny_is_one_hour_longer():
    start, end = eligible("2026-11").month.bounds_utc(NY)
    assert end - start == dt.timedelta(days=30, hours=1)


def test_overlapping_entries_by_two_staff_are_merged_and_flagged():
    """§1.3 the same clock minutes never count twice; the overlap is flagged."""
    nurse = entry("2026-03-10 10:00", 15, staff=NURSE)
    doctor = entry("2026-03-10 10:05", 15, staff=DOCTOR)  # 10 min shared
    result = evaluate(eligible("2026-03", nurse, doctor), NY, FEES_2026)
    assert result.minutes == 20
    assert (result.clinical_minutes, result.practitioner_minutes) == (15, 15)
    assert len(result.overlaps) == 1
    overlap = result.overlaps[0]
    assert {overlap.first_id, overlap.second_id} == {nurse.id, doctor.id}
    assert overlap.seconds == 600


def test_duplicate_manual_entry_counts_once():
    first = entry("2026-03-10 10:00", 22)
    again = entry("2026-03-10 10:00", 22)
    result = evaluate(eligible("2026-03", first, again), NY, FEES_2026)
    assert result.minutes == 22
    assert len(result.overlaps) == 1


def test_three_way_overlap_flags_each_pair():
    a = entry("2026-03-10 10:00", 30)
    b = entry("2026-03-10 10:10", 5, staff=DOCTOR)
    c = entry("2026-03-10 10:12", 30, staff=OTHER_DOCTOR)
    result = evaluate(eligible("2026-03", a, b, c), NY, FEES_2026)
    assert result.minutes == 42
    assert len(result.overlaps) == 3


def test_face_to_face_time_is_logged_but_not_counted():
    facts = eligible(
        "2026-03",
        entry("2026-03-10 10:00", 15),
        entry("2026-03-11 10:00", 30, activity="face_to_face"),
    )
    result = evaluate(facts, NY, FEES_2026)
    assert result.minutes == 15
    assert result.reasons == ("under_threshold",)


def test_front_desk_time_never_counts():
    facts = eligible(
        "2026-03", entry("2026-03-10 10:00", 15), entry("2026-03-11 10:00", 30, staff=FRONT_DESK)
    )
    assert evaluate(facts, NY, FEES_2026).minutes == 15


def test_seconds_are_summed_before_flooring():
    """§1.2 minutes = the month's countable seconds summed, then floored."""
    parts = [entry(f"2026-03-{day:02d} 10:00", 6, seconds=40) for day in (2, 3, 4)]
    result = evaluate(eligible("2026-03", *parts), NY, FEES_2026)
    assert result.minutes == 20  # 3 x 6:40 = 20:00


def test_other_practitioner_time_is_clinical_time():
    facts = eligible("2026-03", entry("2026-03-10 10:00", 30, staff=OTHER_DOCTOR))
    result = evaluate(facts, NY, FEES_2026)
    assert (result.minutes, result.clinical_minutes, result.practitioner_minutes) == (30, 30, 0)
    assert result.codes == "99490"


def test_entries_outside_the_month_are_ignored():
    facts = eligible("2026-03", entry("2026-02-27 10:00", 40), entry("2026-04-01 00:00", 40))
    assert evaluate(facts, NY, FEES_2026).minutes == 0


def test_months_touched_treats_the_end_as_exclusive():
    from ccmdesk.domain.time import Month, months_touched

    start = dt.datetime(2026, 4, 1, 3, 30, tzinfo=dt.timezone.utc)  # 23:30 March 31 in NY
    at_midnight = dt.datetime(2026, 4, 1, 4, 0, tzinfo=dt.timezone.utc)  # 00:00 April 1
    assert months_touched(start, at_midnight, NY) == {Month(2026, 3)}
    later = at_midnight + dt.timedelta(seconds=1)
    assert months_touched(start, later, NY) == {Month(2026, 3), Month(2026, 4)}
    assert months_touched(start, None, NY) == {Month(2026, 3)}
