"""Nowcasting a monthly official statistic from timelier indicators with a dynamic factor model.

Industrial value added growth is published weeks after the month; the PMI sub-indices and electricity
consumption are known sooner.  :func:`nowcast` fits statsmodels' ``DynamicFactorMQ`` (one or more common
factors following a VAR, AR(1) idiosyncratic components, monthly and optionally quarterly series, EM
estimation that handles the "ragged edge" of missing recent values) and reads the target's smoothed value
for the months it lacks, with intervals from the state covariance.

With ``previous`` (the data as they stood at the last run) the revision of the nowcast is decomposed into
the *news* of each series that brought new data (``NewsResults.details_by_impact``: observed, expected,
news, weight, impact); the impacts add up, with the parameters held fixed, to the revision.

Convergence of the EM algorithm is judged by :func:`em_convergence`, not by statsmodels' exit: EM converged
only when its last accepted step *raised* the log likelihood by a relative change below ``tolerance`` before
``maxiter``.  A step that lowered the log likelihood (statsmodels then reverts to the previous iterate and
stops, which its own report does not tell apart from convergence) and a stop at ``maxiter`` are both "not
converged"; a :class:`NowcastConvergenceWarning` says which (the result is still returned, since the last
accepted EM step is a valid if imprecise estimate).

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

__all__ = ["BRIDGE_METHODS", "BridgeNowcast", "NowcastResult", "bridge_nowcast", "em_convergence", "nowcast",
           "two_year_average"]

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
        EM convergence (:func:`em_convergence`): whether the last accepted step raised the log likelihood
        by a relative change below the tolerance before ``maxiter``, the iterations run, the final log
        likelihood and the final relative change.
    stop
        Why EM stopped: ``"tolerance"`` (converged), ``"maxiter"`` or ``"llf-decrease"``.
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
    stop: str = "tolerance"

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


def _em_criterion(llf_path: Sequence[float] | np.ndarray) -> float:
    llf = np.asarray(llf_path, dtype=float)
    if llf.size < 2:
        return np.nan
    a, b = llf[-1], llf[-2]
    return float(2 * abs(a - b) / (abs(a) + abs(b)))


def em_convergence(llf_path: Sequence[float], iterations: int, *, maxiter: int, tolerance: float,
                   decreased: bool = False) -> tuple[bool, str, float]:
    """Judge an EM run honestly from its log-likelihood path.

    Parameters
    ----------
    llf_path
        Log likelihood after each accepted EM step, in order.
    iterations
        EM iterations run.
    maxiter, tolerance
        The limits the run was given.
    decreased
        The optimiser reported a step that lowered the log likelihood (and stopped there).

    Returns
    -------
    (converged, stop, criterion)
        ``converged`` is True only when the run stopped before ``maxiter`` because the last accepted step
        raised the log likelihood by a relative change ``2|l1 - l0| / (|l1| + |l0|)`` below ``tolerance``.
        ``stop`` is ``"tolerance"``, ``"maxiter"`` or ``"llf-decrease"`` (a fall of the log likelihood, or a
        last step that did not raise it, is never convergence).  ``criterion`` is the last relative change.
    """
    llf = np.asarray(llf_path, dtype=float)
    criterion = _em_criterion(llf)
    if decreased or (llf.size >= 2 and llf[-1] < llf[-2]):
        return False, "llf-decrease", criterion
    if not np.isfinite(criterion) or criterion >= tolerance or iterations >= maxiter:
        return False, "maxiter", criterion
    return True, "tolerance", criterion


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

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = model(fit_m, fit_q).fit(disp=False, maxiter=maxiter, tolerance=tolerance)
        res = fitted.apply(monthly, endog_quarterly=q) if (clean and (fit_m is not monthly or fit_q is not q)) \
            else fitted
    retvals = fitted.mle_retvals or {}
    iterations = int(retvals.get("iter", 0))
    path = list(retvals.get("llf", []))
    # statsmodels appends the log likelihood of the final smoothing pass (the same parameters) to the path
    path = path[:iterations] if len(path) > iterations else path
    decreased = any("Log-likelihood decreased" in str(w.message) for w in caught)
    converged, stop, criterion = em_convergence(path, iterations, maxiter=maxiter, tolerance=tolerance,
                                                decreased=decreased)
    if not converged:
        message = (f"nowcast of {target!r}: EM stopped at maxiter={maxiter} with relative log-likelihood change "
                   f"{criterion:.2e} > tolerance {tolerance:g}" if stop == "maxiter" else
                   f"nowcast of {target!r}: EM stopped after {iterations} iteration(s) because a step lowered the "
                   f"log likelihood (last relative change {criterion:.2e}); this is not convergence")
        message += "; the estimates are usable but imprecise (raise maxiter or check the inputs)."
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
                         notes=notes, results=res, level=tuple(level), stop=stop)


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


# ----------------------------------------------------------------------------------------------- bridge nowcasts
#: The bridge methods of :func:`bridge_nowcast`.
BRIDGE_METHODS = ("naive", "bridge", "two_year", "midas")


def two_year_average(growth: pd.Series) -> pd.Series:
    """Two-year average growth ``100 (sqrt((1 + g_t/100)(1 + g_{t-12}/100)) - 1)`` of a y/y growth rate (%).

    Statistics offices quote it when last year's month is distorted (the base effect): 2021 growth against the
    collapse of early 2020.  NaN where either year is missing.
    """
    g = growth.astype(float)
    base = g.shift(12, freq="M").reindex(g.index)
    prod = (1 + g / 100) * (1 + base / 100)
    return (np.sqrt(prod.where(prod > 0)) - 1) * 100


def _from_two_year(avg: float, base: float) -> float:
    """The y/y growth (%) whose two-year average over ``base`` (last year's growth) is ``avg``."""
    return float(((1 + avg / 100) ** 2 / (1 + base / 100) - 1) * 100)


def _robust_mask(values: np.ndarray, k: float = 5.0) -> np.ndarray:
    """Rows within ``k`` scaled median absolute deviations of the median (COVID months out of the estimation)."""
    med = np.nanmedian(values)
    mad = 1.4826 * np.nanmedian(np.abs(values - med))
    if not np.isfinite(mad) or mad == 0:
        return np.asarray(np.isfinite(values))
    return np.asarray(np.abs(values - med) <= k * mad)


@dataclass
class BridgeNowcast:
    """One bridge nowcast: ``mean`` and interval bounds ``lo``/``hi`` per level, the method and its notes."""

    period: pd.Period
    method: str
    mean: float
    lo: dict[float, float]
    hi: dict[float, float]
    last_published: pd.Period
    n_obs: int
    notes: list[str] = field(default_factory=list)


def _pairs(y: pd.Series, end: pd.Period, window: int) -> list[tuple[pd.Period, pd.Period]]:
    """(month, last month published before it) pairs of the estimation window ending before ``end``."""
    published = y.loc[: end - 1].dropna().index
    return [(t, lp) for lp, t in zip(published[:-1], published[1:], strict=True) if t >= end - window]


def bridge_nowcast(target: pd.Series, indicators: pd.DataFrame | None, period: pd.Period | str, *,
                   method: str = "bridge", window: int = 120, level: Sequence[float] = (80, 95),
                   lags: int = 2) -> BridgeNowcast:
    """Nowcast ``target`` (a y/y growth rate) for ``period`` from the indicators known by then.

    The caller applies the release calendar: ``target`` holds only the values published by the origin (the
    last one is usually ``period - 1``, December at a March origin where January and February are not
    published), ``indicators`` only the values known by then (the PMI of ``period``, official electricity to
    ``period - 1``...).  Parameters are estimated on the ``window`` months before ``period``; months whose
    change is an extreme outlier (beyond 5 scaled MADs, the 2020 collapse) are left out of the estimation.

    Methods
    -------
    ``naive``
        The last published value (the benchmark).
    ``bridge``
        The change of the target since its last published month regressed on the change of each indicator
        over the same months: ``y_t - y_L = a + b'(x_t - x_L)`` (x at its latest known month up to t).
    ``two_year``
        The same bridge on the two-year average growth rate (:func:`two_year_average`), converted back with
        last year's growth of ``period``: removes the base effect of a distorted year.
    ``midas``
        U-MIDAS: ``y_t = a + c y_L + sum_j b_j' x_{t-j}`` (j = 0..``lags``, unrestricted lag weights).

    Intervals are the empirical quantiles of the in-sample residuals (after a degrees-of-freedom inflation).

    Raises
    ------
    ForecastingError
        Unknown method, a target without 36 published months, or ``period`` already published.
    """
    if method not in BRIDGE_METHODS:
        raise ForecastingError(f"bridge_nowcast: method {method!r} is unknown; use one of {', '.join(BRIDGE_METHODS)}")
    period = pd.Period(period, "M")
    y = target.astype(float).sort_index()
    y = y.reindex(pd.period_range(min(y.index[0], period - window - 24), period, freq="M"))
    published = y.loc[: period - 1].dropna()
    if len(published) < MIN_TARGET_OBS:
        raise ForecastingError(f"bridge_nowcast: the target has {len(published)} published months before {period}; "
                               f"at least {MIN_TARGET_OBS} are needed")
    if not np.isnan(y.loc[period]):
        raise ForecastingError(f"bridge_nowcast: the target is already published for {period}; nothing to nowcast")
    last = published.index[-1]
    notes: list[str] = []
    x = pd.DataFrame(index=y.index) if indicators is None else \
        indicators.astype(float).reindex(y.index).loc[:, lambda f: f.notna().sum() >= 36]
    # an indicator not yet out for t enters at its latest month (ragged edge)
    x_known = {c: x[c].ffill(limit=3).to_dict() for c in x.columns}
    use = y if method != "two_year" else two_year_average(y)
    pairs = _pairs(use, period, window)
    yd, ud = y.to_dict(), use.to_dict()
    rows, resp = [], []
    for t, lp in pairs:
        if method == "midas":
            feats = [1.0, yd[lp]] + [x_known[c].get(t - j, np.nan) for c in x.columns for j in range(lags + 1)]
            target_value = yd[t]
        else:
            feats = [1.0] + [x_known[c].get(t, np.nan) - x_known[c].get(lp, np.nan) for c in x.columns]
            target_value = ud[t] - ud[lp]
        rows.append(feats)
        resp.append(target_value)
    design = np.asarray(rows, dtype=float).reshape(len(rows), -1) if rows else np.empty((0, 1))
    response = np.asarray(resp, dtype=float)
    ok = np.isfinite(response) & np.isfinite(design).all(axis=1) if len(rows) else np.zeros(0, bool)
    change = response - (design[:, 1] if method == "midas" else 0.0) if len(rows) else response
    ok &= _robust_mask(np.where(ok, change, np.nan)) if len(rows) else ok
    base_last = use.loc[last]
    if method == "naive" or ok.sum() < design.shape[1] + 12:
        if method != "naive":
            notes.append(f"{method}: {int(ok.sum())} usable months; fell back to the last published value")
        errors = np.array([yd[t] - yd[lp] for t, lp in _pairs(y, period, window)])
        errors = errors[np.isfinite(errors)]
        errors = errors[_robust_mask(errors)] if errors.size else errors
        mean = float(y.loc[last])
        resid = errors
        used_method, k = "naive", 0
    else:
        d, r = design[ok], response[ok]
        beta, *_ = np.linalg.lstsq(d, r, rcond=None)
        resid = r - d @ beta
        k = d.shape[1]
        if method == "midas":
            feats = [1.0, y.loc[last]] + [x_known[c].get(period - j, np.nan) for c in x.columns for j in range(lags + 1)]
        else:
            feats = [1.0] + [x_known[c].get(period, np.nan) - x_known[c].get(last, np.nan) for c in x.columns]
        f = np.asarray(feats, dtype=float)
        if not np.isfinite(f).all():
            notes.append(f"{method}: an indicator is missing at {period}; its change taken as 0")
            f = np.where(np.isfinite(f), f, 0.0)
        pred = float(f @ beta)
        if method == "midas":
            mean = pred
        elif method == "two_year":
            base = y.get(period - 12, np.nan)
            if not np.isfinite(base):
                notes.append("two_year: last year's growth of the month is not published; bridge on y/y used")
                return bridge_nowcast(target, indicators, period, method="bridge", window=window, level=level)
            mean = _from_two_year(base_last + pred, base)
            resid = np.array([_from_two_year(base_last + pred + e, base) for e in resid]) - mean
        else:
            mean = float(y.loc[last]) + pred
        used_method = method
    n = len(resid)
    inflate = np.sqrt(n / max(n - k, 1)) if n else 1.0
    lo, hi = {}, {}
    for lv in level:
        a = (1 - float(lv) / 100) / 2
        if n >= 10:
            lo[float(lv)] = mean + inflate * float(np.quantile(resid, a))
            hi[float(lv)] = mean + inflate * float(np.quantile(resid, 1 - a))
        else:
            lo[float(lv)] = hi[float(lv)] = float("nan")
    return BridgeNowcast(period=period, method=used_method, mean=float(mean), lo=lo, hi=hi, last_published=last,
                         n_obs=int(n), notes=notes)
