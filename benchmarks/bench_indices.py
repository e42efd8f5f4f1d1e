"""Benchmark the survey-index core against DuckDB on a province-size panel.

Run:  OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_indices.py [--enterprises 30000] [--months 120] [--repeat 3]
                                                                   [--workers N]

Needs ``duckdb`` in the environment (``pip install duckdb``; the ``bench`` extra).

Prints
- the synthetic panel: 30,000 enterprises active every month x 120 months x 13 questions (rotation and
  non-response included), built with numpy (int32 ids, int8 answers, categorical months and questions);
- our time for every diffusion index of every breakdown (city, district, size, industry, key sector) with
  weights, the non-response adjustment, standard errors, month-on-month changes and the composite PMI's
  standard error: :func:`monitor.indicators.diffusion_indices`, median of ``--repeat`` runs, with ``--workers``
  processes (default: every core; the months shared among them) and with one, checked identical to the last bit;
- DuckDB's time for the same weighted P/E/N shares per period x question x breakdown over the same
  in-memory frames (a join with the enterprises, GROUPING SETS and a key-sector join), on all cores and on
  one thread; ratio = our time / DuckDB's;
- a check that both give the same shares (our ``nonresponse="none"`` equals DuckDB's plain weighted shares);
- the time for one month, and for all 178 months, of the default 1,200-firm demo panel;
- the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pandas as pd

from monitor.demo.generator import generate_demo
from monitor.indicators import diffusion_indices
from monitor.reference import INDUSTRIES, KEY_SECTORS, QUESTIONS, SIZE_CLASSES

#: Prefecture-level cities of a province stand in for districts.
REGIONS = [f"44{i:02d}00" for i in range(1, 22)]


def province_panel(active: int, months: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A synthetic province panel: ``active`` enterprises a month, 8 % replaced every January.

    Returns the ``enterprise`` and ``survey_response`` frames with compact dtypes.
    """
    rng = np.random.default_rng(seed)
    # Rotation: each slot's firm leaves with probability 0.08 each January and a new firm takes the slot.
    leaves = rng.random((active, months // 12)) < 0.08
    leaves[:, 0] = False
    n_firms = leaves.sum(axis=1) + 1
    slot = np.repeat(np.arange(active), n_firms)
    years = np.where(leaves)  # (slot, year) of every departure, sorted by slot then year
    boundary = np.zeros(len(slot), dtype=np.int64)  # first month of each firm
    first_of_slot = np.cumsum(n_firms) - n_firms
    order_in_slot = np.arange(len(slot)) - np.repeat(first_of_slot, n_firms)
    later = order_in_slot > 0
    boundary[later] = 12 * years[1]
    end = np.full(len(slot), months - 1)
    end[:-1] = np.where(slot[1:] == slot[:-1], boundary[1:] - 1, months - 1)
    F = len(slot)
    month_labels = pd.period_range("2015-01", periods=months, freq="M").astype(str)
    cell_region = rng.integers(0, len(REGIONS), active)[slot]
    cell_division = rng.integers(0, len(INDUSTRIES), active)[slot]
    cell_size = rng.choice(4, active, p=[0.10, 0.27, 0.53, 0.10])[slot]
    # Design weights are post-stratified per division x size cell, as in the demo.
    cell_weight = np.exp(rng.normal(1.5, 0.6, (len(INDUSTRIES), 4)))
    revenue = np.exp(rng.normal(9.0 - 1.2 * cell_size, 0.8))
    panel_end = pd.Categorical.from_codes(np.where(end == months - 1, -1, end), month_labels)
    ent = pd.DataFrame({
        "id": np.arange(1, F + 1, dtype=np.int32),
        "district_code": pd.Categorical.from_codes(cell_region, REGIONS),
        "industry_code": pd.Categorical.from_codes(cell_division, [i.code for i in INDUSTRIES]),
        "size_class": pd.Categorical.from_codes(cell_size, [s.code for s in SIZE_CLASSES]),
        "sample_weight": cell_weight[cell_division, cell_size].round(3),
        "revenue": revenue.round(1),
        "panel_start": pd.Categorical.from_codes(boundary, month_labels),
        "panel_end": panel_end,
    })
    # Answers: a common cycle per question, a persistent firm effect and noise; 93 % unit response,
    # 0.5 % item non-response.
    t_idx = np.arange(months)
    active_mask = (boundary[:, None] <= t_idx[None, :]) & (end[:, None] >= t_idx[None, :])
    responded = active_mask & (rng.random((F, months)) < 0.93)
    fi, ti = np.nonzero(responded)
    K = len(QUESTIONS)
    cycle = 0.3 * np.sin(t_idx[:, None] / 9.0 + np.arange(K)[None, :])
    firm_effect = rng.normal(0, 0.5, F)
    latent = (cycle[ti] + firm_effect[fi, None] + rng.normal(0, 1, (len(fi), K))).astype(np.float32)
    answer = (latent > 0.6).astype(np.int8) - (latent < -0.6).astype(np.int8)
    del latent
    r, q = np.nonzero(rng.random((len(fi), K)) >= 0.005)
    resp = pd.DataFrame({
        "enterprise_id": (fi[r] + 1).astype(np.int32),
        "period": pd.Categorical.from_codes(ti[r].astype(np.int16), month_labels),
        "question": pd.Categorical.from_codes(q.astype(np.int8), [x.code for x in QUESTIONS]),
        "answer": answer[r, q],
    })
    return ent, resp


DUCK_QUERY = """
WITH j AS (
    SELECT r.period, r.question, r.answer, e.district_code, e.industry_code, e.size3, e.w
    FROM resp r JOIN ent e ON r.enterprise_id = e.id
)
SELECT period, question,
       CASE WHEN GROUPING(district_code) = 0 THEN 'district' WHEN GROUPING(size3) = 0 THEN 'size'
            WHEN GROUPING(industry_code) = 0 THEN 'industry' ELSE 'city' END AS breakdown,
       COALESCE(district_code::VARCHAR, size3::VARCHAR, industry_code::VARCHAR, '440100') AS code,
       sum(w) FILTER (WHERE answer = 1) / sum(w) AS P,
       sum(w) FILTER (WHERE answer = 0) / sum(w) AS E,
       sum(w) FILTER (WHERE answer = -1) / sum(w) AS N,
       count(*) AS n_respondents
FROM j
GROUP BY GROUPING SETS ((period, question), (period, question, district_code), (period, question, size3),
                        (period, question, industry_code))
UNION ALL
SELECT r.period, r.question, 'key_sector', k.sector,
       sum(e.w) FILTER (WHERE r.answer = 1) / sum(e.w),
       sum(e.w) FILTER (WHERE r.answer = 0) / sum(e.w),
       sum(e.w) FILTER (WHERE r.answer = -1) / sum(e.w),
       count(*)
FROM resp r JOIN ent e ON r.enterprise_id = e.id JOIN ks k ON k.industry_code = e.industry_code::VARCHAR
GROUP BY ALL
"""


def duckdb_shares(con: object, threads: int) -> tuple[float, pd.DataFrame]:
    """Run the DuckDB aggregation; return its time and result."""
    con.execute(f"SET threads TO {threads}")  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    out = con.execute(DUCK_QUERY).df()  # type: ignore[attr-defined]
    return time.perf_counter() - t0, out


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--enterprises", type=int, default=30_000)
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for ours (default: cores)")
    args = ap.parse_args()
    import duckdb

    t0 = time.perf_counter()
    ent, resp = province_panel(args.enterprises, args.months)
    print(f"panel: {len(ent):,} enterprises ({args.enterprises:,} a month), {args.months} months, "
          f"{len(resp):,} answers; built in {time.perf_counter() - t0:.1f} s; "
          f"responses frame {resp.memory_usage(deep=True).sum() / 1e6:.0f} MB")

    timed: dict[int, float] = {}
    frames: dict[int, pd.DataFrame] = {}
    for workers in dict.fromkeys((args.workers, 1)):
        ours = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            di = diffusion_indices(resp, ent, workers=workers)
            ours.append(time.perf_counter() - t0)
        timed[workers], frames[workers] = statistics.median(ours), di
        print(f"ours   (all DIs, 5 breakdowns, SEs, changes, PMI SE; {workers} process{'es' if workers > 1 else ''}): "
              f"{timed[workers]:.2f} s  (runs {', '.join(f'{t:.2f}' for t in ours)}; {len(di):,} rows); "
              f"peak RSS so far {peak_mb():,.0f} MB")
    if len(frames) > 1:
        pd.testing.assert_frame_equal(frames[args.workers], frames[1], check_exact=True)
        print(f"{args.workers} processes vs 1: identical to the last bit; speed-up {timed[1] / timed[args.workers]:.2f}")
    del frames
    ours_s = timed[args.workers]

    con = duckdb.connect()
    duck_ent = ent[["id", "district_code", "industry_code"]].assign(
        size3=ent["size_class"].astype(str).replace({"micro": "small"}),
        w=ent["sample_weight"] * ent["revenue"])
    sectors = pd.DataFrame([(d, s.code) for s in KEY_SECTORS for d in s.divisions], columns=["industry_code", "sector"])
    con.register("resp", resp)
    con.register("ent", duck_ent)
    con.register("ks", sectors)
    cores = os.cpu_count() or 1
    results = {}
    for threads in (cores, 1):
        times = []
        for _ in range(args.repeat):
            elapsed, out = duckdb_shares(con, threads)
            times.append(elapsed)
        results[threads] = statistics.median(times)
        print(f"duckdb {duckdb.__version__} ({threads} thread{'s' if threads > 1 else ''}, same P/E/N shares): "
              f"{results[threads]:.2f} s  (runs {', '.join(f'{t:.2f}' for t in times)}; {len(out):,} rows)")
    for threads, seconds in results.items():
        print(f"ratio ours ({args.workers} process{'es' if args.workers > 1 else ''}) / duckdb ({threads} "
              f"thread{'s' if threads > 1 else ''}): {ours_s / seconds:.2f}"
              + ("  (goal <= 1.0)" if threads > 1 else ""))
    if args.workers != 1:
        print(f"ratio ours (1 process) / duckdb (1 thread): {timed[1] / results[1]:.2f}")

    # Same shares?  Our estimator with size weights (design weight x revenue, untrimmed) and without the
    # non-response adjustment is DuckDB's weighted share (the default weighting is the unweighted count formula).
    months = sorted(resp["period"].cat.categories)[-12:]
    plain = diffusion_indices(resp, ent, periods=months, weighting="size", trim=None, nonresponse="none")
    plain = plain.assign(period=plain["period"].astype(str)).set_index(["period", "question", "breakdown", "code"])
    duck = out.assign(period=out["period"].astype(str), question=out["question"].astype(str))
    duck = duck[duck["period"].isin(months)].set_index(["period", "question", "breakdown", "code"])
    joined = plain[["P", "N", "n_respondents"]].merge(duck[["P", "N", "n_respondents"]], left_index=True,
                                                      right_index=True, suffixes=("", "_duck"))
    gap = (joined["P"] - joined["P_duck"]).abs().max()
    print(f"check, last 12 months: {len(joined):,} of {len(duck):,} DuckDB rows matched; max |P - P_duck| = {gap:.1e}; "
          f"respondent counts equal: {bool((joined['n_respondents'] == joined['n_respondents_duck']).all())}")

    demo = generate_demo(seed=2017, enterprises=1200, start=pd.Period("2012-01", "M"), end=pd.Period("2026-10", "M"))
    one, full = [], []
    for _ in range(max(args.repeat, 5)):
        t0 = time.perf_counter()
        diffusion_indices(demo.responses, demo.enterprises, periods="2017-01")
        one.append(time.perf_counter() - t0)
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        diffusion_indices(demo.responses, demo.enterprises)
        full.append(time.perf_counter() - t0)
    print(f"demo (1,200 firms a month, {len(demo.responses):,} answers): one month {statistics.median(one):.3f} s, "
          f"all {demo.responses['period'].nunique()} months {statistics.median(full):.2f} s (median)")
    print(f"peak RSS {peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()
