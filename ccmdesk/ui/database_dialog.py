"""File → Database…: which database this computer uses, its own file or the practice server.

The choice is a setting of this computer (``database/url`` in the local
``settings.ini``), read once at start: switching databases under an open
window would mix two practices' data on screen, so Save says it takes effect
at the next start.  The password is stored only if the user ticks "remember";
otherwise ccmdesk asks for it at start (:func:`complete_url`).  No message
ever shows a password.

"Test connection" runs off the GUI thread (a server that does not answer
takes a few seconds to say so) and reports what is there in plain words.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ccmdesk import paths
from ccmdesk.services.access import Permission
from ccmdesk.services.connectivity import (
    DEFAULT_PORT,
    ConnectionReport,
    check_connection,
    describe,
    hide_password,
    needs_password,
    server_fields,
    server_url,
    with_password,
    without_password,
)
from ccmdesk.ui.context import AppContext
from ccmdesk.ui.forms import tell
from ccmdesk.ui.tasks import TaskRunner

URL_KEY = "database/url"
#: The saved URL has no password: ask for it at start.
ASK_PASSWORD_KEY = "database/ask_password"
OK_STYLE = "color: #1b5e20;"
BAD_STYLE = "color: #b00020;"
BUSY_STYLE = "color: #555;"


def saved_url(settings: QSettings) -> str | None:
    value = settings.value(URL_KEY)
    return str(value) if value else None


def save_choice(settings: QSettings, url: str | None, remember_password: bool) -> None:
    """Store the choice (``None``: this computer's file)."""
    if url is None:
        settings.remove(URL_KEY)
        settings.remove(ASK_PASSWORD_KEY)
    else:
        fields = server_fields(url)
        has_password = bool(fields and fields.password)
        settings.setValue(URL_KEY, url if remember_password else without_password(url))
        settings.setValue(ASK_PASSWORD_KEY, has_password and not remember_password)
    settings.sync()


class DatabaseDialog(QDialog):
    def __init__(
        self,
        settings: QSettings,
        tasks: TaskRunner,
        current_url: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings, self.tasks = settings, tasks
        self.report: ConnectionReport | None = None
        self.saved: str | None = None  # what Save stored (password hidden)
        self._closed = False
        self.setWindowTitle("Database")
        self.setMinimumWidth(560)

        intro = QLabel(
            "Where this computer keeps the practice's data. A practice with several"
            " computers points every one of them at the same practice server."
        )
        intro.setWordWrap(True)
        now = QLabel(f"Now using: {describe(current_url)}" if current_url else "")
        now.setStyleSheet("color: #444;")
        now.setWordWrap(True)
        self.local = QRadioButton("This computer's file")
        self.server = QRadioButton("Practice server (PostgreSQL)")
        group = QButtonGroup(self)
        group.addButton(self.local)
        group.addButton(self.server)
        path = QLabel(str(paths.default_database_path()))
        path.setStyleSheet("color: #555; margin-left: 22px;")
        path.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.host = QLineEdit()
        self.host.setPlaceholderText("server name or address, e.g. frontdesk-pc or 192.168.1.20")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(DEFAULT_PORT)
        self.database = QLineEdit("ccmdesk")
        self.user = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("Remember the password on this computer")
        self.remember.setToolTip(
            "Otherwise ccmdesk asks for it each time it starts. A remembered password is kept"
            " in this computer's settings file."
        )
        self.fields = QWidget()
        form = QFormLayout(self.fields)
        form.setContentsMargins(22, 0, 0, 0)
        form.addRow("Server", self.host)
        form.addRow("Port", self.port)
        form.addRow("Database", self.database)
        form.addRow("User", self.user)
        form.addRow("Password", self.password)
        form.addRow("", self.remember)

        self.test_button = QPushButton("Test connection")
        self.outcome = QLabel("")
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.outcome, 1)
        later = QLabel("A new choice takes effect the next time ccmdesk starts.")
        later.setStyleSheet("color: #555;")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(now)
        layout.addSpacing(6)
        layout.addWidget(self.local)
        layout.addWidget(path)
        layout.addWidget(self.server)
        layout.addWidget(self.fields)
        layout.addLayout(test_row)
        layout.addWidget(later)
        layout.addWidget(self.buttons)

        self.server.toggled.connect(self._kind_changed)
        self.test_button.clicked.connect(self.test)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        for edit in (self.host, self.database, self.user, self.password):
            edit.textEdited.connect(self._forget_result)
        self.port.valueChanged.connect(self._forget_result)
        self._fill(saved_url(settings) or current_url)

    # -- the form --------------------------------------------------------------------

    def _fill(self, url: str) -> None:
        fields = server_fields(url) if url else None
        if fields is not None:
            self.server.setChecked(True)
            self.host.setText(fields.host)
            self.port.setValue(fields.port)
            self.database.setText(fields.database)
            self.user.setText(fields.user)
            self.password.setText(fields.password)
            self.remember.setChecked(bool(fields.password))
        else:
            self.local.setChecked(True)
        self._kind_changed()

    def _kind_changed(self) -> None:
        self.fields.setEnabled(self.server.isChecked())
        self._forget_result()

    def _forget_result(self) -> None:
        self.report = None
        self.outcome.setText("")

    def url(self) -> str:
        """The URL the form describes (with the password typed, if any)."""
        if self.local.isChecked():
            return paths.sqlite_url(paths.default_database_path())
        return server_url(
            self.host.text(),
            self.port.value(),
            self.database.text(),
            self.user.text(),
            self.password.text(),
        )

    def problem(self) -> str | None:
        if self.local.isChecked():
            return None
        for edit, name in ((self.host, "server"), (self.database, "database"), (self.user, "user")):
            if not edit.text().strip():
                edit.setFocus()
                return f"Fill in the {name}."
        return None

    # -- test and save -----------------------------------------------------------------

    def test(self) -> None:
        problem = self.problem()
        if problem:
            self._show(problem, BAD_STYLE)
            return
        url = self.url()
        self.test_button.setEnabled(False)
        self._show("Connecting…", BUSY_STYLE)
        self.tasks.run(
            lambda: check_connection(url), self._tested, self._test_failed, key="db-test"
        )

    def _tested(self, report: ConnectionReport) -> None:
        if self._closed:
            return
        self.report = report
        self.test_button.setEnabled(True)
        self._show(report.message, OK_STYLE if report.ok else BAD_STYLE)

    def _test_failed(self, error: Exception) -> None:
        if self._closed:
            return
        self.test_button.setEnabled(True)
        self._show(f"The test itself failed: {type(error).__name__}", BAD_STYLE)

    def _show(self, text: str, style: str) -> None:
        self.outcome.setStyleSheet(style)
        self.outcome.setText(text)

    def save(self) -> None:
        problem = self.problem()
        if problem:
            self._show(problem, BAD_STYLE)
            return
        if self.local.isChecked():
            save_choice(self.settings, None, False)
        else:
            save_choice(self.settings, self.url(), self.remember.isChecked())
        self.saved = hide_password(self.url())
        self.accept()

    def done(self, result: int) -> None:
        self._closed = True
        super().done(result)

    # -- opening it ----------------------------------------------------------------------

    @classmethod
    def ask(cls, parent: QWidget, ctx: AppContext) -> str | None:
        """Open the dialog for an administrator; the URL saved (password hidden), or None."""
        if not ctx.may(Permission.EDIT_SETTINGS):
            tell(parent, "Database", "Which database this computer uses is for an administrator.")
            return None
        dialog = cls(ctx.settings, ctx.tasks, ctx.db.url, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.saved is None:
            return None
        _saved_box(parent, dialog.saved)
        return dialog.saved


def _saved_box(parent: QWidget, url: str) -> None:
    box = QMessageBox(
        QMessageBox.Icon.Information,
        "Database",
        f"Saved. From the next start ccmdesk uses {describe(url)}.",
        QMessageBox.StandardButton.Ok,
        parent,
    )
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


def complete_url(url: str, settings: QSettings, parent: QWidget | None = None) -> str | None:
    """At start: the saved server URL with its password, asked for when not remembered.

    Returns ``url`` unchanged when nothing needs asking, ``None`` if the person cancels.
    """
    if url != saved_url(settings) or not needs_password(url):
        return url
    if str(settings.value(ASK_PASSWORD_KEY, "false")).lower() != "true":
        return url  # no password was ever given (the server trusts this computer, or .pgpass)
    fields = server_fields(url)
    assert fields is not None  # needs_password: a server URL
    password, ok = QInputDialog.getText(
        parent,
        "ccmdesk: practice server",
        f"Password of {fields.user} on the practice server {fields.host}:",
        QLineEdit.EchoMode.Password,
    )
    return with_password(url, password) if ok else None
