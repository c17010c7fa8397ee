"""Paints this month's minutes as a bar toward the next code (20 / 40 / 60 min).

Painted by hand (two rounded rectangles and a label) rather than through the
style's progress bar: it is several times cheaper per cell, which matters when
every keystroke of a search repaints the list, and it reads the same on every
platform.  Green once the month is billable-by-time (20 minutes or more).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate

from ccmdesk.ui.patient_table import ROW_ROLE

THRESHOLDS = (20, 40, 60)
TRACK = QColor("#e3e8ef")
SHORT = QColor("#f0a23b")  # under 20 minutes: still needs time
DONE = QColor("#3c9a5f")  # 20 minutes or more
TEXT = QColor("#1d2733")


def bar_goal(minutes: int) -> int:
    """The threshold the bar fills toward: the next of 20/40/60, else 60."""
    return next((t for t in THRESHOLDS if minutes < t), THRESHOLDS[-1])


def bar_text(minutes: int) -> str:
    return f"{minutes} / {bar_goal(minutes)} min" if minutes < 60 else f"{minutes} min"


class MinutesBarDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option, index: QModelIndex | QPersistentModelIndex) -> None:  # type: ignore[no-untyped-def]
        row = index.data(ROW_ROLE)
        if row is None:
            super().paint(painter, option, index)
            return
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        goal = bar_goal(row.minutes)
        track = QRectF(option.rect.adjusted(4, 5, -4, -5))
        filled = QRectF(track)
        filled.setWidth(track.width() * min(row.minutes, goal) / goal)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(TRACK)
        painter.drawRoundedRect(track, 4, 4)
        if row.minutes:
            painter.setBrush(DONE if row.minutes >= THRESHOLDS[0] else SHORT)
            painter.drawRoundedRect(filled, 4, 4)
        painter.setPen(TEXT)
        painter.drawText(track, Qt.AlignmentFlag.AlignCenter, bar_text(row.minutes))
        painter.restore()
