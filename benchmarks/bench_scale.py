"""Scale-out benchmark (issue 20): 1 Dask worker against 2, and what 20 nodes would do.

Run:  nice -n 5 .venv/bin/python benchmarks/bench_scale.py [--rows 200000000] [--series 2000]
          [--dir /tmp/imon-scale] [--nodes 20] [--node-workers 16] [--storage-gbs 2.0] [--write-rows-s 150000]

1. **Readings to enterprise-month.**  ``--rows`` synthetic daily readings (the national feed of
   ``imon demo --scale province``: users x 36 months, 31 provincial regions) written once as the Parquet archive
   (month x region partitions, kept in ``--dir`` for the next run), then summed to enterprise-month
   (:func:`monitor.engine.electricity.meter_frame`: the same sums on every partition as the
   single-machine path) on a ``distributed.LocalCluster`` of 1 worker, then of 2, then of 1 again (one thread
   each; the speed-up against the two 1-worker runs' mean); the sums are kept on the workers (persisted),
   counted, and checked equal between the runs.
2. **X-13 on ``--series`` series.**  Synthetic monthly indices (10 years, seasonality, cycle, noise) adjusted by
   the adjust stage's own runner (:func:`monitor.adjust._run_tasks`: batches of ``--batch`` series, each batch one
   X-13ARIMA-SEATS run in its multi-spec mode, the airline model, Spring Festival and working-day regressors)
   through :class:`monitor.engine.dask.DaskEngine`, 1 worker then 2; the adjusted values are checked identical.

Prints each phase's time as it goes (the archive's generation, the cluster's start, the time to the first task,
the tasks' span, the workers' CPU against the wall time and its kernel part, their page faults, peak memory), rows/s, series/s, the speed-ups (goal >= 1.7 each) and an extrapolation to ``--nodes`` nodes of
``--node-workers`` workers with the measured per-worker rate, naming the bottleneck: storage bandwidth
(``--storage-gbs``, GB/s the cluster can read from its shared file system) for the readings, the client's store
writes (``--write-rows-s``, rows/s; the ingestion benchmark's bare executemany/COPY rates are 435-655 k) or the
scheduler (about 5,000 tasks/s) for the series.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np
import pandas as pd

START, END = "2023-01", "2025-12"  # 36 months, 1,096 days
DAYS = 1096
SCHEDULER_TASKS_S = 5000.0
T0 = time.perf_counter()


def build_archive(root: Path, rows: int) -> tuple[int, int]:
    """The archive of about ``rows`` readings (kept between runs); returns (rows, bytes on disk)."""
    from monitor.demo.province import national_feed

    users = max(10, rows // DAYS)
    stamp = root / "bench.json"
    if stamp.is_file() and json.loads(stamp.read_text()).get("users") == users:
        saved = json.loads(stamp.read_text())
        return int(saved["rows"]), int(saved["bytes"])
    shutil.rmtree(root, ignore_errors=True)
    t0 = time.perf_counter()
    written = national_feed(root / "archive", root / "register.parquet", users=users, start=START, end=END, seed=2017,
                            progress=lambda text: print(f"  generating: {text}", flush=True))
    size = sum(f.stat().st_size for f in (root / "archive").rglob("*.parquet"))
    stamp.write_text(json.dumps({"users": users, "rows": written, "bytes": size}))
    print(f"  archive written: {written:,} readings of {users:,} users, {size / 1e9:.2f} GB of Parquet "
          f"in {time.perf_counter() - t0:.0f} s (peak memory so far {_peak_gb():.1f} GB)", flush=True)
    return written, size


def _peak_gb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def cluster(workers: int):
    from distributed import Client, LocalCluster

    c = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                     silence_logs=logging.ERROR, memory_limit=None)
    return Client(c), c


def _cpu() -> tuple[float, int, float, int]:
    """This process's CPU seconds (all threads), peak resident memory (bytes), kernel CPU seconds and minor page
    faults (fresh pages the kernel had to map and zero), run on each worker."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, usage.ru_stime, usage.ru_minflt


