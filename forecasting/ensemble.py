"""The platform's default forecaster: the mean of automatic ARIMA, ETS and Theta, with calibrated intervals.

:class:`ARIMA` wraps :mod:`forecasting.arima` (Hyndman-Khandakar search, regression with ARIMA errors for
the Chinese calendar) in the :class:`~forecasting.models.Forecaster` contract.  :class:`Ensemble` fits the
members once and combines them month by month:

* ``"mean"`` (the default): the equal-weight mean of the members' point forecasts and, bound by bound, of their
  interval bounds (the M4 "Comb" benchmark's rule; ahead of the median on every run of
  ``benchmarks/bench_forecast.py`` since the ARIMA member caught up with AutoARIMA, see benchmarks/README.md);
* ``"median"``: the median, bound by bound (with three members, the middle one: robust to the one member that
  goes astray, but it throws away the information in the other two);
* ``"select"``: the single member with the smallest error in the track record below.

**Track record and calibration.**  Each member, with the specification *and parameters* of this fit, is
re-run (a Kalman filter pass for ARIMA and ETS, a refit for the cheap Theta) from ``track_origins``
earlier origins every 3 months, ``horizon`` months ahead.  The combination's standardised errors there
give the factor by which its intervals are widened or narrowed (:func:`~forecasting.calibration.interval_scale`),
and the members' scaled errors give the ``"select"`` choice.  (The parameters have seen those months: a
deliberate speed/purity trade-off, measured in ``benchmarks/bench_forecast.py``.)

**Production mode.**  ``Ensemble(spec=...)`` keeps the :class:`ForecastSpec` of an earlier fit (the annual
review: ARIMA orders, ETS form and the interval scale) and only re-estimates the parameters, warm-started
from that fit's (no search, no track record): the way the seasonal adjustment's projected policy works.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd

from .arima import ArimaFit, ArimaSpec, fit_arima, nsdiffs
from .calibration import interval_scale, rescale_intervals, standardised_errors
from .decompose import PERIOD
from .exceptions import ForecastingError
from .models import (
    ETS,
    Forecaster,
    Level,
    Theta,
    _theta_sigma2,
    check_level,
    normal_frame,
    register_model,
    tidy_frame,
)

__all__ = ["ARIMA", "Ensemble", "ForecastSpec", "MEMBERS"]

#: Members of the default ensemble.
MEMBERS: tuple[str, ...] = ("arima", "ets", "theta")
Method = Literal["median", "mean", "select"]
METHODS: tuple[str, ...] = ("median", "mean", "select")


def calendar_design(index: pd.PeriodIndex, calendar: str | None) -> pd.DataFrame | None:
    """Regressors of ``calendar`` over ``index``: ``"cn"`` the Spring Festival windows and working days."""
    if calendar is None:
        return None
    if calendar != "cn":
        raise ForecastingError(f"calendar must be 'cn' (Chinese calendar) or None; got {calendar!r}.")
    if len(index) == 0:
        return None
    frame = _cn_regressors(int(index[0].ordinal), len(index))
    return frame.set_axis(index).copy()


def _cn_regressors(first: int, n: int) -> pd.DataFrame:
    """The calendar regressors of ``n`` months from the month with ordinal ``first``, sliced from a cached block of
    whole decades (each month's value does not depend on the span asked for: the centring is over the festival
    table; a forecast asks for a new window every month and origin, 0.1-0.7 s a computation)."""
    start = pd.Period(ordinal=first, freq="M")
    end = start + (n - 1)
    lo, hi = start.year // 10 * 10, end.year // 10 * 10 + 9
    block = _cn_block(lo, hi)
    return block.loc[start:end]


@lru_cache(maxsize=16)
def _cn_block(first_year: int, last_year: int) -> pd.DataFrame:
    from .calendar import calendar_regressors

    index = pd.period_range(f"{first_year}-01", f"{last_year}-12", freq="M")
    return calendar_regressors(index, warn=False)


# ------------------------------------------------------------------------------------------------ ARIMA
class ARIMA(Forecaster):
    """Automatic ARIMA (:func:`forecasting.arima.fit_arima`) as a :class:`~forecasting.models.Forecaster`.

    Parameters
    ----------
    calendar
        ``"cn"``: the Chinese calendar regressors (:func:`forecasting.calendar.calendar_regressors`) as
        regression with ARIMA errors, built from the index (no ``exog_future`` needed).
    spec
        Keep this specification (production mode) instead of searching.
    start_params
        Warm start of the exact-likelihood estimate (with ``spec``).
    filled
        Months (``pandas.Period`` or ``YYYY-MM``) that were filled for estimation, never observed (the
        ``attrs["filled"]`` of :func:`forecasting.fill_missing`): missing values of the exact likelihood.
    """

    name = "arima"
    supports_exog = True

    def __init__(self, *, calendar: str | None = None, spec: ArimaSpec | None = None,
                 start_params: Sequence[float] | None = None, filled: Sequence[Any] = ()) -> None:
        self.calendar = calendar
        self.spec = spec
        self.start_params = None if start_params is None else tuple(float(x) for x in start_params)
        self.filled = tuple(str(m) for m in filled)

    def min_length(self) -> int:
        return 3 * PERIOD

    def _x(self, index: pd.PeriodIndex, exog: pd.DataFrame | None, what: str) -> pd.DataFrame | None:
        parts = []
        cal = calendar_design(index, self.calendar)
        if cal is not None:
            parts.append(cal)
        if exog is not None:
            x = (exog.to_frame() if isinstance(exog, pd.Series) else exog).reindex(index)
            if x.isna().any().any():
                raise ForecastingError(f"ARIMA: {what} does not cover {index[0]}..{index[-1]} without gaps.")
            parts.append(x.astype(float))
        return pd.concat(parts, axis=1) if parts else None

    def _fit(self, y: pd.Series, exog: pd.DataFrame | None) -> None:
        self.has_user_exog_ = exog is not None
        x = self._x(y.index, exog, "exog")
        future = pd.period_range(y.index[-1] + 1, periods=PERIOD, freq="M")
        xf = None
        if x is not None:
            # the band check needs future regressors: the calendar's own, a caller's held at their last value
            xf = self._x(future, None, "exog_future")
            if exog is not None:
                last = pd.DataFrame(np.repeat(x.iloc[[-1]].to_numpy()[:, -exog.shape[1]:], PERIOD, axis=0),
                                    index=future, columns=x.columns[-exog.shape[1]:])
                xf = last if xf is None else pd.concat([xf, last], axis=1)
        start = None if self.start_params is None else np.asarray(self.start_params)
        missing = np.isin(np.asarray(y.index.astype(str)), self.filled) if self.filled else None
        self.fit_: ArimaFit = fit_arima(y, x, spec=self.spec, start_params=start, exog_future=xf, missing=missing)
        self.x_ = x

    def _future_x(self, index: pd.PeriodIndex, exog_future: pd.DataFrame | None) -> np.ndarray | None:
        from .arima import _design, _with_outliers

        if self.has_user_exog_ and exog_future is None:
            raise ForecastingError("ARIMA was fitted with exog; pass exog_future covering the horizon.")
        x = self._x(index, exog_future if self.has_user_exog_ else None, "exog_future")
        if not self.fit_.spec.regressors:
            x = None  # dropped by the AICc test
        elif x is not None and self.fit_.spec.outliers:
            x = _with_outliers(index, x, self.fit_.spec.outliers)  # zero over the horizon
        z = _design(index, x, self.fit_.spec, len(self.y_))
        return None if z is None else z.to_numpy(dtype=float)

    def _predict(self, h: int, index: pd.PeriodIndex, exog_future: pd.DataFrame | None, level: Level) -> pd.DataFrame:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = self.fit_.results.get_forecast(h, exog=self._future_x(index, exog_future))
            mean = np.asarray(fc.predicted_mean, dtype=float)
            sd = np.sqrt(np.maximum(np.asarray(fc.var_pred_mean, dtype=float), 0.0))
        return normal_frame(index, mean, sd, level)

    def track(self, t: int, h: int, level: Level) -> pd.DataFrame:
        """Forecast from the first ``t`` months with this fit's parameters (dynamic prediction, no estimation)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = self.fit_.results.get_prediction(start=t, end=t + h - 1, dynamic=True)
            mean = np.asarray(pred.predicted_mean, dtype=float)
            sd = np.sqrt(np.maximum(np.asarray(pred.var_pred_mean, dtype=float), 0.0))
        return normal_frame(self.y_.index[t: t + h], mean, sd, level)

    def frozen(self) -> ARIMA:
        fit = getattr(self, "fit_", None)
        if fit is None:
            return ARIMA(calendar=self.calendar, spec=self.spec, filled=self.filled)
        return ARIMA(calendar=self.calendar, spec=fit.spec, start_params=fit.params(), filled=self.filled)

    def __repr__(self) -> str:
        return f"ARIMA(calendar={self.calendar!r})"


