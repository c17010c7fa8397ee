"""Medicare Beneficiary Identifiers (MBI) and National Provider Identifiers (NPI).

Rules are those of SPEC §1.7. Each identifier has a ``normalize_*`` function
(the form to store), a ``*_problem`` function returning a short plain-English
message for the form to show next to the field (or None when the value is
fine) and an ``is_valid_*`` shortcut. The problem functions normalise first,
so "1eg4-te5-mk73" is judged as "1EG4TE5MK73".

``make_*`` build valid *invented* identifiers for the demo data and tests.
An invented MBI is well formed but never checked against CMS, so it may
belong to a real person: it must never leave demo or test data.
"""

from __future__ import annotations

import random
import string

MBI_LENGTH = 11
NPI_LENGTH = 10
NPI_PREFIX = "80840"  # card issuer prefix for US health applications (ISO 7812)

MBI_EXCLUDED_LETTERS = "SLOIBZ"
MBI_LETTERS = "".join(ch for ch in string.ascii_uppercase if ch not in MBI_EXCLUDED_LETTERS)
DIGITS = string.digits  # ASCII only: str.isdigit() would also accept "٣" or "²"

_EXCLUDED = ", ".join(MBI_EXCLUDED_LETTERS)

_NONZERO_DIGIT = (DIGITS[1:], "a digit from 1 to 9")
_LETTER = (MBI_LETTERS, f"a letter other than {_EXCLUDED}")
_LETTER_OR_DIGIT = (MBI_LETTERS + DIGITS, f"a digit or a letter other than {_EXCLUDED}")
_DIGIT = (DIGITS, "a digit")

# What each MBI position (1 to 11) allows, and how to say so when it does not.
_MBI_POSITIONS: tuple[tuple[str, str], ...] = (
    _NONZERO_DIGIT,
    _LETTER,
    _LETTER_OR_DIGIT,
    _DIGIT,
    _LETTER,
    _LETTER_OR_DIGIT,
    _DIGIT,
    _LETTER,
    _LETTER,
    _DIGIT,
    _DIGIT,
)


def _shown(ch: str) -> str:
    """A character as a person can read it in a message, even when it is blank."""
    return repr(ch) if ch.isprintable() and not ch.isspace() else f"U+{ord(ch):04X}"


# -- MBI ----------------------------------------------------------------------


def normalize_mbi(text: str) -> str:
    """Storage form: no spaces or dashes, upper case ("1eg4-te5-mk73" -> "1EG4TE5MK73")."""
    return "".join(text.split()).replace("-", "").upper()


def mbi_problem(text: str) -> str | None:
    """Why ``text`` is not a valid MBI, or None when it is.

    Reports the first problem only: a length problem, else the first position
    that breaks its rule.
    """
    mbi = normalize_mbi(text)
    if len(mbi) != MBI_LENGTH:
        return f"must be {MBI_LENGTH} characters (got {len(mbi)})"
    for position, (ch, (allowed, wanted)) in enumerate(
        zip(mbi, _MBI_POSITIONS, strict=True), start=1
    ):
        if ch not in allowed:
            return f"position {position} must be {wanted} (got {_shown(ch)})"
    return None


def is_valid_mbi(text: str) -> bool:
    return mbi_problem(text) is None


def make_mbi(rng: random.Random) -> str:
    """A random well-formed MBI, for invented patients only (see module docs)."""
    return "".join(rng.choice(allowed) for allowed, _ in _MBI_POSITIONS)


# -- NPI ----------------------------------------------------------------------


def normalize_npi(text: str) -> str:
    """Storage form: the digits as typed, without spaces."""
    return "".join(text.split())


def npi_check_digit(first9: str) -> int:
    """The Luhn check digit over ``80840`` + the first nine NPI digits."""
    if len(first9) != NPI_LENGTH - 1 or any(ch not in DIGITS for ch in first9):
        raise ValueError(f"expected nine digits, got {first9!r}")
    total = 0
    # Walk right to left; the digit next to the (future) check digit is doubled.
    for offset, ch in enumerate(reversed(NPI_PREFIX + first9)):
        digit = int(ch)
        if offset % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def npi_problem(text: str) -> str | None:
    """Why ``text`` is not a valid NPI, or None when it is."""
    npi = normalize_npi(text)
    bad = next((ch for ch in npi if ch not in DIGITS), None)
    if bad is not None:
        return f"must contain only digits (got {_shown(bad)})"
    if len(npi) != NPI_LENGTH:
        return f"must be {NPI_LENGTH} digits (got {len(npi)})"
    if npi_check_digit(npi[:-1]) != int(npi[-1]):
        return "check digit does not match: a digit is probably mistyped"
    return None


def is_valid_npi(text: str) -> bool:
    return npi_problem(text) is None


def make_npi(prefix9: str) -> str:
    """A valid NPI from nine chosen digits (appends the check digit)."""
    return prefix9 + str(npi_check_digit(prefix9))
