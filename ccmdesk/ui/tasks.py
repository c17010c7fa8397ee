"""Long work off the GUI thread through one helper (after Picard's ``run_task``).

``TaskRunner.run(work, on_done)`` runs ``work()`` on a pool thread and calls
``on_done(result)`` (or ``on_error(exception)``) back on the GUI thread.  A
newer task with the same ``key`` supersedes an older one: the older result is
dropped, so a slow month load can never overwrite a newer one.  Workers never
touch widgets; they only return plain data.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Relay(QObject):
    finished = Signal(int, object, object)  # task id, result, error


class _Job(QRunnable):
    def __init__(self, task_id: int, work: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.task_id, self.work, self.relay = task_id, work, relay

    def run(self) -> None:
        try:
            result, error = self.work(), None
        except Exception as exc:  # handed to the GUI thread, never swallowed
            log.debug("task failed:\n%s", traceback.format_exc())
            result, error = None, exc
        self.relay.finished.emit(self.task_id, result, error)


class TaskRunner(QObject):
    """Runs callables on a small thread pool and reports back on the GUI thread."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, threads: int = 2) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._relay = _Relay(self)
        self._relay.finished.connect(self._finished)
        self._next_id = 0
        self._pending: dict[int, tuple[str | None, Callable, Callable | None]] = {}
        self._latest: dict[str, int] = {}

    def run(
        self,
        work: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None] | None = None,
        key: str | None = None,
    ) -> int:
        self._next_id += 1
        task_id = self._next_id
        self._pending[task_id] = (key, on_done, on_error)
        if key is not None:
            self._latest[key] = task_id
        if len(self._pending) == 1:
            self.busy_changed.emit(True)
        self.pool.start(_Job(task_id, work, self._relay))
        return task_id

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the pool is idle (shutdown and tests only)."""
        return self.pool.waitForDone(msecs)

    @Slot(int, object, object)
    def _finished(self, task_id: int, result: Any, error: Exception | None) -> None:
        key, on_done, on_error = self._pending.pop(task_id, (None, None, None))
        if not self._pending:
            self.busy_changed.emit(False)
        if on_done is None or (key is not None and self._latest.get(key) != task_id):
            return  # superseded by a newer task with the same key
        if error is None:
            on_done(result)
        elif on_error is not None:
            on_error(error)
        else:
            raise error
