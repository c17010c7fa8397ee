"""Benchmark: the billing summary PDF of a whole month (target: 2,000 patients, < 5 s, < 400 MB).

    python tests/benchmarks/bench_billing_pdf.py [--patients 2000] [--runs 3] [--db URL]

Builds a demo practice (12 months) in a temporary file unless ``--db`` names
an existing one.  Each measurement runs in a fresh child process, so the
peak memory is the PDF's alone and not the demo build's:

* ``ccmdesk billing --pdf``: the real command, end to end (start-up, imports,
  database, billing, PDF, file), timed from outside; peak RSS from ``wait4``;
* the same work in-process, split into billing, summary and layout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _child(url: str, month_text: str, out: str) -> None:
    """Runs in a fresh process: time each step, report peak RSS as JSON."""
    started = time.perf_counter()
    from ccmdesk.domain.time import Month
    from ccmdesk.reports.billing_pdf import render_billing_summary
    from ccmdesk.reports.billing_summary import load_billing_summary
    from ccmdesk.services.billing import compute_month
    from ccmdesk.storage.database import open_database

    imported = time.perf_counter()
    db = open_database(url)
    report = compute_month(db, Month.parse(month_text))
    billed = time.perf_counter()
    summary = load_billing_summary(db, report)
    summarised = time.perf_counter()
    pdf = render_billing_summary(summary)
    rendered = time.perf_counter()
    Path(out).write_bytes(pdf)
    db.close()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(
        json.dumps(
            {
                "imports": imported - started,
                "billing": billed - imported,
                "summary": summarised - billed,
                "layout": rendered - summarised,
                "total": time.perf_counter() - started,
                "rows": len(report.rows),
                "bytes": len(pdf),
                "peak_mb": peak_kb / 1024,
            }
        )
    )


def _run(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB, from wait4) and standard output of one child process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            err.seek(0)
            raise SystemExit(f"{' '.join(command[:4])} failed: {err.read().decode().strip()}")
        out.seek(0)
        return elapsed, usage.ru_maxrss / 1024, out.read().decode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db")
    parser.add_argument("--child", nargs=3, metavar=("URL", "MONTH", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return

    from pypdf import PdfReader
    from sqlalchemy import func, select

    from ccmdesk.domain.time import Month
    from ccmdesk.services.demo import build_demo
    from ccmdesk.storage.database import open_database
    from ccmdesk.storage.models import Patient, TimeEntry

    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        db = open_database(url, backups=Path(folder) / "bk")
        if not args.db:
            started = time.perf_counter()
            build_demo(db, patients=args.patients, months=12)
            print(f"built demo: {time.perf_counter() - started:.1f} s")
        with db.transaction() as session:
            patients = session.scalar(select(func.count()).select_from(Patient))
            entries = session.scalar(select(func.count()).select_from(TimeEntry))
        db.close()
        month = str(Month.of(dt.date.today()).previous())
        out = str(Path(folder) / "summary.pdf")
        env = {**os.environ, "PYTHONPATH": str(REPO), "CCMDESK_DATA_DIR": folder}
        print(f"{patients} patients, {entries} time entries; billing summary PDF of {month}")

        cli = [sys.executable, "-m", "ccmdesk", "--db", url, "billing", "--month", month]
        for run in range(args.runs):
            seconds, peak, _ = _run([*cli, "--pdf", out], env)
            size = Path(out).stat().st_size
            print(
                f"  ccmdesk billing --pdf, run {run + 1}: {seconds:.2f} s wall,"
                f" peak RSS {peak:.0f} MB, {size / 1024:.0f} KB"
            )
        for run in range(args.runs):
            _, peak, text = _run([sys.executable, __file__, "--child", url, month, out], env)
            steps = json.loads(text)
            pages = len(PdfReader(out).pages)
            print(
                f"  in-process, run {run + 1}: {steps['rows']} patients on the list,"
                f" imports {steps['imports']:.2f} s + billing {steps['billing']:.2f} s"
                f" + summary {steps['summary']:.2f} s + layout {steps['layout']:.2f} s"
                f" = {steps['total']:.2f} s; peak RSS {peak:.0f} MB" + f"; {pages} pages"
            )


if __name__ == "__main__":
    main()
