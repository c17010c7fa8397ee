"""A cancellable batch off the GUI thread, reporting progress (after Orange's TaskState).

``BatchJob(items, work)`` calls ``work(item)`` for each item on a pool thread.
Progress and the end are signals delivered on the GUI thread; ``cancel()``
stops before the next item (the one in hand finishes, nothing is half written).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


@dataclass
class BatchResult:
    done: list[Any] = field(default_factory=list)
    #: (item, message) for items that could not be done (e.g. no care plan yet).
    skipped: list[tuple[Any, str]] = field(default_factory=list)
    cancelled: bool = False


class BatchJob(QObject):
    progress = Signal(int, int)  # items handled, items in all
    finished = Signal(object)  # BatchResult

    def __init__(
        self,
        items: Sequence[Any],
        work: Callable[[Any], Any],
        skip: tuple[type[Exception], ...] = (),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.items, self.work, self.skip = list(items), work, skip
        self._cancel = threading.Event()
        self.running = False

    def start(self, pool: QThreadPool | None = None) -> None:
        self.running = True
        (pool or QThreadPool.globalInstance()).start(_Run(self))

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _run(self) -> None:
        result = BatchResult()
        total = len(self.items)
        for handled, item in enumerate(self.items, start=1):
            if self._cancel.is_set():
                result.cancelled = True
                break
            try:
                result.done.append(self.work(item))
            except self.skip as error:
                result.skipped.append((item, str(error)))
            self.progress.emit(handled, total)
        self.running = False
        self.finished.emit(result)


class _Run(QRunnable):
    def __init__(self, job: BatchJob) -> None:
        super().__init__()
        self.job = job

    def run(self) -> None:
        self.job._run()
