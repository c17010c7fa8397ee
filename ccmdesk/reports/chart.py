"""The month at a glance: how many patients reached 20, 40 and 60 minutes.

A stacked bar per five minutes of countable time (billable on top of not
billable), with the 20/40/60-minute thresholds drawn across.  Drawn with
plain reportlab shapes rather than a chart widget: the few dozen shapes are
quick to draw and every label sits exactly where it should.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.graphics.shapes import Drawing, Line, Rect, String

from ccmdesk.reports.billing_summary import HISTOGRAM_STEP, HistogramBin
from ccmdesk.reports.common import ACCENT, BOLD, FONT, INK, MUTED, RULE, WARN

BILLABLE_FILL = ACCENT
OTHER_FILL = RULE
THRESHOLDS = ((20, "20 min: 99490"), (40, "40: +99439"), (60, "60: +99439 or 99487"))


def _nice_top(value: int) -> tuple[int, int]:
    """An axis maximum and tick step that read easily (5, 10, 20, 25, 50 ...)."""
    value = max(value, 1)
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if value / step <= 5:
            return step * -(-value // step), step
    step = 10 ** len(str(value))
    return step * -(-value // step), step


def minutes_histogram(bins: Sequence[HistogramBin], width: float, height: float = 150) -> Drawing:
    """Patients per band of countable minutes, billable and not, with thresholds."""
    drawing = Drawing(width, height)
    left, right, bottom, top = 34.0, width - 8, 30.0, height - 22
    plot_w, plot_h = right - left, top - bottom
    peak, step = _nice_top(max((b.billable + b.not_billable for b in bins), default=1))
    slot = plot_w / len(bins)
    scale = plot_h / peak

    for tick in range(0, peak + 1, step):
        y = bottom + tick * scale
        drawing.add(Line(left, y, right, y, strokeColor=RULE, strokeWidth=0.3))
        drawing.add(
            String(
                left - 4,
                y - 2.5,
                f"{tick:,}",
                fontName=FONT,
                fontSize=6.5,
                fillColor=MUTED,
                textAnchor="end",
            )
        )
    for index, item in enumerate(bins):
        x = left + index * slot + slot * 0.12
        bar_w = slot * 0.76
        low_h = item.not_billable * scale
        if item.not_billable:
            drawing.add(Rect(x, bottom, bar_w, low_h, fillColor=OTHER_FILL, strokeColor=None))
        if item.billable:
            drawing.add(
                Rect(
                    x,
                    bottom + low_h,
                    bar_w,
                    item.billable * scale,
                    fillColor=BILLABLE_FILL,
                    strokeColor=None,
                )
            )
        total = item.billable + item.not_billable
        if total:
            drawing.add(
                String(
                    x + bar_w / 2,
                    bottom + low_h + item.billable * scale + 2,
                    f"{total:,}",
                    fontName=FONT,
                    fontSize=6,
                    fillColor=INK,
                    textAnchor="middle",
                )
            )
        if item.low % 10 == 0:
            drawing.add(
                String(
                    left + index * slot,
                    bottom - 9,
                    item.label if item.high is None else str(item.low),
                    fontName=FONT,
                    fontSize=6.5,
                    fillColor=MUTED,
                    textAnchor="middle",
                )
            )
    drawing.add(Line(left, bottom, right, bottom, strokeColor=INK, strokeWidth=0.6))
    drawing.add(
        String(
            (left + right) / 2,
            bottom - 20,
            "countable minutes in the month (bars of 5 minutes)",
            fontName=FONT,
            fontSize=7,
            fillColor=MUTED,
            textAnchor="middle",
        )
    )

    for minutes, label in THRESHOLDS:
        x = left + (minutes / HISTOGRAM_STEP) * slot
        drawing.add(
            Line(x, bottom, x, top + 4, strokeColor=WARN, strokeWidth=0.8, strokeDashArray=[3, 2])
        )
        drawing.add(String(x + 2, top + 6, label, fontName=BOLD, fontSize=6.5, fillColor=WARN))

    legend_y = height - 8
    drawing.add(
        String(
            left - 4,
            top + 6,
            "patients",
            fontName=FONT,
            fontSize=6.5,
            fillColor=MUTED,
            textAnchor="end",
        )
    )
    for offset, fill, text in (
        (-128, BILLABLE_FILL, "billable"),
        (-62, OTHER_FILL, "not billable"),
    ):
        drawing.add(Rect(right + offset, legend_y - 1, 7, 7, fillColor=fill, strokeColor=None))
        drawing.add(
            String(right + offset + 10, legend_y, text, fontName=FONT, fontSize=7, fillColor=INK)
        )
    return drawing
