"""Text that must fit its column, checked the same way on SQLite and PostgreSQL.

SQLite keeps a value of any length in a ``VARCHAR(n)`` column; PostgreSQL
refuses it with a database error.  So a service checks free text against the
column's own declared length before writing, and tells the user, on both.
"""

from __future__ import annotations

from typing import Any


def longest(column: Any) -> int | None:
    """The declared length of a mapped string column (``Staff.name``), if it has one."""
    return getattr(column.type, "length", None)


def too_long(column: Any, text: str | None) -> str | None:
    """``"is longer than N characters"`` when ``text`` does not fit ``column``, else None."""
    limit = longest(column)
    if text is None or limit is None or len(text) <= limit:
        return None
    return f"is longer than {limit} characters"
