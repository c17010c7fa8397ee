"""SPEC §1.2: thresholds, add-on units, one family per month, highest amount wins."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ccmdesk.domain.billing import evaluate
from tests.domain.billing_helpers import DOCTOR, FEES_2026, NURSE, NY, eligible, entry


def nurse_time(minutes: float, seconds: float = 0):
    return entry("2026-03-10 09:00", minutes, seconds=seconds, staff=NURSE)


@pytest.mark.parametrize(
    ("minutes", "seconds", "codes", "amount"),
    [
        # §1.2 thresholds are whole minutes, no rounding up: 19:59 is 19.
        (19, 59, "", "0.00"),
        (20, 0, "99490", "66.13"),
        (39, 59, "99490", "66.13"),
        (40, 0, "99490 99439", "116.57"),
        (59, 0, "99490 99439", "116.57"),
        (60, 0, "99490 99439x2", "167.01"),
        # §1.2 99439: at most 2 units a month.
        (80, 0, "99490 99439x2", "167.01"),
        (200, 0, "99490 99439x2", "167.01"),
    ],
)
def test_99490_thresholds_and_99439_cap(minutes, seconds, codes, amount):
    result = evaluate(eligible("2026-03", nurse_time(minutes, seconds)), NY, FEES_2026)
    assert result.codes == codes
    assert result.amount == Decimal(amount)
    assert result.billable is bool(codes)
    if not codes:
        assert result.reasons == ("under_threshold",)


@pytest.mark.parametrize(
    ("minutes", "codes", "amount", "runner_up"),
    [
        # §1.2 complex month: the family with the highest allowed amount wins.
        # 60 min: 99490+99439x2 (167.01) beats 99487 (144.29).
        (60, "99490 99439x2", "167.01", "99487"),
        (65, "99490 99439x2", "167.01", "99487"),
        (89, "99490 99439x2", "167.01", "99487"),
        # 90 min: 99487+99489 (222.45) beats the capped 99490 family.
        (90, "99487 99489", "222.45", "99490 99439x2"),
        (120, "99487 99489x2", "300.61", "99490 99439x2"),
    ],
)
def test_complex_versus_non_complex(minutes, codes, amount, runner_up):
    facts = eligible("2026-03", nurse_time(minutes), complex_month=True)
    result = evaluate(facts, NY, FEES_2026)
    assert result.codes == codes
    assert result.amount == Decimal(amount)
    assert result.runner_up is not None
    assert result.runner_up.codes == runner_up


def test_complex_codes_need_the_complex_flag():
    """§1.2 99487 needs a provider-flagged complex month."""
    result = evaluate(eligible("2026-03", nurse_time(120)), NY, FEES_2026)
    assert result.codes == "99490 99439x2"
    assert result.runner_up is None


@pytest.mark.parametrize(
    ("practitioner_minutes", "codes", "amount", "runner_up"),
    [
        # §1.2 99491 counts only the billing practitioner's own time (>= 30).
        (29, "99490", "66.13", None),
        (30, "99491", "89.18", "99490"),
        (35, "99491", "89.18", "99490"),
        # 65 min: 99490+99439x2 = 167.01 beats 99491+99437 = 152.31.
        (65, "99490 99439x2", "167.01", "99491 99437"),
        # 95 min: 99491+99437x2 = 215.44 beats the capped 167.01.
        (95, "99491 99437x2", "215.44", "99490 99439x2"),
    ],
)
def test_practitioner_time_99491_versus_99490(practitioner_minutes, codes, amount, runner_up):
    own = entry("2026-03-12 14:00", practitioner_minutes, staff=DOCTOR)
    result = evaluate(eligible("2026-03", own), NY, FEES_2026)
    assert result.practitioner_minutes == practitioner_minutes
    assert result.minutes == practitioner_minutes
    assert result.clinical_minutes == 0
    assert result.codes == codes
    assert result.amount == Decimal(amount)
    assert (result.runner_up.codes if result.runner_up else None) == runner_up


def test_nurse_time_does_not_count_toward_99491():
    """§1.2 99491/99437: billing practitioner only."""
    facts = eligible(
        "2026-03",
        entry("2026-03-02 10:00", 25, staff=NURSE),
        entry("2026-03-03 10:00", 25, staff=DOCTOR),
    )
    result = evaluate(facts, NY, FEES_2026)
    assert (result.minutes, result.clinical_minutes, result.practitioner_minutes) == (50, 25, 25)
    assert result.codes == "99490 99439"


def test_tie_prefers_99490_family():
    """§1.2 on a tie the engine prefers 99490/99439, then 99491/99437."""
    fees = FEES_2026.__class__(2026, {**FEES_2026.amounts, "99491": Decimal("66.13")})
    result = evaluate(eligible("2026-03", entry("2026-03-02 10:00", 30, staff=DOCTOR)), NY, fees)
    assert result.codes == "99490"
    assert result.runner_up is not None and result.runner_up.codes == "99491"


def test_tie_between_99491_and_99487_prefers_99491():
    amounts = {**FEES_2026.amounts, "99491": Decimal("200.00"), "99487": Decimal("200.00")}
    fees = FEES_2026.__class__(2026, amounts)
    facts = eligible(
        "2026-03",
        entry("2026-03-02 10:00", 30, staff=DOCTOR),
        entry("2026-03-03 10:00", 30, staff=NURSE),
        complex_month=True,
    )
    result = evaluate(facts, NY, fees)
    assert result.codes == "99491"
    assert result.runner_up is not None and result.runner_up.codes == "99487"


@pytest.mark.parametrize(
    ("minutes", "complex_month", "to_next", "next_codes"),
    [
        (0, False, 20, "99490"),
        (12, False, 8, "99490"),
        (25, False, 15, "99490 99439"),
        (59, False, 1, "99490 99439x2"),
        (60, False, None, None),  # 99439 cap reached: nothing more to earn
        (60, True, 30, "99487 99489"),
        (75, True, 15, "99487 99489"),
        (95, True, 25, "99487 99489x2"),
    ],
)
def test_minutes_to_the_next_code(minutes, complex_month, to_next, next_codes):
    entries = (nurse_time(minutes),) if minutes else ()
    facts = eligible("2026-03", *entries, complex_month=complex_month)
    result = evaluate(facts, NY, FEES_2026)
    assert (result.minutes_to_next, result.next_codes) == (to_next, next_codes)


def test_a_year_without_a_schedule_borrows_the_practice_rates_too():
    """§1.4 the practice's locality rates survive into a year with no shipped schedule."""
    from ccmdesk.domain.fees import schedule_for_year
    from tests.domain.billing_helpers import SHIPPED

    overrides = {2026: {"99490": Decimal("70.15")}}
    borrowed = schedule_for_year(2027, SHIPPED, overrides)
    assert borrowed.amount("99490") == Decimal("70.15")
    assert borrowed.amount("99439") == Decimal("50.44")
    assert borrowed.note == (
        "No 2027 fee schedule is on file; the latest earlier one (2026) with the practice's"
        " 2026 amounts is used."
    )
    own = schedule_for_year(2027, SHIPPED, {**overrides, 2027: {"99439": Decimal("51.00")}})
    assert (own.amount("99490"), own.amount("99439")) == (Decimal("70.15"), Decimal("51.00"))
    assert own.note.endswith("is used and the practice's overrides.")
    assert schedule_for_year(2026, SHIPPED, overrides).note == ""
