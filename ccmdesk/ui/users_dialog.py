"""Users… (administrators): the staff list with their logins, add and edit a user, and
reset a forgotten password to a temporary one the user must replace at next sign-in.

Every change goes through ``users.save_user`` / ``users.reset_password``,
which check the administrator's right again and keep the last administrator;
a refusal is shown beside the field it names.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.services import users
from ccmdesk.services.users import UserError, UserRow
from ccmdesk.ui import fmt
from ccmdesk.ui.context import AppContext
from ccmdesk.ui.forms import problem_label, show_problem
from ccmdesk.ui.table_model import Index, RowsTableModel
from ccmdesk.ui.user_forms import FieldProblems, PasswordPair, UserFields, hint

#: No 0/O, 1/l/I: a temporary password is read out over the phone.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def temporary_password() -> str:
    """Three groups of four, e.g. ``k7mq-3vtx-p2nh``: easy to say, hard to guess."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3))


class UsersModel(RowsTableModel[UserRow]):
    titles = ("Name", "Credential", "Roles", "User name", "Active", "Locked")

    def __init__(self, zone: dt.tzinfo, now: dt.datetime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.zone, self.now = zone, now

    def set_users(self, rows: list[UserRow], now: dt.datetime) -> None:
        """The list as read at ``now`` (which says who is still locked out)."""
        self.now = now
        self.set_rows(rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row, column = self.row_at(index), index.column()
        if row is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == Qt.ItemDataRole.ForegroundRole:
            if not row.active or (column == 3 and not (row.login and row.has_password)):
                return QColor("#777")
            if column == 5 and self._locked(row):
                return QColor("#b00020")
        if role == Qt.ItemDataRole.ToolTipRole and column == 3 and not row.has_password:
            return "No password yet: use Reset password to give them a temporary one."
        return None

    def _locked(self, row: UserRow) -> bool:
        return row.locked_until is not None and row.locked_until > self.now

    def _text(self, row: UserRow, column: int) -> str:
        if column == 0:
            return row.name
        if column == 1:
            return row.credential
        if column == 2:
            return row.roles
        if column == 3:
            if not row.login:
                return "— (cannot sign in)"
            return row.login if row.has_password else f"{row.login} (no password yet)"
        if column == 4:
            return "yes" if row.active else "no"
        if self._locked(row):
            assert row.locked_until is not None
            return f"until {fmt.local_time(row.locked_until, self.zone)}"
        return ""


class UserEditDialog(QDialog):
    """Add or change one user; a new user may get a temporary password at once."""

    def __init__(self, parent: QWidget, ctx: AppContext, row: UserRow | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.row = ctx, row
        self.saved_id: int | None = None
        self.setWindowTitle(f"Edit {row.name}" if row else "Add a user")
        self.setMinimumWidth(560)
        self.problems = FieldProblems()
        form = QFormLayout(self)
        self.fields = UserFields(self.problems)
        self.fields.add_to(form)
        self.password: PasswordPair | None = None
        if row is None:
            self.password = PasswordPair(self.problems)
            self.password.add_to(form, "Temporary password")
            form.addRow(
                "",
                hint(
                    "Optional. They must choose their own at their first sign-in. "
                    "Leave empty for staff who never sign in (Reset password later)."
                ),
            )
        else:
            self.fields.set_row(row)
        form.addRow(self.problems.general)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def save(self) -> None:
        self.problems.clear()
        try:
            password = self.password.value() if self.password is not None else None
            self.saved_id = users.save_user(
                self.ctx.db,
                self.row.id if self.row else None,
                self.fields.form(),
                self.ctx.actor,
                password=password or None,
                now=self.ctx.clock(),
            )
        except UserError as error:
            self.problems.show(error.field, str(error))
            return
        self.accept()

    @classmethod
    def ask(cls, parent: QWidget, ctx: AppContext, row: UserRow | None = None) -> int | None:
        dialog = cls(parent, ctx, row)
        return dialog.saved_id if dialog.exec() == QDialog.DialogCode.Accepted else None


class ResetPasswordDialog(QDialog):
    """A temporary password for someone who forgot theirs (or was locked out)."""

    def __init__(self, parent: QWidget, ctx: AppContext, row: UserRow) -> None:
        super().__init__(parent)
        self.ctx, self.row = ctx, row
        self.setWindowTitle(f"Reset the password of {row.name}")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        text = QLabel(
            f"Give {row.name} this temporary password. They must choose their own at their "
            "next sign-in; a lock-out from wrong passwords is lifted now."
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        form = QFormLayout()
        self.password = QLineEdit(temporary_password())
        self.password.setStyleSheet("font-family: monospace; font-size: 15px;")
        self.problem = problem_label()
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.password)
        column.addWidget(self.problem)
        form.addRow("Temporary password", box)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton("Reset password", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def save(self) -> None:
        try:
            users.reset_password(self.ctx.db, self.row.id, self.password.text(), self.ctx.actor)
        except UserError as error:
            show_problem(self.problem, str(error))
            return
        self.accept()

    @classmethod
    def ask(cls, parent: QWidget, ctx: AppContext, row: UserRow) -> bool:
        return cls(parent, ctx, row).exec() == QDialog.DialogCode.Accepted


class UsersDialog(QDialog):
    """The administrator's list of everyone on the staff, with or without a login."""

    def __init__(self, parent: QWidget, ctx: AppContext) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.changed = False
        self.setWindowTitle("Users")
        self.resize(900, 480)
        self.model = UsersModel(ctx.zone, ctx.clock(), self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((170, 80, 250, 150, 60)):
            self.table.setColumnWidth(column, width)
        self.add_button = QPushButton("Add user…")
        self.edit_button = QPushButton("Edit…")
        self.reset_button = QPushButton("Reset password…")
        close = QPushButton("Close")
        self.message = problem_label()
        buttons = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.reset_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(
            hint(
                "Everyone on the staff list. A user name and a password let someone sign in; "
                "office manager and administrator are added to their clinical role."
            )
        )
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self.add)
        self.edit_button.clicked.connect(self.edit)
        self.reset_button.clicked.connect(self.reset)
        self.table.doubleClicked.connect(self.edit)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        close.clicked.connect(self.accept)
        self.load()

    def load(self, select_id: int | None = None) -> None:
        try:
            rows = users.list_users(self.ctx.db, self.ctx.actor)
        except UserError as error:
            show_problem(self.message, str(error))
            rows = []
        self.model.set_users(rows, self.ctx.clock())
        for position, row in enumerate(rows):
            if row.id == select_id:
                self.table.selectRow(position)
        self._selection_changed()

    def selected(self) -> UserRow | None:
        indexes = self.table.selectionModel().selectedRows()
        return self.model.rows[indexes[0].row()] if indexes else None

    def _selection_changed(self) -> None:
        chosen = self.selected()
        self.edit_button.setEnabled(chosen is not None)
        self.reset_button.setEnabled(chosen is not None and bool(chosen.login))
        self.reset_button.setToolTip(
            "" if chosen is None or chosen.login else "Give them a user name first (Edit…)"
        )

    def add(self) -> None:
        saved = UserEditDialog.ask(self, self.ctx)
        if saved is not None:
            self.changed = True
            self.load(saved)

    def edit(self, _index: QModelIndex | None = None) -> None:
        chosen = self.selected()
        if chosen is not None and UserEditDialog.ask(self, self.ctx, chosen) is not None:
            self.changed = True
            self.load(chosen.id)

    def reset(self) -> None:
        chosen = self.selected()
        if chosen is not None and ResetPasswordDialog.ask(self, self.ctx, chosen):
            self.changed = True
            self.load(chosen.id)

    @classmethod
    def ask(cls, parent: QWidget, ctx: AppContext) -> bool:
        """Show the list; True when anything was changed (the window re-reads its staff)."""
        dialog = cls(parent, ctx)
        dialog.exec()
        return dialog.changed
