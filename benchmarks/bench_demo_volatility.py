"""How the demo's PMI moves month to month, against the NBS national PMI; and the bounds of every index.

Run (on a built demo store, ``imon demo`` first):
    .venv/bin/python benchmarks/bench_demo_volatility.py [--config imon.toml] [--months 36]

Prints, from the store's latest vintages (issue 13, "Done when"):
- the number of stored diffusion indices (``pmi/...``, raw and adjusted) outside 0-100;
- the city headline PMI's absolute month-on-month change over the last ``--months`` months, adjusted and raw:
  median and 95th percentile (targets: median <= 1.0, 95th percentile <= 3.5 adjusted);
- the same for every district's headline, with its median respondents (target: districts of >= 100
  respondents <= 6 points at the 95th percentile);
- the peer: the NBS national manufacturing PMI 2005-2023 (shipped in monitor/data; 2020 excluded), median and
  95th percentile of its absolute month-on-month change.
"""

from __future__ import annotations

import argparse
import os
from importlib import resources

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pandas as pd

from monitor.reference import DISTRICTS
from monitor.settings import load_settings
from monitor.store import open_store
from monitor.store.survey_quality import latest_cells, out_of_bounds


def _moves(series: pd.Series, months: int) -> pd.Series:
    s = series.dropna().sort_index()
    s.index = pd.PeriodIndex(s.index, freq="M")
    s = s[s.index > s.index[-1] - months - 1] if len(s) else s
    return s.diff().abs().dropna()


def _national() -> pd.Series:
    with resources.files("monitor").joinpath("data", "nbs_pmi_2005_2023.csv").open("rb") as fh:
        raw = pd.read_csv(fh)
    pmi = pd.Series(raw["Manufacturing Purchasing Managers'' Index (%)"].to_numpy(float),
                    index=pd.PeriodIndex(raw["month"], freq="M"))
    change = pmi.diff().abs().dropna()
    return change[change.index.year != 2020]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=None)
    ap.add_argument("--months", type=int, default=36)
    args = ap.parse_args()
    settings = load_settings(path=args.config) if args.config else load_settings()
    with open_store(settings) as store:
        bad = out_of_bounds(store)
        heads = latest_cells(store, prefix="pmi/headline")
    print(f"diffusion indices outside 0-100 (latest vintage, raw or adjusted): {len(bad)}")
    if len(bad):
        print(bad.head(10).to_string(index=False))
    nat = _national()
    print(f"NBS national PMI 2005-2023 (2020 excluded): |change| median {nat.median():.2f}, "
          f"95th percentile {nat.quantile(0.95):.2f} ({len(nat)} months)")
    rows = []
    names = {d.code: d.name_en for d in DISTRICTS}
    for key, group in heads.groupby("series_key"):
        if key != "pmi/headline" and not key.startswith("pmi/headline/district/"):
            continue
        g = group.set_index("period")
        sa, raw = _moves(g["sa"], args.months), _moves(g["raw"], args.months)
        n = g["n"].dropna().astype(float)
        code = key.rsplit("/", 1)[-1] if key != "pmi/headline" else "city"
        rows.append({"cell": code, "name": names.get(code, "city"),
                     "respondents": int(n.iloc[-args.months:].median()) if len(n) else 0,
                     "sa_median": sa.median(), "sa_p95": sa.quantile(0.95),
                     "raw_median": raw.median(), "raw_p95": raw.quantile(0.95),
                     "level_min": g["sa"].iloc[-args.months:].min(), "level_max": g["sa"].iloc[-args.months:].max()})
    table = pd.DataFrame(rows).sort_values("respondents", ascending=False)
    print(f"\nheadline PMI, |month-on-month change| over the last {args.months} months (points):")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    city = table[table["cell"] == "city"].iloc[0]
    big = table[(table["cell"] != "city") & (table["respondents"] >= 100)]
    print(f"\ncity adjusted: median {city.sa_median:.2f} (target <= 1.0), 95th percentile {city.sa_p95:.2f} "
          f"(target <= 3.5); ratio to the NBS national PMI's 95th percentile: {city.sa_p95 / nat.quantile(0.95):.2f}")
    if len(big):
        print(f"districts of >= 100 respondents ({len(big)}): largest 95th percentile "
              f"{big['sa_p95'].max():.2f} (target <= 6)")


if __name__ == "__main__":
    main()
