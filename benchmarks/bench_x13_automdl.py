"""Where X-13's automatic model identification spends its time: X-13's own CPU per series by spec variant.

Run:  nice -n 5 .venv/bin/python benchmarks/bench_x13_automdl.py [--limit 96] [--real] [--variants a,b,...]

Each series' spec (the one ``SeasonalAdjuster(mode=...)`` writes: Spring Festival before/during/after and
working-day user regressors, AO/LS outliers, X-11, sliding spans) is run through X-13 once per variant, one
process at a time, and the X-13 child's CPU time is read from ``getrusage(RUSAGE_CHILDREN)``: the figure does not
depend on what else loads the machine.  For each variant it prints the mean, median and 90th percentile CPU per
series and on how many series the final ARIMA model (``.udg`` ``arimamdl``) is the one ``automdl`` chooses.

Variants (``automdl`` and ``airline`` are the references):

- ``automdl``: the spec as written (``automdl{ }``: X-13's TRAMO-based identification, its defaults).
- ``fixed_final``: the model automdl chose, fixed (``arima{ model = ... }``): everything but the identification.
- ``airline``: ``(0 1 1)(0 1 1)`` fixed (``adjust.model``'s default).
- ``no_sspans``: automdl without the sliding-spans diagnostic.
- ``diff_ur``: automdl with ``diff = (d D)`` set to the orders X-13's own unit-root stage chose for this series
  (read from its ``unitroottest`` table): the best any outside identification of the differencing could do.
- ``diff_final``: automdl with ``diff`` set to the differencing of the model automdl finally chose.
- ``mixed_no``: automdl with ``mixed = no`` (no models with AR and MA terms in the same polynomial).
- ``maxorder11``: automdl with ``maxorder = (1 1)``.
- ``pickmdl``: X-13's other automatic method (``pickmdl{ }``: X-11-ARIMA's list of five models).

Series: the first ``--limit`` demo DIs of ``bench_seasonal.py`` (additive); ``--real`` adds the real monthly series
in ``tests/data/official`` (NBS PMI and sub-indices additive, electricity multiplicative).

``--search`` instead compares the Python identification (``SeasonalAdjuster(arima="search")``, X-13 run with the
identified model fixed) with ``automdl`` on the same specs (same user regressors, same AO/LS outlier spec, X-11,
sliding spans): the share of series with the same model; where the differencing orders agree, X-13's AICc of our
model minus automdl's (lower is better; both as X-13 reports them, each with the outliers X-13 found for it); the
residual diagnostics X-13 reports for both (``nlbq``: lags of the Ljung-Box table with a significant Q; QS of the
regARIMA residuals and of the adjusted series without extremes; M7); the mean absolute difference of the adjusted
series (index points for additive series, percent of the level for multiplicative ones); and the CPU per series:
the identification's (Python, this process) and X-13's (the child).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from bench_seasonal import build_series

from forecasting import SeasonalAdjuster, X13Error
from forecasting.seasonal._x13 import run_x13

_UNIT_ROOT = re.compile(r"Regular difference order :\s+(\d)\s+Seasonal difference order :\s+(\d)")
_MODEL = re.compile(r"\((\d) (\d) (\d)\)(?:\((\d) (\d) (\d)\))?")


def _automdl(args: str) -> Callable[[str, dict[str, str]], str | None]:
    return lambda spec, _: spec.replace("automdl{ }", "automdl{ " + args + " }")


def _diff(spec: str, ref: dict[str, str]) -> str | None:
    return spec.replace("automdl{ }", f"automdl{{ diff = ({ref['ur']}) }}") if ref.get("ur") else None


def _diff_final(spec: str, ref: dict[str, str]) -> str | None:
    match = _MODEL.match(ref.get("model", ""))
    if not match:
        return None
    return spec.replace("automdl{ }", f"automdl{{ diff = ({match.group(2)} {match.group(5) or 0}) }}")


def _fixed_final(spec: str, ref: dict[str, str]) -> str | None:
    return spec.replace("automdl{ }", f"arima{{ model = {ref['model']} }}") if ref.get("model") else None


VARIANTS: dict[str, Callable[[str, dict[str, str]], str | None]] = {
    "fixed_final": _fixed_final,
    "airline": lambda spec, _: spec.replace("automdl{ }", "arima{ model = (0 1 1)(0 1 1) }"),
    "no_sspans": lambda spec, _: spec.replace("slidingspans{ }\n", ""),
    "diff_ur": _diff,
    "diff_final": _diff_final,
    "mixed_no": _automdl("mixed = no"),
    "maxorder11": _automdl("maxorder = (1 1)"),
    "pickmdl": lambda spec, _: spec.replace("automdl{ }", "pickmdl{ }"),
}


def real_series() -> dict[str, tuple[pd.Series, str]]:
    """The real monthly series of tests/data/official, with the mode the platform adjusts them in."""
    from collectors.official import read_official_table

    out: dict[str, tuple[pd.Series, str]] = {}
    data = Path(__file__).parents[1] / "tests" / "data" / "official"
    for path in sorted(data.glob("*.csv")):
        table = read_official_table(path).tables["official_statistic"]
        for name, rows in table.groupby("series"):
            y = pd.Series(rows["value"].to_numpy(float), index=pd.PeriodIndex(rows["period"], freq="M")).sort_index()
            y = y.reindex(pd.period_range(y.index[0], y.index[-1], freq="M"))
            mode = "additive" if ("pmi" in name or "yoy" in name) else "multiplicative"
            out[f"{path.stem}:{name}"] = (y, mode)
    return out


def timed(spec: str, name: str) -> tuple[float, str, str]:
    """X-13's CPU seconds, its final model (or ``FAIL``) and its ``.out`` text for one spec."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        run = run_x13(spec, name=name, tables=())
        model, out = run.udg.get("arimamdl", "FAIL"), run.out_text
    except X13Error:
        model, out = "FAIL", ""
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), model, out


