"""The forecast stage of one month on the demo store, and the demo's track-record fill (issue 15).

Copies a built demo store (default ``var/``; ``make demo`` or a copy of one) to a temporary folder, then times
``monitor.pipeline.forecast_stage`` for its last month: first with ``forecast.track_months = 0`` (the month
itself: every key series, the nowcast, the odds, the leading indicators), then, on a fresh copy, with the past
origins of the track record filled in (``--track`` months, default 24), as the demo's first run does.

The wall time depends on the machine's load; the CPU time does not: the stage's own process runs the serial parts
and its worker processes the parallel ones, so "own CPU + workers' CPU / workers" estimates the wall time on idle
cores.  The goal (issue 15): the month's stage (``--track 0``) <= 60 s on 2 cores.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_forecast_stage.py [--store var] [--track 24]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from monitor.pipeline import forecast_stage  # noqa: E402
from monitor.settings import load_settings  # noqa: E402
from monitor.store import open_store  # noqa: E402


def run(source: Path, track: int, workers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(source / "imon.sqlite", Path(tmp) / "imon.sqlite")
        settings = load_settings(environ={}, overrides={"data_dir": tmp, "forecast.track_months": str(track),
                                                        "forecast.workers": str(workers)})
        with open_store(settings, auto_upgrade=True) as store:
            last = store.read_records("SELECT MAX(period) AS p FROM official_statistic WHERE length(period) = 7")
            period = pd.Period(last["p"].iloc[0], "M")
            with store.begin() as conn:  # the month's own forecasts are recomputed
                conn.exec_driver_sql(f"DELETE FROM forecast WHERE origin = '{period}'")
            t0, c0 = time.perf_counter(), os.times()
            report = forecast_stage(store, settings, period)
            total, c1 = time.perf_counter() - t0, os.times()
        own = sum(c1[:2]) - sum(c0[:2])  # this process (the serial parts), user + system
        workers_cpu = sum(c1[2:4]) - sum(c0[2:4])  # its worker processes (the parallel parts)
        load = os.getloadavg()[0]
        idle = own + workers_cpu / workers
        print(f"forecast stage of {period}, track_months={track}, workers={workers}: {total:.1f} s wall "
              f"(load average {load:.1f}); CPU {own:.1f} s in the stage's process + {workers_cpu:.1f} s in its "
              f"workers = about {idle:.1f} s wall on {workers} idle cores ({report.status})")
        for part in report.message.split("; "):
            if " in " in part and " s" in part:
                print("   ", part[:160])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=ROOT / "var")
    parser.add_argument("--track", type=int, default=24)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    run(args.store, 0, args.workers)
    if args.track:
        run(args.store, args.track, args.workers)


if __name__ == "__main__":
    main()
