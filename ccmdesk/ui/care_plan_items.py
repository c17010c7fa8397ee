"""One list element of a care plan (goals, medications, ...) as a table and a form.

Everything is built from the element's description in
:data:`ccmdesk.domain.care_plan.ELEMENTS` (its item class and field labels),
so goals, warning signs, medications and the rest share one widget:

* :class:`ItemTableModel` shows the items, one row each, and is the **only
  writer** of them (``setData``): the form below writes through it, so the
  table and the saved document can never disagree.  The model holds the very
  list of the editor's :class:`~ccmdesk.domain.care_plan.CarePlanContent`,
  so an edit is in the document the moment it is typed.
* :class:`ItemListEditor` puts the table above a form of every field of the
  selected item.  Problems found by :func:`~ccmdesk.domain.care_plan.validate`
  tint their row and appear under the field they name.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QItemSelectionModel,
    QModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.domain.care_plan import (
    ALLERGY_SEVERITIES,
    GOAL_STATUSES,
    SERVICE_STATUSES,
    Element,
    PlanProblem,
)
from ccmdesk.ui.forms import problem_label, show_problem
from ccmdesk.ui.table_model import Index, TitledTableModel

PROBLEM_TINT = QColor("#fde7e9")

#: Fields chosen from a list: (element, field) -> {stored value: label}.
CHOICES: dict[tuple[str, str], dict[str, str]] = {
    ("goals", "status"): GOAL_STATUSES,
    ("services", "status"): SERVICE_STATUSES,
    ("allergies", "severity"): ALLERGY_SEVERITIES,
}
#: Fields holding a date, typed as text (drafts keep whatever was typed).
DATES = frozenset({("goals", "due"), ("coordination", "last_exchange")})
#: Fields that usually hold a sentence or two.
LONG = frozenset(
    {("symptoms", "what_to_do"), ("symptoms", "call_practice"), ("symptoms", "call_911")}
)
#: Columns left out of the table (they are in the form below it).
HIDDEN_COLUMNS: dict[str, frozenset[str]] = {
    "goals": frozenset({"measure"}),
    "symptoms": frozenset({"what_to_do", "call_practice"}),
    "medications": frozenset({"prescriber", "notes"}),
}
#: Starting widths of the table's columns (the last one takes the rest).
WIDTHS: dict[str, tuple[int, ...]] = {
    "problems": (115, 230),
    "goals": (210, 0, 130, 90),
    "symptoms": (260,),
    "interventions": (230, 130),
    "medications": (150, 80, 100),
    "allergies": (160, 160),
    "services": (190, 180),
    "coordination": (160, 120, 130),
}
PLACEHOLDERS: dict[tuple[str, str], str] = {
    ("problems", "code"): "e.g. E11.9",
    ("problems", "plain_name"): "How the patient's copy names it, e.g. Type 2 diabetes",
    ("goals", "goal"): "In the patient's words, e.g. Keep my blood sugar in range",
    ("goals", "measure"): "How progress is measured, e.g. A1C blood test",
    ("goals", "target"): "e.g. A1C below 7%",
    ("goals", "due"): "MM/DD/YYYY",
    ("symptoms", "sign"): "e.g. Blood sugar below 70",
    ("symptoms", "call_practice"): "e.g. The same day",
    ("symptoms", "call_911"): "Leave empty if this never needs 911",
    ("interventions", "who"): "e.g. Care manager, Dr. Lee, pharmacist",
    ("interventions", "how_often"): "e.g. Every month",
    ("medications", "dose"): "e.g. 500 mg",
    ("medications", "route"): "e.g. By mouth",
    ("medications", "frequency"): "e.g. Twice a day",
    ("allergies", "reaction"): "e.g. Hives",
    ("services", "contact"): "Phone, address or web site",
    ("coordination", "role"): "e.g. Cardiologist, home health, pharmacy",
    ("coordination", "last_exchange"): "MM/DD/YYYY",
}


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def field_message(message: str, label: str) -> str:
    """``Goal 2 (Walk) - Target: missing`` beside the Target field reads ``Missing``."""
    _, found, what = message.partition(f" - {label}: ")
    return what[:1].upper() + what[1:] if found and what else message


class ItemTableModel(TitledTableModel):
    """The items of one list element; ``items`` is the plan's own list."""

    def __init__(self, element: Element, parent: Any = None) -> None:
        super().__init__(parent)
        assert element.item_type is not None
        self.element = element
        self.names = [name for name, _ in element.fields]
        self.labels = [label for _, label in element.fields]
        self.titles = tuple(self.labels)
        self.items: list[Any] = []
        self.problems: dict[tuple[int, str], list[str]] = {}

    def set_items(self, items: list[Any]) -> None:
        self.beginResetModel()
        self.items = items
        self.problems = {}
        self.endResetModel()

    def set_problems(self, problems: list[PlanProblem]) -> None:
        found: dict[tuple[int, str], list[str]] = {}
        for problem in problems:
            if problem.index is not None:
                found.setdefault((problem.index, problem.field or ""), []).append(problem.message)
        if found != self.problems:
            self.problems = found
            if self.items:
                last = self.index(len(self.items) - 1, len(self.names) - 1)
                self.dataChanged.emit(self.index(0, 0), last)

    def row_problems(self, row: int) -> list[str]:
        return [
            m for (r, _), messages in sorted(self.problems.items()) if r == row for m in messages
        ]

    # -- Qt's table interface -----------------------------------------------------

    def row_total(self) -> int:
        return len(self.items)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.items):
            return None
        item, name = self.items[index.row()], self.names[index.column()]
        value = str(getattr(item, name))
        if role == Qt.ItemDataRole.DisplayRole:
            choices = CHOICES.get((self.element.key, name))
            return one_line(choices.get(value, value) if choices else value)
        if role == Qt.ItemDataRole.EditRole:
            return value
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [
                f"{label}: {one_line(getattr(item, n)) or '—'}"
                for n, label in zip(self.names, self.labels, strict=True)
            ]
            return "\n".join(lines + self.row_problems(index.row()))
        if role == Qt.ItemDataRole.BackgroundRole and self.row_problems(index.row()):
            return PROBLEM_TINT
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        item, name = self.items[index.row()], self.names[index.column()]
        if getattr(item, name) == str(value):
            return False
        setattr(item, name, str(value))
        self.dataChanged.emit(index, index)
        return True

    # -- adding, removing, moving ---------------------------------------------------

    def append(self) -> int:
        row = len(self.items)
        self.beginInsertRows(QModelIndex(), row, row)
        self.items.append(self.element.item_type())  # type: ignore[misc]
        self.endInsertRows()
        return row

    def remove(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        del self.items[row]
        self.endRemoveRows()

    def move(self, row: int, to: int) -> bool:
        if not (0 <= row < len(self.items) and 0 <= to < len(self.items)) or row == to:
            return False
        # Qt counts the destination before the move: one further when moving down.
        self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), to + 1 if to > row else to)
        self.items.insert(to, self.items.pop(row))
        self.endMoveRows()
        return True


