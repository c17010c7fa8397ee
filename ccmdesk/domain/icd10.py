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
it, shortest description first (the general "Heart failure" before the many
specific kinds), ties by code. Matching ignores case and accents.
"""

from __future__ import annotations

import gzip
import heapq
import re
import threading
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable
from functools import cache
from itertools import accumulate
from pathlib import Path

_WORD = re.compile(r"\w+")
_CODE_CHARS = re.compile(r"[A-Z][0-9A-Z]*")

# Above this many candidate descriptions for the rarest typed word, walking the
# descriptions in rank order and stopping at ``limit`` hits beats building sets.
_SCAN_THRESHOLD = 4000


def normalize_icd10(text: str) -> str:
    """Canonical storage form: no dot, no spaces, upper case ("e11.9 " -> "E119")."""
    return "".join(text.split()).replace(".", "").upper()


def format_icd10(code: str) -> str:
    """Display form with the dot after the category ("E119" -> "E11.9", "I10" -> "I10")."""
    code = normalize_icd10(code)
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def _fold(text: str) -> str:
    """Lower-case and strip accents, so "meniere" finds "Ménière"."""
    text = text.casefold()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _words(text: str) -> list[str]:
    return _WORD.findall(_fold(text))


class Icd10Index:
    """The shipped ICD-10-CM code set, read from disk on first use.

    Every method accepts codes with or without the dot and in any case.
    Instances are safe to share between threads once loaded; loading itself is
    guarded by a lock so two threads never parse the file twice.
    """

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._loaded = False
        self.header = ""
        # Parallel lists in code order.
        self._codes: list[str] = []
        self._descriptions: list[str] = []
        self._row_of: dict[str, int] = {}
        self._billable: set[str] = set()
        # Word search data, all in *rank* order (see the module docstring):
        self._rank_row: list[int] = []  # rank -> row
        self._rank_text: list[str] = []  # rank -> " word word ..." (folded)
        self._vocab: list[str] = []  # sorted distinct words
        self._postings: list[list[int]] = []  # vocab index -> ranks, ascending
        self._cumulative: list[int] = []  # running total of posting sizes

    @property
    def path(self) -> Path:
        if self._path is None:
            from ccmdesk.paths import resource

            self._path = resource("icd10cm", "codes.tsv.gz")
        return self._path

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if not self._loaded:
                self._load()
                self._loaded = True

    def _load(self) -> None:
        with gzip.open(self.path, "rt", encoding="utf-8") as f:
            text = f.read()
        lines = text.splitlines()
        if lines and lines[0].startswith("#"):
            self.header = lines[0].lstrip("# ").strip()
        codes: list[str] = []
        descriptions: list[str] = []
        billable: set[str] = set()
        for line in lines:
            if not line or line.startswith("#"):
                continue
            code, description, flag = line.split("\t")
            codes.append(code)
            descriptions.append(description)
            if flag == "1":
                billable.add(code)
        self._codes = codes
        self._descriptions = descriptions
        self._billable = billable
        self._row_of = {code: row for row, code in enumerate(codes)}
        self._build_word_index()

    def _build_word_index(self) -> None:
        """Precompute rank order, folded texts and an inverted word index."""
        descriptions = self._descriptions
        codes = self._codes
        # Rows are in code order already, and sort() is stable: ties keep code order.
        rank_row = sorted(range(len(codes)), key=lambda row: len(descriptions[row]))
        rank_text: list[str] = []
        postings: dict[str, list[int]] = {}
        for rank, row in enumerate(rank_row):
            words = _words(descriptions[row])
            rank_text.append(" " + " ".join(words))
            for word in set(words):
                found = postings.get(word)
                if found is None:
                    postings[word] = [rank]
                else:
                    found.append(rank)
        vocab = sorted(postings)
        self._rank_row = rank_row
        self._rank_text = rank_text
        self._vocab = vocab
        self._postings = [postings[word] for word in vocab]
        self._cumulative = [0, *accumulate(len(p) for p in self._postings)]

    # -- look-ups ---------------------------------------------------------

    def __len__(self) -> int:
        self._ensure_loaded()
        return len(self._codes)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.is_valid(code)

    def codes(self) -> list[str]:
        """Every code, dotless, in code order."""
        self._ensure_loaded()
        return list(self._codes)

    def description(self, code: str) -> str | None:
        """The official short description, or None for an unknown code."""
        self._ensure_loaded()
        row = self._row_of.get(normalize_icd10(code))
        return None if row is None else self._descriptions[row]

    def is_valid(self, code: str) -> bool:
        """True for any category or subcategory in the code set (billable or not)."""
        self._ensure_loaded()
        return normalize_icd10(code) in self._row_of

    def is_billable(self, code: str) -> bool:
        """True when the code is a leaf, i.e. may go on a claim as it is."""
        self._ensure_loaded()
        return normalize_icd10(code) in self._billable

    # -- search -----------------------------------------------------------

    def search(self, text: str, limit: int = 20) -> list[tuple[str, str]]:
        """Codes matching what was typed, as ``(code, description)``, best first.

        Codes are returned dotless; see the module docstring for the ranking.
        """
        self._ensure_loaded()
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
        if not _CODE_CHARS.fullmatch(prefix):
            return []
        codes = self._codes
        start = bisect_left(codes, prefix)
        stop = min(start + limit, len(codes))
        rows = []
        for row in range(start, stop):
            if not codes[row].startswith(prefix):
                break
            rows.append(row)
        return rows

    def _word_span(self, word: str) -> tuple[int, int]:
        """Vocabulary indexes [lo, hi) of the words starting with ``word``."""
        lo = bisect_left(self._vocab, word)
        hi = bisect_left(self._vocab, word + "\U0010ffff", lo)
        return lo, hi

    def _word_rows(self, text: str, limit: int) -> Iterable[int]:
        words = sorted(set(_words(text)), key=len, reverse=True)
        if not words:
            return []
        spans = {word: self._word_span(word) for word in words}
        sizes = {
            word: self._cumulative[hi] - self._cumulative[lo] for word, (lo, hi) in spans.items()
        }
        rarest = min(words, key=sizes.__getitem__)
        if sizes[rarest] == 0:
            return []
        needles = [" " + word for word in words if word != rarest]
        texts = self._rank_text
        rank_row = self._rank_row
        if sizes[rarest] > _SCAN_THRESHOLD:
            # Many descriptions match: the best ones turn up early in rank order.
            needles.append(" " + rarest)
            found = []
            for rank, rank_text in enumerate(texts):
                if all(needle in rank_text for needle in needles):
                    found.append(rank_row[rank])
                    if len(found) == limit:
                        break
            return found
        lo, hi = spans[rarest]
        candidates: set[int] = set()
        for posting in self._postings[lo:hi]:
            candidates.update(posting)
        if needles:
            candidates = {
                rank for rank in candidates if all(needle in texts[rank] for needle in needles)
            }
        return [rank_row[rank] for rank in heapq.nsmallest(limit, candidates)]


@cache
def default_index() -> Icd10Index:
    """The index over the shipped code set; loaded when first asked something."""
    return Icd10Index()
