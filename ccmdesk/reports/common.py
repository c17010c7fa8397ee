"""What every ccmdesk PDF shares: the page, the header and footer, styles, formats.

Every page carries the practice, the report and month, where the month
stands (open or closed), the generation time, the PHI notice and
"Page X of Y".  The total page count is only known at the end, so the canvas
keeps each finished page and decorates them all when the document is saved
(the usual reportlab recipe; a page is a few kilobytes of drawing commands).

Formats chosen for US offices: dates MM/DD/YYYY, times with AM/PM and the
zone's abbreviation, money as $1,234.56 (row amounts print exactly as the
billing CSV has them).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)

from ccmdesk.domain.time import Month

PAGE_WIDTH, PAGE_HEIGHT = letter
MARGIN = 0.6 * inch
HEADER_HEIGHT = 0.75 * inch
FOOTER_HEIGHT = 0.5 * inch
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN

PHI_NOTICE = "Confidential \u2014 contains protected health information"
FONT, BOLD, ITALIC = "Helvetica", "Helvetica-Bold", "Helvetica-Oblique"
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
RULE = colors.HexColor("#9aa5b1")
HEADER_FILL = colors.HexColor("#dde3ea")
STRIPE = colors.HexColor("#f3f5f7")
ACCENT = colors.HexColor("#1f4e79")
WARN = colors.HexColor("#8a1c1c")
CLOSED = colors.HexColor("#1d5c2e")
DASH = "\u2014"


# -- formats ---------------------------------------------------------------------


def us_date(day: dt.date | None, missing: str = DASH) -> str:
    """03/14/1948: the order US offices read without thinking."""
    return day.strftime("%m/%d/%Y") if day else missing


def us_time(instant: dt.datetime, zone: dt.tzinfo) -> str:
    """8:02 PM CST (12-hour clock, the zone's abbreviation)."""
    moment = instant.astimezone(zone)
    return f"{moment.strftime('%I:%M %p').lstrip('0')} {moment.strftime('%Z')}"


def us_datetime(instant: dt.datetime, zone: dt.tzinfo) -> str:
    """11/30/2026 8:02 PM CST."""
    return f"{us_date(instant.astimezone(zone).date())} {us_time(instant, zone)}"


def money(amount: Decimal) -> str:
    """$1,234.56; always two decimals, never a float."""
    return f"${amount.quantize(Decimal('0.01')):,.2f}"


def month_name(month: Month) -> str:
    """October 2026."""
    return month.first_day.strftime("%B %Y")


def zone_name(zone: dt.tzinfo) -> str:
    return getattr(zone, "key", None) or str(zone)


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def duration(seconds: int) -> str:
    """Minutes and seconds, 6:40, so that a column of them adds up exactly."""
    minutes, rest = divmod(max(0, int(seconds)), 60)
    return f"{minutes}:{rest:02d}"


# -- styles ----------------------------------------------------------------------


def _style(name: str, **values: object) -> ParagraphStyle:
    base = {"fontName": FONT, "fontSize": 9, "leading": 11.5, "textColor": INK}
    return ParagraphStyle(name, **{**base, **values})  # type: ignore[arg-type]


STYLES = {
    "title": _style("title", fontName=BOLD, fontSize=16, leading=20, spaceAfter=4),
    "h2": _style(
        "h2",
        fontName=BOLD,
        fontSize=12.5,
        leading=16,
        spaceBefore=10,
        spaceAfter=5,
        textColor=ACCENT,
    ),
    "h3": _style("h3", fontName=BOLD, fontSize=10, leading=13, spaceBefore=8, spaceAfter=3),
    "body": _style("body", spaceAfter=4),
    "small": _style("small", fontSize=8, leading=10, textColor=MUTED, spaceAfter=3),
    "cell": _style("cell", fontSize=8, leading=9.6, alignment=TA_LEFT),
    "cell_bold": _style("cell_bold", fontName=BOLD, fontSize=8, leading=9.6),
    "note": _style("note", fontName=ITALIC, fontSize=7.8, leading=9.4, textColor=MUTED),
    "banner": _style("banner", fontName=BOLD, fontSize=9.5, leading=12.5),
}


def para(text: str, style: str = "body") -> Paragraph:
    """A paragraph of plain text (escaped: names and notes may hold < or &)."""
    return Paragraph(escape(text), STYLES[style])


def fit(text: str, width: float, size: float = 8, font: str = FONT) -> str | Paragraph:
    """The plain string when it fits the column, else a wrapping paragraph.

    Plain table cells cost far less than paragraphs, which matters for a
    2,000-patient month; the rare long name still wraps instead of spilling.
    """
    if stringWidth(text, font, size) <= width - 6:
        return text
    return para(text, "cell_bold" if font == BOLD else "cell")


def table_style(
    header_rows: int = 1,
    numeric_from: int | None = None,
    extra: Sequence[tuple] = (),
    *,
    stripes: bool = True,
) -> TableStyle:
    """Grey header, light stripes, hairline rules; numbers right-aligned."""
    commands: list[tuple] = [
        ("FONT", (0, 0), (-1, -1), FONT, 8),
        ("LEADING", (0, 0), (-1, -1), 9.6),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, -1), (-1, -1), 0.6, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header_rows:
        last = header_rows - 1
        commands += [
            ("FONT", (0, 0), (-1, last), BOLD, 7.8),
            ("BACKGROUND", (0, 0), (-1, last), HEADER_FILL),
            ("VALIGN", (0, 0), (-1, last), "BOTTOM"),
            ("LINEBELOW", (0, last), (-1, last), 0.6, RULE),
        ]
    if stripes:
        commands.append(("ROWBACKGROUNDS", (0, header_rows), (-1, -1), [colors.white, STRIPE]))
    if numeric_from is not None:
        commands.append(("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"))
    commands.extend(extra)
    return TableStyle(commands)


def status_banner(text: str, closed: bool) -> Table:
    """A framed line saying where the month stands: green when closed, red otherwise."""
    colour = CLOSED if closed else WARN
    box = Table([[para(text, "banner")]], colWidths=[CONTENT_WIDTH])
    box.setStyle(
        [
            ("BOX", (0, 0), (-1, -1), 1, colour),
            ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f4faf5" if closed else "#fdf6f3")),
            ("TEXTCOLOR", (0, 0), (-1, -1), colour),
            ("LEFTPADDING", (0, 0), (-1, -1), 7),
            ("TOPPADDING", (0, 0), (-1, -1), 5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ]
    )
    return box


# -- the page ----------------------------------------------------------------------


@dataclass(frozen=True)
class PageFrame:
    """The words every page of one document carries."""

    practice: str
    title: str  # "CCM billing summary"
    month: str  # "October 2026"
    status: str  # "Month closed 11/02/2026 by ..." or "Month open ..."
    status_closed: bool
    generated: str  # "Generated 11/30/2026 8:02 PM CST"
    subject: str = ""  # the time log's patient line


def _draw_page(canvas: Canvas, frame: PageFrame, number: int, total: int) -> None:
    left, right = MARGIN, PAGE_WIDTH - MARGIN
    top = PAGE_HEIGHT - 0.45 * inch
    canvas.saveState()
    canvas.setFillColor(INK)
    canvas.setFont(BOLD, 10)
    canvas.drawString(left, top, frame.practice)
    canvas.drawRightString(right, top, f"{frame.title} \u2014 {frame.month}")
    canvas.setFont(FONT, 8)
    subject = frame.subject or getattr(canvas, SECTION_ATTRIBUTE, "")
    if subject:
        canvas.drawString(left, top - 12, subject)
    canvas.setFillColor(CLOSED if frame.status_closed else MUTED)
    canvas.drawRightString(right, top - 12, frame.status)
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.6)
    canvas.line(left, top - 18, right, top - 18)

    bottom = 0.42 * inch
    canvas.line(left, bottom + 11, right, bottom + 11)
    canvas.setFillColor(MUTED)
    canvas.setFont(BOLD, 7.5)
    canvas.drawString(left, bottom, PHI_NOTICE)
    canvas.setFont(FONT, 7.5)
    canvas.drawCentredString(PAGE_WIDTH / 2 + 0.55 * inch, bottom, frame.generated)
    canvas.setFont(BOLD, 7.5)
    canvas.drawRightString(right, bottom, f"Page {number} of {total}")
    canvas.restoreState()


SECTION_ATTRIBUTE = "_ccmdesk_section"


class SectionMark(Flowable):
    """Names the part that follows in the header of its pages ("Helen Marsh, MD").

    Takes no room.  A page's header shows the last part begun on or before it,
    so each part should start on a new page.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        setattr(self.canv, SECTION_ATTRIBUTE, self.text)


def _canvas_maker(frame: PageFrame) -> Callable[..., Canvas]:
    class DecoratedCanvas(Canvas):
        """Keeps finished pages so each can say "Page X of Y" once Y is known."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            self._finished: list[dict] = []  # type: ignore[type-arg]
            setattr(self, SECTION_ATTRIBUTE, "")  # so each saved page has its own

        def showPage(self) -> None:
            self._finished.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._finished)
            for number, state in enumerate(self._finished, start=1):
                self.__dict__.update(state)
                _draw_page(self, frame, number, total)
                Canvas.showPage(self)
            Canvas.save(self)

    return DecoratedCanvas


def render_pdf(
    story: list[Flowable], frame: PageFrame, *, pdf_title: str, invariant: bool = False
) -> bytes:
    """Lay out ``story`` on letter pages with the shared header and footer.

    ``invariant`` makes the bytes depend only on the content (fixed document
    id and creation date), for golden tests.
    """
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=letter,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + HEADER_HEIGHT - 0.35 * inch,
        bottomMargin=FOOTER_HEIGHT + 0.25 * inch,
        title=pdf_title,
        author=frame.practice,
        creator="ccmdesk",
        invariant=1 if invariant else 0,
    )
    body = Frame(
        doc.leftMargin,
        doc.bottomMargin,
        doc.width,
        doc.height,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[body])])
    doc.build(story, canvasmaker=_canvas_maker(frame))
    return buffer.getvalue()
