"""SPEC §1.1: every check, its reason code, and the order reasons are reported in."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from ccmdesk.domain.billing import (
    ConditionFact,
    ConsentFact,
    applicable_consent,
    evaluate,
    opted_out_before,
)
from ccmdesk.domain.time import Month
from ccmdesk.domain.vocabulary import REASON_CODES
from tests.domain.billing_helpers import FEES_2026, NY, eligible, entry

D = dt.date
ENOUGH = entry("2026-03-10 09:00", 25)


def reasons(**changes):
    return evaluate(eligible("2026-03", ENOUGH, **changes), NY, FEES_2026).reasons


def test_fully_eligible_patient_is_billable():
    result = evaluate(eligible("2026-03", ENOUGH), NY, FEES_2026)
    assert result.billable and result.reasons == ()
    assert all(check.passed for check in result.checks)
    assert [check.reason for check in result.checks] == list(REASON_CODES)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"part_b": False}, "no_part_b"),
        ({"billing_practitioner_id": None}, "no_billing_practitioner"),
        ({"conditions": (ConditionFact(True),)}, "fewer_than_two_chronic_conditions"),
        # acute (non-chronic) conditions do not count
        (
            {"conditions": (ConditionFact(True), ConditionFact(False))},
            "fewer_than_two_chronic_conditions",
        ),
        # resolved before the month's first day: not active
        (
            {"conditions": (ConditionFact(True), ConditionFact(True, resolved=D(2026, 2, 28)))},
            "fewer_than_two_chronic_conditions",
        ),
        # onset after the month's last day: not active yet
        (
            {"conditions": (ConditionFact(True), ConditionFact(True, onset=D(2026, 4, 1)))},
            "fewer_than_two_chronic_conditions",
        ),
        ({"consent": None}, "no_consent"),
        ({"consent": ConsentFact(D(2025, 6, 1), opt_out_date=D(2026, 2, 27))}, "opted_out"),
        ({"initiating_visits": ()}, "no_initiating_visit"),
        ({"initiating_visits": (D(2026, 4, 2),)}, "no_initiating_visit"),
        ({"care_plan_date": None}, "no_care_plan"),
        ({"care_plan_date": D(2026, 4, 1)}, "no_care_plan"),
        ({"entries": (entry("2026-03-10 09:00", 19, seconds=59),)}, "under_threshold"),
    ],
)
def test_each_reason_alone(changes, reason):
    assert reasons(**changes) == (reason,)


def test_condition_boundaries_still_active():
    """Onset on the last day and resolution on the first day both count."""
    conditions = (
        ConditionFact(True, onset=D(2026, 3, 31)),
        ConditionFact(True, resolved=D(2026, 3, 1)),
    )
    assert reasons(conditions=conditions) == ()


def test_several_reasons_in_table_order():
    got = reasons(part_b=False, consent=None, care_plan_date=None, entries=())
    assert got == ("no_part_b", "no_consent", "no_care_plan", "under_threshold")


def test_every_reason_at_once_in_table_order():
    got = reasons(
        part_b=False,
        billing_practitioner_id=None,
        conditions=(),
        consent=ConsentFact(D(2025, 1, 1), opt_out_date=D(2025, 12, 1)),
        initiating_visits=(D(2023, 1, 1),),
        care_plan_date=None,
        entries=(),
    )
    # no_consent passes here: consent is on file (the opt-out is the problem).
    assert got == tuple(r for r in REASON_CODES if r != "no_consent")


def test_minutes_shown_even_when_not_billable():
    result = evaluate(eligible("2026-03", ENOUGH, part_b=False), NY, FEES_2026)
    assert result.minutes == 25
    assert result.codes == "" and str(result.amount) == "0.00"
    assert result.chosen is not None  # what it would have been


# -- consent (§1.1, §1.3) -------------------------------------------------------


def test_consent_mid_month_counts_only_time_from_consent_date():
    facts = eligible(
        "2026-03",
        entry("2026-03-09 16:00", 15),  # before consent: not counted
        entry("2026-03-10 00:00", 12),  # consent day from local midnight: counted
        entry("2026-03-20 10:00", 10),
        consent=ConsentFact(D(2026, 3, 10)),
        initiating_visits=(D(2026, 3, 1),),
    )
    result = evaluate(facts, NY, FEES_2026)
    assert result.minutes == 22
    assert result.codes == "99490"


def test_entry_spanning_consent_midnight_is_cut():
    facts = eligible(
        "2026-03",
        entry("2026-03-09 23:50", 30),
        consent=ConsentFact(D(2026, 3, 10)),
        initiating_visits=(D(2026, 3, 1),),
    )
    assert evaluate(facts, NY, FEES_2026).minutes == 20


def test_no_consent_still_shows_logged_time():
    result = evaluate(eligible("2026-03", ENOUGH, consent=None), NY, FEES_2026)
    assert result.minutes == 25
    assert result.reasons == ("no_consent",)


def test_consent_after_the_month_excludes_the_month():
    """Consent on record but dated later: the month's time precedes it."""
    facts = eligible("2026-03", ENOUGH, consent=ConsentFact(D(2026, 4, 2)))
    result = evaluate(facts, NY, FEES_2026)
    assert result.minutes == 0
    assert result.reasons == ("no_consent", "under_threshold")


