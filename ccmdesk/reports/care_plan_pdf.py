"""The care plan as a PDF a 78-year-old patient can read (reportlab platypus).

Step two of "reports in two steps": a :class:`CarePlanReport` in, PDF bytes
out.  Written for the patient, not for the chart:

* large type (13 pt body, 18 pt headings), black on white, no grey text;
  short labelled lines instead of dense tables where reading matters most;
* plain headings ("Warning signs: when to call"), the medical words only in
  brackets after the everyday ones;
* who to call on the first page, in a box: the office, the after-hours
  number (24/7 access to a clinician who can see the plan, SPEC §1.5), the
  care manager's direct line, 911; both numbers again at the foot of every
  page, with "Page X of Y";
* an unsigned plan says DRAFT on every page, in the header and across the page;
* ``invariant=1``: the same report gives the same bytes (golden tests).
"""

from __future__ import annotations

from collections.abc import Iterable
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ccmdesk.domain.care_plan import ALLERGY_SEVERITIES, GOAL_STATUSES, SERVICE_STATUSES
from ccmdesk.files import write_bytes_atomically
from ccmdesk.reports.care_plan_data import (
    CarePlanReport,
    clock_time,
    long_date,
    typed_date,
)

PAGE_WIDTH, PAGE_HEIGHT = LETTER
MARGIN = 0.75 * inch
BOTTOM = 1.05 * inch  # room for the two footer lines
WIDTH = PAGE_WIDTH - 2 * MARGIN
MIN_TABLE_START = 2.3 * inch  # a heading, the header row and a row or two

INK = colors.black
NAVY = colors.HexColor("#17365D")
RED = colors.HexColor("#A00000")
SOFT_BLUE = colors.HexColor("#E8F0FA")
SOFT_RED = colors.HexColor("#FBEAEA")
RULE = colors.HexColor("#5A6B80")
WATERMARK = colors.HexColor("#EDEDED")

BODY_SIZE, BODY_LEADING = 13, 17.5
FOOTER_SIZE = 11.5


def _style(name: str, **kw: object) -> ParagraphStyle:
    base = {
        "fontName": "Helvetica",
        "fontSize": BODY_SIZE,
        "leading": BODY_LEADING,
        "textColor": INK,
        "alignment": TA_LEFT,
    }
    return ParagraphStyle(name, **{**base, **kw})  # type: ignore[arg-type]


BODY = _style("body", spaceAfter=4)
LABEL = _style("label", fontName="Helvetica-Bold")
BULLET = _style("bullet", leftIndent=18, bulletIndent=4, bulletFontSize=BODY_SIZE, spaceAfter=3)
PRACTICE = _style("practice", fontName="Helvetica-Bold", fontSize=18, leading=22, textColor=NAVY)
TITLE = _style("title", fontName="Helvetica-Bold", fontSize=28, leading=34, spaceBefore=10)
SUBTITLE = _style("subtitle", fontSize=15, leading=20, spaceAfter=6)
HEADING = _style(
    "heading",
    fontName="Helvetica-Bold",
    fontSize=18,
    leading=22,
    textColor=NAVY,
    spaceBefore=16,
    spaceAfter=6,
)
ITEM_TITLE = _style("item_title", fontName="Helvetica-Bold", fontSize=14, leading=18, spaceAfter=2)
DRAFT_NOTE = _style("draft", fontName="Helvetica-Bold", fontSize=15, leading=20, textColor=RED)


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    """A paragraph of user text: escaped, line breaks kept."""
    return Paragraph(escape(text.strip()).replace("\n", "<br/>"), style)


def _m(markup: str, style: ParagraphStyle = BODY) -> Paragraph:
    """A paragraph of our own markup (values inside must already be escaped)."""
    return Paragraph(markup, style)


def _e(text: str) -> str:
    return escape(" ".join(text.split()))


# -- page furniture ---------------------------------------------------------------------


