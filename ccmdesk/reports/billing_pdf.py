"""The billing summary PDF (``ccmdesk billing --month YYYY-MM --pdf FILE``).

Page one is the month at a glance for the office manager; then each billing
practitioner's billable patients (a new page each, so a practitioner's pages
can be handed over), the patients who cannot be billed and why, and the
patients a few minutes short of the next code.  It only lays out a
:class:`~ccmdesk.reports.billing_summary.BillingSummary`; it computes nothing.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.platypus import Flowable, KeepTogether, PageBreak, Paragraph, Spacer, Table

from ccmdesk.reports.billing_summary import (
    CLOSE_TO_NEXT_MINUTES,
    BillingSummary,
    CodeTotal,
    PractitionerSection,
)
from ccmdesk.reports.chart import minutes_histogram
from ccmdesk.reports.common import (
    BOLD,
    CONTENT_WIDTH,
    DASH,
    HEADER_FILL,
    INK,
    MUTED,
    RULE,
    STYLES,
    PageFrame,
    SectionMark,
    fit,
    money,
    month_name,
    para,
    plural,
    render_pdf,
    status_banner,
    table_style,
    us_date,
    us_datetime,
    zone_name,
)
from ccmdesk.services.month_close import MonthStatus

TITLE = "CCM billing summary"


def _status_words(summary: BillingSummary) -> tuple[str, str, bool]:
    """(header line, banner text, closed?) for where the month stands."""
    status: MonthStatus = summary.status
    zone, name = summary.zone, month_name(summary.month)
    if status.closed and status.closed_at:
        who = f" by {status.closed_by}" if status.closed_by else ""
        when = us_datetime(status.closed_at, zone)
        return (
            f"Month closed {when}{who}",
            f"{name} is closed: closed on {when}{who}. Its time entries cannot be added,"
            " changed or deleted unless the month is reopened.",
            True,
        )
    if not summary.month_over:
        return (
            "Month in progress \u2014 figures will change",
            f"{name} is not over yet: these figures will change as time is logged.",
            False,
        )
    banner = (
        f"{name} is open: time entries can still be added or changed. Close the month"
        " once it has been billed."
    )
    if status.reopened_at:
        who = f" by {status.reopened_by}" if status.reopened_by else ""
        banner += (
            f" It was reopened on {us_datetime(status.reopened_at, zone)}{who}"
            f" (reason: {status.reopen_reason})."
        )
    return "Month open \u2014 figures can still change", banner, False


def _key_figures(summary: BillingSummary) -> Table:
    figures = [
        (f"{summary.listed:,}", "patients on the month's list"),
        (f"{summary.billable:,}", "billable"),
        (f"{summary.not_billable:,}", "not billable"),
        (money(summary.total), "estimated total"),
    ]
    widths = [CONTENT_WIDTH * share for share in (0.25, 0.22, 0.22, 0.31)]
    table = Table([[v for v, _ in figures], [w for _, w in figures]], colWidths=widths)
    table.setStyle(
        [
            ("FONT", (0, 0), (-1, 0), BOLD, 20),
            ("LEADING", (0, 0), (-1, 0), 23),
            ("FONT", (0, 1), (-1, 1), "Helvetica", 8),
            ("TEXTCOLOR", (0, 0), (-1, 0), INK),
            ("TEXTCOLOR", (0, 1), (-1, 1), MUTED),
            ("ALIGN", (0, 0), (-1, -1), "CENTER"),
            ("BOX", (0, 0), (-1, -1), 0.6, RULE),
            ("LINEAFTER", (0, 0), (-2, -1), 0.6, RULE),
            ("TOPPADDING", (0, 0), (-1, 0), 7),
            ("BOTTOMPADDING", (0, 1), (-1, 1), 7),
        ]
    )
    return table


def _codes_table(codes: tuple[CodeTotal, ...], total_label: str, total: str) -> Table:
    rows: list[list[object]] = [["Code", "What it pays for", "Patients", "Units", "Amount"]]
    for code in codes:
        rows.append(
            [code.code, code.label, f"{code.patients:,}", f"{code.units:,}", money(code.amount)]
        )
    rows.append([total_label, "", "", "", total])
    widths = [46, CONTENT_WIDTH - 250, 64, 60, 80]
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        table_style(
            numeric_from=2,
            extra=[
                ("FONT", (0, -1), (-1, -1), BOLD, 8),
                ("SPAN", (0, -1), (3, -1)),
                ("BACKGROUND", (0, -1), (-1, -1), HEADER_FILL),
                ("ALIGN", (0, -1), (0, -1), "LEFT"),
            ],
        )
    )
    return table


def _practitioners_table(summary: BillingSummary) -> Table:
    rows: list[list[object]] = [
        ["Billing practitioner", "NPI", "On the list", "Billable", "Not billable", "Amount"]
    ]
    for who in summary.practitioners:
        rows.append(
            [
                fit(who.label, 170),
                who.npi or DASH,
                f"{who.listed:,}",
                f"{who.billable:,}",
                f"{who.not_billable:,}",
                money(who.amount),
            ]
        )
    rows.append(
        [
            "All practitioners",
            "",
            f"{summary.listed:,}",
            f"{summary.billable:,}",
            f"{summary.not_billable:,}",
            money(summary.total),
        ]
    )
    table = Table(
        rows, colWidths=[CONTENT_WIDTH - 345, 78, 66, 60, 66, 75], repeatRows=1, hAlign="LEFT"
    )
    table.setStyle(
        table_style(
            numeric_from=2,
            extra=[
                ("FONT", (0, -1), (-1, -1), BOLD, 8),
                ("BACKGROUND", (0, -1), (-1, -1), HEADER_FILL),
            ],
        )
    )
    return table


def _reasons_table(summary: BillingSummary) -> Flowable:
    if not summary.reasons:
        return para("Every patient on the list is billable.", "small")
    rows: list[list[object]] = [["Why not billable", "Patients"]]
    rows += [[reason.label, f"{reason.patients:,}"] for reason in summary.reasons]
    table = Table(rows, colWidths=[140, 48], hAlign="LEFT")
    table.setStyle(table_style(numeric_from=1))
    return table


def _glance(summary: BillingSummary) -> Table:
    chart_width = CONTENT_WIDTH - 200
    left = [para("Minutes per patient", "h3"), minutes_histogram(summary.histogram, chart_width)]
    right = [
        para("Not billable, by reason", "h3"),
        _reasons_table(summary),
        Spacer(1, 3),
        para("A patient may have more than one reason.", "small"),
    ]
    table = Table([[left, right]], colWidths=[chart_width, 200])
    table.setStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("LEFTPADDING", (1, 0), (1, 0), 12),
        ]
    )
    return table


def _notes(summary: BillingSummary) -> list[Flowable]:
    fees = (
        f"Amounts are estimates of the Medicare allowed amount from the {summary.fee_year}"
        " national non-facility fee schedule, before sequestration, coinsurance and"
        " deductible."
    )
    if summary.fee_overridden:
        fees += f" The practice's own amounts replace it for {', '.join(summary.fee_overridden)}."
    notes = [para(fees, "small")]
    if summary.fee_note:
        notes.append(para(summary.fee_note, "small"))
    missing = summary.billable_without_mbi
    if missing:
        who = "billable patient has" if missing == 1 else "billable patients have"
        notes.append(
            para(
                f"{missing:,} {who} no Medicare Beneficiary Identifier (MBI) on record;"
                " a claim needs one.",
                "small",
            )
        )
    notes.append(
        para(
            "Figures agree with the billing export (ccmdesk billing --csv). Minutes are whole"
            " minutes of countable time, never rounded up; overlapping entries are counted once."
            " Clinical staff and practitioner minutes are counted separately, so they need not"
            " add up to the total.",
            "small",
        )
    )
    return notes


def _first_page(summary: BillingSummary, banner: str, closed: bool) -> list[Flowable]:
    return [
        para(f"{TITLE} \u2014 {month_name(summary.month)}", "title"),
        para(
            f"Service month {summary.month}: {us_date(summary.month.first_day)} to"
            f" {us_date(summary.month.last_day)}, days counted in {zone_name(summary.zone)} time",
            "small",
        ),
        Spacer(1, 4),
        status_banner(banner, closed),
        Spacer(1, 8),
        _key_figures(summary),
        para("By code", "h2"),
        _codes_table(summary.codes, "Estimated total", money(summary.total)),
        para("By billing practitioner", "h2"),
        _practitioners_table(summary),
        Spacer(1, 6),
        _glance(summary),
        Spacer(1, 4),
        *_notes(summary),
    ]


# -- the per-patient pages ---------------------------------------------------------

PATIENT_WIDTHS = [122, 64, 52, 66, 34, 38, 40, 66, 43]


def _section(section: PractitionerSection) -> list[Flowable]:
    header = [
        "Patient",
        "MRN",
        "DOB",
        "MBI",
        "Total\nmin",
        "Clinical\nstaff",
        "Billing\npract.",
        "Codes",
        "Amount",
    ]
    rows: list[list[object]] = [header]
    minutes = [0, 0, 0]
    for line in section.lines:
        rows.append(
            [
                fit(line.name, PATIENT_WIDTHS[0]),
                line.mrn,
                us_date(line.dob),
                line.mbi or "(none)",
                line.minutes,
                line.clinical_minutes,
                line.practitioner_minutes,
                line.codes,
                line.amount,
            ]
        )
        minutes[0] += int(line.minutes)
        minutes[1] += int(line.clinical_minutes)
        minutes[2] += int(line.practitioner_minutes)
    rows.append(
        [
            f"Subtotal: {plural(len(section.lines), 'patient')}",
            "",
            "",
            "",
            f"{minutes[0]:,}",
            f"{minutes[1]:,}",
            f"{minutes[2]:,}",
            "",
            money(section.amount),
        ]
    )
    table = Table(rows, colWidths=PATIENT_WIDTHS, repeatRows=1)
    table.setStyle(
        table_style(
            numeric_from=4,
            extra=[
                ("ALIGN", (7, 0), (7, -1), "LEFT"),
                ("FONT", (0, -1), (-1, -1), BOLD, 8),
                ("SPAN", (0, -1), (3, -1)),
                ("BACKGROUND", (0, -1), (-1, -1), HEADER_FILL),
            ],
        )
    )
    used = [c for c in section.codes if c.units]
    breakdown = " \u00b7 ".join(
        f"{c.code} \u00d7 {c.units:,}"
        + (f" ({plural(c.patients, 'patient')})" if c.units != c.patients else "")
        + f" = {money(c.amount)}"
        for c in used
    )
    npi = f"NPI {section.npi}" if section.npi else "no NPI on record"
    return [
        para(section.label, "h2"),
        para(
            f"{npi} \u00b7 {plural(len(section.lines), 'billable patient')} \u00b7 "
            f"{money(section.amount)}",
            "small",
        ),
        table,
        Spacer(1, 4),
        KeepTogether([para("Codes: " + breakdown, "small")]),
    ]


def _reasons_cell(labels: tuple[str, ...]) -> str | Paragraph:
    """One reason as plain text; several as lines of a paragraph (sized exactly)."""
    if len(labels) == 1:
        return labels[0]
    return Paragraph("<br/>".join(escape(label) for label in labels), STYLES["cell"])


def _not_billable(summary: BillingSummary) -> list[Flowable]:
    lines = summary.not_billable_lines
    story: list[Flowable] = [para("Not billable", "h2")]
    if not lines:
        words = (
            "Every patient on the month's list is billable."
            if summary.listed
            else ("No patient is on the month's list.")
        )
        return [*story, para(words)]
    story.append(
        para(
            f"{plural(len(lines), 'patient')} on the list cannot be billed for"
            f" {month_name(summary.month)}. Their minutes are shown so that no logged time"
            " goes unnoticed.",
            "small",
        )
    )
    widths = [112, 62, 96, 32, 38, 38, 147]
    rows: list[list[object]] = [
        [
            "Patient",
            "MRN",
            "Billing practitioner",
            "Total\nmin",
            "Clinical\nstaff",
            "Billing\npract.",
            "Why not billable",
        ]
    ]
    for line in lines:
        rows.append(
            [
                fit(line.name, widths[0]),
                line.mrn,
                fit(line.practitioner or "(none assigned)", widths[2]),
                line.minutes,
                line.clinical_minutes,
                line.practitioner_minutes,
                _reasons_cell(line.reason_labels),
            ]
        )
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(table_style(extra=[("ALIGN", (3, 0), (5, -1), "RIGHT")]))
    return [*story, table]


def _near_misses(summary: BillingSummary) -> list[Flowable]:
    story: list[Flowable] = [para("Close to the next code", "h2")]
    intro = (
        f"Patients who meet every other requirement and are {CLOSE_TO_NEXT_MINUTES} minutes"
        " or fewer short of a code that pays more (the extra minutes counted as clinical-staff"
        " time)."
    )
    if summary.month_over:
        intro += " The month has ended: this is for review, not for adding time after the fact."
    story.append(para(intro, "small"))
    if not summary.near_misses:
        return [
            *story,
            para(f"No patient is within {CLOSE_TO_NEXT_MINUTES} minutes of the next code."),
        ]
    widths = [112, 62, 96, 36, 58, 36, 72, 53]
    rows: list[list[object]] = [
        [
            "Patient",
            "MRN",
            "Billing practitioner",
            "Total\nmin",
            "Codes now",
            "Short\nby",
            "Next codes",
            "Would add",
        ]
    ]
    for miss in summary.near_misses:
        line = miss.line
        rows.append(
            [
                fit(line.name, widths[0]),
                line.mrn,
                fit(line.practitioner or "(none assigned)", widths[2]),
                line.minutes,
                line.codes or DASH,
                f"{miss.minutes_short} min",
                miss.next_codes,
                money(miss.extra),
            ]
        )
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        table_style(
            extra=[
                ("ALIGN", (3, 0), (3, -1), "RIGHT"),
                ("ALIGN", (5, 0), (5, -1), "RIGHT"),
                ("ALIGN", (7, 0), (7, -1), "RIGHT"),
            ]
        )
    )
    return [*story, table]


def billing_story(summary: BillingSummary) -> tuple[list[Flowable], PageFrame]:
    header, banner, closed = _status_words(summary)
    frame = PageFrame(
        practice=summary.practice,
        title=TITLE,
        month=month_name(summary.month),
        status=header,
        status_closed=closed,
        generated=f"Generated {us_datetime(summary.generated_at, summary.zone)}",
    )
    story = _first_page(summary, banner, closed)
    for section in summary.sections:
        npi = f" \u00b7 NPI {section.npi}" if section.npi else ""
        mark = SectionMark(f"Billable patients of {section.label}{npi}")
        story += [PageBreak(), mark, *_section(section)]
    story += [PageBreak(), SectionMark("Not billable"), *_not_billable(summary)]
    story += [PageBreak(), SectionMark("Close to the next code"), *_near_misses(summary)]
    return story, frame


def render_billing_summary(summary: BillingSummary, *, invariant: bool = False) -> bytes:
    """The billing summary as PDF bytes."""
    story, frame = billing_story(summary)
    return render_pdf(story, frame, pdf_title=f"{TITLE} {summary.month}", invariant=invariant)
