"""The month engine: countable time -> CCM codes, amounts and reasons.

A pure function of plain data (SPEC §1).  The storage layer gathers the facts
of a patient-month into :class:`PatientMonth`; :func:`evaluate` returns a
:class:`MonthResult` with every figure the CSV, the PDFs and the GUI show.

Choices the SPEC leaves open, made here:

* Time of any practitioner counts as clinical time toward 99490/99487; only
  the patient's *billing* practitioner's own time counts toward 99491.
  ``clinical_minutes`` is everyone else's time, ``practitioner_minutes`` the
  billing practitioner's; both are unions of their own entries, so with
  overlaps they need not add up to ``minutes``.
* The consent date counts from local midnight of that day (time "on or after
  the consent date").  A renewed consent (a new billing practitioner) does not
  cut the time before it while the earlier consent was still in force; the
  12-month initiating-visit window is anchored on the consent in force for the
  month, i.e. the new practitioner's.
* Overlaps are looked for among countable entries (the ones merged).
* "Minutes to the next code" assumes the extra minutes are clinical-staff
  minutes and names the first threshold that raises the best amount.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from ccmdesk.domain.fees import FeeSchedule
from ccmdesk.domain.time import (
    Interval,
    Month,
    clip,
    months_before,
    start_of_day_utc,
    union_duration,
    whole_minutes,
)
from ccmdesk.domain.vocabulary import NON_COUNTABLE_ACTIVITIES

COUNTING_ROLES = frozenset({"clinical_staff", "practitioner"})
FAMILY_PREFERENCE = ("99490", "99491", "99487")  # tie-break order, SPEC §1.2
MAX_99439_UNITS = 2
INITIATING_VISIT_MONTHS = 12
ZERO = Decimal("0.00")


# The per-row facts are NamedTuples: a month builds tens of thousands of them,
# and tuples are several times cheaper to create than frozen dataclasses.
class EntryFact(NamedTuple):
    """A finished, non-deleted time entry (instants in UTC)."""

    id: int
    start: dt.datetime
    end: dt.datetime
    staff_id: int
    staff_role: str
    activity: str


class ConditionFact(NamedTuple):
    chronic: bool
    onset: dt.date | None = None
    resolved: dt.date | None = None

    def active_in(self, month: Month) -> bool:
        """Onset on or before the month's last day, not resolved before its first."""
        started = self.onset is None or self.onset <= month.last_day
        ongoing = self.resolved is None or self.resolved >= month.first_day
        return started and ongoing


class ConsentFact(NamedTuple):
    consent_date: dt.date
    declined: bool = False
    opt_out_date: dt.date | None = None


def applicable_consent(consents: Sequence[ConsentFact], month: Month) -> ConsentFact | None:
    """The consent that speaks for ``month``.

    The latest (non-declined) consent dated on or before the month's last day;
    failing that the earliest later one, which is still "consent on record"
    for excluding the time before it (SPEC §1.3).
    """
    given = sorted((c for c in consents if not c.declined), key=lambda c: c.consent_date)
    before = [c for c in given if c.consent_date <= month.last_day]
    if before:
        return before[-1]
    return given[0] if given else None


def covered_since(consents: Sequence[ConsentFact], consent: ConsentFact | None) -> dt.date | None:
    """The first day of the unbroken consent that ``consent`` belongs to.

    A patient who consents again (say the billing practitioner changed) was
    covered all along, so time before the new consent's date still counts.
    Coverage is broken only when an earlier consent's opt-out took effect
    (the end of its month) before the month of the next consent.
    """
    if consent is None:
        return None
    given = sorted((c for c in consents if not c.declined), key=lambda c: c.consent_date)
    start = consent.consent_date
    earlier = [c for c in given if c.consent_date < consent.consent_date]
    for previous in reversed(earlier):
        if previous.opt_out_date is not None and Month.of(previous.opt_out_date) < Month.of(start):
            break
        start = previous.consent_date
    return start


def opted_out_before(consent: ConsentFact | None, month: Month) -> bool:
    """An opt-out takes effect at the end of the month it was recorded in."""
    return (
        consent is not None
        and consent.opt_out_date is not None
        and Month.of(consent.opt_out_date) < month
    )