class _NumberedCanvas(Canvas):
    """Holds pages back until the end, so each can say "Page X of Y"."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._saved: list[dict] = []  # type: ignore[type-arg]

    def showPage(self) -> None:
        self._saved.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._saved)
        for number, state in enumerate(self._saved, start=1):
            self.__dict__.update(state)
            self.setFont("Helvetica-Bold", FOOTER_SIZE)
            self.setFillColor(INK)
            self.drawRightString(PAGE_WIDTH - MARGIN, 0.45 * inch, f"Page {number} of {total}")
            super().showPage()
        super().save()


def _page_decorator(report: CarePlanReport):  # type: ignore[no-untyped-def]
    practice_line = f"Questions? Call us at {report.practice_phone}."
    if report.after_hours_phone:
        practice_line += f" Nights, weekends, holidays: {report.after_hours_phone}."
    who = f"Care plan for {report.patient_name}, born {long_date(report.patient_dob)}"

    def decorate(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        if report.draft:
            canvas.setFillColor(WATERMARK)
            canvas.setFont("Helvetica-Bold", 130)
            canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
            canvas.rotate(45)
            canvas.drawCentredString(0, -45, "DRAFT")
            canvas.rotate(-45)
            canvas.translate(-PAGE_WIDTH / 2, -PAGE_HEIGHT / 2)
        if doc.page > 1 or report.draft:
            canvas.setFont("Helvetica-Bold", FOOTER_SIZE)
            canvas.setFillColor(RED if report.draft else NAVY)
            top = PAGE_HEIGHT - 0.5 * inch
            if report.draft:
                canvas.drawString(MARGIN, top, "DRAFT - not yet signed by your doctor")
            else:
                canvas.drawString(MARGIN, top, report.practice_name)
            canvas.setFillColor(INK)
            canvas.drawRightString(PAGE_WIDTH - MARGIN, top, report.patient_name)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.75)
        canvas.line(MARGIN, 0.88 * inch, PAGE_WIDTH - MARGIN, 0.88 * inch)
        canvas.setFillColor(INK)
        canvas.setFont("Helvetica", FOOTER_SIZE)
        canvas.drawString(MARGIN, 0.68 * inch, practice_line)
        canvas.drawString(MARGIN, 0.45 * inch, who)
        canvas.restoreState()

    return decorate


# -- building blocks ---------------------------------------------------------------------


def _heading(text: str) -> Paragraph:
    return _p(text, HEADING)


Block = list[Flowable]  # flowables that stay on one page together


def _section(title: str, body: list[Flowable | Block]) -> list[Flowable]:
    """A heading that never sits alone at the foot of a page.

    ``body`` holds flowables and blocks (lists kept on one page).  The heading
    travels with its leading paragraphs and the first block.  A table (which
    may split across pages, repeating its header row) only needs room for its
    first rows, so the page breaks early rather than leaving the heading
    behind or moving the whole table and leaving half a page blank.
    KeepTogether is never nested: an inner one reports an endless height and
    would push every section to a new page.
    """
    lead: list[Flowable] = [_heading(title)]
    rest = list(body)
    while rest and isinstance(rest[0], Paragraph):
        lead.append(rest.pop(0))
    if rest and isinstance(rest[0], Table) and getattr(rest[0], "splits", False):
        return [CondPageBreak(MIN_TABLE_START), *lead, *_kept(rest)]
    if rest:
        first = rest.pop(0)
        lead += first if isinstance(first, list) else [first]
    return [KeepTogether(lead), *_kept(rest)]


def _kept(items: list[Flowable | Block]) -> list[Flowable]:
    return [KeepTogether(item) if isinstance(item, list) else item for item in items]


def _lines(text: str, width: float, font: str = "Helvetica", size: float = BODY_SIZE) -> str:
    """Plain text broken into lines that fit ``width``, for a string table cell.

    Table cells hold strings, not Paragraphs: a plan has hundreds of cells,
    and a Paragraph is parsed as markup and wrapped two or three times (by
    KeepTogether, by the table's sizing, by drawing); one ``simpleSplit`` is
    several times cheaper and keeps a batch of 500 plans well inside a minute.
    User text stays text (``<b>`` prints as typed).
    """
    return "\n".join(simpleSplit(" ".join(text.split()), font, size, width))


def _labelled(
    rows: Iterable[tuple[str, str]],
    *,
    label_width: float = 1.9 * inch,
    head: str = "",
    tail: Flowable | None = None,
    box: colors.Color | None = None,
) -> Table:
    """Label / value lines ("Target:" "Below 7.5%"), skipping empty values.

    ``head`` (a title) and ``tail`` span both columns; ``box`` frames it all,
    as one flat table (a table inside a box table would be sized twice).
    Labels may hold "\n" where they are too long for one line.
    """
    side = 12 if box is not None else 0
    value_width = WIDTH - label_width - 2 * side
    data: list[list[object]] = [
        [label, _lines(value, value_width - 6)] for label, value in rows if value.strip()
    ]
    first = 1 if head else 0
    if head:
        data.insert(0, [_lines(head, WIDTH - 2 * side, "Helvetica-Bold", 14), ""])
    if tail is not None:
        data.append([tail, ""])
    table = Table(data, colWidths=[label_width + side, value_width + side])
    style: list[tuple] = [  # type: ignore[type-arg]
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONT", (0, first), (0, -1), "Helvetica-Bold", BODY_SIZE, BODY_LEADING),
        ("FONT", (1, first), (1, -1), "Helvetica", BODY_SIZE, BODY_LEADING),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("LEFTPADDING", (0, 0), (0, -1), side),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ("RIGHTPADDING", (-1, 0), (-1, -1), side),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
    ]
    if head:
        style += [
            ("SPAN", (0, 0), (-1, 0)),
            ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 14, 18),
            ("BOTTOMPADDING", (0, 0), (-1, 0), 5),
        ]
    if tail is not None:
        style += [("SPAN", (0, -1), (-1, -1)), ("TOPPADDING", (0, -1), (-1, -1), 3)]
    if box is not None:
        style += [
            ("BOX", (0, 0), (-1, -1), 1.5, box),
            ("TOPPADDING", (0, 0), (-1, 0), 9),
            ("BOTTOMPADDING", (0, -1), (-1, -1), 10),
        ]
    table.setStyle(TableStyle(style))
    table.hAlign = "LEFT"
    return table


def _grid(header: list[str], rows: list[list[str]], widths: list[float]) -> Table:
    """A ruled table of plain text, with a dark header row repeated on each page."""
    scale = WIDTH / sum(widths)
    columns = [w * scale for w in widths]
    data = [[_lines(h, w - 12, "Helvetica-Bold") for h, w in zip(header, columns, strict=True)]]
    data += [[_lines(t, w - 12) for t, w in zip(row, columns, strict=True)] for row in rows]
    table = Table(data, colWidths=columns, repeatRows=1)
    table.splits = True  # see _section
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), NAVY),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", BODY_SIZE, BODY_LEADING),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("FONT", (0, 1), (-1, -1), "Helvetica", BODY_SIZE, BODY_LEADING),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.75, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
        ("RIGHTPADDING", (0, 0), (-1, -1), 6),
    ]
    for row in range(2, len(rows) + 1, 2):
        style.append(("BACKGROUND", (0, row), (-1, row), SOFT_BLUE))
    table.setStyle(TableStyle(style))
    return table


# -- the sections -----------------------------------------------------------------------------


def _front(report: CarePlanReport) -> list[Flowable]:
    parts: list[Flowable] = [_p(report.practice_name, PRACTICE)]
    if report.practice_address:
        parts.append(_p(report.practice_address))
    parts.append(_p("Your Care Plan", TITLE))
    born = long_date(report.patient_dob)
    parts.append(_m(f"<b>{_e(report.patient_name)}</b> &nbsp; Date of birth: {born}", SUBTITLE))
    if report.draft:
        parts.append(
            _p(
                "DRAFT: your doctor has not signed this plan yet. It may still change.",
                DRAFT_NOTE,
            )
        )
    else:
        signed = long_date(report.signed_at.date()) if report.signed_at else ""
        parts.append(_p(f"Version {report.version_number}, signed {signed} by {report.signed_by}."))
    parts += [Spacer(1, 8), _contact_box(report)]
    return parts


def _contact_box(report: CarePlanReport) -> Table:
    rows = [("Office hours:", f"Call us at {report.practice_phone}.")]
    if report.after_hours_phone:
        rows.append(
            (
                "Nights, weekends\nand holidays:",
                f"Call {report.after_hours_phone}, 24 hours a day, 7 days a week."
                " A nurse or doctor who can see this care plan will help you.",
            )
        )
    if report.care_manager:
        line = f"{report.care_manager}"
        line += (
            f". Direct line: {report.care_manager_phone}."
            if report.care_manager_phone
            else f". Call the office: {report.practice_phone}."
        )
        rows.append(("Your care manager:", line))
    if report.billing_practitioner:
        rows.append(("Your doctor for this plan:", report.billing_practitioner + "."))
    rows.append(("Emergency:", "Call 911."))
    table = _labelled(rows, label_width=2.35 * inch, head="Who to call", box=NAVY)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), SOFT_BLUE),
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 16, 20),
                ("TEXTCOLOR", (0, 0), (-1, 0), NAVY),
            ]
        )
    )
    return table


def _problems(report: CarePlanReport) -> list[Flowable]:
    items = []
    for problem in report.content.problems:
        name = problem.plain_name.strip() or problem.description.strip() or problem.code
        medical = ", ".join(x for x in (problem.code.strip(), problem.description.strip()) if x)
        if problem.description.strip() and problem.description.strip() == name:
            medical = problem.code.strip()
        markup = f"<b>{_e(name)}</b>" + (f" &nbsp;({_e(medical)})" if medical else "")
        items.append(Paragraph(markup, BULLET, bulletText="•"))
    return _section("Your health problems", items or [_p("None listed.")])


def _what_matters(report: CarePlanReport) -> list[Flowable]:
    c = report.content
    body: list[Flowable] = []
    if c.patient_goals.strip():
        body += [_p("Your own goals, in your words:", LABEL), _p(c.patient_goals)]
    if c.preferences.strip():
        body += [_p("Your preferences:", LABEL), _p(c.preferences)]
    return _section("What matters to you", body or [_p("Not written yet.")])


STATUS_COLORS = {"met": "#1E6B2F", "not_met": "#A00000"}


def _goals(report: CarePlanReport) -> list[Flowable]:
    body: list[Flowable | Block] = []
    for number, goal in enumerate(report.content.goals, start=1):
        key = goal.status.strip()
        status = GOAL_STATUSES.get(key, goal.status.strip())
        color = STATUS_COLORS.get(key, "#17365D")
        title = f"{number}. {_e(goal.goal)}"
        if status:
            title += f" &nbsp;<font color='{color}'>({_e(status)})</font>"
        block = [
            _m(title, ITEM_TITLE),
            _labelled(
                [
                    ("Target:", goal.target),
                    ("How we check:", goal.measure),
                    ("By:", typed_date(goal.due)),
                ]
            ),
            Spacer(1, 6),
        ]
        body.append(block)
    return _section("Your goals", body or [_p("No goals written yet.")])


def _symptoms(report: CarePlanReport) -> list[Flowable]:
    phone = report.practice_phone
    intro = f"Call us at {phone}."
    if report.after_hours_phone:
        intro += f" When the office is closed, call {report.after_hours_phone} (24 hours a day)."
    body: list[Flowable | Block] = [_p(intro)]
    for sign in report.content.symptoms:
        rows = [("What to do:", sign.what_to_do), ("Call us:", sign.call_practice)]
        tail = None
        if sign.call_911.strip():
            tail = _m(f"<font color='#A00000'><b>Call 911:</b></font> {_e(sign.call_911)}", BODY)
        table = _labelled(rows, label_width=1.45 * inch, head=sign.sign, tail=tail, box=RULE)
        body.append([table, Spacer(1, 8)])
    return _section("Warning signs: when to call", body)


def _interventions(report: CarePlanReport) -> list[Flowable]:
    rows = [[i.what, i.who, i.how_often] for i in report.content.interventions]
    if not rows:
        return _section("What we will do together", [_p("Nothing planned yet.")])
    return _section(
        "What we will do together",
        [_grid(["What", "Who", "How often"], rows, [3.2, 1.9, 1.9])],
    )


def _medicines(report: CarePlanReport) -> list[Flowable]:
    meds = report.content.medications
    if not meds:
        return _section("Your medicines", [_p("No medicines listed.")])
    rows = [
        [
            m.name,
            m.dose,
            _how_and_when(m.route, m.frequency, m.notes),
            m.prescriber,
        ]
        for m in meds
    ]
    return _section(
        "Your medicines",
        [
            _p("Bring this list and all your medicine bottles to every visit."),
            _grid(
                ["Medicine", "Dose", "How and when", "Prescribed by"], rows, [1.9, 1.1, 2.4, 1.8]
            ),
        ],
    )


def _how_and_when(route: str, frequency: str, notes: str) -> str:
    """``By mouth, twice a day. Take with food.``: one sentence run on from the route."""
    route, frequency, notes = route.strip(), frequency.strip(), notes.strip()
    if route and frequency[:2].istitle():  # "Twice" but not "AM" or "PRN"
        frequency = frequency[0].lower() + frequency[1:]
    text = ", ".join(x for x in (route, frequency) if x)
    if notes:
        text = f"{text}. {notes}" if text else notes
    return text


def _allergies(report: CarePlanReport) -> list[Flowable]:
    c = report.content
    if not c.allergies:
        text = "No known allergies." if c.no_known_allergies else "Not recorded yet."
        return _section("Allergies", [_p(text)])
    rows = [
        [
            a.substance,
            a.reaction,
            ALLERGY_SEVERITIES.get(a.severity.strip(), a.severity),
        ]
        for a in c.allergies
    ]
    return _section(
        "Allergies", [_grid(["Allergic to", "What happens", "How bad"], rows, [3, 3, 1.4])]
    )


def _providers(report: CarePlanReport) -> list[Flowable]:
    rows = [
        [o.who, o.role, o.contact, typed_date(o.last_exchange)] for o in report.content.coordination
    ]
    if not rows:
        return _section("Your other care providers", [_p("None listed.")])
    return _section(
        "Your other care providers",
        [
            _p("We keep in touch with them about your care."),
            _grid(["Who", "What they do", "Phone", "Last in touch"], rows, [2.1, 1.8, 1.5, 1.8]),
        ],
    )


def _services(report: CarePlanReport) -> list[Flowable]:
    rows = [
        [
            s.name,
            s.contact.strip() or "Ask your care manager",
            SERVICE_STATUSES.get(s.status.strip(), s.status),
        ]
        for s in report.content.services
    ]
    if not rows:
        return _section("Help in your community", [_p("None listed.")])
    return _section(
        "Help in your community",
        [_grid(["Service", "Phone or contact", "Status"], rows, [3.6, 2.0, 1.4])],
    )


def _caregiver(report: CarePlanReport) -> list[Flowable]:
    g = report.content.caregiver
    if g.is_empty():
        return _section("Your caregiver", [_p("No caregiver listed.")])
    name = g.name.strip() + (f" ({g.relationship.strip()})" if g.relationship.strip() else "")
    return _section(
        "Your caregiver",
        [_labelled([("Name:", name), ("Phone:", g.phone), ("Helps with:", g.helps_with)])],
    )


def _outlook(report: CarePlanReport) -> list[Flowable]:
    c = report.content
    body: list[Flowable] = []
    if c.expected_outcome.strip():
        body += [_p(p) for p in c.expected_outcome.split("\n\n") if p.strip()]
    if c.prognosis.strip():
        body += [Spacer(1, 4), _p("Your outlook (prognosis):", LABEL), _p(c.prognosis)]
    return _section("What to expect", body or [_p("Not written yet.")])


def _review_and_signature(report: CarePlanReport) -> list[Flowable]:
    review = typed_date(report.content.next_review)
    body: list[Flowable] = [
        _p(
            f"We will go over this plan with you again by {review}."
            if review
            else "We will set a date to go over this plan with you again."
        ),
        _p("Call us sooner if your health changes, or after any hospital or emergency room visit."),
    ]
    written = f"{report.author}, {long_date(report.written_on)}" if report.author else ""
    if report.draft:
        signed = "Not signed yet (DRAFT)."
    else:
        when = report.signed_at
        signed = f"{report.signed_by}"
        if when is not None:
            signed += f", {long_date(when.date())} at {clock_time(when)}"
    rows = [
        ("Written by:", written),
        ("Signed by:", signed),
        ("Version:", str(report.version_number)),
        ("Printed:", long_date(report.printed_on)),
    ]
    return [
        *_section("Next review", body),
        *_section("Signature", [[_labelled(rows, label_width=1.6 * inch)]]),
    ]


# -- the document -------------------------------------------------------------------------------


def story(report: CarePlanReport) -> list[Flowable]:
    """Every flowable of the plan, in reading order."""
    parts: list[Flowable] = []
    for section in (
        _front,
        _problems,
        _what_matters,
        _symptoms,
        _goals,
        _interventions,
        _medicines,
        _allergies,
        _providers,
        _services,
        _caregiver,
        _outlook,
        _review_and_signature,
    ):
        parts += section(report)
    return parts


def render_care_plan(report: CarePlanReport) -> bytes:
    """The PDF, as bytes (byte-identical for the same report)."""
    buffer = BytesIO()
    status = "DRAFT" if report.draft else f"version {report.version_number}"
    doc = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=0.8 * inch,
        bottomMargin=BOTTOM,
        title=f"Care plan: {report.patient_name} ({status})",
        author=report.practice_name,
        subject="Comprehensive care plan",
        creator="ccmdesk",
        invariant=1,
    )
    decorate = _page_decorator(report)
    doc.build(
        story(report), onFirstPage=decorate, onLaterPages=decorate, canvasmaker=_NumberedCanvas
    )
    return buffer.getvalue()


def write_care_plan(report: CarePlanReport, path: Path) -> Path:
    """Write the PDF completely or not at all (temporary file, then rename)."""
    return write_bytes_atomically(path, render_care_plan(report))
