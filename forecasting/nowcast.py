"""Nowcasting a monthly official statistic from timelier indicators with a dynamic factor model.

Industrial value added growth is published weeks after the month; the PMI sub-indices and electricity
consumption are known sooner.  :func:`nowcast` fits statsmodels' ``DynamicFactorMQ`` (one or more common
factors following a VAR, AR(1) idiosyncratic components, monthly and optionally quarterly series, EM
estimation that handles the "ragged edge" of missing recent values) and reads the target's smoothed value
for the months it lacks, with intervals from the state covariance.

With ``previous`` (the data as they stood at the last run) the revision of the nowcast is decomposed into
the *news* of each series that brought new data (``NewsResults.details_by_impact``: observed, expected,
news, weight, impact); the impacts add up, with the parameters held fixed, to the revision.

Convergence of the EM algorithm is checked: ``converged`` is False when ``maxiter`` was reached before
the relative change of the log likelihood fell below ``tolerance``; a :class:`NowcastConvergenceWarning`
says so (the result is still returned, since the last EM step is a valid if imprecise estimate).

Inputs should be stationary (diffusion indices as deviations from 50, growth rates); each is
standardised by the model.  Isolated extreme values are replaced for the *estimation* of the parameters
(:func:`forecasting.clean_outliers`); the nowcast itself filters the data as observed.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import ForecastingError, NowcastConvergenceWarning
from .outliers import clean_outliers

__all__ = ["NowcastResult", "nowcast"]

#: Fewest months with an observed target for a model to be estimated.
MIN_TARGET_OBS = 36


@dataclass
class NowcastResult:
    """The outcome of :func:`nowcast`.

    Attributes
    ----------
    target
        Name of the nowcast column.
    frame
        ``mean``, ``lo-L``, ``hi-L`` per level, indexed by the months nowcast (target missing).
    converged, iterations, llf, criterion
        EM convergence: whether the relative log-likelihood change fell below the tolerance, the
        iterations run, the final log likelihood and the final relative change.
    news
        Tidy news decomposition against ``previous`` (``period, series, update_period, actual, expected,
        news, weight, impact``), or None.
    previous
        Nowcast of the same months from the previous data with the same parameters (None without
        ``previous``).
    inputs
        Input series (monthly, then quarterly).
    notes
        Decisions and warnings (outliers replaced, dropped inputs, convergence).
    results
        The statsmodels results object (for diagnostics).
    """

    target: str
    frame: pd.DataFrame
    converged: bool
    iterations: int
    llf: float
    criterion: float
    news: pd.DataFrame | None
    previous: pd.Series | None
    inputs: tuple[str, ...]
    notes: list[str] = field(default_factory=list)
    results: Any = None
    level: tuple[float, ...] = (80, 95)

    @property
    def mean(self) -> pd.Series:
        return self.frame["mean"]

    def plot(self, history: pd.Series | None = None, ax: Any = None) -> Any:
        """The target's history (if given), the nowcast and its intervals; returns the matplotlib Axes."""
        from matplotlib.figure import Figure

        if ax is None:
            ax = Figure(figsize=(8, 3.5)).subplots()
        if history is not None:
            h = history.dropna()
            ax.plot(h.index.to_timestamp(), h.to_numpy(), color="black", lw=1.2, label="observed")
        x = self.frame.index.to_timestamp()
        for lv, alpha in zip(sorted(self.level, reverse=True), (0.2, 0.35), strict=False):
            ax.fill_between(x, self.frame[f"lo-{lv:g}"], self.frame[f"hi-{lv:g}"], color="tab:orange", alpha=alpha,
                            lw=0, label=f"{lv:g} %")
        ax.plot(x, self.mean.to_numpy(), "o-", color="tab:orange", label="nowcast")
        ax.set_title(f"{self.target}: nowcast")
        ax.legend(loc="best", fontsize="small")
        return ax


