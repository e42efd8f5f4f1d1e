"""The probability that an annual target on a year-to-date growth rate is met.

A target such as "industrial value added grows by at least 6.5 % this year" is judged on the
December value of the year-to-date (ytd) growth rate.  From an origin month ``m`` of the year:

``"monthly"`` (when the month-by-month growth rate is available)
    The December ytd rate is approximated by the average of the twelve monthly year-on-year rates,
    the first ``m`` of them summarised by the ytd rate at ``m`` (equal monthly weights; the error of
    this approximation is small next to the forecast uncertainty):
    ``full = (m * ytd_m + sum of the forecast monthly rates m+1..12) / 12``.  The monthly rates are
    forecast with :func:`forecasting.forecast` (calibrated combination) and ``simulations`` paths are
    drawn whose horizon-``h`` marginal is normal with the forecast's mean and the standard deviation
    implied by its 80 % interval, and whose errors accumulate along the path (independent increments,
    the correlation of a random walk's forecast errors), so that misses persist as they do in practice.
``"ytd-history"`` (otherwise, with at least five past years)
    The change of the ytd rate from month ``m`` to December in each past year gives the distribution of
    this year's remaining change: ``full = ytd_m + change``, with a Student t predictive distribution
    (mean and standard deviation of the past changes, ``k - 1`` degrees of freedom, the standard
    deviation inflated by ``sqrt(1 + 1/k)`` for the estimated mean).  Cheap, and honest about how much
    a ytd rate still moves late in the year.
``"ytd"`` (shorter histories)
    The ytd series itself is forecast to December; its horizon ``12 - m`` forecast distribution
    (normal, from the 80 % interval) gives the probability directly.

At December the ytd value is the outcome: the probability is 1 or 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from .exceptions import ForecastingError
from .forecast import forecast
from .gaps import fill_missing

__all__ = ["Attainment", "target_attainment"]

Z80 = stats.norm.ppf(0.9)
#: Past years needed for the ``"ytd-history"`` method.
MIN_PAST_YEARS = 5


@dataclass(frozen=True)
class Attainment:
    """Outcome of :func:`target_attainment` (all rates in the series' unit, usually percent)."""

    year: int
    origin: pd.Period
    comparison: str
    target: float
    ytd: float | None
    required: float | None
    expected: float
    lower_80: float
    upper_80: float
    probability: float
    method: str
    simulations: int

    def met(self, value: float) -> bool:
        return value >= self.target if self.comparison == ">=" else value <= self.target


def _sd_from_frame(frame: pd.DataFrame) -> np.ndarray:
    sd: np.ndarray = np.maximum((frame["hi-80"] - frame["lo-80"]).to_numpy(float) / (2 * Z80), 0.0)
    return sd


def target_attainment(
    *,
    year: int,
    origin: pd.Period | str,
    target: float,
    comparison: Literal[">=", "<="] = ">=",
    ytd: pd.Series,
    monthly: pd.Series | None = None,
    simulations: int = 5000,
    rng: np.random.Generator | None = None,
    models: tuple[str, ...] = ("ets", "theta", "snaive"),
) -> Attainment:
    """Probability that the December year-to-date rate of ``year`` meets ``comparison target``.

    Parameters
    ----------
    year
        The target's year.
    origin
        Month of the latest data used (data after it are ignored).
    target, comparison
        The target: the December ytd rate must be ``>=`` (or ``<=``) ``target``.
    ytd
        Year-to-date rate, monthly PeriodIndex (any years; January may be missing).
    monthly
        Monthly year-on-year rate of the same indicator (January/February may be missing): enables the
        ``"monthly"`` method.
    simulations
        Simulated paths (``"monthly"``).
    rng
        Random generator (``numpy.random.default_rng(0)`` when None, so results are reproducible).
    models
        Candidate models of the forecast combination.

    Returns
    -------
    Attainment

    Raises
    ------
    ForecastingError
        When ``origin`` is outside ``year`` or no ytd value of ``year`` is known by ``origin``.
    """
    if comparison not in (">=", "<="):
        raise ForecastingError(f"comparison must be '>=' or '<='; got {comparison!r}.")
    origin = pd.Period(origin, freq="M")
    if origin.year != year:
        raise ForecastingError(f"target_attainment: origin {origin} is not in the target's year {year}.")
    rng = np.random.default_rng(0) if rng is None else rng
    ytd = ytd.dropna().sort_index()
    ytd = ytd[ytd.index <= origin]
    this_year = ytd[ytd.index.year == year]
    if this_year.empty:
        raise ForecastingError(f"target_attainment: no year-to-date value of {year} is known by {origin}.")
    last = this_year.index[-1]
    m = last.month
    ytd_m = float(this_year.iloc[-1])

    def result(expected: float, lo: float, hi: float, prob: float, method: str, sims: int) -> Attainment:
        required = (12 * target - m * ytd_m) / (12 - m) if m < 12 else None
        return Attainment(year=year, origin=origin, comparison=comparison, target=float(target), ytd=ytd_m,
                          required=required, expected=float(expected), lower_80=float(lo), upper_80=float(hi),
                          probability=float(np.clip(prob, 0.0, 1.0)), method=method, simulations=sims)

    if m == 12:
        hit = ytd_m >= target if comparison == ">=" else ytd_m <= target
        return result(ytd_m, ytd_m, ytd_m, 1.0 if hit else 0.0, "outcome", 0)
    h = 12 - m
    if monthly is not None and monthly.dropna()[lambda s: s.index <= last].size >= 36:
        hist = monthly.dropna()
        hist = hist[hist.index <= last]
        if hist.index[-1] < last:  # the month itself unpublished (e.g. February): forecast from the last one
            h = 12 - hist.index[-1].month if hist.index[-1].year == year else h + (last - hist.index[-1]).n
        fc = forecast(fill_missing(hist, "linear"), h, models=models, level=(80,))
        frame = fc.frame.loc[pd.period_range(last + 1, pd.Period(f"{year}-12", "M"), freq="M")]
        means, sds = frame["mean"].to_numpy(float), _sd_from_frame(frame)
        inc = np.sqrt(np.maximum(np.diff(np.r_[0.0, sds ** 2]), 0.0))
        paths = means + np.cumsum(rng.standard_normal((simulations, len(means))) * inc, axis=1)
        full = (m * ytd_m + paths.sum(axis=1)) / 12
        prob = float(np.mean(full >= target if comparison == ">=" else full <= target))
        lo, hi = np.quantile(full, [0.1, 0.9])
        return result(float(full.mean()), float(lo), float(hi), prob, "monthly", simulations)
    past = [(float(ytd[pd.Period(f"{yr}-12", "M")]) - float(ytd[pd.Period(f"{yr}-{m:02d}", "M")]))
            for yr in sorted(set(ytd.index.year)) if yr < year
            and pd.Period(f"{yr}-12", "M") in ytd.index and pd.Period(f"{yr}-{m:02d}", "M") in ytd.index]
    if len(past) >= MIN_PAST_YEARS:
        # how much the ytd rate moved from month m to December in past years (a t predictive distribution)
        changes = np.asarray(past)
        k = len(changes)
        mean, sd = ytd_m + float(changes.mean()), float(changes.std(ddof=1)) * np.sqrt(1 + 1 / k)
        if sd > 0:
            cdf = stats.t.cdf((target - mean) / sd, df=k - 1)
            prob = 1 - cdf if comparison == ">=" else cdf
            q = stats.t.ppf(0.9, df=k - 1) * sd
        else:
            prob, q = float(mean >= target if comparison == ">=" else mean <= target), 0.0
        return result(mean, mean - q, mean + q, prob, "ytd-history", 0)
    series = fill_missing(ytd[ytd.index.month != 1], "linear") if len(ytd) > 24 else None
    if series is not None and len(series) >= 24:
        fc = forecast(series, h, models=models, level=(80,))
        row = fc.frame.iloc[-1]
        mean, sd = float(row["mean"]), float(_sd_from_frame(fc.frame.iloc[[-1]])[0])
    else:  # too short a history to model: the ytd rate persists, +-10 % of itself (at least 0.5 points) as 1 sd
        mean, sd = ytd_m, max(abs(ytd_m) * 0.1, 0.5)
    if sd > 0:
        cdf = stats.norm.cdf(target, loc=mean, scale=sd)
        prob = 1 - cdf if comparison == ">=" else cdf
    else:
        prob = float(mean >= target if comparison == ">=" else mean <= target)
    return result(mean, mean - Z80 * sd, mean + Z80 * sd, prob, "ytd", 0)
