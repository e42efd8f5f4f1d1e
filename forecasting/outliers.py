"""Replacing isolated extreme values before a model is fitted (a Hampel filter on the deseasonalised series).

A month like China's 2020-02 (or a year-on-year rate a year later, through the base effect) is one
value many robust standard deviations away from its neighbours.  Exponential smoothing and ARIMA models
fitted through it extrapolate the shock; the cleaned series keeps the shape of the rest.  The filter:

1. where the M4 seasonality test finds a seasonal pattern, the classical seasonal indices are removed
   (multiplicatively for a positive series);
2. each value is compared with the median of the other months of a window of ``window`` months around
   it (shifted inwards at the ends: at the last month, the months before it, as no later month exists yet);
3. a value more than ``threshold`` robust standard deviations from that median is replaced by it; the
   robust standard deviation is 1.4826 x the median absolute deviation of the window, floored by that of
   the whole series' month-on-month changes (so a flat stretch does not flag ordinary moves);
4. the seasonal indices are put back.

With ``calendar="cn"`` the filter knows the Chinese calendar: before step 2 the deseasonalised series is
regressed (robustly, Huber's M-estimator) on the Spring Festival and working-day regressors of
:mod:`forecasting.calendar`, the filter runs on what the calendar does not explain, and the calendar effect
is put back into any replacement.  A January or February that only moved with the festival is then never
"cleaned" (it is modelled by the forecaster's calendar regressors instead); a month far beyond what the
festival explains (2020-02) still is.  Without ``calendar`` a series with moving-holiday effects would
lose its festival months: pass the calendar for such series.

Only the fit sees the cleaned values: outcomes, accuracy and interval calibration use the data as observed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .decompose import PERIOD, classical_indices, seasonality_test

__all__ = ["clean_outliers"]


def clean_outliers(y: pd.Series, *, threshold: float = 5.0, window: int = 7, calendar: str | None = None) -> pd.Series:
    """Return ``y`` with isolated extreme values replaced; ``attrs["outliers"]`` lists the months replaced.

    Parameters
    ----------
    y
        Complete monthly series (no missing values).
    threshold
        Robust standard deviations from the local median beyond which a value is replaced.
    window
        Odd number of months in the local window.
    calendar
        ``"cn"``: remove the Chinese calendar effects (Spring Festival, working days) before filtering.

    Examples
    --------
    >>> import pandas as pd
    >>> y = pd.Series([7.0, 7.2, 6.9, 7.1, -46.9, 7.0, 7.3, 6.8, 7.1],
    ...               index=pd.period_range("2019-11", periods=9, freq="M"))
    >>> clean_outliers(y).attrs["outliers"].astype(str).tolist()
    ['2020-03']
    """
    v = y.to_numpy(dtype=float)
    n = len(v)
    out = y.copy()
    out.attrs["outliers"] = y.index[:0]
    if n < window + 2:
        return out
    seasonal = seasonality_test(v)
    positive = bool((v > 0).all())
    if seasonal:
        idx = np.resize(classical_indices(v, multiplicative=positive), n)
        d = v / idx if positive else v - idx
    else:
        d = v.copy()
    effect = np.zeros(n)
    if calendar is not None:
        effect = _calendar_effect(y.index, d, calendar)
        d = d - effect
    steps = np.abs(np.diff(d))
    floor = 1.4826 * float(np.median(steps)) / np.sqrt(2) if steps.size else 0.0
    half = window // 2
    flagged = np.zeros(n, dtype=bool)
    clean = d.copy()
    for t in range(n):
        lo = min(max(t - half, 0), n - window)  # a full window, shifted inwards at both ends
        w = np.delete(d[lo: lo + window], t - lo)
        med = float(np.median(w))
        sd = max(1.4826 * float(np.median(np.abs(w - med))), floor)
        if sd > 0 and abs(d[t] - med) > threshold * sd:
            flagged[t] = True
            clean[t] = med
    if not flagged.any():
        return out
    clean = clean + effect
    if seasonal:
        clean = clean * idx if positive else clean + idx
    out = pd.Series(clean, index=y.index, name=y.name)
    out.attrs["outliers"] = y.index[flagged]
    return out


def _calendar_effect(index: pd.PeriodIndex, d: np.ndarray, calendar: str) -> np.ndarray:
    """The part of ``d`` the calendar regressors explain (Huber M-estimate, so outliers do not steer it)."""
    import statsmodels.api as sm

    from .calendar import calendar_regressors
    from .exceptions import ForecastingError

    if calendar != "cn":
        raise ForecastingError(f"calendar must be 'cn' (Chinese calendar) or None; got {calendar!r}.")
    x = calendar_regressors(index, warn=False).to_numpy(dtype=float)
    # the calendar explains departures from the local level: regress those (not the trend) on the regressors
    local = pd.Series(d).rolling(PERIOD + 1, center=True, min_periods=PERIOD // 2).median().to_numpy()
    fit = sm.RLM(d - local, np.column_stack([np.ones(len(d)), x]), M=sm.robust.norms.HuberT()).fit()
    return np.asarray(x @ fit.params[1:], dtype=float)