register_model("arima", ARIMA)


def _ets_track(model: ETS, t: int, h: int, level: Level) -> pd.DataFrame:
    """ETS forecast from the first ``t`` months with the fit's parameters (a smoothing pass)."""
    from .models import ets_model_class

    ETSModel = ets_model_class()
    res = model.results_
    index = model.y_.index[t: t + h]
    if res is None:
        return normal_frame(index, np.full(h, float(model.y_.iloc[t - 1])), np.zeros(h), level)
    spec = model.spec_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ETSModel(pd.Series(model.y_.to_numpy(dtype=float)[:t]), error=spec.error, trend=spec.trend,
                     damped_trend=spec.damped, seasonal=spec.seasonal, seasonal_periods=PERIOD if spec.seasonal else None)
        r = m.smooth(np.asarray(res.params))
        mean = np.asarray(r.forecast(h), dtype=float)
        if spec.error == "add" and spec.seasonal != "mul":
            sd = np.sqrt(np.maximum(np.asarray(r.get_prediction(start=t, end=t + h - 1).forecast_variance), 0))
        else:  # the additive approximation of the spread (the track record only needs a scale)
            sd = np.sqrt(float(np.asarray(r.mse)) * np.arange(1, h + 1)) * (
                1 if spec.error == "add" else float(np.mean(np.abs(model.y_.iloc[:t]))))
    return normal_frame(index, mean, sd, level)


