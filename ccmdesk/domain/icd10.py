"""ICD-10-CM codes: normalisation, validation and a fast search for pick lists.

The code set comes from ``resources/icd10cm/codes.tsv.gz`` (built by
``tools/build_icd10_index.py``), not from ``simple_icd_10_cm`` at run time:
that package needs about four seconds to import, this index loads in a small
fraction of a second.

Codes are kept without the dot (``E119``), the form used for storage and
comparison; :func:`format_icd10` adds the dot back for people.

Search ranking (a choice the spec leaves open): codes that start with the typed
text come first, in code order (so a category precedes its subcategories);
then codes whose description has, for every typed word, a word starting with
it, shortest description first (the general "Heart failure" before its many
kinds), ties by code. Matching ignores case, punctuation and accents.

How search stays fast without a per-word index (tokenising ~1 million words
in Python would cost a second at start-up): the descriptions are folded into
one ASCII text, one line per code in rank order, every word preceded by a
space, so "a word starting with *w*" is the substring test ``" w" in line``.
Lines are grouped in blocks; a block lacking any typed word is skipped whole,
and the scan stops once enough matches are found, which in rank order are
the best ones. All inner loops run inside C (``str.__contains__`` driven by
``map``/``compress``).
"""

from __future__ import annotations

import gzip
import operator
import threading
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from functools import cache
from itertools import compress, islice, repeat, tee
from pathlib import Path

_BLOCK_LINES = 64

# ASCII punctuation and symbols become spaces, so they separate words.
_PUNCTUATION_TO_SPACE = str.maketrans(
    {chr(c): " " for c in range(128) if not chr(c).isalnum() and chr(c) != "\n"}
)


def normalize_icd10(text: str) -> str:
    """Canonical storage form: no dot, no spaces, upper case ("e11.9 " -> "E119")."""
    return "".join(text.split()).replace(".", "").upper()