def aggregate(root: Path, workers: int, rows: int) -> tuple[float, int, float]:
    """Seconds to sum the archive to enterprise-month on ``workers`` workers; (seconds, rows out, kWh total).

    Prints the run's phases: the cluster's start, the time to the first task (sending the graph, the workers
    importing the task's modules), the span of the tasks, and the workers' CPU against the wall time (at most
    one core each: one thread of compute per worker, nothing on the side).
    """
    from distributed import get_task_stream, wait

    from monitor.engine.electricity import meter_frame

    t0 = time.perf_counter()
    client, c = cluster(workers)
    started = time.perf_counter() - t0
    try:
        lazy = meter_frame(root / "archive")
        before = client.run(_cpu)
        sched0 = time.process_time()  # the client and the local scheduler share this process
        t0, w0 = time.perf_counter(), time.time()
        with get_task_stream(client) as stream:
            kept = client.persist(lazy)
            wait(kept)
        seconds = time.perf_counter() - t0
        client_cpu = time.process_time() - sched0
        after = client.run(_cpu)
        spans = [(s["start"], s["stop"]) for t in stream.data for s in t["startstops"] if s["action"] == "compute"]
        first = min(a for a, _ in spans) - w0
        busy = sum(b - a for a, b in spans)
        cpu = {w: after[w][0] - before[w][0] for w in after}
        kernel = sum(after[w][2] - before[w][2] for w in after)
        faults = sum(after[w][3] - before[w][3] for w in after)
        print(f"   {workers} worker(s): cluster start {started:.1f} s (not counted); {lazy.npartitions} partitions; "
              f"first task after {first:.1f} s (graph sent, workers importing the task's modules); tasks' span "
              f"{seconds - first:.1f} s, {busy:.1f} s of task time; workers' CPU "
              + ", ".join(f"{v:.1f} s ({v / seconds:.2f} of a core)" for v in cpu.values())
              + f", of it {kernel:.1f} s in the kernel; {faults:,} minor page faults (fresh pages mapped and zeroed, "
              f"{faults / rows * 1e6:,.0f} a million readings); client+scheduler CPU {client_cpu:.1f} s; worker peak memory "
              f"{max(v[1] for v in after.values()) / 1e9:.2f} GB", flush=True)
        out = int(client.compute(kept.map_partitions(len).sum()).result())
        total = float(client.compute(kept["kwh"].sum()).result())
    finally:
        client.close()
        c.close()
    return seconds, out, total


def synthetic_series(n: int) -> list:
    from monitor.adjust import _Task

    idx = pd.period_range("2015-01", periods=120, freq="M")
    seasonal_base = np.array([-1.5, -4.0, 4.5, 1.0, 0.5, -0.5, -1.0, -0.5, 1.5, -0.5, 0.5, 0.0])
    tasks = []
    for i in range(n):
        rng = np.random.default_rng(i)
        values = (50 + 2.0 * np.sin(np.arange(120) / (6 + i % 7)) + seasonal_base[idx.month - 1] * rng.uniform(0.5, 1.5)
                  + rng.normal(0, 0.5, 120))
        tasks.append(_Task(f"bench/{i}", "2015-01", tuple(float(v) for v in values), "additive", "x13",
                           "(0 1 1)(0 1 1)"))
    return tasks


