"""Which ICD-10-CM codes count as chronic conditions unless a user says otherwise.

SPEC §1.1: the app marks a condition chronic by default from a shipped list of
code prefixes (``resources/chronic_conditions.txt``); the user may override the
flag per condition, so this module only answers "what is the default".
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ccmdesk.domain.icd10 import normalize_icd10


def load_chronic_prefixes(path: Path) -> frozenset[str]:
    """Read a prefix list: one code prefix per line, ``#`` starts a comment.

    Prefixes are normalised like codes (dot optional, any case), so a practice
    editing its own list cannot get the format subtly wrong.
    """
    prefixes = set()
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        prefix = normalize_icd10(text)
        if not prefix.isalnum() or not prefix.isascii():
            raise ValueError(f"{path}:{number}: not an ICD-10-CM code prefix: {text!r}")
        prefixes.add(prefix)
    return frozenset(prefixes)


@cache
def default_chronic_prefixes() -> frozenset[str]:
    """The shipped list, read once."""
    from ccmdesk.paths import resource

    return load_chronic_prefixes(resource("chronic_conditions.txt"))


def is_chronic(code: str, prefixes: frozenset[str]) -> bool:
    """True when ``code`` (dot optional, any case) starts with one of ``prefixes``."""
    code = normalize_icd10(code)
    return any(code[:length] in prefixes for length in range(1, len(code) + 1))


def is_chronic_by_default(code: str) -> bool:
    """True when the shipped list marks ``code`` chronic (e.g. E11.9 yes, J06.9 no)."""
    return is_chronic(code, default_chronic_prefixes())
