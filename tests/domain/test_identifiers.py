"""MBI and NPI rules of SPEC §1.7."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccmdesk.domain.identifiers import (
    MBI_EXCLUDED_LETTERS,
    is_valid_mbi,
    is_valid_npi,
    make_mbi,
    make_npi,
    mbi_problem,
    normalize_mbi,
    normalize_npi,
    npi_check_digit,
    npi_problem,
)

# CMS's published example MBI.
GOOD_MBI = "1EG4TE5MK73"

# -- MBI ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("1EG4TE5MK73", "1EG4TE5MK73"),
        ("1eg4-te5-mk73", "1EG4TE5MK73"),
        (" 1EG4 TE5 MK73 ", "1EG4TE5MK73"),
        ("1EG4-TE5-MK73\n", "1EG4TE5MK73"),
    ],
)
def test_normalize_mbi(typed: str, stored: str) -> None:
    assert normalize_mbi(typed) == stored
    assert is_valid_mbi(typed)


@pytest.mark.parametrize(
    ("mbi", "expected"),
    [
        ("1EG4TE5MK73", None),
        ("9AA0AA0AA00", None),
        ("1A00A00AA00", None),  # positions 3 and 6 may be digits
        ("", "must be 11 characters (got 0)"),
        ("1EG4TE5MK", "must be 11 characters (got 9)"),
        ("1EG4TE5MK731", "must be 11 characters (got 12)"),
        ("0EG4TE5MK73", "position 1 must be a digit from 1 to 9 (got '0')"),
        ("AEG4TE5MK73", "position 1 must be a digit from 1 to 9 (got 'A')"),
        ("15G4TE5MK73", "position 2 must be a letter other than S, L, O, I, B, Z (got '5')"),
        ("1SG4TE5MK73", "position 2 must be a letter other than S, L, O, I, B, Z (got 'S')"),
        (
            "1E*4TE5MK73",
            "position 3 must be a digit or a letter other than S, L, O, I, B, Z (got '*')",
        ),
        ("1EGATE5MK73", "position 4 must be a digit (got 'A')"),
        ("1EG4ZE5MK73", "position 5 must be a letter other than S, L, O, I, B, Z (got 'Z')"),
        (
            "1EG4TO5MK73",
            "position 6 must be a digit or a letter other than S, L, O, I, B, Z (got 'O')",
        ),
        ("1EG4TEEMK73", "position 7 must be a digit (got 'E')"),
        ("1EG4TE51K73", "position 8 must be a letter other than S, L, O, I, B, Z (got '1')"),
        ("1EG4TE5MI73", "position 9 must be a letter other than S, L, O, I, B, Z (got 'I')"),
        ("1EG4TE5MKB3", "position 10 must be a digit (got 'B')"),
        ("1EG4TE5MK7L", "position 11 must be a digit (got 'L')"),
    ],
)
def test_mbi_problem_table(mbi: str, expected: str | None) -> None:
    assert mbi_problem(mbi) == expected
    assert is_valid_mbi(mbi) is (expected is None)


def test_mbi_rejects_non_ascii_digits() -> None:
    # "٣" (Arabic-Indic three) passes str.isdigit(); an MBI must not accept it.
    assert mbi_problem("1EG٣TE5MK73") == "position 4 must be a digit (got '٣')"


# What breaks each position's rule, whatever the position allows.
_BREAKERS: dict[int, str] = {
    1: "0",
    2: "7",
    3: "L",
    4: "C",
    5: "4",
    6: "S",
    7: "K",
    8: "0",
    9: "9",
    10: "Q",
    11: "X",
}


@given(seed=st.integers(), position=st.integers(min_value=1, max_value=11))
def test_breaking_one_mbi_position_names_it(seed: int, position: int) -> None:
    mbi = make_mbi(random.Random(seed))
    broken = mbi[: position - 1] + _BREAKERS[position] + mbi[position:]
    problem = mbi_problem(broken)
    assert problem is not None
    assert problem.startswith(f"position {position} must be ")


@given(seed=st.integers())
def test_generated_mbis_are_valid(seed: int) -> None:
    mbi = make_mbi(random.Random(seed))
    assert len(mbi) == 11
    assert mbi_problem(mbi) is None
    assert not set(mbi) & set(MBI_EXCLUDED_LETTERS)


@given(seed=st.integers(), data=st.data())
def test_mbi_normalisation_round_trip(seed: int, data: st.DataObject) -> None:
    mbi = make_mbi(random.Random(seed))
    # Lower-case some characters and sprinkle dashes and spaces.
    typed = "".join(
        data.draw(st.sampled_from(["", "-", " "])) + data.draw(st.sampled_from([ch, ch.lower()]))
        for ch in mbi
    )
    assert normalize_mbi(typed) == mbi
    assert is_valid_mbi(typed)


@pytest.mark.parametrize("letter", list(MBI_EXCLUDED_LETTERS))
def test_excluded_letters_rejected_in_every_letter_position(letter: str) -> None:
    for position in (2, 3, 5, 6, 8, 9):
        broken = GOOD_MBI[: position - 1] + letter + GOOD_MBI[position:]
        assert not is_valid_mbi(broken), broken
        assert not is_valid_mbi(broken.lower()), broken


# -- NPI ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first9", "check"),
    [("123456789", 3), ("000000000", 6), ("999999999", 5), ("100000000", 4)],
)
def test_npi_check_digit(first9: str, check: int) -> None:
    assert npi_check_digit(first9) == check


@pytest.mark.parametrize("bad", ["12345678", "1234567890", "12345678a", "", "١٢٣٤٥٦٧٨٩"])
def test_npi_check_digit_needs_nine_ascii_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        npi_check_digit(bad)


@pytest.mark.parametrize(
    ("npi", "expected"),
    [
        ("1234567893", None),
        (" 1234 567 893 ", None),
        ("1234567890", "check digit does not match: a digit is probably mistyped"),
        ("1234567839", "check digit does not match: a digit is probably mistyped"),
        ("123456789", "must be 10 digits (got 9)"),
        ("12345678931", "must be 10 digits (got 11)"),
        ("", "must be 10 digits (got 0)"),
        ("123456789X", "must contain only digits (got 'X')"),
        ("123-456-7893", "must contain only digits (got '-')"),
    ],
)
def test_npi_problem_table(npi: str, expected: str | None) -> None:
    assert npi_problem(npi) == expected
    assert is_valid_npi(npi) is (expected is None)


def test_normalize_npi_strips_spaces_only() -> None:
    assert normalize_npi(" 1234 567893\t") == "1234567893"
    assert normalize_npi("123-4567893") == "123-4567893"


def test_make_npi() -> None:
    assert make_npi("123456789") == "1234567893"


nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


@given(prefix=nine_digits)
def test_generated_npis_are_valid(prefix: str) -> None:
    npi = make_npi(prefix)
    assert len(npi) == 10
    assert npi.startswith(prefix)
    assert npi_problem(npi) is None


@given(prefix=nine_digits, position=st.integers(min_value=0, max_value=9), data=st.data())
def test_changing_one_npi_digit_makes_it_invalid(
    prefix: str, position: int, data: st.DataObject
) -> None:
    npi = make_npi(prefix)
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != npi[position]]))
    changed = npi[:position] + digit + npi[position + 1 :]
    assert not is_valid_npi(changed)
    assert npi_problem(changed) == "check digit does not match: a digit is probably mistyped"


@given(prefix=nine_digits, position=st.integers(min_value=0, max_value=8))
def test_swapping_adjacent_npi_digits_is_caught_when_they_differ(
    prefix: str, position: int
) -> None:
    npi = make_npi(prefix)
    a, b = npi[position], npi[position + 1]
    swapped = npi[:position] + b + a + npi[position + 2 :]
    # Luhn misses only the 0<->9 transposition.
    if a != b and {a, b} != {"0", "9"}:
        assert not is_valid_npi(swapped)
