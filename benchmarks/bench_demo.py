"""Benchmark the demo build: generator time, load time, store size.

Run:  .venv/bin/python benchmarks/bench_demo.py [--enterprises 1200] [--start 2012-01] [--end 2026-10]

Prints
- the generator's time for the full panel against the issue's 60 s budget (ratio = time / 60 s);
- the time to load the build into a fresh SQLite file, and the file's size;
- the bulk loader against SQLAlchemy Core's executemany insert (the plain way) on the same 500,000
  electricity rows, in the same process: ratio = Core time / bulk time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pandas as pd
from sqlalchemy import insert

from monitor.demo.generator import generate_demo
from monitor.demo.load import load_demo
from monitor.store import Store
from monitor.store import models as m

BUDGET_S = 60.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--enterprises", type=int, default=1200)
    ap.add_argument("--start", default="2012-01")
    ap.add_argument("--end", default="2026-10")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    start, end = pd.Period(args.start, "M"), pd.Period(args.end, "M")

    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        data = generate_demo(seed=2017, enterprises=args.enterprises, start=start, end=end)
        times.append(time.perf_counter() - t0)
    gen = statistics.median(times)
    rows = sum(len(getattr(data, n)) for n in ("responses", "electricity", "monthly", "problems", "official"))
    print(f"generator: {args.enterprises} enterprises x {len(data.cycle)} months -> {len(data.enterprises)} firms, "
          f"{rows:,} rows; median of {args.repeat}: {gen:.2f} s = {gen / BUDGET_S:.3f} x the {BUDGET_S:.0f} s budget")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite"
        store = Store.open(f"sqlite:///{path}")
        t0 = time.perf_counter()
        load_demo(store, data)
        store.checkpoint()
        load = time.perf_counter() - t0
        size = store.size_bytes() or 0
        print(f"load into SQLite: {load:.1f} s; store size {size / 1e6:,.0f} MB ({path.stat().st_size:,} bytes)")

        sample = data.electricity.iloc[:500_000]
        ids = sample["enterprise_id"].unique()
        for label in ("bulk", "core"):
            fresh = Store.open(f"sqlite:///{Path(tmp) / (label + '.sqlite')}")
            with fresh.begin() as conn:
                store_ent = data.enterprises[data.enterprises["id"].isin(ids)]
                fresh.bulk_insert(m.Enterprise, store_ent.assign(
                    panel_end=store_ent["panel_end"].astype(object).where(store_ent["panel_end"].notna(), None)),
                    conn=conn)
            t0 = time.perf_counter()
            with fresh.begin() as conn:
                if label == "bulk":
                    fresh.bulk_insert(m.ElectricityReading, sample, conn=conn)
                else:
                    records = [{"enterprise_id": int(e), "day": d.date(), "kwh": float(k)}
                               for e, d, k in sample.itertuples(index=False, name=None)]
                    conn.execute(insert(m.ElectricityReading), records)
            elapsed = time.perf_counter() - t0
            fresh.close()
            if label == "bulk":
                bulk = elapsed
            else:
                core = elapsed
        print(f"500,000 electricity rows: bulk_insert {bulk:.2f} s, SQLAlchemy Core executemany {core:.2f} s "
              f"-> bulk is {core / bulk:.1f} x faster")
        store.close()


if __name__ == "__main__":
    main()
