"""The log file: what ccmdesk did and what went wrong, for support, and never patient data.

The log is sent to support, so it may hold ids and counts but no name, MRN or
note.  Three rules keep it that way, whatever a caller writes:

* exceptions are logged as their type and where they were raised, never their
  message (a validation error or a database constraint may quote a name);
* SQLAlchemy is held at WARNING (its own default, pinned so that nothing later
  lowers it): at INFO it logs every statement with its values;
* nothing logs below INFO, where a library might dump its data.

A rotating file (1 MB x 5) in the user log folder, so it never fills the disk.
"""

from __future__ import annotations

import logging
import logging.handlers
import traceback
from pathlib import Path
from types import TracebackType

LOG_FILE = "ccmdesk.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d %(threadName)s] %(message)s"
#: Loggers that would write data values at INFO or DEBUG.
QUIET = ("sqlalchemy", "alembic", "PIL", "fontTools")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]

_handler: logging.handlers.RotatingFileHandler | None = None


def withheld_traceback(exc_info: ExcInfo) -> str:
    """A traceback with every frame but without the exceptions' messages."""
    parts: list[str] = []
    seen: set[int] = set()
    error: BaseException | None = exc_info[1]
    chain: list[BaseException] = []
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        chain.append(error)
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    for position, error in enumerate(reversed(chain)):
        if position:
            parts.append("\nwhile handling that, or because of it:\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(error.__traceback__))
        kind = type(error)
        parts.append(f"{kind.__module__}.{kind.__qualname__}: (message withheld)\n")
    return "".join(parts)


class PrivacyFormatter(logging.Formatter):
    """Formats exceptions with :func:`withheld_traceback`."""

    def format(self, record: logging.LogRecord) -> str:
        # logging caches the first handler's traceback text on the record; never reuse it.
        cached, record.exc_text = record.exc_text, None
        try:
            return super().format(record)
        finally:
            record.exc_text = cached

    def formatException(self, ei) -> str:  # type: ignore[no-untyped-def]
        if ei[1] is None:
            return ""
        return withheld_traceback(ei)


def setup_logging(folder: Path | None = None) -> Path | None:
    """Send ccmdesk's log to a rotating file; return its path (None if it cannot be written).

    Safe to call more than once (the command line sets it up, then opens the
    window): a second call with the same folder changes nothing.
    """
    global _handler
    if folder is None:
        from ccmdesk.paths import log_dir

        folder = log_dir()
    path = folder / LOG_FILE
    if _handler is not None and Path(_handler.baseFilename) == path.resolve():
        return path
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8", delay=True
        )
    except OSError:
        return None  # a read-only profile must not stop ccmdesk from working
    handler.setFormatter(PrivacyFormatter(FORMAT))
    handler.setLevel(logging.INFO)
    stop_logging()
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    _handler = handler
    return path


def stop_logging() -> None:
    """Detach and close the log file (tests; a second set-up elsewhere)."""
    global _handler
    if _handler is not None:
        logging.getLogger().removeHandler(_handler)
        _handler.close()
        _handler = None


def current_log_file() -> Path | None:
    """The file ccmdesk is logging to now, if any (the error dialog names it)."""
    return Path(_handler.baseFilename) if _handler is not None else None
