"""The time-log PDF (``ccmdesk timelog MRN --month YYYY-MM --pdf FILE``).

Laid out for an auditor reading top to bottom: who the patient is and what
was billed, whether each Medicare requirement was on record, then every
entry with what counted, the overlaps counted once, the arithmetic from
logged time to billed minutes, and every later change to an entry.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Paragraph, Spacer, Table

from ccmdesk.reports.common import (
    BOLD,
    CLOSED,
    CONTENT_WIDTH,
    DASH,
    HEADER_FILL,
    MUTED,
    STYLES,
    WARN,
    PageFrame,
    duration,
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
from ccmdesk.reports.timelog import ConsentLine, LogEntry, TimeLog

TITLE = "CCM time log"
TOLD = ("CCM is available", "cost sharing applies", "may stop at any time", "one practitioner")


def _status(log: TimeLog) -> tuple[str, str, bool]:
    status, zone, name = log.status, log.zone, month_name(log.month)
    if status.closed and status.closed_at:
        who = f" by {status.closed_by}" if status.closed_by else ""
        when = us_datetime(status.closed_at, zone)
        return (
            f"Month closed {when}{who}",
            f"{name} is closed (closed on {when}{who}): these entries can no longer change.",
            True,
        )
    if not log.month_over:
        return (
            "Month in progress",
            f"{name} is not over yet: more time may be logged.",
            False,
        )
    text = f"{name} is open: its entries can still be added or changed until it is closed."
    if status.reopened_at:
        who = f" by {status.reopened_by}" if status.reopened_by else ""
        text += (
            f" It was reopened on {us_datetime(status.reopened_at, zone)}{who}"
            f" (reason: {status.reopen_reason})."
        )
    return "Month open", text, False


def heading(text: str, style: str = "h3", room: float = 110) -> list[Flowable]:
    """A heading that never sits alone at the foot of a page."""
    return [CondPageBreak(room), para(text, style)]


def _pairs(rows: list[tuple[str, str]], width: float) -> Table:
    """A two-column "label: value" box."""
    label_w = 92
    table = Table(
        [[label, fit(value, width - label_w)] for label, value in rows],
        colWidths=[label_w, width - label_w],
        hAlign="LEFT",
    )
    table.setStyle(
        table_style(
            header_rows=0,
            stripes=False,
            extra=[
                ("FONT", (0, 0), (0, -1), BOLD, 8),
                ("TEXTCOLOR", (0, 0), (0, -1), MUTED),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, HEADER_FILL),
            ],
        )
    )
    return table


def _identity(log: TimeLog) -> Table:
    half = (CONTENT_WIDTH - 14) / 2
    patient = [
        ("Patient", log.patient_name),
        ("Date of birth", us_date(log.dob)),
        ("Sex", log.sex or DASH),
        ("MRN", log.mrn),
        ("MBI", log.mbi or "none on record"),
        ("Medicare Part B", "Yes" if log.part_b else "No"),
    ]
    result = "billable" if log.billable else "not billable"
    billing = [
        ("Billing practitioner", log.practitioner or "none assigned"),
        ("Practitioner NPI", log.practitioner_npi or DASH),
        ("Complex month", "Yes, flagged by the practitioner" if log.complex_month else "No"),
        ("Countable minutes", f"{log.minutes} ({result})"),
        ("Codes", log.codes or "none"),
        ("Estimated amount", money(log.amount)),
    ]
    table = Table([[_pairs(patient, half), _pairs(billing, half)]], colWidths=[half + 14, half])
    table.setStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    return table


def _consent_text(consent: ConsentLine | None) -> str:
    if consent is None:
        return "none on file"
    by = f", obtained by {consent.obtained_by}" if consent.obtained_by else ""
    return f"{us_date(consent.consent_date)}, {consent.method}{by}"


def _requirement_detail(log: TimeLog, reason: str) -> str:
    active = [c for c in log.conditions if c.chronic and c.active]
    visit = log.visits[-1] if log.visits else None
    consent = log.consent_applied
    details = {
        "no_part_b": "Part B on record" if log.part_b else "no Part B on record",
        "no_billing_practitioner": log.practitioner or "none assigned",
        "fewer_than_two_chronic_conditions": f"{plural(len(active), 'active chronic condition')}"
        + (f": {', '.join(c.code for c in active)}" if active else ""),
        "no_consent": _consent_text(consent),
        "opted_out": (
            f"opt-out recorded {us_date(consent.opt_out_date)}; it takes effect at the end of"
            f" {consent.opt_out_date:%B %Y}"
            if consent and consent.opt_out_date
            else "no opt-out on record"
        ),
        "no_initiating_visit": (
            f"{us_date(visit.visit_date)}, {visit.kind}" if visit else "none on record"
        ),
        "no_care_plan": (
            f"established {us_date(log.care_plan_date)}" if log.care_plan_date else "none on record"
        ),
        "under_threshold": f"{log.minutes} countable minutes",
    }
    return details[reason]


def _requirements(log: TimeLog) -> list[Flowable]:
    rows: list[list[object]] = [["Requirement", "Met", "On record"]]
    for item in log.requirements:
        rows.append(
            [
                item.label,
                "Yes" if item.met else "NO",
                fit(_requirement_detail(log, item.reason), 215),
            ]
        )
    table = Table(rows, colWidths=[CONTENT_WIDTH - 250, 35, 215], repeatRows=1)
    extra = [("FONT", (1, 1), (1, -1), BOLD, 8)]
    for index, item in enumerate(log.requirements, start=1):
        extra.append(("TEXTCOLOR", (1, index), (1, index), CLOSED if item.met else WARN))
    table.setStyle(table_style(extra=extra))
    words = (
        f"Billable: {log.codes} (estimated {money(log.amount)})"
        if log.billable
        else "Not billable: " + "; ".join(log.reason_labels)
    )
    return [
        *heading(f"Requirements for {month_name(log.month)}", "h2", 160),
        table,
        Spacer(1, 3),
        para(words, "banner"),
    ]


def _conditions(log: TimeLog) -> list[Flowable]:
    story: list[Flowable] = heading("Conditions on record")
    if not log.conditions:
        return [*story, para("No conditions on record.")]
    rows: list[list[object]] = [
        [
            "ICD-10-CM",
            "Description",
            "Chronic",
            "Onset",
            "Resolved",
            f"Active in {log.month.first_day:%B}",
        ]
    ]
    for c in log.conditions:
        rows.append(
            [
                c.code,
                fit(c.description or DASH, 230),
                "Yes" if c.chronic else "No",
                us_date(c.onset),
                us_date(c.resolved),
                "Yes" if c.active else "No",
            ]
        )
    table = Table(rows, colWidths=[58, CONTENT_WIDTH - 290, 46, 58, 58, 70], repeatRows=1)
    table.setStyle(table_style())
    return [*story, table]


def _consents(log: TimeLog) -> list[Flowable]:
    story: list[Flowable] = heading("Consent")
    if not log.consents:
        return [*story, para("No consent on record.")]
    rows: list[list[object]] = [["Date", "Method", "Obtained by", "Patient was told", "Opt-out"]]
    for c in log.consents:
        told = [t for t, yes in zip(TOLD, c.told, strict=True) if yes]
        told_text = (
            "all four points" if len(told) == 4 else ("; ".join(told) if told else "not recorded")
        )
        if c.declined:
            told_text = "DECLINED CCM"
        rows.append(
            [
                us_date(c.consent_date),
                c.method.capitalize(),
                fit(c.obtained_by or DASH, 110),
                fit(told_text, 175),
                us_date(c.opt_out_date),
            ]
        )
    table = Table(rows, colWidths=[58, 50, 110, 175, CONTENT_WIDTH - 393], repeatRows=1)
    table.setStyle(table_style())
    note = para(
        "The four points: CCM is available; cost sharing (Part B coinsurance and deductible)"
        " applies; the patient may stop at any time, effective at the end of the month; only"
        " one practitioner can furnish and be paid for CCM in a month. An imported consent is"
        " taken as having covered them.",
        "note",
    )
    return [*story, table, Spacer(1, 2), note]


def _visits_and_plan(log: TimeLog) -> list[Flowable]:
    story: list[Flowable] = heading("Initiating visit and care plan")
    rows: list[tuple[str, str]] = []
    for visit in log.visits:
        by = f", {visit.practitioner}" if visit.practitioner else ""
        rows.append(("Initiating visit", f"{us_date(visit.visit_date)}: {visit.kind}{by}"))
    if not log.visits:
        rows.append(("Initiating visit", "none on record"))
    rows.append(
        (
            "Care plan",
            f"established {us_date(log.care_plan_date)}"
            if log.care_plan_date
            else "none on record",
        )
    )
    for plan in log.care_plans:
        signed = (
            f"signed by {plan.signed_by} on {us_date(plan.signed_at.astimezone(log.zone).date())}"
            if plan.signed_at
            else "not signed"
        )
        copies = f"; copy given {', '.join(plan.copies)}" if plan.copies else "; no copy recorded"
        created = us_date(plan.created.astimezone(log.zone).date())
        rows.append((f"Version {plan.number}", f"written {created}, {signed}{copies}"))
    return [*story, _pairs(rows, CONTENT_WIDTH)]


# -- the entries ---------------------------------------------------------------------

ENTRY_WIDTHS = [18, 50, 90, 34, 40, 88, 40, 0]
ENTRY_WIDTHS[-1] = CONTENT_WIDTH - sum(ENTRY_WIDTHS)


def _times(entry: LogEntry, log: TimeLog, show_zone: bool) -> str:
    start = entry.start.astimezone(log.zone)
    text = start.strftime("%H:%M:%S")
    if entry.end is None:
        return f"{text}\u2013(running)"
    end = entry.end.astimezone(log.zone)
    text += f"\u2013{end.strftime('%H:%M:%S')}"
    if show_zone:
        text += f" {start:%Z}"
    if end.date() != start.date():
        text += f"\n(ends {end:%m/%d})"
    return text


def _what(entry: LogEntry) -> Paragraph:
    """Activity, note and (when it does not count in full) why, in one cell."""
    text = f"<b>{escape(entry.activity)}</b>"
    text += f"<br/>{escape(entry.note)}" if entry.note else "<br/><i>(no note)</i>"
    if entry.remark:
        colour = "#8a1c1c" if entry.counted_seconds == 0 else "#7a4b00"
        text += f'<br/><font color="{colour}"><b>{escape(entry.remark)}</b></font>'
    if entry.overlaps_with:
        others = ", ".join(f"#{n}" for n in entry.overlaps_with)
        text += f'<br/><font color="#7a4b00"><b>Shares time with {others}: counted once</b></font>'
    return Paragraph(text, STYLES["cell"])


def _entry_rows(log: TimeLog) -> tuple[list[list[object]], list[tuple]]:
    zones = {e.start.astimezone(log.zone).strftime("%Z") for e in log.entries}
    show_zone = len(zones) > 1
    header_time = "Start\u2013end" if show_zone else f"Start\u2013end ({zones.pop()})"
    rows: list[list[object]] = [
        ["#", "Date", header_time, "Length", "Counted", "Staff", "Source", "Activity and note"]
    ]
    style: list[tuple] = []
    for entry in log.entries:
        if entry.deleted or entry.counted_seconds == 0:
            style.append(("TEXTCOLOR", (0, len(rows)), (-2, len(rows)), MUTED))
        source = entry.source + ("\nedited" if entry.edited else "")
        rows.append(
            [
                str(entry.number),
                us_date(entry.start.astimezone(log.zone).date()),
                _times(entry, log, show_zone),
                duration(entry.length_seconds) if entry.end else DASH,
                duration(entry.counted_seconds),
                fit(entry.staff, ENTRY_WIDTHS[5]),
                source,
                _what(entry),
            ]
        )
    return rows, style


def _entries(log: TimeLog) -> list[Flowable]:
    rows, extra = _entry_rows(log)
    table = Table(rows, colWidths=ENTRY_WIDTHS, repeatRows=1)
    table.setStyle(
        table_style(
            extra=[
                ("ALIGN", (3, 0), (4, -1), "RIGHT"),
                ("ALIGN", (0, 0), (0, -1), "RIGHT"),
                ("FONT", (0, 1), (0, -1), BOLD, 8),
                ("LINEBELOW", (0, 1), (-1, -1), 0.3, HEADER_FILL),
                *extra,
            ]
        )
    )
    zone = zone_name(log.zone)
    intro = (
        f"{plural(len(log.entries), 'entry', 'entries')}, in the order they started. Times are"
        f" {zone} time. Length and Counted are minutes:seconds; Counted is the part of the"
        " entry that counts toward this month's CCM time, before overlaps are merged."
        " Source: Timer (the ccmdesk stopwatch), Manual (entered by hand) or Import (from a"
        " file); \u201cedited\u201d entries were changed after they were recorded (see Changes)."
    )
    return [*heading("Time entries", "h2", 150), para(intro, "small"), table]


def _overlaps(log: TimeLog) -> list[Flowable]:
    if not log.overlaps:
        return [
            KeepTogether(
                [
                    para("Overlapping entries", "h3"),
                    para("No entries overlap: no minute is counted twice.", "small"),
                ]
            )
        ]
    rows: list[list[object]] = [["Entries", "Shared time", "Length"]]
    for o in log.overlaps:
        start, end = o.start.astimezone(log.zone), o.end.astimezone(log.zone)
        rows.append(
            [
                f"#{o.first} and #{o.second}",
                f"{us_date(start.date())} {start:%H:%M:%S}\u2013{end:%H:%M:%S} {start:%Z}",
                duration(o.seconds),
            ]
        )
    table = Table(rows, colWidths=[90, 200, 50], hAlign="LEFT")
    table.setStyle(table_style(numeric_from=2))
    return [
        *heading("Overlapping entries (counted once)"),
        para(
            "The same clock minutes are never counted twice for one patient: these entries"
            " share time, which is counted once and flagged for review.",
            "small",
        ),
        table,
    ]


def _arithmetic(log: TimeLog) -> list[Flowable]:
    not_counted = max(0, log.logged_seconds - log.counted_seconds)
    rows: list[list[object]] = [
        ["Time logged in the entries (deleted entries left out)", duration(log.logged_seconds)],
        [
            "less time that does not count this month (see the entries)",
            f"-{duration(not_counted)}",
        ],
        ["less overlapping time, counted once", f"-{duration(log.overlap_seconds)}"],
        ["Countable time", duration(log.merged_seconds)],
        ["Countable minutes (whole minutes, never rounded up)", str(log.minutes)],
        ["   of which clinical staff (overlaps merged)", str(log.clinical_minutes)],
        ["   of which the billing practitioner personally", str(log.practitioner_minutes)],
        ["Codes for the month", log.codes or "none (not billable)"],
        ["Estimated allowed amount", money(log.amount)],
    ]
    table = Table(rows, colWidths=[330, 110], hAlign="LEFT")
    table.setStyle(
        table_style(
            header_rows=0,
            numeric_from=1,
            stripes=False,
            extra=[
                ("LINEABOVE", (0, 3), (-1, 3), 0.6, MUTED),
                ("FONT", (0, 3), (-1, 4), BOLD, 8),
                ("FONT", (0, 7), (-1, 8), BOLD, 8),
                ("LINEABOVE", (0, 7), (-1, 7), 0.3, HEADER_FILL),
                ("TEXTCOLOR", (0, 5), (-1, 6), MUTED),
            ],
        )
    )
    story: list[Flowable] = [para("From logged time to billed minutes", "h3"), table]
    if not log.billable:
        story.append(para("Not billable: " + "; ".join(log.reason_labels) + ".", "banner"))
    if log.fee_note:
        story.append(para(log.fee_note, "small"))
    return [KeepTogether(story)]


def _changes(log: TimeLog) -> list[Flowable]:
    story: list[Flowable] = [para("Changes to these entries", "h3")]
    if not log.changes:
        return [
            *story,
            para("None of these entries was edited or deleted after it was recorded.", "small"),
        ]
    rows: list[list[object]] = [["Entry", "When", "Who", "Change"]]
    for change in log.changes:
        rows.append(
            [
                f"#{change.number}",
                us_datetime(change.at, log.zone),
                fit(change.who, 100),
                Paragraph(f"<b>{change.action}</b>: {escape(change.what)}", STYLES["cell"]),
            ]
        )
    table = Table(rows, colWidths=[34, 110, 100, CONTENT_WIDTH - 244], repeatRows=1)
    table.setStyle(table_style())
    intro = para("From the audit trail, with the values before and after.", "small")
    if len(rows) <= 12:  # a short list moves whole rather than leave its heading behind
        return [KeepTogether([*story, intro, table])]
    return [CondPageBreak(110), *story, intro, table]


def timelog_story(log: TimeLog) -> tuple[list[Flowable], PageFrame]:
    header, banner, closed = _status(log)
    frame = PageFrame(
        practice=log.practice,
        title=TITLE,
        month=month_name(log.month),
        status=header,
        status_closed=closed,
        generated=f"Generated {us_datetime(log.generated_at, log.zone)}",
        subject=f"{log.patient_name} \u00b7 DOB {us_date(log.dob)} \u00b7 MRN {log.mrn}"
        + (f" \u00b7 MBI {log.mbi}" if log.mbi else ""),
    )
    story: list[Flowable] = [
        para(f"{TITLE} \u2014 {month_name(log.month)}", "title"),
        para(
            f"Service month {log.month}: {us_date(log.month.first_day)} to"
            f" {us_date(log.month.last_day)}. All times are {zone_name(log.zone)} time.",
            "small",
        ),
        Spacer(1, 4),
        status_banner(banner, closed),
        Spacer(1, 8),
        _identity(log),
        *_requirements(log),
        *_conditions(log),
        *_consents(log),
        *_visits_and_plan(log),
        *_entries(log),
        *_overlaps(log),
        Spacer(1, 4),
        *_arithmetic(log),
        *_changes(log),
    ]
    return story, frame


def render_time_log(log: TimeLog, *, invariant: bool = False) -> bytes:
    """The time log as PDF bytes."""
    story, frame = timelog_story(log)
    return render_pdf(story, frame, pdf_title=f"{TITLE} {log.month}", invariant=invariant)
