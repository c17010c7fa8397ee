"""Auto-lock: an idle timer over the whole application, and the screen that hides patients.

* :class:`IdleWatcher` is an application-wide event filter: any key, click,
  wheel or mouse move in any ccmdesk window is activity.  Idleness is measured
  on the injected clock (tests move time instead of sleeping); a slow timer
  only decides when to look.
* :class:`ScreenLock` covers the main window's central widget with a
  :class:`LockScreen`, greys out the menus and toolbars, swallows every
  keyboard shortcut (a disabled menu bar does not stop them), and hides every
  other ccmdesk window until the password is given again.  A window that is
  a running dialog's ``exec()`` cannot be hidden without answering it (hiding
  one rejects it), so it is covered by a lock screen of its own instead: it
  is the window that receives input then.

Locking never touches the stopwatch: it keeps its start instant in the
database and keeps writing its heartbeat.
"""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QEvent, QObject, QRect, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.ui.context import Clock
from ccmdesk.ui.forms import problem_label, show_problem
from ccmdesk.ui.user_forms import password_field

LOCK_AFTER_KEY = "session/lock_after_minutes"
DEFAULT_LOCK_MINUTES = 10
CHECK_MS = 20_000  # how often idleness is looked at; locking is at most this late
#: Windows the lock leaves alone (its own sign-in and question dialogs).
LOCK_SAFE = "ccmdesk_lock_safe"

ACTIVITY = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)


class IdleWatcher(QObject):
    """Says ``idle`` once no one has touched ccmdesk for ``minutes()`` minutes."""

    idle = Signal()

    def __init__(self, clock: Clock, minutes: Callable[[], int], parent: QObject) -> None:
        super().__init__(parent)
        self.clock = clock
        self.minutes = minutes
        self.last_activity = clock()
        self._timer = QTimer(self, interval=CHECK_MS, timeout=self.check)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def start(self) -> None:
        self.last_activity = self.clock()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in ACTIVITY:
            self.last_activity = self.clock()
        return False

    def idle_seconds(self) -> float:
        return (self.clock() - self.last_activity).total_seconds()

    def check(self) -> None:
        if self.idle_seconds() >= max(1, self.minutes()) * 60:
            self.idle.emit()


