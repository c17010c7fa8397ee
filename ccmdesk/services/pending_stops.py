"""Stops clicked while the practice server could not be reached, kept until they are saved.

The stopwatch's start is already in the database; only the Stop is missing.
It is kept in a small JSON file in the user data folder (written whole or not
at all), so closing ccmdesk or the computer loses nothing, and written with
the instant the nurse clicked Stop as soon as the database answers again.

A kept stop names its database (password hidden) and the entry's start: it
is only ever written to the entry it was clicked for, never to an entry that
happens to have the same id in another (or a rebuilt demo) database.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ccmdesk.files import write_bytes_atomically
from ccmdesk.services import time_log
from ccmdesk.services.audit import Actor
from ccmdesk.services.changes import Changes
from ccmdesk.services.connectivity import is_connection_error
from ccmdesk.services.time_log import TimeEntryError
from ccmdesk.storage.database import Database

log = logging.getLogger(__name__)
FILE_NAME = "pending-stops.json"


def database_key(url: str) -> str:
    """The database a stop belongs to, as written in the file (no password)."""
    return make_url(url).render_as_string(hide_password=True)


@dataclass(frozen=True)
class PendingStop:
    database: str
    entry_id: int
    patient_id: int
    patient_name: str
    staff_id: int
    staff_name: str
    started: dt.datetime
    stopped: dt.datetime  # the instant Stop was clicked (UTC)
    activity: str
    note: str

    def to_json(self) -> dict[str, object]:
        values = asdict(self)
        values["started"] = self.started.isoformat()
        values["stopped"] = self.stopped.isoformat()
        return values

    @classmethod
    def from_json(cls, values: dict[str, object]) -> PendingStop:
        items = dict(values)
        items["started"] = dt.datetime.fromisoformat(str(items["started"]))
        items["stopped"] = dt.datetime.fromisoformat(str(items["stopped"]))
        return cls(**items)  # type: ignore[arg-type]


class PendingStops:
    """The file of kept stops (read and written on the GUI thread only)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def all(self) -> list[PendingStop]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as error:
            log.error("%s cannot be read: %s", self.path, error)
            return []
        stops = []
        for item in raw.get("stops", []):
            try:
                stops.append(PendingStop.from_json(item))
            except (KeyError, TypeError, ValueError) as error:
                log.error("a kept stop in %s is unreadable: %s", self.path, error)
        return stops

    def for_database(self, url: str) -> list[PendingStop]:
        key = database_key(url)
        return [stop for stop in self.all() if stop.database == key]

    def add(self, stop: PendingStop) -> None:
        stops = [
            s for s in self.all() if (s.database, s.entry_id) != (stop.database, stop.entry_id)
        ]
        self._write([*stops, stop])

    def remove(self, database: str, entry_ids: set[int]) -> None:
        stops = self.all()
        kept = [s for s in stops if not (s.database == database and s.entry_id in entry_ids)]
        if len(kept) != len(stops):
            self._write(kept)

    def _write(self, stops: list[PendingStop]) -> None:
        if not stops:
            self.path.unlink(missing_ok=True)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"stops": [stop.to_json() for stop in stops]}
        write_bytes_atomically(self.path, json.dumps(data, indent=2).encode("utf-8"))


@dataclass(frozen=True)
class Replayed:
    """What became of one kept stop: saved (``changes``), given up (``problem``), or
    still kept because the database went away again (``kept``)."""

    stop: PendingStop
    changes: Changes | None = None
    problem: str = ""
    kept: bool = False


def replay(db: Database, stops: list[PendingStop], now: dt.datetime) -> list[Replayed]:
    """Write kept stops, each ending at the instant Stop was clicked.

    A stop whose entry is no longer running (recovered or deleted at another
    seat meanwhile) is given up and said so, never forced onto the entry.  If
    the connection fails again, that stop and the ones after it stay kept.
    """
    done: list[Replayed] = []
    for position, stop in enumerate(stops):
        try:
            done.append(_replay_one(db, stop, now))
        except DBAPIError as error:
            if not is_connection_error(error):
                raise
            done.extend(Replayed(rest, kept=True) for rest in stops[position:])
            break
    return done


def _replay_one(db: Database, stop: PendingStop, now: dt.datetime) -> Replayed:
    running = {e.id: e for e in time_log.running_timers(db, stop.staff_id)}
    entry = running.get(stop.entry_id)
    if entry is None or entry.start != stop.started or entry.patient_id != stop.patient_id:
        return Replayed(stop, problem="the stopwatch had already been stopped elsewhere")
    try:
        changes = time_log.stop_timer(
            db,
            stop.entry_id,
            Actor(stop.staff_id, stop.staff_name),
            activity=stop.activity,
            note=stop.note,
            now=max(now, stop.stopped),  # when it is written: the audit trail's time
            at=stop.stopped,  # the entry ends at the click
        )
    except TimeEntryError as error:
        return Replayed(stop, problem=str(error))
    return Replayed(stop, changes=changes)
