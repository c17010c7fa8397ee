"""Writing files completely or not at all: beside the target first, then a rename.

A crash or a full disk mid-write must never leave half a PDF, CSV or backup
where the user expects a whole one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_target(path: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``."""
    partial = path.with_name(path.name + ".partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_bytes_atomically(path: Path, data: bytes) -> Path:
    with atomic_target(path) as partial:
        partial.write_bytes(data)
    return path
