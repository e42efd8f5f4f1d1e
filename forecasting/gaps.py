"""Filling the months a monthly series lacks (the combined January-February of Chinese statistics).

Chinese provincial and municipal statistics publish most monthly indicators for March to December
only, January and February appearing, if at all, as one Jan-Feb figure (the Spring Festival moves between
the two months).  The models need a complete monthly series, so the missing months are filled for
*estimation only*; :func:`forecasting.backtest` never scores a forecast against a filled month.

Two methods:

``"linear"``
    Linear interpolation in time between the neighbouring observed months (growth rates and diffusion
    indices, which have no strong seasonal level).
``"seasonal"``
    For levels with a seasonal pattern (electricity consumption): the value a year before, times the
    year-on-year ratio interpolated (in logs) between the neighbouring months where it is observed;
    where the value a year before is missing too, linear interpolation.

Leading and trailing missing months are dropped, not extrapolated.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from .exceptions import ForecastingError

__all__ = ["fill_missing"]

Method = Literal["linear", "seasonal"]


def _complete(series: pd.Series) -> pd.Series:
    if not isinstance(series, pd.Series) or not isinstance(series.index, pd.PeriodIndex) \
            or series.index.freqstr not in ("M", "ME"):
        raise ForecastingError("fill_missing needs a pandas Series with a monthly PeriodIndex.")
    if series.index.has_duplicates:
        raise ForecastingError(f"fill_missing: {series.name or 'series'} has repeated months "
                               f"(e.g. {series.index[series.index.duplicated()][0]}); keep one value per month.")
    y = pd.to_numeric(series, errors="coerce").astype(float).sort_index()
    y = y[np.isfinite(y.to_numpy())]
    if y.empty:
        raise ForecastingError(f"fill_missing: {series.name or 'series'} has no observed value.")
    full = pd.period_range(y.index[0], y.index[-1], freq="M")
    return y.reindex(full)


def fill_missing(series: pd.Series, method: Method = "linear") -> pd.Series:
    """Return ``series`` as a complete monthly series, its missing months filled by ``method``.

    Parameters
    ----------
    series
        Monthly series; missing months may be absent from the index or present as NaN.
    method
        ``"linear"`` or ``"seasonal"`` (see the module docstring).

    Returns
    -------
    pandas.Series
        Complete from the first to the last observed month; ``attrs["filled"]`` lists the filled months
        (``pandas.PeriodIndex``) so that they can be excluded from scoring.

    Examples
    --------
    >>> import pandas as pd
    >>> y = pd.Series([5.0, 7.0], index=pd.PeriodIndex(["2024-12", "2025-03"], freq="M"))
    >>> fill_missing(y).round(2).tolist()
    [5.0, 5.67, 6.33, 7.0]
    """
    if method not in ("linear", "seasonal"):
        raise ForecastingError(f"fill_missing: method must be 'linear' or 'seasonal'; got {method!r}.")
    y = _complete(series)
    gaps = y.index[y.isna().to_numpy()]
    if method == "seasonal" and len(gaps):
        values = y.to_numpy().copy()
        lag = np.full(len(y), np.nan)
        lag[12:] = values[:-12]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where((values > 0) & (lag > 0), np.log(values / lag), np.nan)
        r = pd.Series(ratio, index=y.index)
        if r.notna().sum() >= 2:
            r = r.interpolate(method="linear", limit_area="inside")
            guess = lag * np.exp(r.to_numpy())
            fill = np.isnan(values) & np.isfinite(guess)
            values[fill] = guess[fill]
            y = pd.Series(values, index=y.index, name=series.name)
    y = y.interpolate(method="linear", limit_area="inside")
    y.name = series.name
    y.attrs["filled"] = gaps
    return y