@dataclass(frozen=True)
class PatientMonth:
    """Every fact the engine needs about one patient in one month."""

    month: Month
    part_b: bool
    billing_practitioner_id: int | None
    conditions: Sequence[ConditionFact]
    consent: ConsentFact | None
    initiating_visits: Sequence[dt.date]
    care_plan_date: dt.date | None
    complex_month: bool
    entries: Sequence[EntryFact]
    #: Start of unbroken consent coverage (see :func:`covered_since`); None
    #: means the consent's own date.
    covered_from: dt.date | None = None


@dataclass(frozen=True)
class CodeLine:
    code: str
    units: int = 1

    def __str__(self) -> str:
        return self.code if self.units == 1 else f"{self.code}x{self.units}"


@dataclass(frozen=True)
class FamilyResult:
    """One code family's codes for the month and what they would pay."""

    family: str  # the base code: 99490, 99491 or 99487
    lines: tuple[CodeLine, ...]
    amount: Decimal

    @property
    def codes(self) -> str:
        return " ".join(str(line) for line in self.lines)


@dataclass(frozen=True)
class Check:
    reason: str
    passed: bool


@dataclass(frozen=True)
class Overlap:
    """Two countable entries that share clock time (merged, flagged for review)."""

    first_id: int
    second_id: int
    start: dt.datetime
    end: dt.datetime

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


@dataclass(frozen=True)
class MonthResult:
    month: Month
    minutes: int
    clinical_minutes: int
    practitioner_minutes: int
    checks: tuple[Check, ...]
    chosen: FamilyResult | None
    runner_up: FamilyResult | None
    minutes_to_next: int | None
    next_codes: str | None
    overlaps: tuple[Overlap, ...] = field(default=())
    fee_note: str = ""

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(check.reason for check in self.checks if not check.passed)

    @property
    def billable(self) -> bool:
        return not self.reasons

    @property
    def codes(self) -> str:
        return self.chosen.codes if self.billable and self.chosen else ""

    @property
    def amount(self) -> Decimal:
        return self.chosen.amount if self.billable and self.chosen else ZERO


# -- code families (SPEC §1.2) ------------------------------------------------


def _family(base: str, addon: str, units: int, fees: FeeSchedule) -> FamilyResult:
    key = (base, units)
    found = fees.memo.get(key)
    if found is None:  # a month asks for the same few families thousands of times
        lines = (CodeLine(base),) + ((CodeLine(addon, units),) if units else ())
        amount = fees.amount(base) + fees.amount(addon) * units
        found = fees.memo[key] = FamilyResult(base, lines, amount.quantize(ZERO))
    return found