def _orders(model: str) -> tuple[int, ...] | None:
    """``(p, d, q, P, D, Q)`` of an X-13 model text (a missing seasonal part is ``(0 0 0)``)."""
    parts = re.findall(r"\((\d) (\d) (\d)\)", model or "")
    if not parts:
        return None
    first = tuple(int(v) for v in parts[0])
    return first + (tuple(int(v) for v in parts[1]) if len(parts) > 1 else (0, 0, 0))


def _udg_float(udg: dict[str, str], key: str, position: int = 0) -> float:
    values = re.findall(r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?", udg.get(key, ""))
    return float(values[position]) if len(values) > position else float("nan")


def _search_run(spec: str, name: str) -> tuple[float, dict[str, str], pd.Series | None]:
    """X-13 CPU, ``.udg`` and adjusted series (d11) of one spec (an empty ``.udg`` when X-13 stopped)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        run = run_x13(spec, name=name, tables=("d11",))
        udg, sa = run.udg, run.series("d11")
    except X13Error:
        udg, sa = {}, None
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), udg, sa


_AUTO_OUTLIER = re.compile(r"^AutoOutlier\$(AO|LS|TC)(\d{4})\.([A-Za-z]{3})$")


def _same_outliers_aicc(y: pd.Series, mode: str, key: str, model: str, udg: dict[str, str],
                        outliers: tuple[str, ...]) -> float:
    """X-13's AICc of ``model`` (with the mean of its run ``udg``) with ``outliers`` fixed and no outlier search."""
    mean = ("const",) if "Constant$Constant" in udg else ()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec = SeasonalAdjuster(mode=mode, arima=model, outliers=False, fixed_outliers=outliers,  # type: ignore[arg-type]
                                builtin_regressors=mean, sliding_spans=False).spec(y, name=key)
    return _udg_float(_search_run(spec, key)[1], "aicc")


def compare_search(label: str, series: dict[str, tuple[pd.Series, str]]) -> None:
    """Print the quality and cost of ``arima="search"`` against ``automdl`` on ``series`` (see the docstring)."""
    rows = []
    failed_search = []
    for key, (y, mode) in series.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec = SeasonalAdjuster(mode=mode).spec(y, name=key)  # type: ignore[arg-type]
            t0 = time.process_time()
            ours = SeasonalAdjuster(mode=mode, arima="search").spec(y, name=key)  # type: ignore[arg-type]
            ident = time.process_time() - t0
        ref_cpu, ref, ref_sa = _search_run(spec, key)
        our_cpu, udg, sa = _search_run(ours, key)
        if "model search (arima='search') failed" in ours:
            failed_search.append(key)
        row = {"key": key, "mode": mode, "ident": ident, "ref_cpu": ref_cpu, "our_cpu": our_cpu, "ref": ref,
               "ours": udg, "ref_sa": ref_sa, "sa": sa}
        if ref.get("arimamdl") and udg.get("arimamdl"):
            # the model alone: both with the outliers automdl's run found, fixed, and no outlier search
            found = tuple(f"{m.group(1).lower()}{m.group(2)}.{m.group(3).lower()}"
                          for k in ref if (m := _AUTO_OUTLIER.match(k)))
            row["fixed_gap"] = (_same_outliers_aicc(y, mode, key, udg["arimamdl"], udg, found)
                                - _same_outliers_aicc(y, mode, key, ref["arimamdl"], ref, found))
        rows.append(row)
    ok = [r for r in rows if r["ref"].get("arimamdl") and r["ours"].get("arimamdl")]
    print(f"\n{label}: {len(rows)} series; automdl stopped on {sum(not r['ref'] for r in rows)}, the fixed "
          f"identified model on {sum(not r['ours'] for r in rows)}, the search fell back to airline on "
          f"{len(failed_search)}; {len(ok)} compared")
    if not ok:
        return
    same = [r for r in ok if _orders(r["ref"]["arimamdl"]) == _orders(r["ours"]["arimamdl"])]
    same_mean = [r for r in same if ("Constant$Constant" in r["ref"]) == ("Constant$Constant" in r["ours"])]
    diff = [r for r in ok if (o := _orders(r["ref"]["arimamdl"])) and (m := _orders(r["ours"]["arimamdl"]))
            and (o[1], o[4]) == (m[1], m[4])]
    print(f"  same ARIMA orders as automdl: {len(same)}/{len(ok)} ({len(same_mean)} also the same mean); "
          f"same differencing (d, D): {len(diff)}/{len(ok)}")
    gaps = sorted(_udg_float(r["ours"], "aicc") - _udg_float(r["ref"], "aicc") for r in diff)
    if gaps:
        print(f"  X-13 AICc ours - automdl's, same (d, D), {len(gaps)} series: mean {statistics.mean(gaps):+.2f}, "
              f"median {statistics.median(gaps):+.2f}, <= 0 (ours as good or better) on {sum(g <= 0 for g in gaps)}, "
              f"within +2 on {sum(g <= 2 for g in gaps)}, worst {gaps[-1]:+.1f}, best {gaps[0]:+.1f}")
    fixed = sorted(r["fixed_gap"] for r in diff if r.get("fixed_gap") == r.get("fixed_gap") and "fixed_gap" in r)
    if fixed:
        print(f"  the same with automdl's outliers fixed in both runs (no outlier search: the models alone), "
              f"{len(fixed)} series: mean {statistics.mean(fixed):+.2f}, median {statistics.median(fixed):+.2f}, "
              f"<= 0 on {sum(g <= 0 for g in fixed)}, within +2 on {sum(g <= 2 for g in fixed)}, worst {fixed[-1]:+.1f}")
    print(f"  {'diagnostic (X-13 .udg)':44s} {'automdl':>9s} {'search':>9s}")
    for title, fn in (
        ("mean nlbq (Ljung-Box lags significant)", lambda u: _udg_float(u, "nlbq")),
        ("series with nlbq = 0", lambda u: float(_udg_float(u, "nlbq") == 0)),
        ("series with residual QS (qsrsd) p < 0.05", lambda u: float(_udg_float(u, "qsrsd", 1) < 0.05)),
        ("series with QS of the SA (qssadjevadj) p < 0.05", lambda u: float(_udg_float(u, "qssadjevadj", 1) < 0.05)),
        ("mean M7", lambda u: _udg_float(u, "f3.m07")),
        ("series with M7 > 1", lambda u: float(_udg_float(u, "f3.m07") > 1)),
    ):
        a = [fn(r["ref"]) for r in ok]
        b = [fn(r["ours"]) for r in ok]
        a, b = [v for v in a if v == v], [v for v in b if v == v]
        agg = (lambda v: f"{sum(v):9.0f}") if title.startswith("series") else (lambda v: f"{statistics.mean(v):9.3f}")
        print(f"  {title:44s} {agg(a) if a else '-':>9s} {agg(b) if b else '-':>9s}")
    for mode, unit in (("additive", "index points"), ("multiplicative", "% of the level")):
        gaps_sa = []
        for r in ok:
            if r["mode"] != mode or r["sa"] is None or r["ref_sa"] is None:
                continue
            a, b = r["ref_sa"].align(r["sa"], join="inner")
            d = (b - a).abs() / (a.abs() / 100 if mode == "multiplicative" else 1)
            gaps_sa.append(float(d.mean()))
        if gaps_sa:
            print(f"  mean |SA ours - SA automdl| ({mode}, {len(gaps_sa)} series): mean {statistics.mean(gaps_sa):.3f} "
                  f"{unit}, median {statistics.median(gaps_sa):.3f}, max {max(gaps_sa):.3f}")
    ident = [r["ident"] for r in rows]
    ours_cpu = [r["our_cpu"] for r in rows]
    ref_cpu = [r["ref_cpu"] for r in rows]
    total = statistics.mean(ident) + statistics.mean(ours_cpu)
    print(f"  CPU per series: identification (Python, spec included) mean {statistics.mean(ident):.3f} s, p90 "
          f"{sorted(ident)[int(0.9 * (len(ident) - 1))]:.3f} s; X-13 with the model fixed {statistics.mean(ours_cpu):.3f}"
          f" s; together {total:.3f} s (-> {2 / total:.1f} series/s on 2 cores before the result's parsing); "
          f"X-13 automdl {statistics.mean(ref_cpu):.3f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=96, help="first N demo DI series (0 = none)")
    ap.add_argument("--real", action="store_true", help="also the real series in tests/data/official")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated, from: " + ", ".join(VARIANTS))
    ap.add_argument("--search", action="store_true",
                    help="compare arima='search' (Python identification, X-13 with the model fixed) with automdl")
    args = ap.parse_args()
    chosen = [v for v in args.variants.split(",") if v]
    unknown = set(chosen) - set(VARIANTS)
    if unknown:
        ap.error(f"unknown variants {sorted(unknown)}")
    groups: dict[str, dict[str, tuple[pd.Series, str]]] = {}
    if args.limit:
        groups["demo DI"] = {k: (s, "additive") for k, s in list(build_series().items())[: args.limit]}
    if args.real:
        groups["real"] = real_series()
    load = os.getloadavg()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load[0]:.1f} {load[1]:.1f} "
          f"{load[2]:.1f}; X-13 child CPU per series (independent of the load)")
    if args.search:
        for label, series in groups.items():
            compare_search(label, series)
        return
    for label, series in groups.items():
        cpu: dict[str, list[float]] = {v: [] for v in ["automdl", *chosen]}
        same: dict[str, list[bool]] = {v: [] for v in chosen}
        failed = 0
        for key, (y, mode) in series.items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                spec = SeasonalAdjuster(mode=mode).spec(y, name=key)  # type: ignore[arg-type]
            seconds, model, out = timed(spec.replace("automdl{ }", "automdl{ print = (unitroottest) }"), key)
            cpu["automdl"].append(seconds)
            match = _UNIT_ROOT.search(out)
            ref = {"model": model if model != "FAIL" else "", "ur": " ".join(match.groups()) if match else ""}
            failed += model == "FAIL"
            for variant in chosen:
                text = VARIANTS[variant](spec, ref)
                if text is None:
                    continue
                seconds, other, _ = timed(text, key)
                cpu[variant].append(seconds)
                if model != "FAIL":
                    same[variant].append(other == model)
        print(f"\n{label}: {len(series)} series; automdl stopped with an error on {failed}")
        print(f"  {'variant':12s} {'mean s':>7s} {'median':>7s} {'p90':>7s}   same final model as automdl")
        for variant, values in cpu.items():
            ordered = sorted(values)
            agree = same.get(variant)
            agreement = f"{sum(agree)}/{len(agree)}" if agree is not None else "(reference)"
            print(f"  {variant:12s} {statistics.mean(values):7.3f} {statistics.median(values):7.3f} "
                  f"{ordered[int(0.9 * (len(ordered) - 1))]:7.3f}   {agreement}")
        mean = statistics.mean(cpu["automdl"])
        print(f"  -> with automdl, 2 cores can do at most {2 / mean:.1f} series/s on X-13's CPU alone "
              f"(goal 6 needs <= {2 / 6:.2f} s per series)")


if __name__ == "__main__":
    main()
