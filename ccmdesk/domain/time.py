"""Calendar months, practice time zones and intervals of time.

Instants are always timezone-aware UTC ``datetime`` values.  Local time only
matters to decide where a calendar month starts and ends in the practice's
zone (SPEC §1.3), and to read the local times of an import file.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.timezone.utc
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class LocalTimeError(ValueError):
    """A local time that does not name exactly one instant (DST gap or overlap)."""


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The IANA zone called ``name``, or None if there is no such zone."""
    if not name:
        return None
    name = name.strip().lstrip(":")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def resolve_time_zone(setting: str | None = None) -> ZoneInfo:
    """The practice's zone: the setting, else ``TZ``, else the system's, else UTC."""
    for candidate in (setting, os.environ.get("TZ")):
        zone = zone_or_none(candidate)
        if zone is not None:
            return zone
    try:
        import tzlocal

        zone = zone_or_none(tzlocal.get_localzone_name())
        if zone is not None:
            return zone
    except Exception:  # tzlocal raises several kinds on oddly configured systems
        pass
    return ZoneInfo("UTC")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, e.g. ``Month(2026, 11)``; ``str()`` gives ``2026-11``."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1900 <= self.year <= 9999:
            raise ValueError(f"not a month: {self.year}-{self.month:02d}")

    @classmethod
    def parse(cls, text: str) -> Month:
        match = _MONTH_RE.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not a month; use YYYY-MM, e.g. 2026-11")
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise ValueError(f"{text!r} is not a month: the month must be 01 to 12")
        return cls(year, month)

    @classmethod
    def of(cls, day: dt.date) -> Month:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    # Cached: the billing engine asks for these thousands of times a month.
    @functools.cached_property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @functools.cached_property
    def last_day(self) -> dt.date:
        return dt.date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def bounds_utc(self, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
        """The month as a half-open interval of UTC instants in ``zone``."""
        return start_of_day_utc(self.first_day, zone), start_of_day_utc(self.next().first_day, zone)

    def days_left(self, today: dt.date) -> int:
        """Days left in the month counting today (0 once the month is over)."""
        if today > self.last_day:
            return 0
        if today < self.first_day:
            return self.last_day.day
        return (self.last_day - today).days + 1


@functools.lru_cache(maxsize=256)
def _month_bounds(month: Month, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    return start_of_day_utc(month.first_day, zone), start_of_day_utc(month.next().first_day, zone)


@functools.lru_cache(maxsize=4096)  # consent dates repeat across a practice's patients
def start_of_day_utc(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """The first instant of ``day`` in ``zone`` (midnight, or the first valid time)."""
    local = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    instant = local.astimezone(UTC)
    # A zone that skips midnight (some DST rules do) starts the day later.
    if instant.astimezone(zone).date() != day:
        instant = instant.replace(minute=0, second=0) + dt.timedelta(hours=1)
    return instant


def local_to_utc(naive: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """Convert a wall-clock time in ``zone`` to UTC, refusing ambiguous times."""
    early = naive.replace(tzinfo=zone, fold=0)
    late = naive.replace(tzinfo=zone, fold=1)
    back = early.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != naive:
        raise LocalTimeError(
            f"{naive:%Y-%m-%d %H:%M} does not exist in {zone} (clocks sprang forward)"
        )
    if early.utcoffset() != late.utcoffset():
        raise LocalTimeError(
            f"{naive:%Y-%m-%d %H:%M} happens twice in {zone} (clocks fell back);"
            " add the UTC offset, e.g. -04:00"
        )
    return early.astimezone(UTC)


def months_touched(start: dt.datetime, end: dt.datetime | None, zone: dt.tzinfo) -> set[Month]:
    """The calendar months (in ``zone``) that ``[start, end)`` has time in.

    The end is exclusive: an entry ending at midnight on the 1st has no time
    in the new month.  A running entry (no end) touches its start's month.
    """
    first = Month.of(start.astimezone(zone).date())
    last_instant = end - dt.timedelta(microseconds=1) if end and end > start else start
    last = Month.of(last_instant.astimezone(zone).date())
    months, month = {first}, first
    while month < last:
        month = month.next()
        months.add(month)
    return months


Interval = tuple[dt.datetime, dt.datetime]


def clip(interval: Interval, lower: dt.datetime, upper: dt.datetime) -> Interval | None:
    """The part of ``interval`` inside ``[lower, upper)``, or None."""
    start, end = max(interval[0], lower), min(interval[1], upper)
    return (start, end) if start < end else None


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Union of intervals: overlapping or touching intervals become one."""
    ordered = sorted(intervals)
    if len(ordered) < 2:
        return ordered
    merged: list[Interval] = []
    for start, end in ordered:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def union_duration(intervals: Iterable[Interval]) -> dt.timedelta:
    """Time covered by the union of ``intervals`` (no instant counted twice).

    Summed as exact ``timedelta`` values: float seconds could turn 20:00 into
    19:59.999999 and so into 19 minutes.
    """
    return sum((end - start for start, end in merge(intervals)), dt.timedelta(0))


def whole_minutes(duration: dt.timedelta) -> int:
    """Whole minutes, never rounded up (SPEC §1.2: 19 min 59 s is 19 min)."""
    return duration // dt.timedelta(minutes=1)


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier (clamped to month end)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))
