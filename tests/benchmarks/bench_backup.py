"""Benchmark: backing up and checking a practice database, and restoring it.

    python tests/benchmarks/bench_backup.py [--patients 5000] [--db FILE]

Builds a demo practice of ``--patients`` (or uses ``--db``, an existing ccmdesk
file, left unchanged), then times ``ccmdesk backup`` as the command runs it (a
subprocess), the service's checked copy and its parts (the online backup
API, ``PRAGMA quick_check``), the full ``integrity_check`` a restore runs on the
file offered, and ``ccmdesk restore`` of that copy into a scratch database.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ccmdesk.services.backup import write_checked_copy
from ccmdesk.services.demo import build_demo
from ccmdesk.storage.database import backup_sqlite_file, integrity_problems, open_database


def timed(label: str, work) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    print(f"{label:<44} {elapsed:7.2f} s")
    return elapsed


def command(args: list[str], data: Path) -> None:
    env = {**os.environ, "CCMDESK_DATA_DIR": str(data)}
    done = subprocess.run([sys.executable, "-m", "ccmdesk", *args], env=env, capture_output=True)
    if done.returncode:
        raise SystemExit(done.stderr.decode())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--db", type=Path, help="an existing ccmdesk database to measure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        if args.db:
            source = args.db
        else:
            source = scratch / "bench.sqlite3"
            db = open_database(f"sqlite:///{source}", backups=scratch / "bk")
            timed(
                f"demo practice of {args.patients} patients", lambda: build_demo(db, args.patients)
            )
            db.close()
        print(f"{'database size':<44} {source.stat().st_size / 1e6:7.1f} MB")
        url = f"sqlite:///{source}"
        out = scratch / "cli.sqlite3"
        timed(
            "ccmdesk backup FILE (whole command)",
            lambda: command(["--db", url, "backup", str(out)], scratch),
        )
        print(f"{'backup size':<44} {out.stat().st_size / 1e6:7.1f} MB")
        timed(
            "  online backup API copy", lambda: backup_sqlite_file(source, scratch / "raw.sqlite3")
        )
        timed("  PRAGMA quick_check of the copy", lambda: integrity_problems(out))
        timed(
            "checked copy (service: copy, check, rename)",
            lambda: write_checked_copy(source, scratch / "svc.sqlite3"),
        )
        timed(
            "PRAGMA integrity_check (restore's check)",
            lambda: integrity_problems(out, thorough=True),
        )
        target = scratch / "target.sqlite3"
        shutil.copyfile(out, target)
        timed(
            "ccmdesk restore FILE (whole command)",
            lambda: command(["--db", f"sqlite:///{target}", "restore", str(out)], scratch),
        )


if __name__ == "__main__":
    main()
