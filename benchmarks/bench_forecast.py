"""Forecast accuracy and speed against statsforecast on real monthly series (issue 14 protocol).

Data (all from ``tests/data``, with their provenance files there):

* FRED-MD, vintage 2019-10 (``tests/data/fred-md``): every series without a missing value in its last 10
  years (116; the transformation-code row dropped);
* Chinese series (``tests/data/official``): national and Hubei electricity consumption, Hubei industrial value
  added (% y/y), the NBS manufacturing PMI and its sub-indices.  Interior gaps (the January/February months the
  bureaus do not publish) are linearly interpolated for estimation; interpolated months are never scored.

Protocol: rolling origins T-24, T-21, ..., T-12 (T = the last month), horizons 1-12, a training window of at
most 180 months; M4 MASE, sMAPE and OWA against Naive2, 80 % interval coverage; wall seconds per model with
2 worker processes (ours: one process per core across series; statsforecast: ``n_jobs=2``).

Ours runs in two modes:

* **full**: :func:`forecasting.forecast` identifies every model afresh at every origin;
* **production**: the specification is identified at the first origin (the annual review) and kept; at
  the later origins only the parameters are re-estimated (``forecast(..., spec=review.spec)``).

Chinese series get ``calendar="cn"`` (Spring Festival and working-day regressors), as ``imon forecast``
gives series that carry the Chinese calendar.  The members (ARIMA, ETS, Theta) and the alternative
combinations of the same members (mean, selection of the best by track record) are scored from the same
fits.

statsforecast needs pandas < 3, so it runs in its own interpreter: ``--peer-python`` (default
``benchmarks/.venv-peers/bin/python`` when it exists; create it with ``--setup-peers``).  The training
windows are handed to it as a CSV, its forecasts come back as a CSV; numba compilation is warmed up on a
tiny series before the timed calls.

Usage::

    .venv/bin/python benchmarks/bench_forecast.py --setup-peers            # once: benchmarks/.venv-peers
    .venv/bin/python benchmarks/bench_forecast.py                          # everything, one run (long)
    .venv/bin/python benchmarks/bench_forecast.py --series 12 --chinese 4  # a quick subset while developing
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FRED = ROOT / "tests" / "data" / "fred-md" / "fred_md_2019-10_vintage.csv"
OFFICIAL = ROOT / "tests" / "data" / "official"
PEER_VENV = ROOT / "benchmarks" / ".venv-peers"
ORIGINS = (24, 21, 18, 15, 12)  # months before the end
H, LEVEL, WINDOW = 12, 80, 180


# ------------------------------------------------------------------------------------------------ data
def load_fred(n_series: int) -> dict[str, pd.Series]:
    raw = pd.read_csv(FRED)
    raw = raw.iloc[1:]  # transformation codes
    raw = raw[raw["sasdate"].notna()]
    index = pd.PeriodIndex(pd.to_datetime(raw["sasdate"], format="%m/%d/%Y"), freq="M")
    frame = raw.drop(columns="sasdate").apply(pd.to_numeric, errors="coerce")
    frame.index = index
    out = {}
    for col in frame.columns:
        s = frame[col]
        if s.iloc[-120:].isna().any():
            continue
        na = np.flatnonzero(s.isna().to_numpy())
        s = s.iloc[na[-1] + 1:] if len(na) else s
        out[col] = s.rename(col)
    names = sorted(out)
    if 0 <= n_series < len(names):
        step = len(names) / max(n_series, 1)
        names = [names[int(i * step)] for i in range(n_series)]
    return {k: out[k] for k in names}


def load_chinese(n_series: int) -> dict[str, pd.Series]:
    from collectors.official import read_official_table

    out: dict[str, pd.Series] = {}
    for file, tag in (("china_electricity_consumption_monthly.csv", "cn"),
                      ("hubei_electricity_consumption_monthly.csv", "hubei"),
                      ("hubei_industrial_value_added_yoy.csv", "hubei"),
                      ("nbs_pmi_original_export.csv", "cn")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = read_official_table(OFFICIAL / file).tables["official_statistic"]
        for name, rows in table.groupby("series"):
            y = pd.Series(rows["value"].to_numpy(float), index=pd.PeriodIndex(rows["period"], freq="M")).sort_index()
            y = y[~y.index.duplicated()].dropna()
            if len(y) < 120:
                continue
            full = pd.period_range(y.index[0], y.index[-1], freq="M")
            key = f"{tag}:{name}"
            out[key] = y.reindex(full).rename(key)
    names = sorted(out)
    if 0 <= n_series < len(names):
        step = len(names) / max(n_series, 1)
        names = [names[int(i * step)] for i in range(n_series)]
    return {k: out[k] for k in names}


def windows(y: pd.Series) -> list[tuple[pd.Period, pd.Series]]:
    """(origin, training window) per origin: at most WINDOW months, interior gaps interpolated linearly (listed in
    ``attrs["filled"]``, as :func:`forecasting.fill_missing` lists them)."""
    filled = y.interpolate(limit_area="inside")
    gaps = y.index[y.isna().to_numpy()]
    out = []
    for cut in ORIGINS:
        train = filled.iloc[: len(y) - cut].iloc[-WINDOW:].dropna()
        train.attrs["filled"] = gaps.intersection(train.index)
        out.append((train.index[-1], train))
    return out


# ------------------------------------------------------------------------------------------------ ours
def _rows(name: str, model: str, origin: pd.Period, frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"series": name, "model": model, "origin": str(origin), "horizon": np.arange(1, len(frame) + 1),
                         "forecast": frame["mean"].to_numpy(), "lo": frame[f"lo-{LEVEL}"].to_numpy(),
                         "hi": frame[f"hi-{LEVEL}"].to_numpy()})


def _ours_one(item: tuple[str, pd.Series, str, bool]) -> tuple[pd.DataFrame, float, list[str]]:
    import forecasting
    from forecasting.models import Naive2

    name, y, mode, chinese = item
    calendar = "cn" if chinese else None
    rows, notes = [], []
    t0 = time.perf_counter()
    spec = None
    for i, (origin, train) in enumerate(windows(y)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if mode == "production" and i > 0:
                res = forecasting.forecast(train, H, calendar=calendar, level=(LEVEL,), spec=spec)
            else:
                res = forecasting.forecast(train, H, calendar=calendar, level=(LEVEL,))
                spec = res.spec
        rows.append(_rows(name, f"ours ({mode})", origin, res.frame))
        notes += [f"{name} {origin} {mode}: {n}" for n in res.notes if "reject" in n or "fell back" in n or "fail" in n]
        if mode == "full":
            for key, frame in res.alternatives.items():
                rows.append(_rows(name, f"ours: {key}", origin, frame))
            for key, frame in res.per_model.items():
                rows.append(_rows(name, f"member: {key}", origin, frame))
            rows.append(_rows(name, "naive2", origin, Naive2().forecast(train, H, level=(LEVEL,))))
    return pd.concat(rows), time.perf_counter() - t0, notes


def run_ours(data: dict[str, pd.Series], chinese: set[str], mode: str, workers: int) -> tuple[pd.DataFrame, float, list[str]]:
    items = [(k, v, mode, k in chinese) for k, v in data.items()]
    # longest series first, so that the two workers finish together
    items.sort(key=lambda it: -len(it[1]))
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        results = list(pool.map(_ours_one, items))
    wall = time.perf_counter() - t0
    return pd.concat([r[0] for r in results]), wall, [n for r in results for n in r[2]]


# ------------------------------------------------------------------------------------------------ peer
def run_peer(inp: str, out: str, workers: int) -> None:
    """Inside the statsforecast interpreter: forecasts of every (series, origin) training window, to CSV."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    train = pd.read_csv(inp, parse_dates=["ds"])
    train["unique_id"] = train["series"] + "|" + train["origin"]
    models = (AutoETS(season_length=12), AutoTheta(season_length=12), AutoARIMA(season_length=12))
    warm = pd.DataFrame({"unique_id": "w", "ds": pd.date_range("2000-01-01", periods=60, freq="MS"),
                         "y": np.sin(np.arange(60)) + np.arange(60) * 0.1 + 10})
    for model in models:  # numba compilation outside the timed calls
        StatsForecast(models=[model], freq="MS", n_jobs=1).forecast(df=warm, h=H, level=[LEVEL])
    frames, times = [], {}
    df = train[["unique_id", "ds", "y"]]
    for model in models:
        sf = StatsForecast(models=[model], freq="MS", n_jobs=workers)
        t0 = time.perf_counter()
        fc = sf.forecast(df=df, h=H, level=[LEVEL])
        times["sf " + model.alias] = time.perf_counter() - t0
        fc = fc.reset_index() if "unique_id" not in fc.columns else fc
        fc["horizon"] = fc.groupby("unique_id").cumcount() + 1
        sid = fc["unique_id"].str.rsplit("|", n=1, expand=True)
        frames.append(pd.DataFrame({"series": sid[0], "model": "sf " + model.alias, "origin": sid[1],
                                    "horizon": fc["horizon"], "forecast": fc[model.alias],
                                    "lo": fc[f"{model.alias}-lo-{LEVEL}"], "hi": fc[f"{model.alias}-hi-{LEVEL}"]}))
    pd.concat(frames).to_csv(out, index=False)
    pd.Series(times).to_csv(out + ".times")


