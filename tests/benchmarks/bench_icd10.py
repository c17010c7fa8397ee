"""How fast the ICD-10-CM pick list feels: index load time and per-keystroke search time.

Run from a checkout: ``python tests/benchmarks/bench_icd10.py``. Targets: load
well under 0.5 s, every search under 20 ms. Not collected by pytest (the file
name does not start with ``test_``).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ccmdesk.domain.icd10 import Icd10Index

# What people type, one keystroke at a time.
QUERIES = [
    "d", "di", "dia", "diab", "diabe", "diabet", "diabetes", "diabetes t", "diabetes ty",
    "diabetes type 2",
    "h", "he", "hea", "heart", "heart f", "heart failure",
    "hyp", "hypert", "hypertension",
    "chronic k", "chronic kidney", "copd", "afib", "atrial fib",
    "E", "E1", "E11", "E11.9", "I50.2", "dementia alz",
]  # fmt: skip
ROUNDS = 5


def main() -> int:
    start = time.perf_counter()
    index = Icd10Index()
    index.load()
    load_seconds = time.perf_counter() - start
    print(f"{index.header}: {len(index)} codes")
    print(f"load: {load_seconds * 1000:.0f} ms")

    per_query: dict[str, float] = {}
    for query in QUERIES:
        timings = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            index.search(query)
            timings.append(time.perf_counter() - start)
        per_query[query] = max(timings)

    for query, seconds in per_query.items():
        print(f"  {query!r:20} {seconds * 1000:7.2f} ms")
    times = list(per_query.values())
    slowest = max(per_query, key=per_query.__getitem__)
    print(
        f"search over {len(QUERIES)} queries (worst of {ROUNDS} runs each): "
        f"mean {statistics.mean(times) * 1000:.2f} ms, "
        f"max {max(times) * 1000:.2f} ms ({slowest!r})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
