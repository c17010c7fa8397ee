"""Property tests of the month engine (hypothesis)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from ccmdesk.domain.billing import EntryFact, evaluate
from tests.domain.billing_helpers import DOCTOR, FEES_2026, NURSE, NY, ROLES, eligible

MONTH_START = dt.datetime(2026, 3, 1, 5, 0, tzinfo=dt.timezone.utc)  # midnight in New York


@st.composite
def entries(draw, max_size: int = 8):
    count = draw(st.integers(0, max_size))
    result = []
    for index in range(count):
        offset = draw(st.integers(0, 30 * 24 * 3600))
        length = draw(st.integers(1, 90 * 60))
        staff = draw(st.sampled_from([NURSE, DOCTOR]))
        start = MONTH_START + dt.timedelta(seconds=offset)
        result.append(
            EntryFact(
                index + 1,
                start,
                start + dt.timedelta(seconds=length),
                staff,
                ROLES[staff],
                "phone_call",
            )
        )
    return result


complex_flag = st.booleans()


@settings(max_examples=200, deadline=None)
@given(entries(), entries(max_size=3), complex_flag)
def test_adding_time_never_lowers_the_amount(base, extra, complex_month):
    extra = [
        e.__class__(e.id + 100, e.start, e.end, e.staff_id, e.staff_role, e.activity) for e in extra
    ]
    before = evaluate(eligible("2026-03", *base, complex_month=complex_month), NY, FEES_2026)
    after = evaluate(eligible("2026-03", *base, *extra, complex_month=complex_month), NY, FEES_2026)
    assert after.amount >= before.amount
    assert after.minutes >= before.minutes


@settings(max_examples=200, deadline=None)
@given(entries(), st.data(), complex_flag)
def test_splitting_an_entry_into_two_adjacent_entries_changes_nothing(base, data, complex_month):
    if not base:
        return
    victim = data.draw(st.sampled_from(base))
    length = int((victim.end - victim.start).total_seconds())
    if length < 2:
        return
    cut = victim.start + dt.timedelta(seconds=data.draw(st.integers(1, length - 1)))
    first = victim.__class__(
        victim.id, victim.start, cut, victim.staff_id, victim.staff_role, victim.activity
    )
    second = victim.__class__(
        999, cut, victim.end, victim.staff_id, victim.staff_role, victim.activity
    )
    split = [e for e in base if e is not victim] + [first, second]
    whole = evaluate(eligible("2026-03", *base, complex_month=complex_month), NY, FEES_2026)
    parts = evaluate(eligible("2026-03", *split, complex_month=complex_month), NY, FEES_2026)
    assert (parts.minutes, parts.clinical_minutes, parts.practitioner_minutes) == (
        whole.minutes,
        whole.clinical_minutes,
        whole.practitioner_minutes,
    )
    assert (parts.codes, parts.amount, parts.reasons) == (whole.codes, whole.amount, whole.reasons)


@settings(max_examples=200, deadline=None)
@given(entries(), st.randoms(use_true_random=False))
def test_entry_order_changes_nothing(base, rng):
    shuffled = list(base)
    rng.shuffle(shuffled)
    a = evaluate(eligible("2026-03", *base), NY, FEES_2026)
    b = evaluate(eligible("2026-03", *shuffled), NY, FEES_2026)
    assert (a.minutes, a.clinical_minutes, a.practitioner_minutes, a.codes, a.amount) == (
        b.minutes,
        b.clinical_minutes,
        b.practitioner_minutes,
        b.codes,
        b.amount,
    )
    assert len(a.overlaps) == len(b.overlaps)