def families(
    minutes: int, practitioner_minutes: int, complex_month: bool, fees: FeeSchedule
) -> list[FamilyResult]:
    """Every family whose time requirement is met, in tie-break order."""
    found = []
    if minutes >= 20:
        found.append(_family("99490", "99439", min(MAX_99439_UNITS, (minutes - 20) // 20), fees))
    if practitioner_minutes >= 30:
        found.append(_family("99491", "99437", (practitioner_minutes - 30) // 30, fees))
    if complex_month and minutes >= 60:
        found.append(_family("99487", "99489", (minutes - 60) // 30, fees))
    return found


def rank(found: list[FamilyResult]) -> list[FamilyResult]:
    """Highest amount first; ties go to 99490, then 99491 (SPEC §1.2)."""
    if len(found) < 2:
        return found
    return sorted(found, key=lambda f: (-f.amount, FAMILY_PREFERENCE.index(f.family)))


def _next_threshold(
    minutes: int,
    practitioner_minutes: int,
    complex_month: bool,
    fees: FeeSchedule,
    current: FamilyResult | None,
) -> tuple[int | None, str | None]:
    def best(total: int) -> FamilyResult | None:
        ranked = rank(families(total, practitioner_minutes, complex_month, fees))
        return ranked[0] if ranked else None

    current_amount = current.amount if current else Decimal(-1)
    thresholds = {t for t in (20, 40, 60) if t > minutes}
    if complex_month:
        first = 60 if minutes < 60 else 60 + 30 * ((minutes - 60) // 30 + 1)
        thresholds.update(range(first, first + 30 * 8, 30))
    for threshold in sorted(thresholds):
        candidate = best(threshold)
        if candidate and candidate.amount > current_amount:
            return threshold - minutes, candidate.codes
    return None, None


# -- countable time (SPEC §1.3) -------------------------------------------------


def countable_intervals(facts: PatientMonth, zone: dt.tzinfo) -> list[tuple[EntryFact, Interval]]:
    lower, upper = facts.month.bounds_utc(zone)
    if facts.consent is not None:
        since = facts.covered_from or facts.consent.consent_date
        lower = max(lower, start_of_day_utc(since, zone))
    counted = []
    for entry in facts.entries:
        if entry.activity in NON_COUNTABLE_ACTIVITIES or entry.staff_role not in COUNTING_ROLES:
            continue
        part = clip((entry.start, entry.end), lower, upper)
        if part is not None:
            counted.append((entry, part))
    return counted


def find_overlaps(counted: Sequence[tuple[EntryFact, Interval]]) -> tuple[Overlap, ...]:
    """Every pair of entries sharing clock time, by sweeping in start order."""
    if len(counted) < 2:
        return ()
    overlaps = []
    active: list[tuple[EntryFact, Interval]] = []
    for entry, (start, end) in sorted(counted, key=lambda item: item[1]):
        active = [(e, iv) for e, iv in active if iv[1] > start]
        for other, (o_start, o_end) in active:
            overlaps.append(Overlap(other.id, entry.id, max(start, o_start), min(end, o_end)))
        active.append((entry, (start, end)))
    return tuple(overlaps)


# -- eligibility (SPEC §1.1) ----------------------------------------------------


def _has_initiating_visit(facts: PatientMonth) -> bool:
    last = facts.month.last_day
    earliest = (
        months_before(facts.consent.consent_date, INITIATING_VISIT_MONTHS)
        if facts.consent
        else None
    )
    return any(v <= last and (earliest is None or v >= earliest) for v in facts.initiating_visits)


def _checks(facts: PatientMonth, has_family: bool) -> tuple[Check, ...]:
    month = facts.month
    chronic = sum(1 for c in facts.conditions if c.chronic and c.active_in(month))
    consent = facts.consent
    return (
        Check("no_part_b", facts.part_b),
        Check("no_billing_practitioner", facts.billing_practitioner_id is not None),
        Check("fewer_than_two_chronic_conditions", chronic >= 2),
        Check("no_consent", consent is not None and consent.consent_date <= month.last_day),
        Check("opted_out", not opted_out_before(consent, month)),
        Check("no_initiating_visit", _has_initiating_visit(facts)),
        Check(
            "no_care_plan",
            facts.care_plan_date is not None and facts.care_plan_date <= month.last_day,
        ),
        Check("under_threshold", has_family),
    )


def evaluate(facts: PatientMonth, zone: dt.tzinfo, fees: FeeSchedule) -> MonthResult:
    """Decide one patient-month: minutes, checks, codes, amount, what is next."""
    counted = countable_intervals(facts, zone)
    billing_id = facts.billing_practitioner_id
    own = [iv for entry, iv in counted if billing_id is not None and entry.staff_id == billing_id]
    others = [iv for entry, iv in counted if billing_id is None or entry.staff_id != billing_id]
    minutes = whole_minutes(union_duration(iv for _, iv in counted))
    practitioner_minutes = whole_minutes(union_duration(own))
    clinical_minutes = whole_minutes(union_duration(others))

    ranked = rank(families(minutes, practitioner_minutes, facts.complex_month, fees))
    chosen = ranked[0] if ranked else None
    to_next, next_codes = _next_threshold(
        minutes, practitioner_minutes, facts.complex_month, fees, chosen
    )
    return MonthResult(
        month=facts.month,
        minutes=minutes,
        clinical_minutes=clinical_minutes,
        practitioner_minutes=practitioner_minutes,
        checks=_checks(facts, bool(ranked)),
        chosen=chosen,
        runner_up=ranked[1] if len(ranked) > 1 else None,
        minutes_to_next=to_next,
        next_codes=next_codes,
        overlaps=find_overlaps(counted),
        fee_note=fees.note,
    )
