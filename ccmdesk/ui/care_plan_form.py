"""Every element of a care plan (SPEC §1.5) on one form: sections on the left, the
chosen section on the right.

The form edits a :class:`~ccmdesk.domain.care_plan.CarePlanContent` in place
and says ``edited`` after every change; it never saves (the editor does, see
:mod:`ccmdesk.ui.care_plan_editor`).  Problems from
:func:`~ccmdesk.domain.care_plan.validate` are shown where they belong: the
section is marked, the row tinted and the message put under the field named
by the problem's path (``goals[1].target``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.domain.care_plan import (
    ELEMENT_BY_KEY,
    LIST_ELEMENTS,
    CarePlanContent,
    PlanProblem,
    Problem,
    identity,
    parse_date,
)
from ccmdesk.domain.care_plan_templates import add_months
from ccmdesk.ui.care_plan_items import ItemListEditor
from ccmdesk.ui.forms import problem_label, show_problem

#: (section title, the elements on its page) in the order a nurse goes through them.
SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Problems", ("problems",)),
    ("Outlook", ("expected_outcome", "prognosis")),
    ("Goals", ("goals",)),
    ("Warning signs", ("symptoms",)),
    ("Interventions", ("interventions",)),
    ("Medications", ("medications",)),
    ("Allergies", ("allergies", "no_known_allergies")),
    ("Services", ("services",)),
    ("Other providers", ("coordination",)),
    ("Patient's goals", ("patient_goals", "preferences")),
    ("Caregiver", ("caregiver",)),
    ("Review", ("next_review",)),
)
INTROS = {
    "problems": "The patient's chronic conditions, coded in ICD-10-CM. The plain name is "
    "what the patient's copy shows.",
    "goals": "Measurable goals: what, how it is measured, the target, when it is due and "
    "how it is going.",
    "symptoms": "Symptoms and warning signs: what the patient should do, and when to call "
    "the practice or 911.",
    "interventions": "What the care team will do, who is responsible and how often.",
    "medications": "Every medicine the patient takes, including over-the-counter ones.",
    "allergies": "Allergies and reactions (medicines, foods, anything else).",
    "services": "Community and social services (meals, rides, support groups) and where "
    "each referral stands.",
    "coordination": "Specialists, home health, pharmacy and agencies the practice works "
    "with, and the last time information was exchanged.",
}
TEXTS = {
    "expected_outcome": ("Expected outcome", "What you expect with treatment, in plain words"),
    "prognosis": ("Prognosis", "e.g. Good: expected to stay stable with treatment"),
    "patient_goals": ("The patient's own goals", "In the patient's words: what matters to them"),
    "preferences": (
        "Preferences",
        "Language, best time to call, how they like to get information, wishes about care",
    ),
}
CAREGIVER = ELEMENT_BY_KEY["caregiver"].fields
READ_ONLY_STYLE = (
    'QLineEdit[readOnly="true"], QPlainTextEdit[readOnly="true"] { background: #e9ebee; }'
)


def _scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(widget)
    return area


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setStyleSheet("color: #444;")
    return label


class PlanForm(QWidget):
    edited = Signal()

    def __init__(self, today: Callable[[], dt.date], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.today = today
        self.content = CarePlanContent()
        self.conditions: list[Problem] = []
        self.read_only = False
        self._read_only_shown = False
        self._loading = False
        self.lists: dict[str, ItemListEditor] = {}
        self.texts: dict[str, QLineEdit | QPlainTextEdit] = {}  # by path: caregiver.name
        self.text_problems: dict[str, QLabel] = {}  # by element key
        self.section_problems: list[int] = [0] * len(SECTIONS)

        self.sections = QListWidget()
        self.sections.setMinimumWidth(130)
        self.sections.setMaximumWidth(170)
        self.sections.setIconSize(QSize(14, 14))
        self.sections.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sections.setStyleSheet("QListWidget::item { padding: 3px 2px; }")
        self.pages = QStackedWidget()
        for title, keys in SECTIONS:
            self.sections.addItem(QListWidgetItem(title))
            self.pages.addWidget(_scrolled(self._page(keys)))
        self.sections.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.sections.setCurrentRow(0)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.sections)
        splitter.addWidget(self.pages)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([140, 600])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.setStyleSheet(READ_ONLY_STYLE)

    # -- pages -----------------------------------------------------------------------

    def _page(self, keys: tuple[str, ...]) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(6, 2, 6, 2)
        first = keys[0]
        if ELEMENT_BY_KEY[first].item_type is not None:
            intro = INTROS.get(first, "")
            if first == "allergies":  # the tick box goes between the words and the list
                layout.addWidget(_note(intro))
                self.no_allergies = QCheckBox("No known allergies")
                self.no_allergies.toggled.connect(self._no_allergies_toggled)
                layout.addWidget(self.no_allergies)
                intro = ""
            editor = ItemListEditor(ELEMENT_BY_KEY[first], intro)
            editor.edited.connect(self._list_edited)
            self.lists[first] = editor
            if first == "problems":
                self.from_record = QPushButton("Add conditions from the record")
                self.from_record.setToolTip(
                    "Adds the patient's chronic conditions (Conditions tab) not listed yet"
                )
                self.from_record.clicked.connect(self.add_conditions)
                editor.add_button_to_row(self.from_record)
            layout.addWidget(editor, 1)
            return page
        if first == "caregiver":
            self._caregiver_page(layout)
            return page
        if first == "next_review":
            self._review_page(layout)
            return page
        for key in keys:
            title, hint = TEXTS[key]
            box = QPlainTextEdit()
            box.setTabChangesFocus(True)
            box.setPlaceholderText(hint)
            box.setMinimumHeight(110)
            box.textChanged.connect(lambda k=key: self._text_edited(k))
            heading = QLabel(title)
            heading.setStyleSheet("font-weight: 600;")
            self.texts[key] = box
            self.text_problems[key] = problem_label()
            layout.addWidget(heading)
            layout.addWidget(box, 1)
            layout.addWidget(self.text_problems[key])
        return page

    def _caregiver_page(self, layout: QVBoxLayout) -> None:
        layout.addWidget(
            _note("The person who helps the patient at home. Leave empty if there is none.")
        )
        self.text_problems["caregiver"] = problem_label()
        layout.addWidget(self.text_problems["caregiver"])
        form = QFormLayout()
        for name, label in CAREGIVER:
            line = QLineEdit()
            line.textEdited.connect(lambda _t, p=f"caregiver.{name}": self._text_edited(p))
            self.texts[f"caregiver.{name}"] = line
            form.addRow(label, line)
        self.texts["caregiver.relationship"].setPlaceholderText("e.g. Daughter")
        self.texts["caregiver.helps_with"].setPlaceholderText("e.g. Rides, medicines, meals")
        layout.addLayout(form)
        layout.addStretch(1)

    def _review_page(self, layout: QVBoxLayout) -> None:
        layout.addWidget(
            _note(
                "When the plan will next be reviewed with the patient (at least once a year). "
                "The patient list's “Care plan review due” filter uses this date."
            )
        )
        line = QLineEdit()
        line.setPlaceholderText("MM/DD/YYYY")
        line.setMaximumWidth(160)
        line.textEdited.connect(lambda _t: self._text_edited("next_review"))
        self.texts["next_review"] = line
        self.review_buttons: list[QPushButton] = []
        row = QHBoxLayout()
        row.addWidget(QLabel("Next review date"))
        row.addWidget(line)
        for months in (3, 6, 12):
            button = QPushButton(f"In {months} months")
            button.clicked.connect(lambda _c=False, m=months: self.review_in(m))
            self.review_buttons.append(button)
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        self.review_hint = QLabel()
        self.review_hint.setStyleSheet("color: #1d2733;")
        layout.addWidget(self.review_hint)
        self.text_problems["next_review"] = problem_label()
        layout.addWidget(self.text_problems["next_review"])
        layout.addStretch(1)

    # -- loading ---------------------------------------------------------------------

    def set_content(self, content: CarePlanContent) -> None:
        """Edit ``content`` (in place) from now on."""
        self._loading = True
        self.content = content
        for element in LIST_ELEMENTS:
            self.lists[element.key].set_items(getattr(content, element.key))
        for path, widget in self.texts.items():
            value = self._value(path)
            if isinstance(widget, QPlainTextEdit):
                widget.setPlainText(value)
            else:
                widget.setText(value)
        self.no_allergies.setChecked(content.no_known_allergies)
        self._loading = False
        self._show_review_hint()
        self.set_problems([])
        self._show_counts()

    def set_conditions(self, conditions: list[Problem]) -> None:
        """The patient's chronic conditions on record, for "Add conditions from the record"."""
        self.conditions = conditions
        self._show_counts()

    def set_read_only(self, read_only: bool) -> None:
        if read_only == self.read_only and self._read_only_shown:
            return
        self._read_only_shown = True
        self.read_only = read_only
        for editor in self.lists.values():
            editor.set_read_only(read_only)
        for widget in self.texts.values():
            widget.setReadOnly(read_only)
        for widget in self.findChildren(QWidget):  # the read-only look follows the property
            if isinstance(widget, (QLineEdit, QPlainTextEdit)):
                widget.style().unpolish(widget)
                widget.style().polish(widget)
        self.no_allergies.setEnabled(not read_only)
        for button in [self.from_record, *self.review_buttons]:
            button.setVisible(not read_only)

    def _value(self, path: str) -> str:
        owner, _, name = path.rpartition(".")
        return str(getattr(self.content.caregiver if owner else self.content, name))

    # -- editing ---------------------------------------------------------------------

    def _text_edited(self, path: str) -> None:
        if self._loading or self.read_only:
            return
        widget = self.texts[path]
        value = widget.toPlainText() if isinstance(widget, QPlainTextEdit) else widget.text()
        owner, _, name = path.rpartition(".")
        setattr(self.content.caregiver if owner else self.content, name, value)
        if path == "next_review":
            self._show_review_hint()
        self.edited.emit()

    def _show_review_hint(self) -> None:
        """The review date in words, so a mistyped date shows at once."""
        day = parse_date(self.content.next_review)
        if day is None:
            self.review_hint.setText("")
            return
        days = (day - self.today()).days
        when = (
            "today"
            if days == 0
            else f"in {days} days"
            if 0 < days < 60
            else f"in about {round(days / 30.4)} months"
            if days > 0
            else f"{-days} days ago"
        )
        self.review_hint.setText(f"{day:%A, %B} {day.day}, {day.year} ({when})")

    def _no_allergies_toggled(self, checked: bool) -> None:
        if not self._loading and not self.read_only:
            self.content.no_known_allergies = checked
            self._show_counts()
            self.edited.emit()

    def _list_edited(self) -> None:
        self._show_counts()
        self.edited.emit()

    def review_in(self, months: int) -> None:
        day = add_months(self.today(), months)
        self.texts["next_review"].setText(f"{day:%m/%d/%Y}")
        self._text_edited("next_review")

    def missing_conditions(self) -> list[Problem]:
        listed = {identity(p.code.replace(".", "")) for p in self.content.problems}
        return [c for c in self.conditions if identity(c.code.replace(".", "")) not in listed]

    def add_conditions(self) -> None:
        missing = self.missing_conditions()
        if not missing or self.read_only:
            return
        editor = self.lists["problems"]
        for condition in missing:
            row = editor.model.append()
            for name in ("code", "description", "plain_name"):
                editor.model.setData(
                    editor.model.index(row, editor.model.names.index(name)),
                    getattr(condition, name),
                )
        editor.select(len(self.content.problems) - 1)
        self._list_edited()

    # -- problems ---------------------------------------------------------------------

    def set_problems(self, problems: list[PlanProblem]) -> None:
        """Put each problem beside what it names; mark the sections that have some."""
        for editor in self.lists.values():
            editor.set_problems(problems)
        for key, label in self.text_problems.items():
            messages = [p.message for p in problems if p.element == key]
            show_problem(label, "\n".join(messages) or None)
        self.section_problems = [sum(p.element in keys for p in problems) for _, keys in SECTIONS]
        self._show_counts()

    def _show_counts(self) -> None:
        warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        for row, (title, keys) in enumerate(SECTIONS):
            item = self.sections.item(row)
            text = title
            if keys[0] in self.lists:
                count = len(getattr(self.content, keys[0]))
                none_known = keys[0] == "allergies" and self.content.no_known_allergies
                text += " (NKA)" if none_known and not count else f" ({count})"
            problems = self.section_problems[row]
            item.setText(text)
            item.setIcon(warning if problems else QIcon())
            item.setToolTip(f"{problems} to fix" if problems else "")
            item.setForeground(Qt.GlobalColor.darkRed if problems else Qt.GlobalColor.black)
        missing = self.missing_conditions()
        self.from_record.setEnabled(bool(missing))
        if missing:
            codes = ", ".join(c.code for c in missing)
            self.from_record.setToolTip(f"Adds {codes} from the patient's Conditions tab")
        else:
            self.from_record.setToolTip("Every chronic condition on record is listed")

    def go_to(self, problem: PlanProblem) -> None:
        """Show the section, row and field a problem names, and put the cursor there."""
        for row, (_, keys) in enumerate(SECTIONS):
            if problem.element in keys:
                self.sections.setCurrentRow(row)
        if problem.element in self.lists:
            editor = self.lists[problem.element]
            if problem.index is not None and problem.index < len(editor.model.items):
                editor.select(problem.index, problem.field)
            else:
                editor.add_button.setFocus()
        elif problem.element == "caregiver":
            self.texts[f"caregiver.{problem.field or 'name'}"].setFocus()
        elif problem.element in self.texts:
            self.texts[problem.element].setFocus()