def _theta_track(model: Theta, t: int, h: int, level: Level) -> pd.DataFrame:
    """Theta from the first ``t`` months with this fit's smoothing weight, like the other members' track records:
    the deseasonalisation and the drift (closed forms) recomputed, the simple exponential smoothing run with the
    fit's ``alpha`` (one filter pass) instead of re-estimated (a numerical optimisation, most of a Theta fit)."""
    res = getattr(model, "results_", None)
    index = model.y_.index[t: t + h]
    if res is None:
        return Theta().fit(model.y_.iloc[:t]).predict(h, level=level).set_axis(index)
    from scipy import signal
    from statsmodels.tsa.forecasting.theta import ThetaModel, ThetaModelResults

    v = model.y_.to_numpy(dtype=float)[:t]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tm = ThetaModel(v, period=PERIOD, method="multiplicative" if (v > 0).all() else "additive")
        if tm._deseasonalize and tm._use_test:
            tm._test_seasonality()
        y, seasonal = tm._deseasonalize_data()
        trend = np.column_stack([np.ones(len(y)), np.arange(len(y), dtype=float)])
        b0 = float(np.linalg.lstsq(trend, y, rcond=None)[0][1])
        alpha = float(res.params.iloc[1])
        # SES with the initial level y[0] (statsmodels' "known" initialisation): the level after the last month
        levels = signal.lfilter([alpha], [1.0, alpha - 1.0], y, zi=[(1.0 - alpha) * y[0]])[0]
        r = ThetaModelResults(b0, alpha, None, float(levels[-1]), seasonal, False, tm)
        _theta_sigma2(r)
        frame = pd.DataFrame({"mean": np.asarray(r.forecast(h), dtype=float)})
        for lv in level:
            pi = r.prediction_intervals(h, alpha=1 - float(lv) / 100)
            frame[f"lo-{lv:g}"] = pi["lower"].to_numpy()
            frame[f"hi-{lv:g}"] = pi["upper"].to_numpy()
    return tidy_frame(frame.set_axis(index), check_level(level))


