"""Benchmark: ``build_demo`` into a fresh SQLite file.

    python tests/benchmarks/bench_demo.py [--patients 5000] [--months 12]

Prints the build time, rows written, the file's size and this process's peak
resident memory (``ru_maxrss``).  The target: 5,000 patients and 12 months
(about 150,000 time entries) in well under 60 s on a small machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from ccmdesk.services.demo import build_demo
from ccmdesk.storage.database import open_database


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes vs KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo.sqlite3"
        before = _peak_rss_mb()
        db = open_database(f"sqlite:///{path}", backups=Path(folder) / "bk")
        started = time.perf_counter()
        summary = build_demo(db, patients=args.patients, months=args.months, seed=args.seed)
        elapsed = time.perf_counter() - started
        db.close()
        size = sum(p.stat().st_size for p in Path(folder).glob("demo.sqlite3*"))
        print(f"patients        {summary.patients}")
        print(f"months          {summary.months} ({summary.first_month} to {summary.last_month})")
        print(f"time entries    {summary.time_entries}")
        print(f"elapsed         {elapsed:.2f} s (build_demo says {summary.elapsed_seconds:.2f} s)")
        print(f"entries/second  {summary.time_entries / elapsed:,.0f}")
        print(f"file size       {size / 1e6:.1f} MB")
        print(f"peak RSS        {_peak_rss_mb():.0f} MB (before the build: {before:.0f} MB)")


if __name__ == "__main__":
    main()
