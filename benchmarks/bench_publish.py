"""Build time of each publication on the demo store, as a user runs it (issue 7: each under 10 s).

Each publication is built by a fresh ``imon publish KIND PERIOD`` process (all three formats, a draft),
so the figure includes the command's start-up; the median of ``--repeat`` runs is reported, with the
load average at the start (the machine is shared).

Usage::

    cd <folder with var/imon.sqlite from `imon demo`> && /path/to/.venv/bin/python /path/to/benchmarks/bench_publish.py

There is no peer to run beside it: the issue sets an absolute budget (10 s per publication).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--period", default=None, help="month of the PMI release and operation report (default: latest)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--lang", default="zh")
    args = ap.parse_args()
    imon = str(Path(sys.executable).with_name("imon"))
    if args.period is None:
        import sqlite3

        con = sqlite3.connect("var/imon.sqlite")
        args.period = con.execute("SELECT max(period) FROM series_value WHERE series_key = 'pmi/headline'").fetchone()[0]
    month = pd.Period(args.period, "M")
    quarter = month.asfreq("Q") if month.month % 3 == 0 else month.asfreq("Q") - 1
    year = month.year if month.month == 12 else month.year - 1
    jobs = [("pmi", str(month)), ("operations", str(month)), ("dispatch", f"{quarter.year}Q{quarter.quarter}"),
            ("annual", str(year))]
    print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores)")
    for kind, when in jobs:
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            run = subprocess.run([imon, "publish", kind, when, "--lang", args.lang], capture_output=True, text=True)
            times.append(time.perf_counter() - t0)
            if run.returncode != 0:
                print(f"{kind} {when}: failed: {run.stderr.strip()[:300]}")
                break
        print(f"{kind:10s} {when:8s} median {statistics.median(times):5.1f} s  (runs: {', '.join(f'{t:.1f}' for t in times)})")


if __name__ == "__main__":
    main()
