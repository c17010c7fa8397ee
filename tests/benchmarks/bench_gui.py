"""Benchmark: the nurse workspace with a 10,000-patient practice.

    python tests/benchmarks/bench_gui.py [--patients 10000] [--db URL]

Prints: start-up to an interactive window (window shown, event loop
answering) and to a loaded list, compared with a bare ``QMainWindow`` started
the same way; search-as-you-type per keystroke; ICD-10 completion per
keystroke; resident memory with the list loaded.  Runs offscreen.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

STARTUP = r"""
import sys, threading, time
t0 = time.perf_counter()
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
if sys.argv[1] == "bare":
    w = QMainWindow(); w.resize(1400, 860); w.show()
    app.processEvents()
    shown = working = loaded = time.perf_counter() - t0
else:
    # the same steps as ccmdesk.app.run_gui, timed
    from ccmdesk import app as ccapp
    shell = ccapp._shell(); shell.show()
    app.processEvents()
    shown = time.perf_counter() - t0
    result = {}
    worker = threading.Thread(target=ccapp._prepare, args=(sys.argv[2], result))
    worker.start()
    while worker.is_alive():
        app.processEvents()
        time.sleep(0.005)
    w = ccapp.build_window(result["db"], sys.argv[3]); w.show(); shell.close(); w.start()
    app.processEvents()
    working = time.perf_counter() - t0
    while not w.loaded:
        app.processEvents()
    loaded = time.perf_counter() - t0
print(f"{shown:.3f} {working:.3f} {loaded:.3f}")
w.close()
"""


def _startup(kind: str, url: str, settings: str) -> tuple[float, float, float]:
    done = subprocess.run(
        [sys.executable, "-c", STARTUP, kind, url, settings],
        capture_output=True,
        text=True,
        check=True,
    )
    shown, working, loaded = done.stdout.split()
    return float(shown), float(working), float(loaded)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--db")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        if not args.db:
            from ccmdesk.services.demo import build_demo
            from ccmdesk.storage.database import open_database

            db = open_database(url, backups=Path(folder) / "bk")
            build_demo(db, patients=args.patients, months=3)
            db.close()
        settings = str(Path(folder) / "settings.ini")
        bare = [_startup("bare", url, settings) for _ in range(3)]
        app = [_startup("app", url, settings) for _ in range(3)]
        bare_best = min(b[0] for b in bare)
        shown = min(a[0] for a in app)
        print(f"start-up, bare QMainWindow shown and answering: {bare_best:.2f} s")
        print(
            f"start-up, ccmdesk window shown and answering: {shown:.2f} s "
            f"({shown / bare_best:.1f}x bare); the full workspace ready: "
            f"{min(a[1] for a in app):.2f} s; list of {args.patients} patients loaded: "
            f"{min(a[2] for a in app):.2f} s"
        )

        from PySide6.QtWidgets import QApplication

        from ccmdesk.app import build_window
        from ccmdesk.services.demo import DEMO_PASSWORD
        from ccmdesk.services.users import sign_in
        from ccmdesk.storage.database import open_database
        from ccmdesk.ui.record_conditions import suggestions

        qt = QApplication([])
        db = open_database(url)
        nurse = sign_in(db, "megan", DEMO_PASSWORD)  # the demo's RN: Start/Stop are hers
        window = build_window(db, settings, user=nurse)
        window.show()
        window.start()
        while not window.loaded:
            qt.processEvents()
        typed = "margaret"
        times = []
        for _ in range(5):
            for end in range(1, len(typed) + 1):
                started = time.perf_counter()
                window.search.setText(typed[:end])
                qt.processEvents()
                times.append(time.perf_counter() - started)
            window.search.setText("")
        print(
            f"search as you type over {window.model.total()} patients: median "
            f"{statistics.median(times) * 1000:.1f} ms, worst {max(times) * 1000:.1f} ms"
        )
        suggestions("a")  # the index loads once, in the background in the app
        words = [
            "d",
            "di",
            "dia",
            "diab",
            "diabe",
            "E1",
            "E11",
            "E11.",
            "E11.9",
            "hea",
            "heart",
            "heart f",
            "chronic k",
            "copd",
            "hyper",
            "hypert",
        ]
        times = []
        for word in words * 3:
            started = time.perf_counter()
            suggestions(word)
            times.append(time.perf_counter() - started)
        print(
            f"ICD-10 completion per keystroke: median {statistics.median(times) * 1000:.1f} ms, "
            f"worst {max(times) * 1000:.1f} ms"
        )
        ids = list(window.rows)[:40]
        opened, starts, stops = [], [], []
        for patient_id in ids:
            started = time.perf_counter()
            window.open_patient(patient_id)
            qt.processEvents()
            opened.append(time.perf_counter() - started)
            started = time.perf_counter()
            window.stopwatch.start()
            starts.append(time.perf_counter() - started)
            started = time.perf_counter()
            window.stopwatch.stop()
            stops.append(time.perf_counter() - started)
        for label, values in (
            ("open a patient's record", opened),
            ("Start (write the running entry)", starts),
            ("Stop (write the entry)", stops),
        ):
            print(
                f"{label} on the GUI thread: median {statistics.median(values) * 1000:.1f} ms, "
                f"worst {max(values) * 1000:.1f} ms"
            )
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak resident memory with the list and the ICD index loaded: {rss:.0f} MB")
        window.ctx.tasks.wait()
        db.close()


if __name__ == "__main__":
    main()
