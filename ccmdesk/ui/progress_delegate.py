"""Paints this month's minutes as a bar toward the next code (20 / 40 / 60 min)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionProgressBar

from ccmdesk.ui.patient_table import ROW_ROLE

THRESHOLDS = (20, 40, 60)


def bar_goal(minutes: int) -> int:
    """The threshold the bar fills toward: the next of 20/40/60, else 60."""
    return next((t for t in THRESHOLDS if minutes < t), THRESHOLDS[-1])


class MinutesBarDelegate(QStyledItemDelegate):
    def paint(self, painter, option, index: QModelIndex | QPersistentModelIndex) -> None:  # type: ignore[no-untyped-def]
        row = index.data(ROW_ROLE)
        if row is None:
            super().paint(painter, option, index)
            return
        goal = bar_goal(row.minutes)
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(3, 4, -3, -4)
        bar.minimum, bar.maximum = 0, goal
        bar.progress = min(row.minutes, goal)
        bar.text = f"{row.minutes} / {goal} min" if row.minutes < 60 else f"{row.minutes} min"
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        bar.state = option.state | QStyle.StateFlag.State_Enabled
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)
