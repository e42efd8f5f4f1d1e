"""Fallback decomposition: calendar regression (OLS) then statsmodels STL.

Used when no X-13 binary is available (``method_used="stl-fallback"``) or when
``method="stl"`` is asked for.  Steps, on ``log(y)`` for the multiplicative modes:

1. calendar effects: OLS of the seasonal difference of the series on the seasonal
   differences of the calendar regressors (plus a constant), HAC standard errors
   (12 lags) - seasonal differencing removes the seasonal pattern and most of the
   trend, so the calendar coefficients are not confounded with them;
2. missing values of the calendar-adjusted series: linear interpolation, then three
   rounds of "replace by STL trend + seasonal";
3. robust STL (period 12) on the calendar-adjusted, filled series.

There are no outlier regressors (robust STL down-weights outliers instead), no
forecasts and no M/Q statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..exceptions import ForecastingError

if TYPE_CHECKING:
    from statsmodels.tsa.seasonal import DecomposeResult

__all__ = ["StlFit", "stl_decompose"]


@dataclass
class StlFit:
    """Components in transformed units (logs for multiplicative modes)."""

    filled: pd.Series
    calendar: pd.Series
    festival: pd.Series
    working_day: pd.Series
    seasonal: pd.Series
    trend: pd.Series
    irregular: pd.Series
    regressors: pd.DataFrame


def _calendar_ols(z: pd.Series, x: pd.DataFrame) -> pd.DataFrame:
    import statsmodels.api as sm

    dz = z - z.shift(12)
    dx = x - x.shift(12)
    frame = pd.concat([dz.rename("__y"), dx], axis=1).dropna()
    keep = [c for c in x.columns if frame[c].abs().sum() > 0]
    if len(frame) < len(keep) + 12:
        raise ForecastingError(
            f"Too few complete seasonal differences ({len(frame)}) to estimate {len(keep)} calendar regressors; "
            "use fewer holiday windows or a longer series."
        )
    coef = pd.DataFrame({"group": "calendar", "coef": 0.0, "se": np.nan, "t": np.nan}, index=list(x.columns))
    if not keep:
        return coef
    fit = sm.OLS(frame["__y"].to_numpy(), sm.add_constant(frame[keep].to_numpy(), has_constant="add")).fit(
        cov_type="HAC", cov_kwds={"maxlags": 12}
    )
    coef.loc[keep, "coef"] = fit.params[1:]
    coef.loc[keep, "se"] = fit.bse[1:]
    coef.loc[keep, "t"] = fit.tvalues[1:]
    return coef


def stl_decompose(
    z: pd.Series,
    regressors: pd.DataFrame,
    *,
    holiday_columns: list[str],
    working_columns: list[str],
    seasonal: int = 13,
    robust: bool = True,
) -> StlFit:
    """Decompose ``z`` (already log-transformed where appropriate); see the module docstring."""
    from statsmodels.tsa.seasonal import STL

    x = regressors.reindex(z.index).astype(float)
    if x.shape[1]:
        table = _calendar_ols(z, x)
        calendar = x.to_numpy() @ table["coef"].to_numpy()
        holiday = x[holiday_columns].to_numpy() @ table.loc[holiday_columns, "coef"].to_numpy()
        working = x[working_columns].to_numpy() @ table.loc[working_columns, "coef"].to_numpy()
        table["group"] = ["holiday" if c in holiday_columns else "working_day" if c in working_columns else "user"
                          for c in table.index]
    else:
        table = pd.DataFrame(columns=["group", "coef", "se", "t"], dtype=float)
        calendar = holiday = working = np.zeros(len(z))
    calendar_s = pd.Series(calendar, index=z.index)
    r = z - calendar_s
    missing = r.isna().to_numpy()
    filled = r.interpolate(limit_direction="both")

    def fit_stl(values: pd.Series) -> DecomposeResult:
        return STL(values.to_numpy(), period=12, seasonal=seasonal, robust=robust).fit()

    if missing.any():
        for _ in range(3):
            res = fit_stl(filled)
            fitted = res.trend + res.seasonal
            filled = pd.Series(np.where(missing, fitted, filled.to_numpy()), index=z.index)
    res = fit_stl(filled)
    return StlFit(
        filled=filled + calendar_s,
        calendar=calendar_s,
        festival=pd.Series(holiday, index=z.index),
        working_day=pd.Series(working, index=z.index),
        seasonal=pd.Series(res.seasonal, index=z.index),
        trend=pd.Series(res.trend, index=z.index),
        irregular=pd.Series(res.resid, index=z.index),
        regressors=table,
    )
