"""Nowcast benchmark: pseudo-real-time evaluation on real data, and the leading indicator's validation (issue 15).

Targets (official y/y growth rates) and their inputs, with the release calendar at origin P (the day the
PMI of P is out, the last day of P):

* Hubei industrial value added growth (``hubei_industrial_value_added_yoy.csv``): published to P - 1
  (January and February never published separately: at a March origin the last figure is December's);
  the national PMI (NBS) to P; Hubei electricity consumption growth (official, released with value added)
  to P - 1; the national output growth below (NBS, released mid-month) to P - 1, never January or February.
* National industrial electricity output growth (NBS, ``nbs_electricity_output_2000_2023_tidy.csv``; the
  only monthly national output statistic in the data): published to P - 1; the PMI to P; national
  electricity consumption growth to P - 1.

At each origin the platform's nowcast, ``forecasting.bridge.select_nowcast`` (``nowcast.method = bridge``), is
run on the data as they stood: every candidate equation (naive, bridge on the indicators' changes, base effect +
working days + last change, the same with the indicators' changes or their change on a year earlier, the error
correction to the 12-month mean, U-MIDAS, the two-year average, the 12-month-mean reversion alone, the change
two years ago, the gap to the peers -- electricity growth, for Hubei also the national output growth -- in the
latest month known of both) is scored at the earlier origins of the same type (ordinary or March) and the best
three are averaged ("selected", with normalised conformal intervals from its own out-of-sample errors); each
candidate's own nowcast is scored too.  ``--estimation drop`` runs the equations with the earlier rule (2020-21
months dropped) instead of Huber estimation, for comparison.  The dynamic factor model ``forecasting.nowcast`` runs on
every ``--dfm-every``-th origin, with its honest convergence status.

Then the composite leading indicator (``forecasting.leading``, OECD method) from the national PMI components
against national references: lead (cross-correlation of the growth cycles) and the Bry-Boschan turning-point
hit rate.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_nowcast.py [--dfm-every 3] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collectors.official import read_official_table  # noqa: E402
from forecasting.bridge import select_nowcast  # noqa: E402
from forecasting.calendar import working_days  # noqa: E402
from forecasting.leading import (  # noqa: E402
    composite_leading_indicator,
    growth_cycle,
    turning_point_match,
    turning_points,
)
from forecasting.nowcast import nowcast  # noqa: E402

OFFICIAL = ROOT / "tests" / "data" / "official"
NATIONAL = ROOT / "tests" / "data" / "national"
FIRST, LAST = pd.Period("2013-04", "M"), pd.Period("2023-07", "M")
PMI_KEYS = ("headline", "production", "new_orders")
#: Indicators that are growth rates of the same kind as the target (their gap to it enters ``peer_*``).
PEERS = {"hubei": ("electricity", "national_output"), "national": ("electricity",)}
WORKING_DAYS = working_days(pd.period_range("1999-01", "2024-12", freq="M"), warn=False)
CLI_KEYS = ("new_orders", "new_export_orders", "purchase_quantity", "production", "backlog_orders", "imports",
            "finished_goods_inventory", "raw_materials_inventory", "employment")


def _official(file: str, name: str) -> pd.Series:
    table = read_official_table(OFFICIAL / file).tables["official_statistic"]
    rows = table[table["series"] == name]
    return pd.Series(rows["value"].to_numpy(float), index=pd.PeriodIndex(rows["period"], freq="M")).sort_index()


def _growth(level: pd.Series) -> pd.Series:
    full = level.reindex(pd.period_range(level.index[0], level.index[-1], freq="M"))
    return (full / full.shift(12) - 1) * 100


def load() -> dict[str, object]:
    pmi = pd.DataFrame({k: _official("nbs_pmi_original_export.csv", f"nbs/pmi/{k}") for k in
                        set(PMI_KEYS) | set(CLI_KEYS)})
    nat = pd.read_csv(NATIONAL / "nbs_electricity_output_2000_2023_tidy.csv")
    nat.index = pd.PeriodIndex(nat.pop("month"), freq="M")
    gen = nat.iloc[:, 2].astype(float)
    gen[gen.index.month == 1] = np.nan  # January is published with February
    gen[gen.index.month == 2] = np.nan
    return {
        "pmi": pmi,
        "hubei": _official("hubei_industrial_value_added_yoy.csv", "iva/yoy"),
        "hubei_elec": _growth(_official("hubei_electricity_consumption_monthly.csv", "electricity/total")),
        "national": gen,
        "national_elec": _growth(_official("china_electricity_consumption_monthly.csv", "electricity/total")),
    }


def _inputs(data: dict[str, object], target: str, origin: pd.Period, electricity: bool) -> pd.DataFrame:
    """The indicators as known at ``origin``: PMI to the origin, official electricity to the month before."""
    pmi = data["pmi"].loc[:origin, list(PMI_KEYS)] - 50  # type: ignore[index]
    cols = {f"pmi_{k}": pmi[k] for k in PMI_KEYS}
    if electricity:
        e = data["hubei_elec" if target == "hubei" else "national_elec"]
        cols["electricity"] = e.loc[: origin - 1]  # type: ignore[union-attr]
    if target == "hubei":
        # national industrial output (electricity output, NBS): released mid-month for the month before, so
        # known at P to P - 1 like Hubei's own figure (January and February never)
        cols["national_output"] = data["national"].loc[: origin - 1]  # type: ignore[union-attr]
    return pd.DataFrame(cols).reindex(pd.period_range("2005-01", origin, freq="M"))


ESTIMATION = "huber"


def run_selected(data: dict[str, object], target: str, origin: pd.Period) -> list[dict[str, object]]:
    """The platform's nowcast at ``origin`` and each of its candidates (PMI and electricity as known then)."""
    y = data[target]
    known = y.loc[: origin - 1]  # type: ignore[union-attr]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = select_nowcast(known, _inputs(data, target, origin, True), origin, working_days=WORKING_DAYS,
                           peers=PEERS[target], estimation=ESTIMATION)
    actual = float(y[origin])  # type: ignore[index]
    out: list[dict[str, object]] = [{"target": target, "origin": origin, "method": name, "mean": value,
                                     "lo": np.nan, "hi": np.nan, "actual": actual}
                                    for name, value in r.candidates.items()]
    out.append({"target": target, "origin": origin, "method": "selected", "mean": r.mean, "lo": r.lo[80.0],
                "hi": r.hi[80.0], "actual": actual, "picked": r.method})
    return out


