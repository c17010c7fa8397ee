"""The part every flat table model shares: a row count, fixed column titles, the rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex


class TitledTableModel(QAbstractTableModel):
    """A flat table with fixed column ``titles``; subclasses say how many rows."""

    titles: tuple[str, ...] = ()

    def row_total(self) -> int:
        raise NotImplementedError

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.row_total()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.titles)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.titles)
        ):
            return self.titles[section]
        return None


RowT = TypeVar("RowT")


class RowsTableModel(TitledTableModel, Generic[RowT]):
    """A flat table over a sequence of plain rows, replaced whole by :meth:`set_rows`."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: Sequence[RowT] = ()

    def set_rows(self, rows: Sequence[RowT]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def row_total(self) -> int:
        return len(self.rows)

    def row_at(self, index: Index) -> RowT | None:
        """The row behind ``index``, or None for an invalid or stale index."""
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        return self.rows[index.row()]
