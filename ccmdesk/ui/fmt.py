"""How numbers, dates and durations look on screen (US office conventions)."""

from __future__ import annotations

import datetime as dt


def clock(seconds: float) -> str:
    """A running time as h:mm:ss (never negative)."""
    total = max(0, int(seconds))
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


def day(value: dt.date | None) -> str:
    return value.strftime("%m/%d/%Y") if value else ""


def local_time(value: dt.datetime | None, zone: dt.tzinfo) -> str:
    return value.astimezone(zone).strftime("%I:%M %p").lstrip("0") if value else ""


def local_day(value: dt.datetime | None, zone: dt.tzinfo) -> str:
    return value.astimezone(zone).strftime("%m/%d/%Y") if value else ""


def minutes_between(start: dt.datetime, end: dt.datetime | None) -> str:
    """Whole minutes and seconds, e.g. ``21:05`` (floored, as billing counts)."""
    if end is None:
        return ""
    seconds = int((end - start).total_seconds())
    return f"{seconds // 60}:{seconds % 60:02d}"


def time_range(start: dt.datetime, end: dt.datetime | None, zone: dt.tzinfo) -> str:
    """``8:24–8:40 AM``, or ``11:50 PM–12:15 AM``; ``8:24 AM–running`` while running."""
    first = start.astimezone(zone)
    if end is None:
        return f"{local_time(start, zone)}–running"
    last = end.astimezone(zone)
    if first.strftime("%p") == last.strftime("%p") and first.date() == last.date():
        return f"{first.strftime('%I:%M').lstrip('0')}–{local_time(end, zone)}"
    return f"{local_time(start, zone)}–{local_time(end, zone)}"
