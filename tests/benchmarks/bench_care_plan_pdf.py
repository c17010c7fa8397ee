"""Benchmark: care plan PDFs, one patient and a batch of 500.

    python tests/benchmarks/bench_care_plan_pdf.py [--patients 700] [--batch 500]

Builds a demo practice (its consented patients get care plans), then prints:

* one patient (three chronic conditions, signed plan): report data + PDF,
  the first call and the median of 20 more.
  Target: under 0.3 s;
* a batch: report data for ``--batch`` patients in one call, then each PDF.
  Target: 500 plans under 60 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from ccmdesk.reports.care_plan_pdf import render_care_plan
from ccmdesk.services.care_plans import printable_plan, printable_plans
from ccmdesk.services.demo import build_demo
from ccmdesk.storage.database import open_database
from ccmdesk.storage.models import CarePlan, CarePlanVersion, Condition, Patient


def _three_condition_mrn(db) -> str:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        chronic = (
            select(Condition.patient_id)
            .where(Condition.chronic, Condition.resolved.is_(None))
            .group_by(Condition.patient_id)
            .having(func.count() == 3)
        )
        signed = (
            select(CarePlan.patient_id)
            .join(CarePlanVersion, CarePlanVersion.care_plan_id == CarePlan.id)
            .where(CarePlanVersion.signed_at.is_not(None))
        )
        return session.scalar(
            select(Patient.mrn)
            .where(Patient.id.in_(chronic), Patient.id.in_(signed))
            .order_by(Patient.id)
            .limit(1)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=700)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(f"sqlite:///{Path(folder) / 'bench.sqlite3'}", backups=Path(folder))
        started = time.perf_counter()
        build_demo(db, patients=args.patients, months=12)
        print(f"demo build      {time.perf_counter() - started:.2f} s ({args.patients} patients)")

        mrn = _three_condition_mrn(db)
        started = time.perf_counter()
        data = render_care_plan(printable_plan(db, mrn))
        cold = time.perf_counter() - started
        warm = []
        for _ in range(20):
            started = time.perf_counter()
            report = printable_plan(db, mrn)
            data = render_care_plan(report)
            warm.append(time.perf_counter() - started)
        pages = data.count(b"/Type /Page\n") or data.count(b"/Type /Page")
        print(f"one patient     {mrn}, {len(report.content.problems)} problems, {pages} pages")
        print(f"  first call    {cold:.3f} s (modules already loaded by the demo build)")
        print(f"  warm median   {statistics.median(warm):.3f} s, max {max(warm):.3f} s")

        with db.transaction() as session:
            ids = session.scalars(
                select(CarePlan.patient_id).order_by(CarePlan.patient_id).limit(args.batch)
            ).all()
        started = time.perf_counter()
        reports = printable_plans(db, ids)
        loaded = time.perf_counter() - started
        size = 0
        for report in reports:
            size += len(render_care_plan(report))
        total = time.perf_counter() - started
        print(f"batch           {len(reports)} care plans")
        print(f"  report data   {loaded:.2f} s (one call)")
        print(f"  total         {total:.2f} s, {total / len(reports):.3f} s per plan")
        print(f"  PDF bytes     {size / 1e6:.1f} MB")
        db.close()


if __name__ == "__main__":
    main()