class LockScreen(QFrame):
    """What a locked window shows: who is signed in, a password field, Switch user."""

    unlock_requested = Signal(str)
    switch_requested = Signal()

    def __init__(self, parent: QWidget, compact: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("lockscreen")
        self.setAutoFillBackground(True)
        self.setStyleSheet(
            "#lockscreen { background: #e9eef5; }"
            " #lockcard { background: white; border: 1px solid #c9d3e0; border-radius: 10px; }"
        )
        card = QFrame()
        card.setObjectName("lockcard")
        card.setFixedWidth(400 if not compact else 340)
        self.title = QLabel("ccmdesk is locked")
        self.title.setStyleSheet("font-size: 20px; font-weight: 600;")
        self.who = QLabel()  # two short lines: a wrapped label in a fixed card clips
        self.running = QLabel()
        self.running.setWordWrap(True)
        self.running.setStyleSheet("color: #1b7f3b; font-weight: 600;")
        self.running.hide()
        self.password = password_field("your password")
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setDefault(True)
        self.message = problem_label()
        self.switch_button = QPushButton("Switch user…")
        self.switch_button.setFlat(True)
        self.switch_button.setStyleSheet("color: #1f5fa8; text-align: left;")
        row = QHBoxLayout()
        row.addWidget(self.password, 1)
        row.addWidget(self.unlock_button)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(22, 18, 22, 14)
        inner.setSpacing(8)
        inner.addWidget(self.title)
        inner.addWidget(self.who)
        inner.addWidget(self.running)
        inner.addSpacing(4)
        inner.addLayout(row)
        inner.addWidget(self.message)
        inner.addWidget(self.switch_button)
        if compact:
            self.title.setText("Locked")
            self.who.hide()
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(card, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self.unlock_button.clicked.connect(self._unlock)
        self.password.returnPressed.connect(self._unlock)
        self.switch_button.clicked.connect(self.switch_requested)
        self.hide()

    def _unlock(self) -> None:
        self.unlock_requested.emit(self.password.text())

    def set_user(self, label: str) -> None:
        self.who.setText(f"Signed in as <b>{label}</b>.<br>Type your password to go on.")
        self.switch_button.setText(f"Not {label.split(',')[0]}? Switch user…")

    def set_running(self, text: str) -> None:
        self.running.setText(text)
        self.running.setVisible(bool(text))

    def refused(self, message: str) -> None:
        show_problem(self.message, message)
        self.password.clear()
        self.password.setFocus()

    def reset(self) -> None:
        show_problem(self.message, None)
        self.password.clear()


class ScreenLock(QObject):
    """Covers one main window and hides its companions; ``release()`` puts them back."""

    unlock_requested = Signal(str)
    switch_requested = Signal()

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.screen = self._screen(window, compact=False)
        self.engaged = False
        self.user_label = ""
        self.hidden: list[QWidget] = []
        self.curtains: dict[QWidget, LockScreen] = {}

    def _screen(self, parent: QWidget, compact: bool) -> LockScreen:
        screen = LockScreen(parent, compact)
        screen.unlock_requested.connect(self.unlock_requested)
        screen.switch_requested.connect(self.switch_requested)
        return screen

    @property
    def screens(self) -> list[LockScreen]:
        return [self.screen, *self.curtains.values()]

    def engage(self) -> None:
        if self.engaged:
            return
        self.engaged = True
        popup = QApplication.activePopupWidget()
        if popup is not None:
            popup.close()
        self._cover_central()
        self.window.menuBar().setEnabled(False)
        for bar in self.window.findChildren(QToolBar):
            bar.setEnabled(False)
        self.window.statusBar().clearMessage()
        for widget in QApplication.topLevelWidgets():
            if widget.isVisible():
                self._put_away(widget)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self._focus()

    def release(self, restore: bool = True) -> None:
        """Uncover; with ``restore`` the hidden windows come back (not after Switch user)."""
        if not self.engaged:
            return
        self.engaged = False
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        for screen in self.curtains.values():
            screen.deleteLater()
        self.curtains.clear()
        self.screen.hide()
        self.screen.reset()
        central = self.window.centralWidget()
        if central is not None:
            central.removeEventFilter(self)
            central.setEnabled(True)
        self.window.menuBar().setEnabled(True)
        for bar in self.window.findChildren(QToolBar):
            bar.setEnabled(True)
        hidden, self.hidden = self.hidden, []
        for widget in hidden:
            if restore:
                widget.show()
            else:
                widget.close()

    def refused(self, message: str) -> None:
        for screen in self.screens:
            screen.refused(message)

    def set_user(self, label: str) -> None:
        self.user_label = label
        for screen in self.screens:
            screen.set_user(label)

    def set_running(self, text: str) -> None:
        self.screen.set_running(text)

    def set_switch_allowed(self, allowed: bool, why: str = "") -> None:
        for screen in self.screens:
            screen.switch_button.setEnabled(allowed)
            screen.switch_button.setToolTip(why)

    @property
    def dialogs_open(self) -> bool:
        """A dialog was in the middle of a question when the lock came."""
        return bool(self.curtains)

    # -- covering -------------------------------------------------------------------

    def _cover_central(self) -> None:
        central = self.window.centralWidget()
        if central is not None:
            central.installEventFilter(self)
            central.setEnabled(False)  # no focus, no typing into what cannot be seen
            self.screen.setGeometry(central.geometry())
        else:
            self.screen.setGeometry(self.window.rect())
        self.screen.show()
        self.screen.raise_()

    def _put_away(self, widget: QWidget) -> None:
        if widget is self.window or widget.property(LOCK_SAFE) or widget in self.hidden:
            return
        if widget.windowType() in (Qt.WindowType.ToolTip, Qt.WindowType.Popup):
            widget.hide()
        elif widget.windowModality() == Qt.WindowModality.ApplicationModal:
            self._curtain(widget)  # exec() runs: hiding it would answer it
        else:
            widget.hide()
            self.hidden.append(widget)

    def _put_away_late(self, widget: QWidget) -> None:
        if self.engaged and shiboken6.isValid(widget) and widget.isVisible():
            self._put_away(widget)

    def _curtain(self, widget: QWidget) -> None:
        if widget in self.curtains:
            return
        screen = self._screen(widget, compact=True)
        self.curtains[widget] = screen
        widget.resize(max(widget.width(), 380), max(widget.height(), 230))
        widget.installEventFilter(self)
        screen.set_user(self.user_label)
        screen.setGeometry(QRect(0, 0, widget.width(), widget.height()))
        screen.show()
        screen.raise_()
        screen.password.setFocus()

    def _focus(self) -> None:
        target = next(iter(self.curtains.values()), self.screen)
        target.password.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Shortcut and self.engaged:
            # Menu shortcuts (Ctrl+T stops the stopwatch, Ctrl+E opens month end) fire even
            # from a disabled menu bar: swallow them all, except in the lock's own dialogs.
            active = QApplication.activeWindow()
            return not (active is not None and active.property(LOCK_SAFE))
        if kind == QEvent.Type.Resize:
            central = self.window.centralWidget()
            if watched is central and central is not None:
                self.screen.setGeometry(central.geometry())
            elif watched in self.curtains:
                assert isinstance(watched, QWidget)
                self.curtains[watched].setGeometry(QRect(0, 0, watched.width(), watched.height()))
        elif (
            kind == QEvent.Type.Show
            and self.engaged
            and isinstance(watched, QWidget)
            and watched.isWindow()
            and watched is not self.window
        ):
            # something opened while locked (a message, "still on the call?")
            QTimer.singleShot(0, lambda w=watched: self._put_away_late(w))
        return False
