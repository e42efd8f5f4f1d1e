"""Seasonality tests and the per-series quality traffic light.

* :func:`qs_test` - Maravall's QS statistic on the autocorrelations at lags 12 and 24
  of the first-differenced series (as in TRAMO-SEATS, JDemetra+ and R ``seastests``):
  ``QS = n (n + 2) [rho12^2 / (n - 12) + max(0, rho24)^2 / (n - 24)]`` and ``QS = 0``
  when ``rho12 <= 0``; p-value from chi-squared with 2 degrees of freedom.
* :func:`f_test_seasonality` - one-way ANOVA F-test of the calendar-month means of
  the first-differenced series (stable seasonality; on an adjusted series, residual
  seasonality).
* :func:`traffic_light` - green / amber / red per series with the thresholds of the
  peer survey (PEERS.md section 1.6): M7 green < 1.25, red >= 1.75 (Statistics Canada
  dashboard; Census accepts < 1); Q < 1 (Census); residual-seasonality p-values
  green > 0.05, red <= 0.01; sliding spans A% (seasonal factors flagged) amber > 15 %,
  red > 25 % (Findley et al. 1990; the thresholds are UNVERIFIED in the stored copy).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal, NamedTuple, TypeGuard

import numpy as np
import pandas as pd

from ..exceptions import ForecastingError

__all__ = ["THRESHOLDS", "SeasonalityTest", "f_test_seasonality", "qs_test", "traffic_light"]

Light = Literal["green", "amber", "red"]

#: Thresholds of the traffic light (PEERS.md section 1.6).
THRESHOLDS: Mapping[str, tuple[float, float]] = {
    "m7": (1.25, 1.75),  # green below the first, red at or above the second
    "q": (1.0, math.inf),  # Census: accept below 1; no red threshold is published
    "p_value": (0.05, 0.01),  # green above the first, red at or below the second
    "sliding_spans_a_pct": (15.0, 25.0),  # amber above the first, red above the second
}


class SeasonalityTest(NamedTuple):
    """A test statistic and its p-value (``nan`` when the series is too short)."""

    statistic: float
    pvalue: float


def _prepare(series: pd.Series | np.ndarray, log: bool) -> np.ndarray:
    values = np.asarray(series, dtype=float)
    if log:
        if np.nanmin(values) <= 0:
            raise ForecastingError("log=True needs a strictly positive series; got values <= 0. Use log=False.")
        values = np.log(values)
    return values


def _acf(x: np.ndarray, lag: int) -> float:
    """Autocorrelation at ``lag`` over the pairs where both values are present (mean and variance of all)."""
    ok = ~np.isnan(x)
    centred = np.where(ok, x - np.nanmean(x), 0.0)
    denom = float(np.sum(centred**2))
    if denom == 0.0:
        return 0.0
    return float(np.sum(centred[lag:] * centred[:-lag]) / denom)


def qs_test(series: pd.Series | np.ndarray, *, period: int = 12, diff: bool = True, log: bool = False) -> SeasonalityTest:
    """Maravall's QS test for seasonality.

    Parameters
    ----------
    series
        Observations in time order (NaN allowed; pairs with a NaN are skipped).
    period
        Seasonal period (12 for monthly data).
    diff
        Test the first differences (default, as X-13 and JDemetra+ do).
    log
        Take logs first (for a multiplicative decomposition).

    Returns
    -------
    SeasonalityTest
        ``QS`` and its chi-squared(2) p-value; ``(nan, nan)`` with fewer than ``3 * period`` values.
    """
    x = _prepare(series, log)
    if diff:
        x = np.diff(x)
    n = int(np.sum(~np.isnan(x)))
    if n < 3 * period:
        return SeasonalityTest(math.nan, math.nan)
    r1, r2 = _acf(x, period), _acf(x, 2 * period)
    if r1 <= 0:
        return SeasonalityTest(0.0, 1.0)
    qs = n * (n + 2) * (r1**2 / (n - period) + max(0.0, r2) ** 2 / (n - 2 * period))
    from scipy import stats

    return SeasonalityTest(float(qs), float(stats.chi2.sf(qs, 2)))


def f_test_seasonality(series: pd.Series, *, diff: bool = True, log: bool = False) -> SeasonalityTest:
    """One-way ANOVA F-test that the calendar-month means (of the differences) are equal.

    Parameters
    ----------
    series
        Monthly series with a PeriodIndex.
    diff
        Use first differences (removes the trend; default).
    log
        Take logs first.
    """
    if not isinstance(series.index, pd.PeriodIndex):
        raise ForecastingError("f_test_seasonality needs a monthly PeriodIndex; convert with .to_period('M').")
    x = pd.Series(_prepare(series, log), index=series.index)
    if diff:
        x = x - x.shift(1)
    x = x.dropna()
    groups = [g.to_numpy() for _, g in x.groupby(x.index.month) if len(g) >= 2]
    if len(groups) < 12 or x.var() == 0:
        return SeasonalityTest(math.nan, math.nan)
    from scipy import stats

    result = stats.f_oneway(*groups)
    return SeasonalityTest(float(result.statistic), float(result.pvalue))


def _worst(lights: list[Light]) -> Light:
    order = {"green": 0, "amber": 1, "red": 2}
    return max(lights, key=order.__getitem__) if lights else "green"


def traffic_light(
    *,
    m7: float | None = None,
    q: float | None = None,
    qs_pvalue: float | None = None,
    f_pvalue: float | None = None,
    qs_irregular_pvalue: float | None = None,
    sliding_spans_a_pct: float | None = None,
) -> tuple[Light, dict[str, str]]:
    """Overall light (the worst component) and the reason per component.

    ``None`` or NaN inputs are skipped (e.g. M7 and Q after an STL fallback).
    """
    reasons: dict[str, str] = {}
    lights: list[Light] = []

    def add(name: str, light: Light, text: str) -> None:
        lights.append(light)
        reasons[name] = f"{light}: {text}"

    def present(v: float | None) -> TypeGuard[float]:
        return v is not None and not math.isnan(v)

    if present(m7):
        lo, hi = THRESHOLDS["m7"]
        add("m7", "green" if m7 < lo else "red" if m7 >= hi else "amber", f"M7 = {m7:.3f} (green < {lo}, red >= {hi})")
    if present(q):
        lo, _ = THRESHOLDS["q"]
        add("q", "green" if q < lo else "amber", f"Q = {q:.3f} (accept < {lo})")
    for name, p in (("qs_seasadj", qs_pvalue), ("f_seasadj", f_pvalue), ("qs_irregular", qs_irregular_pvalue)):
        if present(p):
            lo, hi = THRESHOLDS["p_value"]
            light: Light = "green" if p > lo else "red" if p <= hi else "amber"
            add(name, light, f"residual seasonality p = {p:.4f} (green > {lo}, red <= {hi})")
    if present(sliding_spans_a_pct):
        lo, hi = THRESHOLDS["sliding_spans_a_pct"]
        a = sliding_spans_a_pct
        add("sliding_spans", "green" if a <= lo else "red" if a > hi else "amber",
            f"A% = {a:.1f} months with unstable seasonal factors (amber > {lo}, red > {hi})")
    return _worst(lights), reasons
