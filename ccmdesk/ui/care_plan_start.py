"""What a patient without a care plan shows: the problem list it will start with and
the templates matching the patient's conditions, ticked, ready to merge."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.domain.care_plan import Problem
from ccmdesk.domain.care_plan_templates import TemplateMatch
from ccmdesk.domain.icd10 import format_icd10
from ccmdesk.ui.forms import problem_label


class StartPage(QWidget):
    start_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.title.setStyleSheet("font-size: 15px; font-weight: 600;")
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.templates_box = QGroupBox("Start from these templates")
        self.templates_layout = QVBoxLayout(self.templates_box)
        self.boxes: dict[str, QCheckBox] = {}
        self.start_button = QPushButton("Start care plan")
        self.start_button.setStyleSheet("padding: 6px 18px; font-weight: 600;")
        self.start_button.clicked.connect(self.start_requested)
        self.problem = problem_label()
        note = QLabel(
            "Templates bring goals, warning signs, interventions and community services for "
            "each condition, written for patients; items two templates share appear once. "
            "The plan starts as a draft: change anything, then the billing practitioner signs it."
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #444;")
        row = QHBoxLayout()
        row.addWidget(self.start_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.problems)
        layout.addWidget(self.templates_box)
        layout.addWidget(note)
        layout.addLayout(row)
        layout.addWidget(self.problem)
        layout.addStretch(1)

    def offer(
        self,
        patient: str,
        problems: list[Problem],
        matches: list[TemplateMatch],
        can_write: bool,
        why_not: str = "",
    ) -> None:
        self.title.setText(f"{patient} has no care plan yet.")
        if problems:
            lines = "".join(
                f"<li>{p.code} — {p.plain_name or p.description}</li>" for p in problems
            )
            self.problems.setText(
                f"The problem list starts with the chronic conditions on "
                f"record (Conditions tab):<ul>{lines}</ul>"
            )
        else:
            self.problems.setText(
                "No chronic condition is on record yet: add them on the Conditions tab first, "
                "or start an empty plan and list the problems by hand."
            )
        for box in self.boxes.values():
            self.templates_layout.removeWidget(box)
            box.deleteLater()
        self.boxes = {}
        for match in matches:
            codes = ", ".join(format_icd10(code) for code in match.codes)
            box = QCheckBox(f"{match.template.title}  ({codes})")
            box.setChecked(True)
            box.setToolTip("Sources: " + "; ".join(match.template.sources))
            self.boxes[match.template.key] = box
            self.templates_layout.addWidget(box)
        self.templates_box.setVisible(bool(matches))
        self.start_button.setEnabled(can_write)
        self.start_button.setToolTip(why_not if not can_write else "Creates draft version 1")
        self.problem.hide()

    def chosen(self) -> list[str]:
        """The keys of the ticked templates."""
        return [key for key, box in self.boxes.items() if box.isChecked()]
