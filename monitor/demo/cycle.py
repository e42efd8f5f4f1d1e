"""The demo's latent business cycle, calibrated on the real NBS PMI sub-indices.

Steps
-----
1. Read the 13 seasonally adjusted NBS sub-indices (2005-01..2023-08, shipped in
   ``monitor/data``).  The two late starters are backcast by least squares on
   the co-published indices over their overlap: output prices (published from
   2016-02) on input prices, expectations (from 2013-01) on production and new
   orders.
2. Extend past 2023-08 with a VAR(1) fitted to 2013-01..2019-12 (a calm
   stretch, so the COVID shock does not inflate the innovations), simulated
   with the caller's random generator.
3. Turn the national indices into the city's: the city's deviations from 50
   are larger than the nation's (a smaller, more concentrated economy;
   amplitude factor ``1.3``) plus a persistent city-specific AR(1) component.

The result is the *true* seasonally adjusted diffusion index of each question
for the city, which the generator then perturbs by district and sector and
samples from.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from ..exceptions import DemoError
from ..reference import QUESTIONS

__all__ = ["national_indices", "city_cycle", "question_loading", "headline_from_components", "FIRST_MONTH"]

FIRST_MONTH = pd.Period("2005-01", "M")

_COLUMNS = {
    "Production index(%)": "production",
    "New orders index(%)": "new_orders",
    "New export orders index(%)": "new_export_orders",
    "In hand Orders Index (%)": "backlog_orders",
    "Finished goods inventory index(%)": "finished_goods_inventory",
    "Purchasing volume index(%)": "purchase_quantity",
    "Import index(%)": "imports",
    "Main raw material purchase price index(%)": "input_prices",
    "Producer prices index(%)": "output_prices",
    "Raw materials inventory index(%)": "raw_materials_inventory",
    "Employment index(%)": "employment",
    "Supplier delivery time index(%)": "supplier_delivery_time",
    "Expected Production and business activities Index(%)": "expectations",
}
HEADLINE_COLUMN = "Manufacturing Purchasing Managers'' Index (%)"


def _backcast(frame: pd.DataFrame, target: str, regressors: list[str]) -> None:
    known = frame[target].notna()
    x = np.column_stack([np.ones(known.sum()), frame.loc[known, regressors].to_numpy()])
    beta, *_ = np.linalg.lstsq(x, frame.loc[known, target].to_numpy(), rcond=None)
    missing = ~known
    xm = np.column_stack([np.ones(missing.sum()), frame.loc[missing, regressors].to_numpy()])
    frame.loc[missing, target] = xm @ beta


def national_indices() -> pd.DataFrame:
    """The NBS sub-indices 2005-01..2023-08 with the two late starters backcast.

    Returns
    -------
    pandas.DataFrame
        Columns: the 13 question codes plus ``headline`` (as published);
        monthly ``PeriodIndex``.
    """
    with resources.files("monitor").joinpath("data", "nbs_pmi_2005_2023.csv").open("rb") as fh:
        raw = pd.read_csv(fh)
    raw = raw[raw["month"] >= str(FIRST_MONTH)]
    frame = raw.rename(columns=_COLUMNS)[[q.code for q in QUESTIONS]].astype(float)
    frame.index = pd.PeriodIndex(raw["month"], freq="M")
    _backcast(frame, "output_prices", ["input_prices"])
    _backcast(frame, "expectations", ["production", "new_orders"])
    frame["headline"] = raw[HEADLINE_COLUMN].to_numpy(dtype=float)
    return frame


def _extend_var(frame: pd.DataFrame, end: pd.Period, rng: np.random.Generator) -> pd.DataFrame:
    last = frame.index[-1]
    if end <= last:
        return frame
    fit = frame.loc["2013-01":"2019-12"].to_numpy()
    y, x = fit[1:], np.column_stack([np.ones(len(fit) - 1), fit[:-1]])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    cov = np.cov(resid, rowvar=False)
    # Guard against an explosive fit: shrink the transition until its spectral radius is < 0.95.
    a = coef[1:].T
    radius = max(abs(np.linalg.eigvals(a)))
    if radius >= 0.95:
        a = a * (0.95 / radius)
    mean = np.linalg.solve(np.eye(a.shape[0]) - a, coef[0])
    steps = (end - last).n
    shocks = rng.multivariate_normal(np.zeros(a.shape[0]), cov, size=steps)
    out = np.empty((steps, a.shape[0]))
    prev = frame.iloc[-1].to_numpy()
    for i in range(steps):
        prev = mean + a @ (prev - mean) + shocks[i]
        out[i] = prev
    ext = pd.DataFrame(np.clip(out, 5, 95), columns=frame.columns,
                       index=pd.period_range(last + 1, end, freq="M"))
    return pd.concat([frame, ext])


def city_cycle(
    start: pd.Period,
    end: pd.Period,
    rng: np.random.Generator,
    *,
    amplitude: float = 1.3,
    city_sd: float = 0.8,
    city_rho: float = 0.8,
) -> pd.DataFrame:
    """The city's latent (seasonally adjusted) diffusion index of each question.

    Parameters
    ----------
    start, end
        Months to cover; ``start`` may not precede 2005-01.
    rng
        Random generator (drives the VAR extension and the city component).
    amplitude
        Factor on the national deviations from 50.
    city_sd, city_rho
        Stationary standard deviation (index points) and persistence of the
        city-specific component shared by the activity questions.

    Returns
    -------
    pandas.DataFrame
        The 13 question codes plus ``headline`` (the PMI built from the five
        components), monthly ``PeriodIndex`` from ``start`` to ``end``.
    """
    if start < FIRST_MONTH:
        raise DemoError(
            f"the demo cycle is calibrated on the NBS PMI, which starts in {FIRST_MONTH}; "
            f"start {start} is earlier: use --start {FIRST_MONTH} or later"
        )
    nat = national_indices().drop(columns="headline")
    nat = _extend_var(nat, end, rng)
    nat = nat.loc[start:end]
    n = len(nat)
    city = np.empty(n)
    city[0] = rng.normal(0, city_sd)
    innov = rng.normal(0, city_sd * np.sqrt(1 - city_rho**2), n)
    for t in range(1, n):
        city[t] = city_rho * city[t - 1] + innov[t]
    loading = {q.code: _CITY_LOADING.get(q.code, 1.0) for q in QUESTIONS}
    out = pd.DataFrame(index=nat.index)
    for code in nat.columns:
        out[code] = np.clip(50 + amplitude * (nat[code] - 50) + loading[code] * city, 3, 97)
    out["headline"] = headline_from_components(out)
    return out


#: How strongly each question follows the city's (and a district's, a sector's) own cycle.
_CITY_LOADING = {
    "finished_goods_inventory": 0.3,
    "input_prices": 0.3,
    "output_prices": 0.4,
    "raw_materials_inventory": 0.5,
    "employment": 0.6,
    "supplier_delivery_time": -0.3,
    "expectations": 0.6,
}


def question_loading(code: str) -> float:
    """Loading of a question on city, district, sector and firm conditions."""
    return _CITY_LOADING.get(code, 1.0)


def headline_from_components(frame: pd.DataFrame) -> pd.Series:
    """``0.30 NO + 0.25 P + 0.20 EMP + 0.15 (100 - SDT) + 0.10 RMI`` row by row."""
    return (0.30 * frame["new_orders"] + 0.25 * frame["production"] + 0.20 * frame["employment"]
            + 0.15 * (100 - frame["supplier_delivery_time"]) + 0.10 * frame["raw_materials_inventory"])