def format_icd10(code: str) -> str:
    """Display form with the dot after the category ("E119" -> "E11.9", "I10" -> "I10")."""
    code = normalize_icd10(code)
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def _fold(text: str) -> str:
    """Lower-case ASCII with accents stripped, so "meniere" finds "Ménière"."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text.casefold())
        text = "".join(
            ch if ch.isascii() else " " for ch in decomposed if not unicodedata.combining(ch)
        )
    return text.lower()


def _needles(text: str) -> list[str]:
    """The substrings every matching line must contain, most selective first.

    A word that is a prefix of another typed word adds nothing ("heart he"), so
    it is dropped; longer words tend to be rarer, so they are tested first.
    """
    words = set(_fold(text).translate(_PUNCTUATION_TO_SPACE).split())
    needles = sorted((" " + word for word in words), key=len, reverse=True)
    kept: list[str] = []
    for needle in needles:
        if not any(needle in longer for longer in kept):
            kept.append(needle)
    return kept


def _where_all(items: Iterable[int], texts: list[str], needles: list[str]) -> Iterator[int]:
    """Lazily yield the items whose text contains every needle (loops run in C)."""
    for needle in needles:
        keep, probe = tee(items)
        items = compress(
            keep, map(operator.contains, map(texts.__getitem__, probe), repeat(needle))
        )
    return iter(items)


class Icd10Index:
    """The shipped ICD-10-CM code set, read from disk on first use.

    Every method accepts codes with or without the dot and in any case.
    Loading is guarded by a lock, so the index may be warmed up on a worker
    thread; afterwards it is read-only and safe to share.
    """

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._loaded = False
        self.header = ""
        # In code order:
        self._codes: list[str] = []
        self._descriptions: list[str] = []
        self._row_of: dict[str, int] = {}
        self._billable: frozenset[str] = frozenset()
        # In rank order (shortest description first, then code):
        self._rank_row: list[int] = []
        self._lines: list[str] = []  # folded " word word ..." per code
        self._blocks: list[str] = []  # _BLOCK_LINES lines joined

    @property
    def path(self) -> Path:
        if self._path is None:
            from ccmdesk.paths import resource

            self._path = resource("icd10cm", "codes.tsv.gz")
        return self._path

    def load(self) -> None:
        """Read the file now (otherwise the first question does it)."""
        if self._loaded:
            return
        with self._lock:
            if not self._loaded:
                self._load()
                self._loaded = True

    def _load(self) -> None:
        with gzip.open(self.path, "rt", encoding="utf-8") as f:
            text = f.read()
        header, body = "", text
        while body.startswith("#"):
            line, _, body = body.partition("\n")
            header = header or line.lstrip("#").strip()
        # Slicing one flat list keeps the per-line work inside C.
        fields = body.rstrip("\n").replace("\n", "\t").split("\t")
        if len(fields) % 3:
            raise ValueError(f"{self.path}: expected three tab-separated columns per line")
        codes, descriptions, flags = fields[0::3], fields[1::3], fields[2::3]
        self.header = header
        self._codes = codes
        self._descriptions = descriptions
        self._row_of = dict(zip(codes, range(len(codes)), strict=True))
        self._billable = frozenset(compress(codes, map(operator.eq, flags, repeat("1"))))
        self._build_search_text()

    def _build_search_text(self) -> None:
        descriptions = self._descriptions
        # sorted() is stable and rows are in code order, so ties stay in code order.
        rank_row = sorted(range(len(descriptions)), key=list(map(len, descriptions)).__getitem__)
        ranked = list(map(descriptions.__getitem__, rank_row))
        for rank in compress(range(len(ranked)), map(operator.not_, map(str.isascii, ranked))):
            ranked[rank] = _fold(ranked[rank])
        text = (" " + "\n ".join(ranked)).lower().translate(_PUNCTUATION_TO_SPACE)
        lines = text.split("\n")
        self._rank_row = rank_row
        self._lines = lines
        self._blocks = [
            "\n".join(lines[start : start + _BLOCK_LINES])
            for start in range(0, len(lines), _BLOCK_LINES)
        ]

    # -- look-ups ---------------------------------------------------------

    def __len__(self) -> int:
        self.load()
        return len(self._codes)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.is_valid(code)

    def codes(self) -> list[str]:
        """Every code, dotless, in code order."""
        self.load()
        return list(self._codes)

    def description(self, code: str) -> str | None:
        """The official description, or None for a code not in the code set."""
        self.load()
        row = self._row_of.get(normalize_icd10(code))
        return None if row is None else self._descriptions[row]

    def is_valid(self, code: str) -> bool:
        """True for any category or subcategory in the code set, billable or not."""
        self.load()
        return normalize_icd10(code) in self._row_of

    def is_billable(self, code: str) -> bool:
        """True when the code is a leaf, i.e. specific enough to go on a claim."""
        self.load()
        return normalize_icd10(code) in self._billable

    # -- search -----------------------------------------------------------

    def search(self, text: str, limit: int = 20) -> list[tuple[str, str]]:
        """Codes matching what was typed, as dotless ``(code, description)``, best first."""
        self.load()
        if limit <= 0:
            return []
        rows = self._code_prefix_rows(text, limit)
        if len(rows) < limit:
            seen = set(rows)
            for row in self._word_rows(text, limit + len(rows)):
                if row not in seen:
                    rows.append(row)
                    if len(rows) == limit:
                        break
        return [(self._codes[row], self._descriptions[row]) for row in rows]

    def _code_prefix_rows(self, text: str, limit: int) -> list[int]:
        prefix = normalize_icd10(text)
        if not (prefix.isascii() and prefix.isalnum() and prefix[0].isalpha()):
            return []
        codes = self._codes
        start = bisect_left(codes, prefix)
        rows = []
        for row in range(start, min(start + limit, len(codes))):
            if not codes[row].startswith(prefix):
                break
            rows.append(row)
        return rows

    def _word_rows(self, text: str, limit: int) -> list[int]:
        needles = _needles(text)
        if not needles:
            return []
        lines, blocks = self._lines, self._blocks
        found: list[int] = []
        for block in _where_all(range(len(blocks)), blocks, needles):
            start = block * _BLOCK_LINES
            span = range(start, min(start + _BLOCK_LINES, len(lines)))
            found.extend(islice(_where_all(span, lines, needles), limit - len(found)))
            if len(found) >= limit:
                break
        return list(map(self._rank_row.__getitem__, found))


@cache
def default_index() -> Icd10Index:
    """The index over the shipped code set; loaded when first asked something."""
    return Icd10Index()