def peer(data: dict[str, pd.Series], python: str, workers: int) -> tuple[pd.DataFrame, dict[str, float]]:
    parts = []
    for name, y in data.items():
        for origin, train in windows(y):
            parts.append(pd.DataFrame({"series": name, "origin": str(origin), "ds": train.index.to_timestamp(),
                                       "y": train.to_numpy()}))
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = str(Path(tmp) / "train.csv"), str(Path(tmp) / "peer.csv")
        pd.concat(parts).to_csv(inp, index=False)
        subprocess.run([python, __file__, "--peer", inp, out, "--workers", str(workers)], check=True)
        fc = pd.read_csv(out)
        times = {str(k): float(v) for k, v in pd.read_csv(out + ".times", index_col=0).iloc[:, 0].items()}
    return fc, times


def setup_peers() -> None:
    subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "statsforecast", "pandas<3"], check=True)


# ------------------------------------------------------------------------------------------------ scoring
def score(fc: pd.DataFrame, data: dict[str, pd.Series]) -> pd.DataFrame:
    from forecasting import accuracy

    fc = fc.copy()
    fc["origin"] = pd.PeriodIndex(fc["origin"].astype(str), freq="M")
    fc["period"] = fc["origin"] + fc["horizon"]
    # outcomes as published: interpolated months (not published) are not scored
    fc["actual"] = [data[s].get(p, np.nan) for s, p in zip(fc["series"], fc["period"], strict=True)]
    fc.attrs["level"] = (LEVEL,)
    return accuracy(fc, data)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--series", type=int, default=-1, help="FRED-MD series (deterministic subset; -1 = all)")
    ap.add_argument("--chinese", type=int, default=-1, help="Chinese series (deterministic subset; -1 = all)")
    ap.add_argument("--modes", default="full,production", help="our modes to run and time ('' : the peers only)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--peer-python", default=str(PEER_VENV / "bin" / "python"))
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--setup-peers", action="store_true", help="create benchmarks/.venv-peers with statsforecast")
    ap.add_argument("--peer", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--save", help="write every forecast row to this CSV")
    args = ap.parse_args()
    if args.setup_peers:
        setup_peers()
        return 0
    if args.peer:
        run_peer(args.peer[0], args.peer[1], args.workers)
        return 0
    fred, cn = load_fred(args.series), load_chinese(args.chinese)
    data = {**fred, **cn}
    print(f"{len(fred)} FRED-MD (2019-10) + {len(cn)} Chinese series; origins T-{ORIGINS[0]}..T-{ORIGINS[-1]} every 3 "
          f"months, h=1..{H}, window <= {WINDOW} months, {args.workers} workers; load average "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()), flush=True)
    frames, times, notes = [], {}, []
    modes = [m for m in args.modes.split(",") if m]
    for mode in modes:
        fc, wall, nn = run_ours(data, set(cn), mode, args.workers)
        frames.append(fc)
        times[f"ours ({mode})"] = wall
        notes += nn
        print(f"  ours ({mode}): {wall:.1f} s (load average now {os.getloadavg()[0]:.1f})", flush=True)
    if not args.no_peer:
        if not Path(args.peer_python).exists():
            print(f"(no {args.peer_python}: run with --setup-peers first; statsforecast skipped)")
        else:
            fc, t = peer(data, args.peer_python, args.workers)
            frames.append(fc)
            times.update(t)
            print("  statsforecast: " + ", ".join(f"{k} {v:.1f} s" for k, v in t.items())
                  + f" (load average now {os.getloadavg()[0]:.1f})", flush=True)
    fc = pd.concat(frames, ignore_index=True)
    if args.save:
        fc.to_csv(args.save, index=False)
    acc = score(fc, data)
    cn_acc = score(fc[fc["series"].isin(list(cn))], cn) if cn else None
    table = acc[["MASE", "sMAPE", "OWA"]].copy()
    table["MASE, Chinese"] = cn_acc["MASE"] if cn_acc is not None else np.nan
    table["80 % coverage"] = acc[f"coverage-{LEVEL}"]
    table["seconds"] = pd.Series(times)
    print(table.round(3).sort_values("OWA").to_string())
    if "sf AutoARIMA" in table.index:
        ref = table.loc["sf AutoARIMA"]
        ets = table.loc["sf AutoETS", "seconds"]
        for mode in modes:
            row = table.loc[f"ours ({mode})"]
            print(f"ours ({mode}): OWA {row['OWA'] / ref['OWA']:.3f} x AutoARIMA (goal <= 0.97); Chinese MASE "
                  f"{row['MASE, Chinese'] / ref['MASE, Chinese']:.3f} x (goal <= 0.90); coverage {row['80 % coverage']:.3f} "
                  f"(goal 0.75-0.85); wall {row['seconds'] / ets:.2f} x AutoETS (goal <= {1.5 if mode == 'production' else 3})")
    if notes:
        print(f"{len(notes)} rejections/fallbacks, e.g.:")
        for n in notes[:10]:
            print("  " + n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