def _run_selected_job(args: tuple[dict[str, object], str, pd.Period]) -> list[dict[str, object]]:
    return run_selected(*args)


def run_dfm(args: tuple[dict[str, object], str, pd.Period, int]) -> dict[str, object]:
    data, target, origin, maxiter = args
    y = data[target]
    frame = _inputs(data, target, origin, True).loc["2009-01":]
    frame["target"] = y.loc[: origin - 1]  # type: ignore[union-attr]
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = nowcast(frame, "target", maxiter=maxiter, level=(80,))
    row = r.frame.loc[origin]
    return {"target": target, "origin": origin, "method": "dfm", "mean": float(row["mean"]),
            "lo": float(row["lo-80"]), "hi": float(row["hi-80"]), "actual": float(y[origin]),  # type: ignore[index]
            "converged": r.converged, "stop": r.stop, "iterations": r.iterations, "seconds": time.perf_counter() - t0}


def score(frame: pd.DataFrame) -> pd.DataFrame:
    """MAE, its ratio to the naive's (all origins, and without the 2020-2021 origins) and the 80 % coverage."""
    f = frame.assign(err=(frame["mean"] - frame["actual"]).abs(),
                     inside=((frame["actual"] >= frame["lo"]) & (frame["actual"] <= frame["hi"]))
                     .where(frame["lo"].notna()),
                     kind=frame["origin"].map(lambda p: "March" if p.month == 3 else "other"),
                     covid=frame["origin"].map(lambda p: p.year in (2020, 2021)))
    naive = f[f["method"] == "naive"].set_index(["target", "origin"])["err"]
    rows = []
    for (target, kind, method), g in f.groupby(["target", "kind", "method"]):
        base = naive.reindex(list(zip(g["target"], g["origin"], strict=True))).to_numpy()
        calm = ~g["covid"].to_numpy()
        rows.append({"target": target, "origins": kind, "method": method, "n": len(g), "MAE": g["err"].mean(),
                     "MAE / naive": g["err"].mean() / np.nanmean(base),
                     "without 2020-21": g["err"][calm].mean() / np.nanmean(base[calm]) if calm.any() else np.nan,
                     "80% coverage": g["inside"].mean(),
                     "coverage without 2020-21": g["inside"][calm].mean() if calm.any() else np.nan})
    return pd.DataFrame(rows)


