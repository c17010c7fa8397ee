"""File → Practice settings…: the administrator edits the practice's name, NPI,
address, phones and time zone.

The dialog saves when OK is clicked and stays open, with the problem beside its
field, until the service accepts the values; the service checks the role and
writes the audit event.  Times already on screen keep the old zone until
ccmdesk restarts (the widgets were built with it); billing uses the new one at
once, since every service reads the zone from the database.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ccmdesk.services.access import Permission, actor_permissions
from ccmdesk.services.practice_settings import (
    PracticeSettings,
    SettingsError,
    load_practice,
    update_practice,
)
from ccmdesk.ui.context import AppContext
from ccmdesk.ui.forms import problem_label, show_problem, tell

#: Offered first: the zones of US practices (the rest follow alphabetically).
US_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
    "Pacific/Guam",
)
HINT_STYLE = "color: #5b6573; font-size: 12px;"

Save = Callable[[dict[str, Any]], PracticeSettings]


def zone_choices() -> list[str]:
    others = sorted(zoneinfo.available_timezones() - set(US_ZONES) - {"localtime", "Factory"})
    return [*US_ZONES, *others]


class PracticeDialog(QDialog):
    def __init__(self, parent: QWidget | None, current: PracticeSettings, save: Save) -> None:
        super().__init__(parent)
        self.setWindowTitle("Practice settings")
        self.setMinimumWidth(520)
        self.save = save
        self.saved: PracticeSettings | None = None

        self.name = QLineEdit(current.name)
        self.npi = QLineEdit(current.npi or "")
        self.npi.setPlaceholderText("10 digits (the group NPI), optional")
        self.address = QPlainTextEdit(current.address)
        self.address.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 14)
        self.address.setTabChangesFocus(True)
        self.phone = QLineEdit(current.phone)
        self.after_hours = QLineEdit(current.after_hours_phone)
        self.after_hours.setPlaceholderText("printed on every care plan: 24/7 access to care")
        self.time_zone = QComboBox()
        self.time_zone.addItem("This computer's time zone", "")
        self.time_zone.insertSeparator(1)
        choices = zone_choices()
        if current.time_zone and current.time_zone not in choices:
            choices.insert(0, current.time_zone)
        for position, zone in enumerate(choices):
            if position == len(US_ZONES):
                self.time_zone.insertSeparator(self.time_zone.count())
            self.time_zone.addItem(zone.replace("_", " "), zone)
        self.time_zone.setCurrentIndex(max(0, self.time_zone.findData(current.time_zone or "")))
        self.time_zone.setMaxVisibleItems(16)
        zone_hint = QLabel(
            "Decides the calendar day and month each minute of care is billed in. "
            "Closed months are not recalculated."
        )
        zone_hint.setWordWrap(True)
        zone_hint.setStyleSheet(HINT_STYLE)

        self.problems = {field: problem_label() for field in _FIELD_ORDER}
        self.general = problem_label()
        form = QFormLayout()
        for label, widget, field in (
            ("Practice name", self.name, "name"),
            ("NPI", self.npi, "npi"),
            ("Address", self.address, "address"),
            ("Phone", self.phone, "phone"),
            ("After-hours phone", self.after_hours, "after_hours_phone"),
            ("Time zone", self.time_zone, "time_zone"),
        ):
            form.addRow(label, widget)
            form.addRow("", self.problems[field])
        form.addRow("", zone_hint)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.try_save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.general)
        layout.addWidget(buttons)

    def values(self) -> dict[str, Any]:
        return {
            "name": self.name.text(),
            "npi": self.npi.text(),
            "address": self.address.toPlainText(),
            "phone": self.phone.text(),
            "after_hours_phone": self.after_hours.text(),
            "time_zone": self.time_zone.currentData() or "",
        }

    def try_save(self) -> bool:
        """Save, or show why not beside the field and stay open."""
        for label in (*self.problems.values(), self.general):
            show_problem(label, None)
        try:
            self.saved = self.save(self.values())
        except SettingsError as error:
            show_problem(self.problems.get(error.field, self.general), str(error))
            return False
        self.accept()
        return True

    @classmethod
    def ask(
        cls, parent: QWidget | None, current: PracticeSettings, save: Save
    ) -> PracticeSettings | None:
        """The saved settings, or None when cancelled."""
        dialog = cls(parent, current, save)
        return dialog.saved if dialog.exec() == QDialog.DialogCode.Accepted else None


_FIELD_ORDER = ("name", "npi", "address", "phone", "after_hours_phone", "time_zone")


def may_edit_settings(ctx: AppContext) -> bool:
    """For the main window's menu: asks the database, so a role taken away counts now."""
    if ctx.actor.id is None:
        return False
    with ctx.db.transaction() as session:
        return Permission.EDIT_SETTINGS in actor_permissions(session, ctx.actor)


def edit_practice(parent: QWidget, ctx: AppContext) -> PracticeSettings | None:
    """Load, ask, save (the service checks the role and audits); the settings saved."""
    current = load_practice(ctx.db)
    db, actor = ctx.db, ctx.actor
    saved = PracticeDialog.ask(parent, current, lambda values: update_practice(db, values, actor))
    if saved is not None and saved.time_zone != current.time_zone:
        tell(
            parent,
            "Time zone changed",
            "Billing uses the new time zone from now on. Restart ccmdesk to see times"
            " on screen in it.",
        )
    return saved
