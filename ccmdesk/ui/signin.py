"""Sign-in: the dialog at start (and for Switch user), and the forced password change.

The dialogs call the users service themselves, so a wrong password is
answered in place (the service's message shown as it is) and the dialog
returns only a person who is signed in.  Each has an ``ask()`` class method
that tests replace.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.services import users
from ccmdesk.services.users import SignedIn, SignInError, UserError
from ccmdesk.storage.database import Database
from ccmdesk.ui.context import Clock, system_clock
from ccmdesk.ui.forms import problem_label, show_problem
from ccmdesk.ui.lock import LOCK_SAFE
from ccmdesk.ui.user_forms import FieldProblems, PasswordPair, password_field, with_problem

LAST_LOGIN_KEY = "user/last_login"
HINT_STYLE = (
    "background: #fff8e1; border: 1px solid #e0c97a; border-radius: 6px; padding: 8px;"
    " color: #5d4a00;"
)


@dataclass(frozen=True)
class SignInResult:
    user: SignedIn
    login: str
    #: Kept only long enough to replace a temporary password without typing it twice.
    password: str


class SignInDialog(QDialog):
    """User name and password; a refusal (wrong password, locked) shown as the service words it."""

    def __init__(
        self,
        parent: QWidget | None,
        db: Database,
        clock: Clock = system_clock,
        *,
        login: str = "",
        heading: str = "",
        hint: str = "",
        title: str = "Sign in",
        cancel_text: str = "Cancel",
    ) -> None:
        super().__init__(parent)
        self.db, self.clock = db, clock
        self.result_value: SignInResult | None = None
        self.setProperty(LOCK_SAFE, True)  # may be opened from the lock screen
        self.setWindowTitle(f"{title} — ccmdesk")
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        self.heading = QLabel(heading or "Sign in to ccmdesk")
        self.heading.setStyleSheet("font-size: 16px; font-weight: 600;")
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        form = QFormLayout()
        self.login = QLineEdit(login)
        self.login.setPlaceholderText("your user name")
        self.password = password_field()
        self.message = problem_label()
        form.addRow("User name", self.login)
        form.addRow("Password", with_problem(self.password, self.message))
        layout.addLayout(form)
        self.hint = QLabel(hint)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(HINT_STYLE)
        self.hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint.setVisible(bool(hint))
        layout.addWidget(self.hint)
        buttons = QDialogButtonBox()
        self.sign_in_button = buttons.addButton("Sign in", QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_in_button.setDefault(True)
        buttons.addButton(cancel_text, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.try_sign_in)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        (self.password if login else self.login).setFocus()

    def try_sign_in(self) -> None:
        login = self.login.text().strip()
        if not login:
            show_problem(self.message, "type your user name first")
            self.login.setFocus()
            return
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # hashing takes ~0.15 s
        try:
            user = users.sign_in(self.db, login, self.password.text(), now=self.clock())
        except SignInError as error:
            show_problem(self.message, str(error))
            self.password.clear()
            self.password.setFocus()
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.result_value = SignInResult(user, login, self.password.text())
        self.accept()

    @classmethod
    def ask(
        cls,
        parent: QWidget | None,
        db: Database,
        clock: Clock = system_clock,
        **options: str,
    ) -> SignInResult | None:
        dialog = cls(parent, db, clock, **options)
        return dialog.result_value if dialog.exec() == QDialog.DialogCode.Accepted else None


class ChangePasswordDialog(QDialog):
    """The signed-in person replaces their password (forced after an administrator's reset)."""

    def __init__(
        self, parent: QWidget | None, db: Database, user: SignedIn, current: str | None = None
    ) -> None:
        super().__init__(parent)
        self.db, self.user, self.current = db, user, current
        forced = current is not None
        self.setProperty(LOCK_SAFE, True)
        self.setWindowTitle("Choose a new password" if forced else "Change password")
        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)
        heading = QLabel(
            f"{user.label}: an administrator gave you a temporary password. Choose your own "
            "before you continue; only you should know it."
            if forced
            else f"Change the password of {user.label}."
        )
        heading.setWordWrap(True)
        layout.addWidget(heading)
        self.problems = FieldProblems()
        form = QFormLayout()
        self.old = password_field()
        if not forced:
            form.addRow(
                "Current password", with_problem(self.old, self.problems.label("old_password"))
            )
        self.new = PasswordPair(self.problems)
        self.new.add_to(form, "New password")
        layout.addLayout(form)
        layout.addWidget(self.problems.general)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def save(self) -> None:
        self.problems.clear()
        old = self.current if self.current is not None else self.old.text()
        try:
            users.change_password(self.db, self.user.staff_id, old, self.new.value())
        except UserError as error:
            self.problems.show(error.field, str(error))
            return
        self.accept()

    @classmethod
    def ask(
        cls, parent: QWidget | None, db: Database, user: SignedIn, current: str | None = None
    ) -> bool:
        return cls(parent, db, user, current).exec() == QDialog.DialogCode.Accepted


def sign_in(
    parent: QWidget | None,
    db: Database,
    clock: Clock = system_clock,
    settings: QSettings | None = None,
    **options: str,
) -> SignedIn | None:
    """Ask for a user name and password; a temporary password is replaced before anything else.

    Remembers the user name on this computer (never the password).  Someone
    who will not choose a new password is signed out again.
    """
    last = str(settings.value(LAST_LOGIN_KEY, "") or "") if settings is not None else ""
    options.setdefault("login", last)
    options.setdefault("hint", users.sign_in_hint(db))
    result = SignInDialog.ask(parent, db, clock, **options)
    if result is None:
        return None
    user = result.user
    if user.must_change_password:
        if not ChangePasswordDialog.ask(parent, db, user, current=result.password):
            users.record_session_event(db, user.actor, "sign_out", clock())
            return None
        user = dataclasses.replace(user, must_change_password=False)
    if settings is not None:
        settings.setValue(LAST_LOGIN_KEY, result.login)
    return user


def start_session(
    parent: QWidget | None,
    db: Database,
    clock: Clock = system_clock,
    settings: QSettings | None = None,
    practice_name: str = "",
) -> SignedIn | None:
    """Who works at this seat: the first-run wizard on a new practice, else sign-in."""
    from ccmdesk.ui.first_run import FirstRunWizard

    if users.needs_first_run(db):
        return FirstRunWizard.ask(parent, db, clock)
    heading = f"Sign in to {practice_name}" if practice_name else "Sign in to ccmdesk"
    return sign_in(parent, db, clock, settings, heading=heading, cancel_text="Quit")