def leading(data: dict[str, object]) -> pd.DataFrame:
    """Composite leading indicator of the national PMI components against national and Hubei references."""
    pmi = data["pmi"].loc["2005-01":"2023-08", list(CLI_KEYS)]  # type: ignore[index]
    q = read_official_table  # noqa: F841 (the quarterly file is read with pandas below)
    raw = pd.read_csv(NATIONAL / "nbs_gdp_quarterly_original_export.csv", encoding="gbk", skiprows=2)
    row = raw[raw.iloc[:, 0].astype(str).str.startswith("Value-added of Industry Current Quarter")].iloc[0, 1:]
    qva = pd.Series(pd.to_numeric(row.to_numpy(), errors="coerce"),
                    index=pd.PeriodIndex([f"{c.split()[1]}Q{c.split()[0][0]}" for c in row.index], freq="Q"))
    qva = qva.dropna().sort_index()
    qgrowth = (qva / qva.shift(4) - 1) * 100
    monthly_q = qgrowth.copy()
    monthly_q.index = pd.PeriodIndex([p.asfreq("M", "start") + 1 for p in qgrowth.index], freq="M")
    monthly_q = monthly_q.reindex(pd.period_range(monthly_q.index[0], monthly_q.index[-1], freq="M")).interpolate()
    hubei = data["hubei"].loc["2005-01":"2023-08"]  # type: ignore[index]
    hubei = hubei.reindex(pd.period_range(hubei.index[0], hubei.index[-1], freq="M")).interpolate(limit=2)
    refs = {"national industry value added y/y (quarterly, current prices)": monthly_q.loc["2006-01":"2023-05"],
            "national electricity output y/y (monthly)": data["national"].loc["2006-01":"2023-07"].interpolate(limit=2),
            "Hubei value added y/y (monthly, real)": hubei.loc["2006-01":]}
    rows = []
    for name, ref in refs.items():
        ref = ref.where(ref.index.year != 2020).where(~((ref.index.year == 2021) & (ref.index.month <= 6)))
        ref = ref.interpolate(limit_area="inside")  # 2020 and 2021H1 (COVID and its base effect) bridged
        res = composite_leading_indicator(pmi, ref, min_lead=1, max_lead=12, min_corr=0.3)
        tp_cli = turning_points(res.cli)
        tp_ref = turning_points(growth_cycle(ref))
        match = turning_point_match(tp_cli, tp_ref, max_lead=12, max_lag=3)
        rows.append({"reference": name, "components": ", ".join(res.components.index[res.components["selected"]]),
                     "lead (months)": res.lead, "correlation": res.correlation,
                     "reference turns": int(match["reference_turns"]), "hit": int(match["hits"]),
                     "hit rate": match["hit_rate"], "median lead at turns": match["median_lead"],
                     "extra CLI turns": int(match["extra"])})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dfm-every", type=int, default=3, help="run the dynamic factor model on every n-th origin")
    parser.add_argument("--maxiter", type=int, default=200, help="EM iterations of the dynamic factor model")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-dfm", action="store_true")
    parser.add_argument("--estimation", choices=("huber", "drop"), default="huber",
                        help="the bridge equations' estimation (drop: the earlier rule, for comparison)")
    args = parser.parse_args()
    global ESTIMATION
    ESTIMATION = args.estimation
    t0 = time.perf_counter()
    data = load()
    rows: list[dict[str, object]] = []
    jobs = []
    bridge_jobs = []
    for target in ("hubei", "national"):
        y = data[target]
        origins = [p for p in pd.period_range(FIRST, LAST, freq="M") if p in y.index and np.isfinite(y[p])]  # type: ignore[operator]
        for i, origin in enumerate(origins):
            bridge_jobs.append((data, target, origin))
            if not args.skip_dfm and i % args.dfm_every == 0:
                jobs.append((data, target, origin, args.maxiter))
    with ProcessPoolExecutor(args.workers) as pool:
        for got in pool.map(_run_selected_job, bridge_jobs, chunksize=8):
            rows.extend(got)
    t1 = time.perf_counter()
    print(f"bridge nowcasts (selected and candidates): {len(rows)} in {t1 - t0:.1f} s")
    if jobs:
        with ProcessPoolExecutor(args.workers) as pool:
            dfm = list(pool.map(run_dfm, jobs))
        rows.extend(dfm)
        d = pd.DataFrame(dfm)
        print(f"dynamic factor model: {len(d)} fits in {time.perf_counter() - t1:.1f} s "
              f"({d['seconds'].median():.1f} s median); converged {int(d['converged'].sum())}, "
              f"maxiter {int((d['stop'] == 'maxiter').sum())}, log-likelihood fell {int((d['stop'] == 'llf-decrease').sum())}")
    frame = pd.DataFrame(rows)
    table = score(frame)
    pd.set_option("display.width", 160)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if "dfm" in set(frame["method"]):
        sub = frame[frame["origin"].isin(frame.loc[frame["method"] == "dfm", "origin"])]
        print("\non the dynamic factor model's origins only:")
        print(score(sub[sub["method"].isin(["naive", "dfm", "selected"])]).to_string(
            index=False, float_format=lambda v: f"{v:.3f}"))
    sel = frame[frame["method"] == "selected"].assign(kind=lambda f: f["origin"].map(
        lambda p: "March" if p.month == 3 else "other"))
    print("\nmembers chosen (origins):")
    for (target, kind), g in sel.groupby(["target", "kind"]):
        print(f"  {target} {kind}: {dict(g['picked'].value_counts().head(4))}")
    print("\ncomposite leading indicator of the national PMI components:")
    print(leading(data).to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
