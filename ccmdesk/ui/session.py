"""The person at the seat, for one main window: the user menu, what they may do,
locking (by hand or when idle) and switching to someone else.

Kept out of main_window.py so that the window only asks "who is it" and
"are we locked".  Everything here is audited through the users service:
lock, unlock, sign-out (switching, quitting); sign-in audits itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox, QToolButton, QWidget

from ccmdesk.services import patient_record, users
from ccmdesk.services.access import Permission
from ccmdesk.services.users import SignedIn, SignInError
from ccmdesk.ui import fmt, signin
from ccmdesk.ui.lock import DEFAULT_LOCK_MINUTES, LOCK_AFTER_KEY, IdleWatcher, ScreenLock
from ccmdesk.ui.stopwatch import StopwatchPanel
from ccmdesk.ui.time_log_view import NOT_LOGGING_TIME
from ccmdesk.ui.users_dialog import UsersDialog

if TYPE_CHECKING:
    from ccmdesk.ui.main_window import MainWindow

#: What the screens do not offer to whom (the services refuse anyway), and why.
RULES: tuple[tuple[str, Permission, str], ...] = (
    ("toggle_action", Permission.LOG_TIME, "The stopwatch is for clinical staff and practitioners"),
    ("add_entry_action", Permission.LOG_TIME, NOT_LOGGING_TIME),
    ("reports_action", Permission.RUN_REPORTS, "Billing and month end are the office manager's"),
    (
        "database_action",
        Permission.EDIT_SETTINGS,
        "Which database this computer uses is for an administrator",
    ),
)


class SwitchUserDialog:
    """The current user's stopwatch runs and someone else is about to sign in."""

    STOP, KEEP, CANCEL = "stop", "keep", "cancel"

    @classmethod
    def ask(cls, parent: QWidget, patient: str) -> str:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Your stopwatch is running")
        box.setText(f"Your stopwatch for {patient} is running.")
        box.setInformativeText(
            "If you keep it running, it goes on timing in your name and is offered to you "
            "at your next sign-in."
        )
        stop = box.addButton("Stop it, then switch", QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton("Keep it running, switch", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        clicked = box.clickedButton()
        return cls.STOP if clicked is stop else cls.KEEP if clicked is keep else cls.CANCEL


def release_stopwatch(panel: StopwatchPanel) -> None:
    """Let go of a running stopwatch without stopping it (it stays running in the database).

    Its owner is leaving the seat: write what was typed and a last heartbeat,
    then show the panel idle.  (StopwatchPanel has no such method yet; this
    is the one place that reaches into it.)
    """
    if panel.entry is None:
        return
    panel.save_details()
    panel.beat()
    panel.entry = None
    panel.running_patient = ""
    for timer in (panel._repaint, panel._heartbeat, panel._save_typing):
        timer.stop()
    panel._close_question()
    panel.note.blockSignals(True)
    panel.note.clear()
    panel.note.blockSignals(False)
    panel.open_patient(panel.opened_id, panel.opened_name)  # shows the idle panel
    panel.running_changed.emit(False)


class UserSession(QObject):
    """Who is signed in at ``window``, what they are offered, lock and switch."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx
        self.lock_action = QAction("Lock now", window)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.switch_action = QAction("Switch user…", window)
        self.password_action = QAction("Change password…", window)
        self.users_action = QAction("Users…", window)
        self.menu = QMenu(window)
        self.menu.setToolTipsVisible(True)
        for action in (self.password_action, self.switch_action, self.lock_action):
            self.menu.addAction(action)
        self.menu.addSeparator()
        self.menu.addAction(self.users_action)
        self.button = QToolButton()
        self.button.setMenu(self.menu)
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.button.setToolTip("Change password, switch user, lock (Ctrl+L)")
        # the style's own arrow is tiny and touches the name: say "▾" in the text instead
        self.button.setStyleSheet(
            "QToolButton { padding: 2px 8px; } QToolButton::menu-indicator { image: none; }"
        )
        self.idle = IdleWatcher(self.ctx.clock, self.lock_minutes, self)
        self.screen_lock = ScreenLock(window)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.lock_action.triggered.connect(self.lock)
        self.switch_action.triggered.connect(self.switch_user)
        self.password_action.triggered.connect(self.change_password)
        self.users_action.triggered.connect(self.manage_users)
        self.idle.idle.connect(self._idle)
        self.screen_lock.unlock_requested.connect(self.unlock)
        self.screen_lock.switch_requested.connect(self.switch_user)
        self.window.stopwatch.tick.connect(self._show_running)

    def add_to_menu(self, menu: QMenu) -> None:
        """The same actions in a menu bar menu (where people look for them)."""
        menu.setToolTipsVisible(True)
        for action in (self.password_action, self.switch_action, self.lock_action):
            menu.addAction(action)
        menu.addAction(self.users_action)

    def lock_minutes(self) -> int:
        return self.ctx.setting_int(LOCK_AFTER_KEY, DEFAULT_LOCK_MINUTES)

    def start(self) -> None:
        self.idle.start()

    def stop(self) -> None:
        """The window is closing: nothing more to watch or lock."""
        self.idle.stop()

    def _idle(self) -> None:
        if self.window.isVisible():  # a closed window has nothing left to hide
            self.lock()

    @property
    def locked(self) -> bool:
        return self.screen_lock.engaged

    # -- who --------------------------------------------------------------------------

    def set_user(self, user: SignedIn | None) -> None:
        """Someone new (or the same person with fresh rights) works at this window."""
        self.ctx.user = user
        self.button.setText(f"Signed in as {user.label} ▾" if user else "Not signed in")
        self.screen_lock.set_user(user.label if user else "")
        self.apply_permissions()
        self.window.record.staff_changed()
        self.window._show_title()

    def apply_permissions(self) -> None:
        """Offer only what the signed-in person may do; the reason is in the tooltip."""
        ctx = self.ctx
        for name, permission, why in RULES:
            action = getattr(self.window, name, None)
            if isinstance(action, QAction):
                allowed = ctx.may(permission)
                action.setEnabled(allowed)
                action.setToolTip("" if allowed else why)
        administrator = ctx.may(Permission.MANAGE_USERS)
        self.users_action.setVisible(administrator)
        self.users_action.setEnabled(administrator)
        for action in (self.lock_action, self.password_action):
            action.setEnabled(ctx.user is not None)  # Switch user is always there
        stopwatch = self.window.stopwatch
        timing = ctx.may(Permission.LOG_TIME) or stopwatch.running  # may always stop their own
        stopwatch.setEnabled(timing)
        stopwatch.setToolTip("" if timing else RULES[0][2])

    # -- lock -------------------------------------------------------------------------

    def lock(self) -> None:
        """Hide everything about patients until the password is typed again."""
        if self.locked or self.ctx.user is None:
            return
        users.record_session_event(self.ctx.db, self.ctx.actor, "lock", self.ctx.clock())
        self.screen_lock.engage()
        self.screen_lock.set_switch_allowed(
            not self.screen_lock.dialogs_open,
            "A question was open when ccmdesk locked: unlock and answer it first"
            if self.screen_lock.dialogs_open
            else "",
        )
        self._show_running()
        self.window._show_title()

    def unlock(self, password: str) -> None:
        user = self.ctx.user
        if not self.locked or user is None:
            return
        try:
            fresh = users.confirm_password(self.ctx.db, user.staff_id, password, self.ctx.clock())
        except SignInError as error:
            self.screen_lock.refused(str(error))
            return
        users.record_session_event(self.ctx.db, fresh.actor, "unlock", self.ctx.clock())
        self._unlocked(fresh, restore=True)

    def _unlocked(self, user: SignedIn, restore: bool) -> None:
        self.screen_lock.release(restore)
        self.idle.start()
        self.set_user(user)

    def _show_running(self, clock_text: str = "") -> None:
        """The lock screen says the stopwatch goes on (never for whom: the screen is public)."""
        if not self.locked:
            return
        stopwatch = self.window.stopwatch
        if stopwatch.running:
            text = clock_text or fmt.clock(stopwatch.elapsed_seconds())
            self.screen_lock.set_running(f"Your stopwatch is still running: {text}")
        else:
            self.screen_lock.set_running("")

    # -- switch, password, users -------------------------------------------------------------

    def switch_user(self) -> None:
        """Someone else signs in here; the current user's stopwatch is stopped or left running."""
        old = self.ctx.user
        stopwatch = self.window.stopwatch
        choice = SwitchUserDialog.KEEP
        if stopwatch.running and not self.locked:
            choice = SwitchUserDialog.ask(self.window, stopwatch.running_patient)
            if choice == SwitchUserDialog.CANCEL:
                return
        # A locked screen names no patient: the stopwatch is left running for its owner.
        new = signin.sign_in(
            self.window,
            self.ctx.db,
            self.ctx.clock,
            None,
            login="",
            title="Switch user",
            heading="Switch user: who is signing in?",
        )
        if new is None:
            return
        if old is not None and new.staff_id == old.staff_id:
            if self.locked:  # it was them after all
                users.record_session_event(self.ctx.db, new.actor, "unlock", self.ctx.clock())
                self._unlocked(new, restore=True)
            return
        self._leave(old, stop=choice == SwitchUserDialog.STOP)
        if self.locked:
            self._unlocked(new, restore=False)
        else:
            self.set_user(new)
        self.window.statusBar().showMessage(f"Signed in as {new.label}", 8000)
        QTimer.singleShot(0, self.window.recover_timers)

    def _leave(self, old: SignedIn | None, stop: bool) -> None:
        """Finish the old user's work in their name, then sign them out."""
        window = self.window
        if window.record.has_unsaved():
            window.record.overview.save()
        window.record.care_plan.flush()
        if window.stopwatch.running:
            if stop:
                window.stopwatch.stop()
            else:
                release_stopwatch(window.stopwatch)
        if window.reports is not None:
            window.reports.close()
        if old is not None:
            users.record_session_event(self.ctx.db, old.actor, "sign_out", self.ctx.clock())

    def sign_out(self) -> None:
        """Quitting: the sign-out goes into the audit trail."""
        if self.ctx.user is not None:
            users.record_session_event(self.ctx.db, self.ctx.actor, "sign_out", self.ctx.clock())

    def change_password(self) -> None:
        if self.ctx.user is not None and signin.ChangePasswordDialog.ask(
            self.window, self.ctx.db, self.ctx.user
        ):
            self.window.statusBar().showMessage("Password changed", 5000)

    def manage_users(self) -> None:
        if not self.ctx.may(Permission.MANAGE_USERS):
            return
        if UsersDialog.ask(self.window, self.ctx):
            # names, roles, even one's own rights may have changed
            self.window.record.set_staff(patient_record.staff_choices(self.ctx.db))
            assert self.ctx.user is not None
            self.set_user(users.current_user(self.ctx.db, self.ctx.user.staff_id))
