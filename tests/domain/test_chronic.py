"""The default chronic-condition list of SPEC §1.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccmdesk.domain.chronic import (
    default_chronic_prefixes,
    is_chronic,
    is_chronic_by_default,
    load_chronic_prefixes,
)
from ccmdesk.domain.icd10 import default_index
from ccmdesk.paths import resource

# One real, billable example per SPEC §1.1 group, and the group's range.
GROUP_EXAMPLES = [
    ("diabetes (E08-E13)", ["E08.9", "E09.9", "E10.9", "E11.9", "E11.65", "E13.9"]),
    ("hypertensive disease (I10-I16)", ["I10", "I11.9", "I12.9", "I13.10", "I15.9", "I16.9"]),
    ("ischemic heart disease (I20-I25)", ["I20.9", "I21.9", "I25.10"]),
    ("atrial fibrillation (I48)", ["I48.91", "I48.0"]),
    ("heart failure (I50)", ["I50.22", "I50.9"]),
    ("COPD (J41-J44)", ["J41.0", "J42", "J43.9", "J44.9"]),
    ("asthma (J45)", ["J45.909"]),
    ("chronic kidney disease (N18)", ["N18.4", "N18.30"]),
    ("disorders of lipoid metabolism (E78)", ["E78.5", "E78.00"]),
    ("depression (F32-F33)", ["F32.A", "F32.9", "F33.1"]),
    ("dementia (F01-F03)", ["F01.50", "F02.80", "F03.90"]),
    ("dementia (G30)", ["G30.9"]),
    ("osteoarthritis (M15-M19)", ["M15.0", "M16.11", "M17.0", "M18.9", "M19.90"]),
    ("Parkinson's disease (G20)", ["G20.A1", "G20.C"]),
    ("obesity (E66)", ["E66.9", "E66.01"]),
    ("chronic liver disease (K70-K74)", ["K70.30", "K71.9", "K72.10", "K73.9", "K74.60"]),
    ("cancer (C00-C96)", ["C00.0", "C18.9", "C34.90", "C50.911", "C61", "C7A.00", "C96.9"]),
    ("schizophrenia (F20)", ["F20.9"]),
    ("bipolar disorder (F31)", ["F31.9"]),
    ("peripheral vascular disease (I73)", ["I73.9"]),
]

NOT_CHRONIC = [
    "J06.9",  # acute upper respiratory infection
    "S72.001A",  # hip fracture, initial encounter
    "Z00.00",  # general adult examination
    "I26.99",  # pulmonary embolism: next to I20-I25 but acute
    "J40",  # bronchitis, not specified as acute or chronic: just below J41
    "J46",  # not a code, but must not match J45 by accident
    "N17.9",  # acute kidney failure
    "F34.1",  # dysthymia: outside F32-F33
    "E12",
    "D03.9",  # melanoma in situ: not C00-C96
    "C97",  # beyond C96
    "",
]


@pytest.mark.parametrize(("group", "codes"), GROUP_EXAMPLES, ids=[g for g, _ in GROUP_EXAMPLES])
def test_every_spec_group_has_chronic_examples(group: str, codes: list[str]) -> None:
    index = default_index()
    for code in codes:
        assert index.is_valid(code), f"{code} ({group}) is not a real code"
        assert is_chronic_by_default(code), f"{code} ({group}) should be chronic"
        assert is_chronic_by_default(code.replace(".", "").lower())


@pytest.mark.parametrize("code", NOT_CHRONIC)
def test_acute_and_other_codes_are_not_chronic(code: str) -> None:
    assert not is_chronic_by_default(code)


def test_shipped_list_holds_real_categories_with_comments() -> None:
    path = resource("chronic_conditions.txt")
    index = default_index()
    prefixes = load_chronic_prefixes(path)
    assert prefixes == default_chronic_prefixes()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        prefix, _, comment = line.partition("#")
        assert comment.strip(), f"no group named for {line!r}"
        assert index.is_valid(prefix.strip()), f"{prefix.strip()} is not an ICD-10-CM category"
    assert len(prefixes) > 100  # C00-C96 alone is ~90 categories


def test_load_chronic_prefixes_normalises_and_ignores_comments(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_text("# header\n\n e11.6  # diabetes with other complications\nI48\n", "utf-8")
    prefixes = load_chronic_prefixes(path)
    assert prefixes == frozenset({"E116", "I48"})
    assert is_chronic("E11.65", prefixes)
    assert not is_chronic("E11.9", prefixes)
    assert is_chronic("i48.91", prefixes)


def test_load_chronic_prefixes_rejects_garbage(tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_text("E11\nE08-E13\n", "utf-8")
    with pytest.raises(ValueError, match=":2:"):
        load_chronic_prefixes(path)
