"""Forecast accuracy and speed against statsforecast on FRED-MD (issue 6 protocol).

Protocol: monthly FRED-MD levels (vintage 2019-10, ``tests/data/fred-md``; the transformation-code row is
dropped), series with no missing value in the last 10 years (their complete tail is used); the last 24
months are held out and forecast from two origins (T-24 and T-12), horizons 1-12; M4 MASE / sMAPE / OWA
relative to Naive2, 80 % interval coverage, wall time on 2 processes.

statsforecast needs pandas < 3, so it runs in its own interpreter (``--peer-python``, default
``$STATSFORECAST_PYTHON``), called by this script with ``--peer`` and returning its forecasts as CSV.

Usage::

    .venv/bin/python benchmarks/bench_forecast.py [--series 20] [--peer-python /path/to/python] [--models ets,theta,snaive]

``--series N`` takes a deterministic subset (every k-th eligible series); 0 = all.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "fred-md" / "fred_md_2019-10_vintage.csv"
HOLDOUT, H, LEVEL = 24, 12, 80


def load(n_series: int) -> dict[str, pd.Series]:
    raw = pd.read_csv(DATA)
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
    if n_series and n_series < len(names):
        step = len(names) / n_series
        names = [names[int(i * step)] for i in range(n_series)]
    return {k: out[k] for k in names}


MODELS: tuple[str, ...] = ("ets", "theta", "snaive")


def _ours_one(item):
    import warnings

    from forecasting.models import Combination, Naive2

    name, s, models = item
    rows = []
    t0 = time.perf_counter()
    for cut in (HOLDOUT, HOLDOUT - H):
        train = s.iloc[: len(s) - cut]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            combo = Combination(models).fit(train)
            frames = {"combination": combo.predict(H, level=(LEVEL,))}
            for key, model in combo.fitted_.items():
                frames[key] = model.predict(H, level=(LEVEL,))
            frames["naive2"] = Naive2().forecast(train, H, level=(LEVEL,))
        for key, f in frames.items():
            rows.append(pd.DataFrame({"series": name, "model": key, "origin": train.index[-1], "horizon": np.arange(1, H + 1),
                                      "forecast": f["mean"].to_numpy(), "lo": f[f"lo-{LEVEL}"].to_numpy(),
                                      "hi": f[f"hi-{LEVEL}"].to_numpy()}))
    return pd.concat(rows), time.perf_counter() - t0


def run_peer(n_series: int, out: str) -> None:
    """Inside the statsforecast interpreter: forecasts for every series and origin, to CSV."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    data = load(n_series)
    frames, times = [], {}
    for cut in (HOLDOUT, HOLDOUT - H):
        df = pd.concat([pd.DataFrame({"unique_id": k, "ds": s.index[: len(s) - cut].to_timestamp(),
                                      "y": s.iloc[: len(s) - cut].to_numpy()}) for k, s in data.items()])
        for model in (AutoETS(season_length=12), AutoTheta(season_length=12), AutoARIMA(season_length=12)):
            sf = StatsForecast(models=[model], freq="MS", n_jobs=2)
            t0 = time.perf_counter()
            fc = sf.forecast(df=df, h=H, level=[LEVEL])
            times[model.alias] = times.get(model.alias, 0.0) + time.perf_counter() - t0
            fc = fc.reset_index() if "unique_id" not in fc.columns else fc
            fc["horizon"] = fc.groupby("unique_id").cumcount() + 1
            origin = {k: str(s.index[len(s) - cut - 1]) for k, s in data.items()}
            frames.append(pd.DataFrame({"series": fc["unique_id"], "model": "sf_" + model.alias,
                                        "origin": fc["unique_id"].map(origin), "horizon": fc["horizon"],
                                        "forecast": fc[model.alias], "lo": fc[f"{model.alias}-lo-{LEVEL}"],
                                        "hi": fc[f"{model.alias}-hi-{LEVEL}"]}))
    res = pd.concat(frames)
    res.attrs = {}
    res.to_csv(out, index=False)
    pd.Series(times).to_csv(out + ".times")


def score(fc: pd.DataFrame, data: dict[str, pd.Series]) -> pd.DataFrame:
    from forecasting import accuracy

    fc = fc.copy()
    fc["origin"] = pd.PeriodIndex(fc["origin"].astype(str), freq="M")
    fc["period"] = fc["origin"] + fc["horizon"]
    fc["actual"] = [data[s].loc[p] for s, p in zip(fc["series"], fc["period"], strict=True)]
    fc.attrs["level"] = (LEVEL,)
    return accuracy(fc, data)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=20)
    ap.add_argument("--peer", help=argparse.SUPPRESS)
    ap.add_argument("--peer-python", default=os.environ.get("STATSFORECAST_PYTHON"))
    ap.add_argument("--models", default=",".join(MODELS),
                    help="candidates of our combination (default: the platform's forecast.models, ets,theta,snaive)")
    args = ap.parse_args()
    if args.peer:
        run_peer(args.series, args.peer)
        return
    data = load(args.series)
    print(f"FRED-MD 2019-10: {len(data)} series, last {HOLDOUT} months held out (origins T-24, T-12), h=1..{H}; "
          f"our combination of {args.models}")
    t0 = time.perf_counter()
    with ProcessPoolExecutor(2) as pool:
        models = tuple(args.models.split(","))
        results = list(pool.map(_ours_one, [(k, v, models) for k, v in data.items()]))
    ours_wall = time.perf_counter() - t0
    fc = pd.concat([r[0] for r in results])
    times = {"combination (incl. all members)": ours_wall}
    if args.peer_python:
        with tempfile.TemporaryDirectory() as tmp:
            out = str(Path(tmp) / "peer.csv")
            subprocess.run([args.peer_python, __file__, "--series", str(args.series), "--peer", out], check=True)
            peer = pd.read_csv(out)
            for k, v in pd.read_csv(out + ".times", index_col=0).iloc[:, 0].items():
                times["sf_" + k] = float(v)
        fc = pd.concat([fc, peer])
    else:
        print("(no --peer-python / STATSFORECAST_PYTHON: statsforecast skipped)")
    acc = score(fc, data)
    print(acc.round(3).to_string())
    print("wall time, 2 processes (s):")
    for k, v in times.items():
        print(f"  {k:34s} {v:8.1f}")


if __name__ == "__main__":
    sys.exit(main())
