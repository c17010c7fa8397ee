"""Medicare fee schedules: shipped national amounts plus the practice's overrides.

Amounts are ``Decimal`` so that totals add up to the cent.  The service
month's year picks the schedule; a year with no shipped schedule borrows the
latest earlier one and says so (SPEC §1.4).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

FEE_CODES: tuple[str, ...] = ("99490", "99439", "99491", "99437", "99487", "99489", "G0506")


class FeeScheduleError(ValueError):
    """A fee schedule file or override that cannot be used."""


@dataclass(frozen=True)
class FeeSchedule:
    """The amounts in force for one service year."""

    year: int
    amounts: Mapping[str, Decimal]
    #: Empty when the year's own schedule was used, else what was borrowed.
    note: str = ""
    overridden: frozenset[str] = field(default_factory=frozenset)
    #: Results the billing engine derives from these amounts, kept for reuse.
    memo: dict = field(default_factory=dict, compare=False, repr=False)  # type: ignore[type-arg]

    def amount(self, code: str) -> Decimal:
        return self.amounts[code]


def parse_amount(text: object, where: str) -> Decimal:
    """A non-negative amount in dollars with at most two decimals."""
    try:
        amount = Decimal(str(text).strip())
    except ArithmeticError as error:
        raise FeeScheduleError(f"{where}: {text!r} is not an amount") from error
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise FeeScheduleError(f"{where}: {text!r} must be dollars and cents, 0 or more")
    return amount.quantize(Decimal("0.01"))


def load_schedule_file(path: Path) -> tuple[int, dict[str, Decimal]]:
    """Read one shipped schedule (``resources/fees/YYYY.json``)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        year = int(document["year"])
        raw = document["amounts"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise FeeScheduleError(f"{path}: not a fee schedule ({error})") from error
    missing = [code for code in FEE_CODES if code not in raw]
    if missing:
        raise FeeScheduleError(f"{path}: no amount for {', '.join(missing)}")
    return year, {code: parse_amount(raw[code], f"{path}: {code}") for code in FEE_CODES}


def load_shipped_schedules(folder: Path) -> dict[int, dict[str, Decimal]]:
    """Every ``YYYY.json`` schedule in ``folder``, by year."""
    schedules: dict[int, dict[str, Decimal]] = {}
    for path in sorted(folder.glob("*.json")):
        year, amounts = load_schedule_file(path)
        schedules[year] = amounts
    if not schedules:
        raise FeeScheduleError(f"no fee schedules in {folder}")
    return schedules


def schedule_for_year(
    year: int,
    shipped: Mapping[int, Mapping[str, Decimal]],
    overrides: Mapping[int, Mapping[str, Decimal]] | None = None,
) -> FeeSchedule:
    """The amounts for ``year``: its shipped schedule (or the latest earlier one,
    with the practice's overrides of that year), then the practice's overrides
    for ``year`` itself on top."""
    overrides = overrides or {}
    own = dict(overrides.get(year, {}))
    note = ""
    if year in shipped:
        base = dict(shipped[year])
    else:
        earlier = [y for y in shipped if y < year]
        source = max(earlier) if earlier else min(shipped)
        borrowed = dict(overrides.get(source, {}))
        base = {**shipped[source], **borrowed}
        if set(FEE_CODES) - set(own):
            which = "latest earlier" if earlier else "earliest"
            with_rates = f" with the practice's {source} amounts" if borrowed else ""
            and_own = " and the practice's overrides" if own else ""
            note = (
                f"No {year} fee schedule is on file; the {which} one ({source}){with_rates}"
                f" is used{and_own}."
            )
    amounts = {**base, **own}
    return FeeSchedule(year, amounts, note, frozenset(own))
