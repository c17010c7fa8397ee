"""Build ``resources/icd10cm/codes.tsv.gz``, the compact ICD-10-CM index ccmdesk ships.

Run this when CMS publishes a new code set (after upgrading ``simple-icd-10-cm``)::

    python tools/build_icd10_index.py

Why a prebuilt file: importing ``simple_icd_10_cm`` parses a 10 MB XML file and
takes about four seconds, too slow for application start-up, while the few
facts ccmdesk needs (code, description, billable) fit in ~1.5 MB of gzip.

Format, one line per category, subcategory or extended subcategory (chapters
and blocks such as ``A00-A09`` are left out), sorted by code::

    # ICD-10-CM <code set> from simple-icd-10-cm <version>
    CODE<TAB>description<TAB>1|0

``CODE`` has no dot (``E119``); the last column is ``1`` when the code is
billable (a leaf of the tabular list).  Whitespace inside descriptions (a few
contain tabs or line breaks) is collapsed to single spaces so every record is
one line.  The gzip header carries no file name and ``mtime=0`` so the same
code set always yields the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.metadata
import io
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "resources" / "icd10cm" / "codes.tsv.gz"


def code_set_name(module: object) -> str:
    """Say which code set the package carries, e.g. "2026 (April 1, 2026 update)"."""
    import importlib.resources

    inner = getattr(module, "simple_icd_10_cm", None)
    data_file = getattr(inner, "_classification_data_package_file_name", "")
    name = "(version unknown)"
    if data_file:
        data = importlib.resources.files("simple_icd_10_cm.data").joinpath(data_file)
        with data.open("r", encoding="utf-8") as f:
            found = re.search(r"<version>\s*([^<]+?)\s*</version>", f.read(2000))
        if found:
            name = found.group(1)
    # "icd10c-tabular-April-1-2026.xml" names the release within the fiscal year.
    release = re.search(r"([A-Z][a-z]+)-(\d{1,2})-(\d{4})", data_file)
    if release:
        month, day, year = release.groups()
        name += f" ({month} {day}, {year} update)"
    return name


def collect_rows() -> tuple[str, list[tuple[str, str, bool]]]:
    """Read every non-chapter, non-block code from simple_icd_10_cm."""
    import simple_icd_10_cm as cm  # slow import: only this script pays for it

    rows: dict[str, tuple[str, bool]] = {}
    for code in cm.get_all_codes(with_dots=False):
        # A block holding a single category shares its name (e.g. "B99"); the
        # category is what we want, and is_category_or_subcategory says so.
        if code in rows or not cm.is_category_or_subcategory(code):
            continue
        description = " ".join(cm.get_description(code).split())
        rows[code] = (description, cm.is_leaf(code))
    version = importlib.metadata.version("simple-icd-10-cm")
    header = f"# ICD-10-CM {code_set_name(cm)} from simple-icd-10-cm {version}"
    return header, [(code, desc, leaf) for code, (desc, leaf) in sorted(rows.items())]


def render(header: str, rows: list[tuple[str, str, bool]]) -> bytes:
    """The uncompressed file text, UTF-8 encoded."""
    out = io.StringIO()
    out.write(header + "\n")
    for code, description, billable in rows:
        if "\t" in code or "\n" in description or "\t" in description:
            raise ValueError(f"record for {code} would break the TSV format")
        out.write(f"{code}\t{description}\t{1 if billable else 0}\n")
    return out.getvalue().encode("utf-8")


def write_gzip(path: Path, payload: bytes) -> None:
    """Write ``payload`` gzipped with no name and mtime 0, so output is reproducible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(payload)
    path.write_bytes(buffer.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write")
    args = parser.parse_args(argv)
    header, rows = collect_rows()
    write_gzip(args.output, render(header, rows))
    billable = sum(1 for _, _, leaf in rows if leaf)
    size_kb = args.output.stat().st_size / 1024
    print(header[2:])
    print(f"{len(rows)} codes ({billable} billable) -> {args.output} ({size_kb:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