def adjust(tasks: list, workers: int, batch: int) -> tuple[float, list]:
    """Seconds to adjust ``tasks`` as the adjust stage does (batches of X-13 runs) on ``workers`` Dask workers."""
    from monitor.adjust import _run_tasks
    from monitor.engine.dask import DaskEngine

    client, c = cluster(workers)
    try:
        engine = DaskEngine(client, batch=batch)
        _run_tasks(tasks[: 2 * workers], 1, None, DaskEngine(client, batch=1))  # warm the workers' imports
        t0 = time.perf_counter()
        fits = _run_tasks(tasks, 1, None, engine)
        seconds = time.perf_counter() - t0
    finally:
        client.close()
        c.close()
    return seconds, fits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000_000, help="synthetic daily readings (default 200 M)")
    parser.add_argument("--series", type=int, default=2000, help="series adjusted with X-13 (default 2,000)")
    parser.add_argument("--batch", type=int, default=8, help="series per Dask task (dask.batch)")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/imon-scale"), help="where the archive is kept")
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--node-workers", type=int, default=16, help="worker processes (cores) per node")
    parser.add_argument("--storage-gbs", type=float, default=2.0, help="shared file system read bandwidth, GB/s")
    parser.add_argument("--write-rows-s", type=float, default=150_000.0, help="client store write rate, rows/s")
    parser.add_argument("--skip-readings", action="store_true")
    parser.add_argument("--skip-x13", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"bench_scale: {os.cpu_count()} cores, load average {load:.1f} at start, "
          f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
    W = args.nodes * args.node_workers
    lines = []

    if not args.skip_readings:
        print(f"1. {args.rows:,} readings -> enterprise-month")
        rows, size = build_archive(args.dir, args.rows)
        t0 = time.perf_counter()
        for f in (args.dir / "archive").rglob("*.parquet"):  # warm the page cache for both runs alike
            f.read_bytes()
        print(f"   page cache warmed in {time.perf_counter() - t0:.1f} s", flush=True)
        # 1 worker, 2 workers, 1 worker again: the same cluster set-up, data and warm page cache for each, and
        # the two 1-worker runs show whether the order (a warmer machine, a fuller page cache) moved anything
        s1a, out1, kwh1 = aggregate(args.dir, 1, rows)
        s2, out2, kwh2 = aggregate(args.dir, 2, rows)
        s1b, out1b, kwh1b = aggregate(args.dir, 1, rows)
        assert out1 == out2 == out1b and abs(kwh1 - kwh2) <= 1e-9 * abs(kwh1) and kwh1 == kwh1b, \
            "1 and 2 workers disagree"
        s1 = (s1a + s1b) / 2
        r1, r2 = rows / s1, rows / s2
        per_row = size / rows
        ideal = r1 * W
        storage = args.storage_gbs * 1e9 / per_row
        projected = min(ideal, storage)
        bottleneck = ("the shared file system's read bandwidth" if storage < ideal else
                      "the workers' CPU (parsing Parquet and summing): it scales with the nodes")
        lines += [
            f"   {rows:,} readings ({per_row:.1f} bytes/row on disk) -> {out1:,} enterprise-months",
            f"   1 worker : {s1:8.1f} s = {r1:12,.0f} rows/s (mean of {s1a:.1f} s before and {s1b:.1f} s after "
            f"the 2-worker run)",
            f"   2 workers: {s2:8.1f} s = {r2:12,.0f} rows/s   speed-up {s1 / s2:.2f} (goal >= 1.7; "
            f"{s1a / s2:.2f} and {s1b / s2:.2f} against each 1-worker run)",
            f"   {args.nodes} nodes x {args.node_workers} workers at {r1:,.0f} rows/s each: {ideal / 1e6:,.0f} M rows/s of "
            f"CPU, storage allows {storage / 1e6:,.0f} M rows/s ({args.storage_gbs} GB/s); projected "
            f"{projected / 1e6:,.0f} M rows/s, a year of daily readings of 10 M users (3.65 bn) in "
            f"{3.65e9 / projected:,.0f} s; bottleneck: {bottleneck}",
        ]
        print("\n".join(lines[-4:]), flush=True)

    if not args.skip_x13:
        print(f"2. X-13 on {args.series:,} series (120 months, airline model, calendar regressors)")
        tasks = synthetic_series(args.series)
        t1, fits1 = adjust(tasks, 1, args.batch)
        print(f"   1 worker : {t1:.1f} s", flush=True)
        t2, fits2 = adjust(tasks, 2, args.batch)
        failed = sum(f.status != "ok" for f in fits1)
        assert [f.sa for f in fits1] == [f.sa for f in fits2], "1 and 2 workers disagree"
        q1, q2 = args.series / t1, args.series / t2
        ideal = q1 * W
        writes = args.write_rows_s / (120 + 1)  # each series writes its adjusted months and one diagnostics row
        scheduler = SCHEDULER_TASKS_S * args.batch
        projected = min(ideal, writes, scheduler)
        bottleneck = ("the client's store writes (results are written once, from the client)" if projected == writes
                      else "the scheduler's task rate (raise dask.batch)" if projected == scheduler
                      else "the workers' CPU (X-13 itself): it scales with the nodes")
        lines += [
            f"   {failed} of {args.series} series failed (isolated)",
            f"   1 worker : {t1:8.1f} s = {q1:8.2f} series/s",
            f"   2 workers: {t2:8.1f} s = {q2:8.2f} series/s   speed-up {t1 / t2:.2f} (goal >= 1.7)",
            f"   {args.nodes} nodes x {args.node_workers} workers at {q1:.2f} series/s each: {ideal:,.0f} series/s of CPU; "
            f"store writes allow {writes:,.0f} series/s ({args.write_rows_s:,.0f} rows/s), the scheduler "
            f"{scheduler:,.0f}; projected {projected:,.0f} series/s (100,000 series in {100_000 / projected:,.0f} s); "
            f"bottleneck: {bottleneck}",
        ]
        print("\n".join(lines[-4:]), flush=True)
    import resource

    print(f"load average {os.getloadavg()[0]:.1f} at the end (figures measured under load are indicative only); "
          f"{time.perf_counter() - T0:.0f} s in all; this process's peak memory "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.1f} GB")


if __name__ == "__main__":
    main()
