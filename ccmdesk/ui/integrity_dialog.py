"""Start-up found the database damaged: say so plainly, offer the newest sound backup, or quit.

The check itself (services/restore.py ``find_damage``) runs on the start-up
worker thread; this asks the person on the GUI thread and does what they chose.
Restoring keeps the damaged file in the backups folder first, so choosing it
loses nothing that could still be recovered by hand.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from ccmdesk.services.restore import Damage

log = logging.getLogger(__name__)


class IntegrityDialog:
    """The question; tests answer it by replacing :meth:`ask`."""

    RESTORE, QUIT = "restore", "quit"

    @classmethod
    def message(cls, damage: Damage) -> tuple[str, str]:
        """The text and the informative text, separate from the box so they can be tested."""
        text = f"The practice database is damaged: {damage.problem}."
        if damage.backup is None:
            more = (
                f"No sound backup of it was found in {damage.backups}. ccmdesk will close;"
                " leave the file as it is and call whoever supports ccmdesk for your practice."
            )
        else:
            more = (
                f"The newest sound backup is the {damage.backup.describe()}."
                " Restoring it replaces the database with that copy: anything entered after"
                " it will have to be entered again. The damaged file is kept in the backups"
                " folder."
            )
        return text, more

    @classmethod
    def ask(cls, parent: QWidget | None, damage: Damage) -> str:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("ccmdesk: the database is damaged")
        text, more = cls.message(damage)
        box.setText(text)
        box.setInformativeText(more)
        restore = None
        if damage.backup is not None:
            restore = box.addButton("Restore this backup", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        return cls.RESTORE if restore is not None and box.clickedButton() is restore else cls.QUIT


def settle_damage(parent: QWidget | None, url: str, result: dict[str, Any]) -> bool:
    """Ask about ``result["damage"]``; on "restore", put the opened database in ``result["db"]``
    (or the failure in ``result["error"]``).  False when the person chose to quit."""
    from ccmdesk.services.backup import BackupError
    from ccmdesk.services.restore import restore, startup_actor
    from ccmdesk.storage.database import DatabaseError, open_database

    damage: Damage = result.pop("damage")
    if IntegrityDialog.ask(parent, damage) != IntegrityDialog.RESTORE or damage.backup is None:
        log.info("damaged database: the person chose to quit")
        return False
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        restore(url, damage.backup.path, damage.backups, startup_actor())
        result["db"] = open_database(url, backups=damage.backups)
    except (BackupError, DatabaseError, OSError) as error:
        result["error"] = error
    finally:
        QApplication.restoreOverrideCursor()
    return True