def _check_frame(data: Any, what: str, freq: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise ForecastingError(f"nowcast: {what} must be a pandas DataFrame; got {type(data).__name__}.")
    if not isinstance(data.index, pd.PeriodIndex) or data.index.freqstr[0] != freq:
        raise ForecastingError(f"nowcast: {what} needs a PeriodIndex of frequency {freq!r}; "
                               f"got {type(data.index).__name__}.")
    full = pd.period_range(data.index.min(), data.index.max(), freq=data.index.freq)
    out = data.apply(pd.to_numeric, errors="coerce").astype(float).reindex(full)
    return out


def _cleaned(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for col in frame:
        s = frame[col].dropna()
        if len(s) < 12:
            continue
        span = pd.period_range(s.index[0], s.index[-1], freq=frame.index.freq)
        filled = s.reindex(span).interpolate()
        cleaned = clean_outliers(filled)
        if len(cleaned.attrs["outliers"]):
            mask = frame[col].notna()
            out.loc[mask, col] = cleaned.reindex(frame.index)[mask]
            notes.append(f"{col}: outliers replaced for estimation: "
                         + ", ".join(map(str, cleaned.attrs["outliers"][:6])))
    return out


def _em_criterion(llf_path: Sequence[float]) -> float:
    llf = np.asarray(llf_path, dtype=float)
    if llf.size < 2:
        return np.nan
    a, b = llf[-1], llf[-2]
    return float(2 * abs(a - b) / (abs(a) + abs(b)))


def nowcast(
    data: pd.DataFrame,
    target: str,
    *,
    quarterly: pd.DataFrame | None = None,
    previous: pd.DataFrame | None = None,
    previous_quarterly: pd.DataFrame | None = None,
    factors: int = 1,
    factor_orders: int = 2,
    maxiter: int = 500,
    tolerance: float = 1e-6,
    level: Sequence[int | float] = (80, 95),
    clean: bool = True,
    periods: int = 0,
) -> NowcastResult:
    """Nowcast ``data[target]`` for the months it lacks at the end of ``data``.

    Parameters
    ----------
    data
        Monthly series (``PeriodIndex`` of frequency M) as columns, NaN where a value is not (yet)
        published.  Must contain ``target``.
    target
        Column to nowcast.
    quarterly
        Quarterly series (``PeriodIndex`` of frequency Q), optional.
    previous, previous_quarterly
        The same data as they stood at the previous run: the revision of the nowcast is decomposed into
        the news of each series (with this run's parameters).
    factors, factor_orders
        Number of common factors and the order of their VAR.
    maxiter, tolerance
        EM limits; see the module docstring for the convergence check.
    level
        Interval levels in percent.
    clean
        Replace isolated extreme values (per series) for the estimation of the parameters.
    periods
        Extra months to nowcast past the end of ``data`` (0: only the months the target lacks).

    Returns
    -------
    NowcastResult

    Raises
    ------
    ForecastingError
        When the target is missing, has fewer than 36 observations, or is observed up to the last month
        and ``periods`` is 0 (there is nothing to nowcast).
    """
    monthly = _check_frame(data, "data", "M")
    if target not in monthly.columns:
        raise ForecastingError(f"nowcast: target {target!r} is not a column of data (columns: {list(monthly.columns)}).")
    notes: list[str] = []
    n_obs = int(monthly[target].notna().sum())
    if n_obs < MIN_TARGET_OBS:
        raise ForecastingError(f"nowcast: the target {target!r} has {n_obs} observed months; at least "
                               f"{MIN_TARGET_OBS} are needed to estimate the factor model.")
    sparse = [c for c in monthly.columns if c != target and monthly[c].notna().sum() < 24]
    if sparse:
        notes.append(f"inputs with fewer than 24 observations dropped: {', '.join(sparse)}")
        monthly = monthly.drop(columns=sparse)
    last_obs = monthly[target].last_valid_index()
    end = monthly.index[-1] + periods
    if last_obs >= end:
        raise ForecastingError(f"nowcast: {target!r} is already observed up to {last_obs}, the last month of the "
                               "data; there is nothing to nowcast (pass periods= to nowcast later months).")
    if periods:
        monthly = monthly.reindex(pd.period_range(monthly.index[0], end, freq="M"))
    q = _check_frame(quarterly, "quarterly", "Q") if quarterly is not None else None
    if q is not None:
        q = q.reindex(pd.period_range(q.index.min(), monthly.index[-1].asfreq("Q"), freq="Q"))
    # the target last, so that its loading is read last (no effect on the estimates)
    monthly = monthly[[c for c in monthly.columns if c != target] + [target]]
    fit_m = _cleaned(monthly, notes) if clean else monthly
    fit_q = _cleaned(q, notes) if (clean and q is not None) else q

    from statsmodels.tsa.statespace.dynamic_factor_mq import DynamicFactorMQ

    def model(endog: pd.DataFrame, endog_q: pd.DataFrame | None) -> DynamicFactorMQ:
        return DynamicFactorMQ(endog, endog_quarterly=endog_q, factors=factors, factor_orders=factor_orders,
                               idiosyncratic_ar1=True, standardize=True)

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        fitted = model(fit_m, fit_q).fit(disp=False, maxiter=maxiter, tolerance=tolerance)
        res = fitted.apply(monthly, endog_quarterly=q) if (clean and (fit_m is not monthly or fit_q is not q)) \
            else fitted
    retvals = fitted.mle_retvals or {}
    iterations = int(retvals.get("iter", 0))
    criterion = _em_criterion(retvals.get("llf", []))
    converged = bool(iterations < maxiter or (np.isfinite(criterion) and criterion < tolerance))
    if not converged:
        message = (f"nowcast of {target!r}: EM stopped at maxiter={maxiter} with relative log-likelihood change "
                   f"{criterion:.2e} > tolerance {tolerance:g}; the estimates are usable but imprecise "
                   "(raise maxiter or check the inputs).")
        notes.append(message)
        warnings.warn(message, NowcastConvergenceWarning, stacklevel=2)
    months = pd.period_range(last_obs + 1, monthly.index[-1], freq="M")
    pred = res.get_prediction(start=months[0], end=months[-1], information_set="smoothed")
    mean = pred.predicted_mean[target]
    frame = pd.DataFrame({"mean": mean.to_numpy(float)}, index=months)
    for lv in level:
        ci = pred.conf_int(alpha=1 - float(lv) / 100)
        frame[f"lo-{lv:g}"] = ci[f"lower {target}"].to_numpy(float)
        frame[f"hi-{lv:g}"] = ci[f"upper {target}"].to_numpy(float)
    news_frame = prev_mean = None
    if previous is not None:
        news_frame, prev_mean = _news(res, previous, previous_quarterly, monthly, q, target, months, notes)
    return NowcastResult(target=target, frame=frame, converged=converged, iterations=iterations,
                         llf=float(fitted.llf), criterion=criterion, news=news_frame, previous=prev_mean,
                         inputs=tuple(monthly.columns) + (tuple(q.columns) if q is not None else ()),
                         notes=notes, results=res, level=tuple(level))


def _news(res: Any, previous: pd.DataFrame, previous_q: pd.DataFrame | None, monthly: pd.DataFrame,
          q: pd.DataFrame | None, target: str, months: pd.PeriodIndex, notes: list[str],
          ) -> tuple[pd.DataFrame, pd.Series]:
    prev = _check_frame(previous, "previous", "M").reindex(columns=monthly.columns)
    prev = prev.loc[monthly.index[0]:]
    if len(prev) > len(monthly):
        raise ForecastingError("nowcast: previous data extend past the current data; pass the older vintage.")
    prev_q = None
    if q is not None:
        prev_q = _check_frame(previous_q, "previous_quarterly", "Q").reindex(columns=q.columns) \
            if previous_q is not None else q.loc[: prev.index[-1].asfreq("Q")].copy()
        if previous_q is None:
            notes.append("no previous quarterly data given: the quarterly series are taken as unchanged")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        before = res.apply(prev, endog_quarterly=prev_q)
        rows = []
        prev_values = {}
        for period in months:
            if period > prev.index[-1] + 12:
                continue
            news = res.news(before, impact_date=period, impacted_variable=target, comparison_type="previous")
            prev_values[period] = float(news.impacts["estimate (prev)"].iloc[0])
            details = news.details_by_impact.reset_index()
            for rec in details.itertuples(index=False):
                rows.append((period, rec[3], pd.Period(rec[2], "M") if not isinstance(rec[2], pd.Period) else rec[2],
                             float(rec[4]), float(rec[5]), float(rec[6]), float(rec[7]), float(rec[8])))
    frame = pd.DataFrame(rows, columns=["period", "series", "update_period", "actual", "expected", "news",
                                        "weight", "impact"])
    return frame, pd.Series(prev_values, dtype=float, name="previous")