class ItemListEditor(QWidget):
    """A table of one element's items and a form for the selected one."""

    edited = Signal()

    def __init__(self, element: Element, intro: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.element = element
        self.read_only = False
        self._loading = False
        self.problems: list[PlanProblem] = []
        self.model = ItemTableModel(element, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        hidden = HIDDEN_COLUMNS.get(element.key, frozenset())
        for column, name in enumerate(self.model.names):
            self.table.setColumnHidden(column, name in hidden)
        for column, width in enumerate(WIDTHS.get(element.key, ())):
            if width:
                self.table.setColumnWidth(column, width)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.element_problem = problem_label()
        self.empty = QLabel()
        self.empty.setStyleSheet("color: #555;")

        self.add_button = QPushButton(f"Add {element.item_label.lower()}")
        self.remove_button = QPushButton("Remove")
        self.up_button = QPushButton("Move up")
        self.down_button = QPushButton("Move down")
        self.buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            self.buttons.addWidget(button)
        self.buttons.addStretch(1)

        self.form_box = QGroupBox()
        form = QFormLayout(self.form_box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.fields: dict[str, QWidget] = {}
        self.field_problems: dict[str, QLabel] = {}
        for name, label in element.fields:
            widget = self._field_widget(name)
            self.fields[name] = widget
            self.field_problems[name] = problem_label()
            column = QVBoxLayout()
            column.setSpacing(1)
            column.addWidget(widget)
            column.addWidget(self.field_problems[name])
            form.addRow(label, column)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if intro:
            note = QLabel(intro)
            note.setWordWrap(True)
            note.setStyleSheet("color: #444;")
            layout.addWidget(note)
        layout.addWidget(self.element_problem)
        layout.addWidget(self.table)
        layout.addWidget(self.empty)
        layout.addLayout(self.buttons)
        layout.addWidget(self.form_box)
        layout.addStretch(1)

        self.add_button.clicked.connect(self.add)
        self.remove_button.clicked.connect(self.remove)
        self.up_button.clicked.connect(lambda: self.move(-1))
        self.down_button.clicked.connect(lambda: self.move(1))
        self.table.selectionModel().currentRowChanged.connect(self._show_current)
        self._show_current()

    # -- building -------------------------------------------------------------------

    def _field_widget(self, name: str) -> QWidget:
        where = (self.element.key, name)
        choices = CHOICES.get(where)
        if choices is not None:
            combo = QComboBox()
            for value, label in choices.items():
                combo.addItem(label, value)
            combo.currentIndexChanged.connect(lambda _i, n=name: self._field_edited(n))
            return combo
        if where in LONG:
            box = QPlainTextEdit()
            box.setTabChangesFocus(True)
            box.setFixedHeight(48)
            box.setPlaceholderText(PLACEHOLDERS.get(where, ""))
            box.textChanged.connect(lambda n=name: self._field_edited(n))
            return box
        line = QLineEdit()
        line.setPlaceholderText(PLACEHOLDERS.get(where, ""))
        line.textEdited.connect(lambda _t, n=name: self._field_edited(n))
        return line

    def add_button_to_row(self, button: QPushButton) -> None:
        """An extra action beside Add/Remove (e.g. the problem list's "from the record")."""
        self.buttons.insertWidget(self.buttons.count() - 1, button)

    # -- loading and showing ----------------------------------------------------------

    def set_items(self, items: list[Any]) -> None:
        self.model.set_items(items)
        if items:
            self.select(0)
        self._show_current()

    def set_read_only(self, read_only: bool) -> None:
        self.read_only = read_only
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            button.setVisible(not read_only)
        for widget in self.fields.values():
            if isinstance(widget, QComboBox):
                widget.setEnabled(not read_only)
            else:
                widget.setReadOnly(read_only)  # type: ignore[attr-defined]
        self._show_current()

    def set_problems(self, problems: list[PlanProblem]) -> None:
        """Show the problems of this element: on their rows and under their fields."""
        self.problems = [p for p in problems if p.element == self.element.key]
        self.model.set_problems(self.problems)
        overall = [p.message for p in self.problems if p.index is None]
        show_problem(self.element_problem, "\n".join(overall) or None)
        self._show_field_problems()

    def current_row(self) -> int | None:
        index = self.table.selectionModel().currentIndex()
        return index.row() if index.isValid() else None

    def select(self, row: int, field: str | None = None) -> None:
        self.table.selectionModel().setCurrentIndex(
            self.model.index(row, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.scrollTo(self.model.index(row, 0))
        if field in self.fields:
            self.fields[field].setFocus()

    def _show_current(self, *_args: object) -> None:
        row = self.current_row()
        count = len(self.model.items)
        self.empty.setVisible(count == 0)
        shown = min(max(count, 3), 8)  # the table fits its rows; the form sits right below
        header = self.table.horizontalHeader().sizeHint().height()
        self.table.setFixedHeight(header + shown * 24 + 4)
        self.empty.setText(
            "None recorded."
            if self.read_only
            else f"Nothing here yet. Click “Add {self.element.item_label.lower()}”."
        )
        self.table.setVisible(count > 0)
        self.form_box.setVisible(row is not None)
        self.remove_button.setEnabled(row is not None)
        self.up_button.setEnabled(row is not None and row > 0)
        self.down_button.setEnabled(row is not None and row < count - 1)
        if row is None:
            return
        self.form_box.setTitle(f"{self.element.item_label} {row + 1} of {count}")
        item = self.model.items[row]
        self._loading = True
        for name, widget in self.fields.items():
            value = str(getattr(item, name))
            if isinstance(widget, QComboBox):
                position = widget.findData(value)
                if position < 0:  # an unknown value from an older document: keep it visible
                    widget.addItem(value, value)
                    position = widget.count() - 1
                widget.setCurrentIndex(position)
            elif isinstance(widget, QPlainTextEdit):
                if widget.toPlainText() != value:
                    widget.setPlainText(value)
            elif isinstance(widget, QLineEdit) and widget.text() != value:
                widget.setText(value)
                widget.setCursorPosition(0)  # show the start of a long sentence
        self._loading = False
        self._show_field_problems()

    def _show_field_problems(self) -> None:
        row = self.current_row()
        labels = dict(self.element.fields)
        for name, label in self.field_problems.items():
            messages = [
                field_message(p.message, labels[name])
                for p in self.problems
                if p.index == row and p.field == name
            ]
            show_problem(label, "\n".join(messages) or None)

    # -- editing -----------------------------------------------------------------------

    def _field_edited(self, name: str) -> None:
        row = self.current_row()
        if self._loading or row is None or self.read_only:
            return
        widget = self.fields[name]
        if isinstance(widget, QComboBox):
            value = widget.currentData()
        elif isinstance(widget, QPlainTextEdit):
            value = widget.toPlainText()
        else:
            value = widget.text()  # type: ignore[attr-defined]
        if self.model.setData(self.model.index(row, self.model.names.index(name)), value):
            self.edited.emit()

    def add(self) -> None:
        row = self.model.append()
        self._show_current()
        self.table.doItemsLayout()  # lay the new row out now, so it can be scrolled to
        self.select(row)
        first = self.fields[self.model.names[0]]
        first.setFocus()
        self.edited.emit()

    def remove(self) -> None:
        row = self.current_row()
        if row is None:
            return
        self.model.remove(row)
        if self.model.items:
            self.select(min(row, len(self.model.items) - 1))
        self._show_current()
        self.edited.emit()

    def move(self, step: int) -> None:
        row = self.current_row()
        if row is not None and self.model.move(row, row + step):
            self.select(row + step)
            self.edited.emit()
