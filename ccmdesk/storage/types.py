"""Column types that keep instants honest.

SQLite has no time-zone-aware timestamp, so a naive ``datetime`` written there
loses its offset silently.  :class:`UTCDateTime` refuses naive values, converts
aware ones to UTC before they are written, and hands back aware UTC values, on
SQLite and PostgreSQL alike.  Local time exists only at the edges (display,
import), never in storage.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.types import DateTime, TypeDecorator

UTC = dt.timezone.utc


class NaiveDateTimeError(ValueError):
    """Raised when code tries to store a datetime without a UTC offset."""


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An instant stored in UTC; naive datetimes are rejected."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDateTimeError("refusing to store a datetime without a UTC offset")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
