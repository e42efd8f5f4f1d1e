"""The selection path of :func:`forecasting.forecast` (``models=[...]``): SARIMAX and the backtest combination.

``SARIMAX``        statsmodels ``SARIMAX``; differencing chosen by tests (seasonal strength for ``D``,
                   KPSS for ``d``), then a handful of (p, q)(P, Q) candidates compared by AICc;
                   ``calendar=True`` adds the Spring Festival and working-day regressors of
                   :mod:`forecasting.calendar`.
``Combination``    the best ``k`` candidates by an in-sample rolling-origin backtest, averaged.

Both are registered with :func:`forecasting.models.make_model` (``"sarimax"``, ``"combination"``) when this
module loads (importing :mod:`forecasting` loads it).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from .calibration import combine_frames, interval_scale, rescale_intervals, standardised_errors
from .decompose import PERIOD
from .exceptions import ForecastingError
from .models import (
    Forecaster,
    Level,
    Naive2,
    SeasonalNaive,
    clone,
    make_model,
    model_name,
    normal_frame,
    register_model,
)
from .outliers import clean_outliers

__all__ = ["SARIMAX", "Combination", "trimmed"]

# ------------------------------------------------------------------------------------------------ SARIMAX
def _kpss_needs_diff(v: np.ndarray) -> bool:
    from statsmodels.tsa.stattools import kpss

    if np.ptp(v) == 0 or len(v) < 8:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, pvalue, *_ = kpss(v, regression="c", nlags="auto")
    return bool(pvalue < 0.05)


class SARIMAX(Forecaster):
    """Seasonal ARIMA (statsmodels ``SARIMAX``) with a small automatic order choice.

    ``D = 1`` when the seasonal strength calls for it (:func:`forecasting.arima.nsdiffs`; the M4 lag-12
    test, used before, also fires on persistent non-seasonal series such as growth rates year on year, and the
    seasonal difference then over-differenced them), ``d = 1`` when KPSS (5 %) rejects stationarity of the
    (seasonally differenced) series; then the (p, q) in ``orders`` and the seasonal (P, Q) — (0, 1) with
    ``D = 1``, (1, 0) without — are compared by AICc.  A constant is included when ``d + D == 0``.

    ``calendar=True`` adds :func:`forecasting.calendar.calendar_regressors` (Spring Festival windows and
    working days) as exogenous regressors, built from the index, so no ``exog_future`` is needed;
    a caller ``exog`` is added to them and then needs ``exog_future`` in ``predict``.
    """

    name = "sarimax"
    supports_exog = True

    def __init__(self, *, calendar: bool = False, orders: Sequence[tuple[int, int]] = ((0, 1), (1, 0), (1, 1), (2, 0)),
                 seasonal_orders: Sequence[tuple[int, int]] | None = None) -> None:
        self.calendar = calendar
        self.orders = tuple(orders)
        self.seasonal_orders = seasonal_orders

    def min_length(self) -> int:
        return 2 * PERIOD + 6

    def _design(self, index: pd.PeriodIndex, exog: pd.DataFrame | None, what: str) -> pd.DataFrame | None:
        parts = []
        if self.calendar:
            from .calendar import calendar_regressors

            parts.append(calendar_regressors(index, warn=False))
        if exog is not None:
            if isinstance(exog, pd.Series):
                exog = exog.to_frame()
            x = exog.reindex(index)
            if x.isna().any().any():
                raise ForecastingError(f"SARIMAX: {what} does not cover {index[0]}..{index[-1]} without gaps.")
            parts.append(x.astype(float))
        if not parts:
            return None
        return pd.concat(parts, axis=1)

    def _fit(self, y: pd.Series, exog: pd.DataFrame | None) -> None:
        from statsmodels.tsa.statespace.sarimax import SARIMAX as _SARIMAX

        v = y.to_numpy()
        x = self._design(y.index, exog, "exog")
        self.has_user_exog_ = exog is not None
        if np.ptp(v) == 0:
            self.order_, self.seasonal_order_, self.results_, self.aicc_ = (0, 0, 0), (0, 0, 0, 0), None, {}
            return
        from .arima import nsdiffs

        D = nsdiffs(v)  # a seasonal pattern, not the M4 test's lag-12 correlation (high for any persistent series)
        w = v[PERIOD:] - v[:-PERIOD] if D else v
        d = 1 if _kpss_needs_diff(w) else 0
        seasonal = self.seasonal_orders or ([(0, 1)] if D else [(1, 0)])
        trend = "c" if d + D == 0 else None
        best, table, errors = None, {}, []
        fits: list[tuple[float, tuple[int, int, int], tuple[int, int, int, int], Any]] = []
        self.rejected_: list[str] = []
        for p, q in self.orders:
            for P, Q in seasonal:
                order, sorder = (p, d, q), (P, D, Q, PERIOD)
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        res = _SARIMAX(v, exog=None if x is None else x.to_numpy(), order=order,
                                       seasonal_order=sorder, trend=trend).fit(disp=False, maxiter=100)
                    aicc = float(res.aicc)
                except Exception as exc:
                    errors.append(f"{order}x{sorder}: {exc}")
                    continue
                table[f"{order}x{sorder}"] = aicc
                if np.isfinite(aicc):
                    fits.append((aicc, order, sorder, res))
        # reject degenerate fits: unit roots, zero variance, a forecast out of the history's band, or an AICc far
        # below the pack (the likelihood collapsed onto a unit root: issue 14, FRED-MD BUSINVx)
        pack = float(np.median([f[0] for f in fits])) if fits else np.nan
        nobs = len(v) - d - PERIOD * D
        for aicc, order, sorder, res in sorted(fits, key=lambda f: f[0]):
            why = _sarimax_problem(res, order, sorder, v, x, self, aicc, pack, nobs)
            if why is None:
                best = (order, sorder, res)
                break
            self.rejected_.append(f"{order}x{sorder}: {why}")
        if best is None:
            raise ForecastingError(f"SARIMAX: no candidate order could be fitted or passed the checks "
                                   f"({'; '.join((errors + self.rejected_)[:4])}).")
        self.order_, self.seasonal_order_, self.results_ = best
        self.aicc_ = table

    def _predict(self, h: int, index: pd.PeriodIndex, exog_future: pd.DataFrame | None, level: Level) -> pd.DataFrame:
        if self.results_ is None:
            return normal_frame(index, np.full(h, float(self.y_.iloc[-1])), np.zeros(h), level)
        if self.has_user_exog_ and exog_future is None:
            raise ForecastingError("SARIMAX was fitted with exog; pass exog_future covering the horizon.")
        x = self._design(index, exog_future if self.has_user_exog_ else None, "exog_future")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = self.results_.get_forecast(h, exog=None if x is None else x.to_numpy())
            mean = np.asarray(fc.predicted_mean, dtype=float)
            sd = np.sqrt(np.asarray(fc.var_pred_mean, dtype=float))
        return normal_frame(index, mean, sd, level)

    def frozen(self) -> SARIMAX:
        if getattr(self, "results_", None) is None:
            return clone(self)
        (p, _, q), (P, _, Q, _) = self.order_, self.seasonal_order_
        return SARIMAX(calendar=self.calendar, orders=[(p, q)], seasonal_orders=[(P, Q)])

    def __repr__(self) -> str:
        return f"SARIMAX(calendar={self.calendar})"


def _sarimax_problem(res: Any, order: tuple[int, int, int], sorder: tuple[int, int, int, int], v: np.ndarray,
                     x: pd.DataFrame | None, model: SARIMAX, aicc: float, pack: float, nobs: int) -> str | None:
    """Why a fitted SARIMAX candidate is unusable (see :mod:`forecasting.arima` for the rules), or ``None``."""
    from .arima import DEGENERATE_GAP, FINAL_ROOT_MARGIN, sane_band

    params = np.asarray(res.params, dtype=float)
    if not np.isfinite(params).all() or not params[-1] > 1e-10 * max(float(np.var(v)), 1e-300):
        return "degenerate fit (non-finite parameters or zero innovation variance)"
    polys = [res.polynomial_ar, res.polynomial_ma, res.polynomial_seasonal_ar, res.polynomial_seasonal_ma]
    for poly, what in zip(polys, ("AR", "MA", "seasonal AR", "seasonal MA"), strict=True):
        c = np.trim_zeros(np.asarray(poly, dtype=float), "b")
        if len(c) > 1 and np.min(np.abs(np.roots(c[::-1]))) <= FINAL_ROOT_MARGIN:
            return f"{what} polynomial with a root on the unit circle"
    if np.isfinite(pack) and pack - aicc > DEGENERATE_GAP * nobs:
        return f"AICc {aicc:.1f} far below the other candidates' (median {pack:.1f})"
    future = pd.period_range(model.y_.index[-1] + 1, periods=PERIOD, freq="M") if hasattr(model, "y_") else None
    xf = None
    if x is not None and future is not None:
        xf = model._design(future, None, "exog_future") if not model.has_user_exog_ else None
        if xf is None:
            return None  # caller's regressors: their future is unknown here, the band is checked at predict
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = np.asarray(res.forecast(PERIOD, exog=None if xf is None else xf.to_numpy()), dtype=float)
    lo, hi = sane_band(v)
    if not np.isfinite(fc).all() or fc.min() < lo or fc.max() > hi:
        return f"forecast outside the sane band [{lo:.4g}, {hi:.4g}] of the history"
    return None



def trimmed(scores: pd.Series | Mapping[str, float], k: int, trim: float | None) -> list[str]:
    """The best ``k`` names by score (lower is better), without those scoring worse than ``trim`` x the best.

    A candidate far behind the leader (seasonal naive on a trending, non-seasonal series) only drags the
    average; with ``trim=None`` the best ``k`` are kept whatever their scores.  Names with a non-finite score
    come last and are kept only while no finite one is left to fill ``k``.
    """
    s = pd.Series(dict(scores), dtype=float)
    order = sorted(s.index, key=lambda name: (not np.isfinite(s[name]), s[name]))
    best = s[order[0]] if order else np.nan
    keep = order[:k]
    if trim is not None and np.isfinite(best):
        keep = [name for name in keep if np.isfinite(s[name]) and s[name] <= trim * best] or order[:1]
    return keep


class Combination(Forecaster):
    """Weighted mean of the best ``k`` of ``models``, ranked by an in-sample rolling-origin backtest.

    ``fit`` fits every candidate on the whole series, then re-estimates each (with the specification it
    chose on the whole series, see :meth:`Forecaster.frozen`) from each of the last ``selection_origins``
    origins (every ``selection_step`` months), scores horizons ``1..selection_horizon`` by MASE (scaled by
    the in-sample seasonal-naive error) and keeps the ``k`` best, dropping any whose score is worse than ``trim``
    times the best one's (see :func:`trimmed`).  (Only the specification, not the
    parameters, sees the held-back months: a deliberate speed/purity trade-off.)
    ``weights="equal"`` averages them; ``"inverse_mase"`` weights each by 1 / MASE.  Intervals: the
    weighted mean of the members' interval bounds (quantile averaging, see :func:`combine_frames`), then,
    with ``calibrate=True``, widened or narrowed by :func:`interval_scale` of the combination's standardised
    errors in that same selection backtest (``scale_``): models fitted on histories with crises give
    intervals too wide for calm years and vice versa; the track record corrects that.

    ``outliers="clean"`` (the default) fits every member, at every selection origin too, on the data up to
    that point passed through :func:`forecasting.clean_outliers`; errors are measured against the data as
    observed.

    Failure isolation: a candidate that fails (in the selection backtest or in the final fit) is
    skipped and recorded in ``notes_``; if none is left the combination falls back to seasonal naive
    (or Naive2 for series shorter than 13 months), recorded in ``notes_``.
    """

    name = "combination"
    supports_exog = True

    def __init__(self, models: Sequence[str | Forecaster] = ("ets", "theta", "sarimax", "snaive"), *, k: int = 3,
                 weights: Literal["equal", "inverse_mase"] = "equal", selection_origins: int = 6,
                 selection_step: int = 3, selection_horizon: int = 6, calibrate: bool = True,
                 outliers: Literal["keep", "clean"] = "clean", trim: float | None = 1.5) -> None:
        if outliers not in ("keep", "clean"):
            raise ForecastingError(f"outliers must be 'keep' or 'clean'; got {outliers!r}.")
        self.outliers = outliers
        if trim is not None and trim < 1:
            raise ForecastingError(f"trim must be at least 1 (or None); got {trim}.")
        self.trim = trim
        if weights not in ("equal", "inverse_mase"):
            raise ForecastingError(f"weights must be 'equal' or 'inverse_mase'; got {weights!r}.")
        if k < 1:
            raise ForecastingError(f"k must be at least 1; got {k}.")
        self.models = tuple(models)
        self.k = k
        self.weights = weights
        self.selection_origins = selection_origins
        self.selection_step = selection_step
        self.selection_horizon = selection_horizon
        self.calibrate = calibrate

    def min_length(self) -> int:
        return 2

    def _fit(self, y: pd.Series, exog: pd.DataFrame | None) -> None:
        notes: list[str] = []
        names = [model_name(m) for m in self.models]
        if len(set(names)) != len(names):
            raise ForecastingError(f"Combination: model names must be unique; got {names}.")
        def prepared(train: pd.Series) -> pd.Series:
            return clean_outliers(train) if self.outliers == "clean" else train

        y_fit = prepared(y)
        if len(y_fit.attrs.get("outliers", ())):
            notes.append("outliers replaced before fitting: " + ", ".join(map(str, y_fit.attrs["outliers"])))
        fitted: dict[str, Forecaster] = {}
        for key, spec in zip(names, self.models, strict=True):
            model = make_model(spec)
            try:
                model.fit(y_fit, exog if model.supports_exog else None)
            except Exception as exc:  # per-model failure isolation: record and continue
                notes.append(f"{key}: skipped, fit failed ({type(exc).__name__}: {exc})")
                continue
            fitted[key] = model
        n = len(y)
        v = y.to_numpy()
        scale = float(np.mean(np.abs(v[PERIOD:] - v[:-PERIOD]))) if n > PERIOD else np.nan
        origins = [n - self.selection_horizon - i * self.selection_step for i in range(self.selection_origins)]
        scores: dict[str, float] = {}
        track: dict[str, dict[int, pd.DataFrame]] = {}
        for key, full in fitted.items():
            errs = []
            track[key] = {}
            try:
                for t in origins:
                    model = full.frozen()
                    if t < model.min_length():
                        continue
                    h = min(self.selection_horizon, n - t)
                    xe = exog.iloc[:t] if (exog is not None and model.supports_exog) else None
                    xf = exog.iloc[t: t + h] if (exog is not None and model.supports_exog) else None
                    fc = model.fit(prepared(y.iloc[:t]), xe).predict(h, xf, level=(80,))
                    track[key][t] = fc
                    errs.append(np.abs(v[t: t + h] - fc["mean"].to_numpy()))
            except Exception as exc:
                notes.append(f"{key}: selection backtest failed ({type(exc).__name__}: {exc}); ranked last")
                errs = []
                track[key] = {}
            if errs:
                mae = float(np.mean(np.concatenate(errs)))
                scores[key] = mae / scale if np.isfinite(scale) and scale > 0 else mae
            else:
                scores[key] = np.inf
        self.scores_ = pd.Series(scores, dtype=float).sort_values(kind="stable")
        self.fitted_ = fitted
        self.members_: dict[str, Forecaster] = {k: fitted[k] for k in trimmed(self.scores_, self.k, self.trim)}
        if not self.members_:
            fallback: Forecaster = SeasonalNaive() if n >= SeasonalNaive().min_length() else Naive2()
            notes.append(f"all candidate models failed; fell back to {fallback.name}")
            self.members_[fallback.name] = fallback.fit(y_fit)
        finite = all(np.isfinite(self.scores_.get(k, np.inf)) for k in self.members_)
        if self.weights == "equal" or not finite:
            w = {k: 1.0 for k in self.members_}
        else:
            w = {k: 1.0 / max(float(self.scores_[k]), 1e-12) for k in self.members_}
        total = sum(w.values())
        self.weights_ = pd.Series({k: v / total for k, v in w.items()}, name="weight")
        self.scale_ = 1.0
        if self.calibrate:
            z = []
            for t in origins:
                parts = {k: track.get(k, {}).get(t) for k in self.members_}
                if all(p is not None for p in parts.values()):
                    z.append(standardised_errors(combine_frames(parts, self.weights_.to_dict()), v[t:]))
            self.scale_ = interval_scale(np.concatenate(z)) if z else 1.0
            if z:
                notes.append(f"intervals scaled by {self.scale_:.2f} from {sum(map(len, z))} out-of-sample errors")
        self.notes_ = notes

    def _predict(self, h: int, index: pd.PeriodIndex, exog_future: pd.DataFrame | None, level: Level) -> pd.DataFrame:
        frames = {}
        for key, model in self.members_.items():
            frames[key] = model.predict(h, exog_future if model.supports_exog else None, level)
        self.member_forecasts_ = frames
        return rescale_intervals(combine_frames(frames, self.weights_.to_dict()), self.scale_)

    def __repr__(self) -> str:
        return f"Combination(models={[model_name(m) for m in self.models]}, k={self.k}, weights={self.weights!r})"

register_model("sarimax", SARIMAX)
register_model("combination", Combination)
