"""The practice's name as report headers print it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ccmdesk.services.practice import practice_name as stored_practice_name

#: Printed rather than a blank header when the practice has not been set up.
NO_NAME = "(practice name not set)"


def practice_name(session: Session) -> str:
    return stored_practice_name(session).strip() or NO_NAME
