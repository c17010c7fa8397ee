"""The one place that knows where ccmdesk keeps things.

Resources (fee schedules, the ICD-10-CM index, the chronic-condition list, ...)
live in the top-level ``resources/`` folder of a source checkout.  A wheel
carries the same folder as ``ccmdesk/resources`` (see ``pyproject.toml``) and a
PyInstaller bundle unpacks it as ``resources`` beside the executable's data
(``sys._MEIPASS``).  :func:`resources_dir` looks in exactly those places.

User data (the database, backups) lives in the platform's user data folder as
chosen by appdirs; ``CCMDESK_DATA_DIR`` overrides it (tests and portable
installs use that).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "ccmdesk"
APP_AUTHOR = "ccmdesk"
DATABASE_FILE = "ccmdesk.sqlite3"
DEMO_DATABASE_FILE = "ccmdesk-demo.sqlite3"

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_candidates() -> list[Path]:
    """Where resources may be, most specific first (bundle, wheel, checkout)."""
    candidates: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        candidates.append(Path(bundle) / "resources")
    candidates.append(_PACKAGE_DIR / "resources")
    candidates.append(_PACKAGE_DIR.parent / "resources")
    return candidates


def resources_dir() -> Path:
    """The folder holding ccmdesk's shipped data files."""
    for candidate in resource_candidates():
        if (candidate / "fees").is_dir():
            return candidate
    searched = ", ".join(str(c) for c in resource_candidates())
    raise FileNotFoundError(f"ccmdesk resources not found (looked in {searched})")


def resource(*parts: str) -> Path:
    """Path of one shipped resource file, e.g. ``resource("fees", "2026.json")``."""
    return resources_dir().joinpath(*parts)


def user_data_dir() -> Path:
    """The user data folder (created on demand by the callers that write there)."""
    override = os.environ.get("CCMDESK_DATA_DIR")
    if override:
        return Path(override)
    import appdirs  # lazy: keeps ``ccmdesk --version`` fast

    return Path(appdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def default_database_path() -> Path:
    return user_data_dir() / DATABASE_FILE


def demo_database_path() -> Path:
    return user_data_dir() / DEMO_DATABASE_FILE


def backups_dir() -> Path:
    return user_data_dir() / "backups"


def log_dir() -> Path:
    """The log folder: the platform's user log folder, or ``logs`` in an overridden data folder."""
    override = os.environ.get("CCMDESK_DATA_DIR")
    if override:
        return Path(override) / "logs"
    import appdirs

    return Path(appdirs.user_log_dir(APP_NAME, APP_AUTHOR))


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"
