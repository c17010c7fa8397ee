"""The patient list as a Qt model: search, quick filters and sorting in one place.

Why not a ``QSortFilterProxyModel``?  With 10,000 patients a proxy calls back
into Python for every row on every keystroke (filterAcceptsRow, lessThan),
which costs far more than a frame.  Here the model keeps every row, filters
with one list comprehension over precomputed search keys and sorts with
``list.sort`` on raw values, then resets: a keystroke costs a few
milliseconds.  The view still asks for sorting the usual way
(``setSortingEnabled`` calls :meth:`sort`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import Qt

from ccmdesk.services.patient_list import CONSENTED, PatientListRow
from ccmdesk.ui import fmt
from ccmdesk.ui.table_model import Index, TitledTableModel

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2

#: Quick filters: label -> test.
FILTERS: dict[str, Callable[[PatientListRow], bool]] = {
    "All": lambda row: True,
    "Needs minutes this month": lambda row: row.needs_minutes,
    "Ready to bill": lambda row: row.billable,
    "No consent": lambda row: row.consent != CONSENTED,
    "Care plan review due": lambda row: row.review_due,
}


def _search_key(row: PatientListRow) -> str:
    """Everything a nurse might type: names, MRN, MBI, DOB (both styles), phone digits."""
    digits = re.sub(r"\D", "", row.phone)
    return " ".join(
        (
            f"{row.first_name} {row.last_name}",
            f"{row.last_name}, {row.first_name}",
            row.mrn,
            row.mbi,
            row.dob.strftime("%m/%d/%Y"),
            row.dob.isoformat(),
            digits,
        )
    ).casefold()


def _needles(text: str) -> tuple[str, ...]:
    """What to look for: the text itself, plus its digits when it looks like a phone.

    "(555) 010-0142" matches the stored digits; "1948-05-17" still matches a DOB.
    """
    text = text.strip().casefold()
    if not text:
        return ()
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 4 and re.fullmatch(r"[\d\s().+-]+", text) and digits != text:
        return (text, digits)
    return (text,)


class Column:
    """Most-used first: who, how many minutes, what is still needed, why not billable."""

    NAME, DOB, MINUTES, NEEDED, STATUS, CONSENT, CHRONIC, LAST, PRACTITIONER, MRN = range(10)
    TITLES = (
        "Patient",
        "DOB (age)",
        "Minutes",
        "Still needed",
        "Billing status",
        "Consent",
        "Chronic",
        "Last contact",
        "Billing practitioner",
        "MRN",
    )


_DISPLAY = Qt.ItemDataRole.DisplayRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole
_ROLES_ANSWERED = frozenset({_DISPLAY, _ALIGN, Qt.ItemDataRole.ToolTipRole, SORT_ROLE, ROW_ROLE})
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_NUMERIC = frozenset({Column.CHRONIC, Column.MINUTES, Column.NEEDED})


class PatientTableModel(TitledTableModel):
    titles = Column.TITLES

    def __init__(self, zone: dt.tzinfo, today: Callable[[], dt.date], parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.zone = zone
        self.today = today
        self._all: list[PatientListRow] = []
        self._keys: list[str] = []
        self._passes: dict[str, list[bool]] = {name: [] for name in FILTERS}
        self._texts: dict[int, tuple[str, ...]] = {}  # display text by patient, per load
        self._shown: list[PatientListRow] = []
        self._search: tuple[str, ...] = ()
        self._filter = "All"
        self._sort: tuple[int, Qt.SortOrder] = (Column.NAME, Qt.SortOrder.AscendingOrder)

    # -- contents ------------------------------------------------------------------

    def set_rows(self, rows: Iterable[PatientListRow]) -> None:
        self._all = list(rows)
        self._order_all()
        self._refresh()

    def update_rows(self, rows: Iterable[PatientListRow]) -> None:
        """Replace the given patients' rows (after a stop, an edit ...).

        Only those rows' caches are rebuilt; the whole list is re-sorted only
        when a changed row's sort value moved, so a Stop costs milliseconds.
        """
        fresh = {row.patient_id: row for row in rows}
        if not fresh:
            return
        column = self._sort[0]
        moved = False
        for position, old in enumerate(self._all):
            new = fresh.get(old.patient_id)
            if new is None:
                continue
            moved |= self._sort_value(new, column) != self._sort_value(old, column)
            self._all[position] = new
            self._keys[position] = _search_key(new)
            for name, test in FILTERS.items():
                self._passes[name][position] = test(new)
            self._texts.pop(new.patient_id, None)
        if moved:
            self._order_all()
        self._refresh()

    def set_search(self, text: str) -> None:
        self._search = _needles(text)
        self._refresh()

    def set_quick_filter(self, name: str) -> None:
        if name not in FILTERS:
            raise KeyError(name)
        self._filter = name
        self._refresh()

    def row_of(self, patient_id: int) -> int | None:
        for position, row in enumerate(self._shown):
            if row.patient_id == patient_id:
                return position
        return None

    def patient_row(self, row: int) -> PatientListRow:
        return self._shown[row]

    def total(self) -> int:
        return len(self._all)

    def _order_all(self) -> None:
        """Sort every row once; searching then only filters, keeping this order."""
        column, order = self._sort
        self._all.sort(
            key=lambda row: self._sort_value(row, column),
            reverse=order == Qt.SortOrder.DescendingOrder,
        )
        self._keys = [_search_key(row) for row in self._all]
        self._texts = {}
        self._passes = {name: [test(row) for row in self._all] for name, test in FILTERS.items()}

    def _refresh(self) -> None:
        needles = self._search
        passes = self._passes[self._filter]
        pairs = zip(self._all, self._keys, passes, strict=True)
        if not needles:
            shown = [row for row, _key, ok in pairs if ok]
        elif len(needles) == 1:
            needle = needles[0]
            shown = [row for row, key, ok in pairs if ok and needle in key]
        else:
            shown = [row for row, key, ok in pairs if ok and any(n in key for n in needles)]
        self.beginResetModel()
        self._shown = shown
        self.endResetModel()

    # -- Qt model interface --------------------------------------------------------

    def row_total(self) -> int:
        return len(self._shown)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort = (column, order)
        self._order_all()
        self._refresh()  # a reset: the window re-selects the open patient afterwards

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # The view asks for several roles of every visible cell on every repaint:
        # answer the common ones from a per-row cache and the rest with None, fast.
        if role not in _ROLES_ANSWERED:
            return None
        position = index.row()
        if not index.isValid() or not 0 <= position < len(self._shown):
            return None
        row = self._shown[position]
        column = index.column()
        if role == _DISPLAY:
            texts = self._texts.get(row.patient_id)
            if texts is None:
                texts = self._texts[row.patient_id] = tuple(
                    self._display(row, c) for c in range(len(Column.TITLES))
                )
            return texts[column]
        if role == SORT_ROLE:
            return self._sort_value(row, column)
        if role == ROW_ROLE:
            return row
        if role == _ALIGN:
            return _RIGHT if column in _NUMERIC else None
        if column in (Column.STATUS, Column.NEEDED):  # tooltip
            if row.next_codes and row.minutes_to_next is not None:
                return f"{row.minutes_to_next} more minutes for {row.next_codes}"
            return row.status
        return None

    def _display(self, row: PatientListRow, column: int) -> str:
        if column == Column.NAME:
            return row.name
        if column == Column.DOB:
            return f"{fmt.day(row.dob)} ({row.age_on(self.today())})"
        if column == Column.MRN:
            return row.mrn
        if column == Column.PRACTITIONER:
            return row.practitioner
        if column == Column.CHRONIC:
            return str(row.chronic_conditions)
        if column == Column.CONSENT:
            return row.consent
        if column == Column.MINUTES:
            return f"{row.minutes} min"
        if column == Column.NEEDED:
            if row.minutes_to_next is None or not row.next_codes:
                return ""
            code = row.next_codes.split()[-1].split("x")[0]  # "99439x2" -> "99439"
            return f"{row.minutes_to_next} min → {code}"
        if column == Column.LAST:
            return fmt.local_day(row.last_contact, self.zone)
        if column == Column.STATUS:
            return row.status
        return ""

    @staticmethod
    def _sort_value(row: PatientListRow, column: int) -> Any:
        if column == Column.NAME:
            return (row.last_name.casefold(), row.first_name.casefold(), row.mrn)
        if column == Column.DOB:
            return row.dob
        if column == Column.MRN:
            return row.mrn
        if column == Column.PRACTITIONER:
            return (row.practitioner.casefold(), row.last_name.casefold())
        if column == Column.CHRONIC:
            return row.chronic_conditions
        if column == Column.CONSENT:
            return row.consent
        if column == Column.MINUTES:
            return row.minutes
        if column == Column.NEEDED:
            return 10_000 if row.minutes_to_next is None else row.minutes_to_next
        if column == Column.LAST:
            return row.last_contact or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
        return row.status
