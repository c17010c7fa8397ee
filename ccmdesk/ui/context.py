"""What every part of the window needs, passed in explicitly (no global registry)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QSettings

from ccmdesk.services.access import Permission
from ccmdesk.services.audit import Actor
from ccmdesk.services.users import SignedIn
from ccmdesk.storage.database import Database
from ccmdesk.ui.tasks import TaskRunner

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class AppContext:
    db: Database
    zone: dt.tzinfo
    settings: QSettings
    tasks: TaskRunner
    clock: Clock = system_clock
    #: The person signed in at this seat; time is logged to them and every change
    #: is made in their name.  Replaced only through sign-in, unlock or switch user.
    user: SignedIn | None = None

    # Read-only views of ``user``: many widgets only need the id or the name.

    @property
    def staff_id(self) -> int | None:
        return self.user.staff_id if self.user else None

    @property
    def staff_name(self) -> str:
        return self.user.name if self.user else ""

    @property
    def actor(self) -> Actor:
        return self.user.actor if self.user else Actor(None, "nobody signed in")

    def may(self, permission: Permission) -> bool:
        """What the screens offer; the services check again whatever the screen shows."""
        return self.user is not None and self.user.may(permission)

    def today(self) -> dt.date:
        return self.clock().astimezone(self.zone).date()

    def setting_int(self, key: str, default: int) -> int:
        try:
            return int(self.settings.value(key, default))
        except (TypeError, ValueError):
            return default