def test_opt_out_in_the_month_is_still_billable():
    """§1.1 an opt-out takes effect at the end of the month it was recorded in."""
    consent = ConsentFact(D(2025, 6, 1), opt_out_date=D(2026, 3, 5))
    assert reasons(consent=consent) == ()
    april = evaluate(
        eligible("2026-04", entry("2026-04-06 09:00", 25), consent=consent), NY, FEES_2026
    )
    assert april.reasons == ("opted_out",)


def test_applicable_consent_prefers_latest_given_before_month_end():
    old = ConsentFact(D(2024, 1, 1), opt_out_date=D(2024, 6, 3))
    new = ConsentFact(D(2025, 2, 1))
    declined = ConsentFact(D(2025, 3, 1), declined=True)
    assert applicable_consent([new, old, declined], Month(2024, 8)) == old
    assert opted_out_before(old, Month(2024, 8))
    assert applicable_consent([new, old, declined], Month(2025, 4)) == new
    assert applicable_consent([new], Month(2024, 4)) == new  # later consent still on record
    assert applicable_consent([declined], Month(2025, 4)) is None


# -- initiating visit (§1.1) ----------------------------------------------------


@pytest.mark.parametrize(
    ("visit", "ok"),
    [
        (D(2024, 7, 1), True),  # 11 months before consent
        (D(2024, 6, 1), True),  # exactly 12 months before
        (D(2024, 5, 31), False),  # just over 12 months
        (D(2024, 5, 1), False),  # 13 months before consent
        (D(2025, 8, 1), True),  # after consent
    ],
)
def test_initiating_visit_within_12_months_of_consent(visit, ok):
    got = reasons(consent=ConsentFact(D(2025, 6, 1)), initiating_visits=(visit,))
    assert got == (() if ok else ("no_initiating_visit",))


def test_initiating_visit_without_consent_needs_only_to_precede_month_end():
    got = reasons(consent=None, initiating_visits=(D(2020, 1, 1),))
    assert got == ("no_consent",)


def test_care_plan_on_the_last_day_counts():
    assert reasons(care_plan_date=D(2026, 3, 31)) == ()


def test_result_month_matches_facts():
    facts = replace(eligible("2026-03", ENOUGH), month=Month(2026, 3))
    assert evaluate(facts, NY, FEES_2026).month == Month(2026, 3)


def test_renewed_consent_keeps_the_time_before_it():
    """§1.1 consent is obtained again when the billing practitioner changes; the patient
    was covered all along, so time before the new consent's date still counts (§1.3)."""
    from ccmdesk.domain.billing import covered_since

    first, renewed = ConsentFact(D(2025, 1, 10)), ConsentFact(D(2026, 3, 15))
    facts = eligible(
        "2026-03",
        entry("2026-03-03 10:00", 25),
        entry("2026-03-20 10:00", 5),
        consent=renewed,
        covered_from=covered_since([first, renewed], renewed),
        initiating_visits=(D(2026, 3, 1),),
    )
    result = evaluate(facts, NY, FEES_2026)
    assert result.minutes == 30 and result.codes == "99490"


@pytest.mark.parametrize(
    ("opt_out", "expected"),
    [
        (None, D(2024, 1, 10)),  # never opted out: one unbroken coverage
        (D(2026, 3, 2), D(2024, 1, 10)),  # opt-out not yet in effect in March
        (D(2026, 2, 20), D(2026, 3, 15)),  # opted out in February: coverage broke
    ],
)
def test_coverage_breaks_only_where_an_opt_out_took_effect(opt_out, expected):
    from ccmdesk.domain.billing import covered_since

    first = ConsentFact(D(2024, 1, 10), opt_out_date=opt_out)
    renewed = ConsentFact(D(2026, 3, 15))
    declined = ConsentFact(D(2025, 5, 1), declined=True)
    assert covered_since([first, declined, renewed], renewed) == expected
    assert covered_since([first], None) is None
