"""What every part of the window needs, passed in explicitly (no global registry)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QSettings

from ccmdesk.services.audit import Actor
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
    #: The staff member working at this seat (sign-in arrives with the users issue).
    staff_id: int | None = None
    staff_name: str = ""

    @property
    def actor(self) -> Actor:
        return Actor(self.staff_id, self.staff_name or "unknown user")

    def today(self) -> dt.date:
        return self.clock().astimezone(self.zone).date()

    def setting_int(self, key: str, default: int) -> int:
        try:
            return int(self.settings.value(key, default))
        except (TypeError, ValueError):
            return default
