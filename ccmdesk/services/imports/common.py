"""What every import shares: reading the file, collecting problems, parsing cells.

An import first validates every row and collects *every* problem as
``FILE:LINE: column: problem``; only a file without a single problem is
written, in one transaction.  Cells are trimmed of surrounding spaces; an
empty optional cell means "not on record" and never erases what ccmdesk
already holds.  Unknown columns are refused, so that a misspelt header cannot
silently drop a column of data.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH_RE = re.compile(r"^\d{4}-\d{2}$")
NOT_UTF8 = "is not UTF-8 text; save the file as CSV UTF-8"


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    problem: str


class ImportRejected(Exception):
    """The file was not imported; ``problems`` says everything that is wrong."""

    def __init__(self, source: str, problems: Sequence[RowProblem]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s); nothing was imported")

    def lines(self) -> list[str]:
        return [f"{self.source}:{p.line}: {p.column}: {p.problem}" for p in self.problems]


@dataclass
class ImportSummary:
    """What an import did, for the one-line report on standard error."""

    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        text = (
            f"{self.kind}: {self.rows} rows read, {self.created} added, "
            f"{self.updated} updated, {self.unchanged} already present"
        )
        return "; ".join([text, *self.notes])


class Problems:
    """Collects problems while rows are validated."""

    def __init__(self) -> None:
        self.items: list[RowProblem] = []

    def add(self, line: int, column: str, problem: str) -> None:
        self.items.append(RowProblem(line, column, problem))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, source: str) -> None:
        if self.items:
            raise ImportRejected(source, self.items)


@dataclass(frozen=True)
class CsvRow:
    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


def read_rows(
    path: Path,
    columns: Sequence[str],
    required: Sequence[str],
    problems: Problems,
) -> Iterator[CsvRow]:
    """Yield the data rows of ``path``; header and shape problems go to ``problems``."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        problems.add(0, "file", f"cannot be read ({error.strerror or error})")
        return
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except UnicodeDecodeError:
            problems.add(_first_bad_line(path), "row", NOT_UTF8)
            return
        except csv.Error as error:
            problems.add(1, "header", f"cannot be read ({error})")
            return
        if header is None:
            problems.add(1, "header", "the file is empty; expected " + ",".join(columns))
            return
        header = [name.strip() for name in header]
        if not _check_header(header, columns, required, problems):
            return
        line = reader.line_num + 1
        try:
            for values in reader:
                start, line = line, reader.line_num + 1
                if not any(value.strip() for value in values):
                    continue
                if len(values) != len(header):
                    problems.add(
                        start, "row", f"has {len(values)} cells, the header has {len(header)}"
                    )
                    continue
                yield CsvRow(start, {h: v.strip() for h, v in zip(header, values, strict=True)})
        except UnicodeDecodeError:
            problems.add(_first_bad_line(path), "row", NOT_UTF8)
        except csv.Error as error:
            problems.add(line, "row", f"is not valid CSV ({error})")


def _first_bad_line(path: Path) -> int:
    """The line holding the first byte that is not UTF-8 (decoding reads ahead)."""
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return number
    return 1


def _check_header(
    header: list[str], columns: Sequence[str], required: Sequence[str], problems: Problems
) -> bool:
    ok = True
    for name in header:
        if name not in columns:
            problems.add(1, name or "(blank)", "unknown column; expected " + ",".join(columns))
            ok = False
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.add(1, name, "appears twice in the header")
            ok = False
        seen.add(name)
    for name in required:
        if name not in header:
            problems.add(1, name, "column is missing from the header")
            ok = False
    return ok


def parse_date(text: str) -> dt.date:
    """A ``YYYY-MM-DD`` date; raises ValueError with a plain message."""
    if not _DATE_RE.match(text):
        raise ValueError(f"{text!r} is not a date; use YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a real date") from None


def parse_month_text(text: str) -> str:
    if not _MONTH_RE.match(text) or not 1 <= int(text[5:]) <= 12:
        raise ValueError(f"{text!r} is not a month; use YYYY-MM")
    return text


def lookup_by_name(names: dict[str, list[int]], name: str) -> tuple[int | None, str | None]:
    """Resolve an exact name to one id, or say why not."""
    ids = names.get(name, [])
    if not ids:
        return None, f"no staff member with NPI or name {name!r}"
    if len(ids) > 1:
        return None, f"{len(ids)} staff members are named {name!r}; use the NPI"
    return ids[0], None
