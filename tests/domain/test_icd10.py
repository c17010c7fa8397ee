"""The shipped ICD-10-CM index: look-ups, search and agreement with the source package."""

from __future__ import annotations

import gzip
import random

import pytest

from ccmdesk.domain.icd10 import Icd10Index, default_index, format_icd10, normalize_icd10
from ccmdesk.paths import resource


@pytest.fixture(scope="module")
def index() -> Icd10Index:
    idx = default_index()
    idx.load()
    return idx


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("e11.9", "E119"),
        (" E11.9 ", "E119"),
        ("E119", "E119"),
        ("i10", "I10"),
        ("S72.001A", "S72001A"),
    ],
)
def test_normalize_icd10(typed: str, code: str) -> None:
    assert normalize_icd10(typed) == code


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("E119", "E11.9"),
        ("e11.9", "E11.9"),
        ("I10", "I10"),
        ("I5022", "I50.22"),
        ("S72001A", "S72.001A"),
    ],
)
def test_format_icd10(code: str, shown: str) -> None:
    assert format_icd10(code) == shown


@pytest.mark.parametrize(
    ("code", "words", "billable"),
    [
        ("E11.9", ["type 2 diabetes", "without complications"], True),
        ("I10", ["hypertension"], True),
        ("I50.22", ["chronic", "systolic", "heart failure"], True),
        ("N18.4", ["chronic kidney disease", "stage 4"], True),
        ("J44.9", ["chronic obstructive pulmonary disease"], True),
        ("J06.9", ["acute upper respiratory infection"], True),
        ("E11", ["type 2 diabetes mellitus"], False),
        ("I50.2", ["systolic", "heart failure"], False),
        ("S72.001A", ["femur", "initial encounter"], True),
    ],
)
def test_known_codes(index: Icd10Index, code: str, words: list[str], billable: bool) -> None:
    for form in (code, normalize_icd10(code), code.lower()):
        assert index.is_valid(form)
        assert form in index
        description = index.description(form)
        assert description is not None
        for word in words:
            assert word in description.lower()
        assert index.is_billable(form) is billable


@pytest.mark.parametrize(
    "code", ["E11.99X", "E11.99", "E12", "A00-A09", "", "E", "XYZ", "I50.2222"]
)
def test_unknown_codes(index: Icd10Index, code: str) -> None:
    assert not index.is_valid(code)
    assert index.description(code) is None
    assert not index.is_billable(code)


def test_file_has_header_and_sorted_unique_codes(index: Icd10Index) -> None:
    assert index.header.startswith("ICD-10-CM ")
    assert "simple-icd-10-cm" in index.header
    codes = index.codes()
    assert codes == sorted(set(codes))
    assert 90_000 < len(index) < 110_000
    assert all("." not in code and "-" not in code for code in codes)


def test_search_by_code_prefix_comes_first(index: Icd10Index) -> None:
    results = index.search("E11", limit=5)
    assert [code for code, _ in results] == ["E11", "E110", "E1100", "E1101", "E111"]
    assert index.search("e11.9") == [("E119", "Type 2 diabetes mellitus without complications")]
    assert index.search("I50.2", limit=3)[0][0] == "I502"


def test_search_by_words(index: Icd10Index) -> None:
    codes = [code for code, _ in index.search("heart failure")]
    assert codes[0] == "I50"
    assert "I509" in codes
    for _, description in index.search("heart failure"):
        assert "heart" in description.lower()
        assert "failure" in description.lower()
    # Words are prefixes, in any order, any case.
    assert [code for code, _ in index.search("heart f")][:3] == codes[:3]
    assert "I50" in [code for code, _ in index.search("FAILURE HEART")]
    assert "N184" in [code for code, _ in index.search("chronic kidney disease stage 4")]
    assert "J449" in [code for code, _ in index.search("chronic obstr pulm")]
    assert "E11" in [code for code, _ in index.search("diab")][:5]


def test_search_ignores_accents_and_punctuation(index: Icd10Index) -> None:
    assert "H810" in [code for code, _ in index.search("meniere")]
    assert "H810" in [code for code, _ in index.search("Ménière's")]
    assert "G20" in [code for code, _ in index.search("parkinson's")]
    assert "G30" in [code for code, _ in index.search("alzheimer")]


def test_search_ranks_shorter_descriptions_first(index: Icd10Index) -> None:
    results = index.search("diabetes")
    lengths = [len(description) for _, description in results]
    assert lengths == sorted(lengths)


def test_search_limits_and_empty_input(index: Icd10Index) -> None:
    assert index.search("") == []
    assert index.search("   ") == []
    assert index.search("zzzzqq") == []
    assert index.search("diabetes", limit=0) == []
    assert len(index.search("d", limit=7)) == 7
    assert len(index.search("unspecified")) == 20
    results = index.search("E1", limit=50)
    assert len(results) == len({code for code, _ in results}) == 50


def test_search_mixes_code_and_word_matches_without_duplicates(index: Icd10Index) -> None:
    # "d" matches codes D00... first, then descriptions with words starting with "d".
    results = index.search("d", limit=100)
    codes = [code for code, _ in results]
    assert len(codes) == len(set(codes))
    assert codes[0] == "D00"


def test_index_is_lazy(tmp_path) -> None:
    path = tmp_path / "codes.tsv.gz"
    payload = "# test\nA00\tCholera\t0\nA000\tCholera due to Vibrio cholerae 01\t1\n"
    path.write_bytes(gzip.compress(payload.encode()))
    idx = Icd10Index(path)
    path.write_bytes(gzip.compress(payload.replace("Cholera", "Kolera").encode()))
    # Nothing was read at construction time.
    assert idx.description("A00") == "Kolera"
    assert idx.is_billable("A00.0")
    assert idx.search("kol") == [("A00", "Kolera"), ("A000", "Kolera due to Vibrio cholerae 01")]


def test_default_index_is_shared() -> None:
    assert default_index() is default_index()


@pytest.mark.slow  # importing simple_icd_10_cm takes ~4 s
def test_shipped_index_agrees_with_simple_icd_10_cm(index: Icd10Index) -> None:
    import simple_icd_10_cm as cm  # in the test extra; imported here because it is slow

    rng = random.Random(2026)
    sample = rng.sample(index.codes(), 200)
    for code in sample:
        assert cm.is_valid_item(code), code
        assert cm.is_category_or_subcategory(code), code
        assert index.description(code) == " ".join(cm.get_description(code).split()), code
        assert index.is_billable(code) is cm.is_leaf(code), code
    # ... and the other way round: codes the package knows are in the index.
    package_codes = [
        c for c in cm.get_all_codes(with_dots=False) if cm.is_category_or_subcategory(c)
    ]
    for code in rng.sample(package_codes, 200):
        assert index.is_valid(code), code
    assert len(index) == len(set(package_codes))


def test_shipped_file_is_the_one_on_disk() -> None:
    # Guards against an index built from another path than the one ccmdesk reads.
    path = resource("icd10cm", "codes.tsv.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        assert f.readline().startswith("# ICD-10-CM ")