# ------------------------------------------------------------------------------------------------ spec
@dataclass(frozen=True)
class ForecastSpec:
    """What the annual review fixes for a series: member specifications, the interval scale, the calendar.

    ``as_dict()`` / ``ForecastSpec.from_dict()`` give a JSON-ready round trip (to store it with the series).
    """

    members: tuple[str, ...]
    method: str
    scale: float
    calendar: str | None = None
    arima: ArimaSpec | None = None
    arima_params: tuple[float, ...] | None = None
    ets: str | None = None
    ets_params: tuple[float, ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"members": list(self.members), "method": self.method, "scale": self.scale, "calendar": self.calendar,
                "arima": None if self.arima is None else self.arima.as_dict(),
                "arima_params": None if self.arima_params is None else list(self.arima_params),
                "ets": self.ets, "ets_params": None if self.ets_params is None else list(self.ets_params)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ForecastSpec:
        return cls(members=tuple(d["members"]), method=str(d["method"]), scale=float(d["scale"]),
                   calendar=d.get("calendar"), arima=None if d.get("arima") is None else ArimaSpec(**d["arima"]),
                   arima_params=None if d.get("arima_params") is None else tuple(d["arima_params"]),
                   ets=d.get("ets"), ets_params=None if d.get("ets_params") is None else tuple(d["ets_params"]))


# ------------------------------------------------------------------------------------------------ ensemble
def combine(frames: dict[str, pd.DataFrame], method: str, scores: pd.Series | None = None) -> pd.DataFrame:
    """Combine member frames column by column: ``median``, ``mean``, or ``select`` (lowest score)."""
    if method == "select":
        if scores is None or not np.isfinite(scores.reindex(list(frames)).to_numpy(dtype=float)).any():
            method = "median"
        else:
            best = scores.reindex(list(frames)).astype(float).idxmin()
            return frames[str(best)].copy()
    stack = np.stack([f.to_numpy(dtype=float) for f in frames.values()])
    first = next(iter(frames.values()))
    values = np.median(stack, axis=0) if method == "median" else np.mean(stack, axis=0)
    return pd.DataFrame(values, index=first.index, columns=first.columns)


def _ets_candidates(y: pd.Series) -> list[str]:
    """ETS forms tried: seasonal ones only when the seasonal strength calls for it (as ARIMA's ``D``)."""
    positive = bool((y.to_numpy() > 0).all())
    if nsdiffs(y.to_numpy(dtype=float)):
        return ["ANA", "AAdA"] + (["MAdM"] if positive else [])
    return ["ANN", "AAdN"]


class Ensemble(Forecaster):
    """Mean (or median, or selection) of automatic ARIMA, ETS and Theta; see the module docstring.

    Parameters
    ----------
    method
        ``"mean"`` (default), ``"median"`` or ``"select"``.
    calendar
        ``"cn"`` for series that carry the Chinese calendar (ARIMA gets the calendar regressors).
    members
        Member names, a subset of :data:`MEMBERS`.
    spec
        Production mode: keep this :class:`ForecastSpec` and only re-estimate the parameters.
    track_origins, horizon
        Origins (every 3 months) and months ahead of the track record; ``track_origins=0`` skips it
        (intervals are then the members' own).
    filled
        Months filled for estimation, never observed (see :class:`ARIMA`).
    """

    name = "ensemble"
    supports_exog = True

    def __init__(self, *, method: Method = "mean", calendar: str | None = None, members: Sequence[str] = MEMBERS,
                 spec: ForecastSpec | None = None, track_origins: int = 4, horizon: int = PERIOD,
                 filled: Sequence[Any] = ()) -> None:
        if method not in METHODS:
            raise ForecastingError(f"method must be one of {METHODS}; got {method!r}.")
        unknown = [m for m in members if m not in MEMBERS]
        if unknown or not members:
            raise ForecastingError(f"ensemble members must be among {MEMBERS}; got {list(members)}.")
        calendar_design(pd.period_range("2020-01", periods=1, freq="M"), calendar)  # validates
        self.method = method
        self.calendar = calendar
        self.members = tuple(members)
        self.spec = spec
        self.track_origins = track_origins
        self.horizon = horizon
        self.filled = tuple(str(m) for m in filled)

    def min_length(self) -> int:
        return 3 * PERIOD

    def _member(self, key: str) -> Forecaster:
        spec = self.spec
        if key == "arima":
            if spec is not None and spec.arima is not None:
                return ARIMA(calendar=self.calendar, spec=spec.arima, start_params=spec.arima_params,
                             filled=self.filled)
            return ARIMA(calendar=self.calendar, filled=self.filled)
        if key == "ets":
            if spec is not None and spec.ets is not None:
                return ETS([spec.ets], start_params=spec.ets_params)
            return ETS(_ets_candidates(self.y_))
        return Theta()

    def _fit(self, y: pd.Series, exog: pd.DataFrame | None) -> None:
        notes: list[str] = []
        fitted: dict[str, Forecaster] = {}
        for key in (self.spec.members if self.spec is not None else self.members):
            model = self._member(key)
            try:
                model.fit(y, exog if model.supports_exog else None)
            except Exception as exc:  # per-member failure isolation, recorded
                notes.append(f"{key}: skipped, fit failed ({type(exc).__name__}: {exc})")
                continue
            if isinstance(model, ARIMA):
                notes += [f"arima: {n}" for n in model.fit_.notes]
            fitted[key] = model
        if not fitted:
            raise ForecastingError("ensemble: every member failed (" + "; ".join(notes) + ").")
        self.fitted_ = fitted
        self.scores_ = pd.Series({k: np.nan for k in fitted}, dtype=float)
        self.scales_ = {m: 1.0 for m in METHODS}
        if self.spec is not None:
            self.scales_[self.spec.method] = self.spec.scale
        elif self.track_origins > 0:
            self._track(y, notes)
        self.notes_ = notes

    def _track(self, y: pd.Series, notes: list[str]) -> None:
        n = len(y)
        v = y.to_numpy(dtype=float)
        scale = float(np.mean(np.abs(v[PERIOD:] - v[:-PERIOD])))
        origins = [n - self.horizon - 3 * i for i in range(self.track_origins)]
        origins = [t for t in origins if t >= 3 * PERIOD]
        frames: dict[int, dict[str, pd.DataFrame]] = {}
        for t in origins:
            h = min(self.horizon, n - t)
            parts = {}
            for key, model in self.fitted_.items():
                try:
                    if isinstance(model, ARIMA):
                        parts[key] = model.track(t, h, (80,))
                    elif isinstance(model, ETS):
                        parts[key] = _ets_track(model, t, h, (80,))
                    else:
                        parts[key] = _theta_track(model, t, h, (80,))  # type: ignore[arg-type]
                except Exception as exc:  # a member without a track record is not selectable
                    notes.append(f"{key}: track record at {y.index[t - 1]} failed ({type(exc).__name__})")
            frames[t] = parts
        errs: dict[str, list[np.ndarray]] = {k: [] for k in self.fitted_}
        for t, parts in frames.items():
            for key, f in parts.items():
                errs[key].append(np.abs(v[t: t + len(f)] - f["mean"].to_numpy()))
        self.scores_ = pd.Series({k: (float(np.mean(np.concatenate(e))) / scale if e and scale > 0 else np.nan)
                                  for k, e in errs.items()}, dtype=float)
        for method in METHODS:
            z = [standardised_errors(combine(parts, method, self.scores_), v[t:])
                 for t, parts in frames.items() if len(parts) == len(self.fitted_)]
            self.scales_[method] = interval_scale(np.concatenate(z)) if z else 1.0
        notes.append(f"intervals scaled by {self.scales_[self.method]:.2f} from the track record at "
                     f"{len(frames)} origins")

    def member_frames(self, h: int, exog_future: pd.DataFrame | None, level: Level) -> dict[str, pd.DataFrame]:
        """Every fitted member's forecast frame."""
        index = pd.period_range(self.y_.index[-1] + 1, periods=h, freq="M")
        out = {}
        for key, model in self.fitted_.items():
            out[key] = model.predict(h, exog_future if model.supports_exog else None, level).set_axis(index)
        return out

    def combined(self, frames: dict[str, pd.DataFrame], method: str, level: Level) -> pd.DataFrame:
        """The ``method`` combination of ``frames`` with that method's calibrated intervals."""
        out = rescale_intervals(combine(frames, method, self.scores_), self.scales_[method])
        return tidy_frame(out, check_level(level))

    def _predict(self, h: int, index: pd.PeriodIndex, exog_future: pd.DataFrame | None, level: Level) -> pd.DataFrame:
        self.member_forecasts_ = self.member_frames(h, exog_future, level)
        return self.combined(self.member_forecasts_, self.spec.method if self.spec else self.method, level)

    def specification(self) -> ForecastSpec:
        """The :class:`ForecastSpec` of this fit (for the production mode)."""
        arima = self.fitted_.get("arima")
        ets = self.fitted_.get("ets")
        method = self.spec.method if self.spec is not None else self.method
        return ForecastSpec(
            members=tuple(self.fitted_), method=method, scale=float(self.scales_[method]), calendar=self.calendar,
            arima=arima.fit_.spec if isinstance(arima, ARIMA) else None,
            arima_params=tuple(float(x) for x in arima.fit_.params()) if isinstance(arima, ARIMA) else None,
            ets=ets.spec_.label if isinstance(ets, ETS) else None,
            ets_params=tuple(float(x) for x in ets.results_.params)
            if isinstance(ets, ETS) and ets.results_ is not None else None,
        )

    def __repr__(self) -> str:
        return f"Ensemble(method={self.method!r}, calendar={self.calendar!r})"
