"""Forecasting models for monthly series, all with one ``fit / predict / forecast`` contract.

Every model takes a :class:`pandas.Series` with a complete monthly :class:`pandas.PeriodIndex`
(no gaps, no missing values) and returns, from :meth:`Forecaster.predict`, a
:class:`pandas.DataFrame` indexed by the ``h`` periods following the series, with the column
``mean`` and, for each level ``L`` of ``level``, the columns ``lo-L`` and ``hi-L``
(``lo-L <= mean <= hi-L``).  ``fit`` returns ``self``; fitted state lives in attributes whose
names end with ``_``; ``forecast(y, h, ...)`` is ``fit(y, ...).predict(h, ...)``.

Models
------
``SeasonalNaive``  y[T+h] = y[T+h-12k]; intervals from the in-sample seasonal-naive residuals.
``Naive2``         the M4 benchmark: naive forecast of the classically (multiplicatively, or additively
                   when the series is not strictly positive) deseasonalised series, reseasonalised; the
                   series is treated as seasonal only when the lag-12 autocorrelation passes the M4 90 % test.
``ETS``            statsmodels ``ETSModel`` over a candidate set of error/trend/damping/season
                   specifications, chosen by AICc; analytic intervals for additive-error models,
                   simulated (seeded) ones otherwise.
``Theta``          statsmodels ``ThetaModel`` (multiplicative deseasonalisation when the series is positive).
``SARIMAX``        statsmodels ``SARIMAX``; differencing chosen by tests (seasonal strength for ``D``,
                   KPSS for ``d``), then a handful of (p, q)(P, Q) candidates compared by AICc;
                   ``calendar=True`` adds the Spring Festival and working-day regressors of
                   :mod:`forecasting.calendar`.
``Combination``    see :class:`Combination`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
import pandas as pd
from scipy import stats

from .decompose import PERIOD, classical_indices, seasonality_test
from .exceptions import ForecastingError, SeriesTooShortError
from .outliers import clean_outliers

__all__ = [
    "ETS",
    "MODELS",
    "SARIMAX",
    "Combination",
    "Forecaster",
    "Naive2",
    "SeasonalNaive",
    "Theta",
    "make_model",
    "seasonality_test",
]

Level = Sequence[int | float]
_F = TypeVar("_F", bound="Forecaster")


# ------------------------------------------------------------------------------------------------ helpers
def check_series(y: Any, *, name: str, minimum: int) -> pd.Series:
    """Validate ``y`` (monthly PeriodIndex, no gaps, finite values, at least ``minimum`` observations)."""
    if not isinstance(y, pd.Series):
        raise ForecastingError(f"{name} needs a pandas Series; got {type(y).__name__}.")
    if not isinstance(y.index, pd.PeriodIndex) or y.index.freqstr not in ("M", "ME"):
        raise ForecastingError(f"{name} needs a monthly PeriodIndex; got {type(y.index).__name__} "
                               f"(convert with series.index = series.index.to_period('M')).")
    if len(y) and not y.index.is_monotonic_increasing:
        raise ForecastingError(f"{name}: the PeriodIndex must be sorted; call series.sort_index().")
    values = pd.to_numeric(y, errors="coerce").astype(float)
    if len(y) < minimum:
        raise SeriesTooShortError(
            f"{name} needs at least {minimum} monthly observations; the series has {len(y)}.",
            model=name, minimum=minimum, length=len(y),
        )
    expected = pd.period_range(y.index[0], periods=len(y), freq="M")
    if not y.index.equals(expected):
        missing = expected.difference(y.index) if len(expected) else []
        raise ForecastingError(f"{name}: the series has gaps in its PeriodIndex (e.g. {list(map(str, missing[:3]))}); "
                               "fill or interpolate them first.")
    if not np.isfinite(values.to_numpy()).all():
        raise ForecastingError(f"{name}: the series has {int((~np.isfinite(values)).sum())} missing or non-finite "
                               "values; fill or interpolate them first.")
    return values


def future_index(y: pd.Series, h: int) -> pd.PeriodIndex:
    if not isinstance(h, (int, np.integer)) or h < 1:
        raise ForecastingError(f"the horizon h must be a positive integer; got {h!r}.")
    return pd.period_range(y.index[-1] + 1, periods=int(h), freq="M")


def check_level(level: Iterable[int | float]) -> tuple[float, ...]:
    out = tuple(level)
    for lv in out:
        if not 0 < float(lv) < 100:
            raise ForecastingError(f"interval levels are percentages strictly between 0 and 100; got {lv!r}.")
    return out


def _lname(lv: int | float) -> str:
    return f"{lv:g}"


def normal_frame(index: pd.PeriodIndex, mean: np.ndarray, sd: np.ndarray, level: Level) -> pd.DataFrame:
    """Forecast frame from a mean and a (non-negative) standard deviation per step."""
    mean = np.asarray(mean, dtype=float)
    sd = np.nan_to_num(np.maximum(np.asarray(sd, dtype=float), 0.0))
    frame = pd.DataFrame({"mean": mean}, index=index)
    for lv in check_level(level):
        z = stats.norm.ppf(0.5 + float(lv) / 200.0)
        frame[f"lo-{_lname(lv)}"] = mean - z * sd
        frame[f"hi-{_lname(lv)}"] = mean + z * sd
    return frame


def tidy_frame(frame: pd.DataFrame, level: Level) -> pd.DataFrame:
    """Order the columns and enforce ``lo <= mean <= hi`` (quantile crossing from simulation or combination)."""
    cols = ["mean"]
    for lv in check_level(level):
        lo, hi = f"lo-{_lname(lv)}", f"hi-{_lname(lv)}"
        frame[lo] = np.minimum(frame[lo], frame["mean"])
        frame[hi] = np.maximum(frame[hi], frame["mean"])
        cols += [lo, hi]
    return frame[cols]


# ------------------------------------------------------------------------------------------------ base class
class Forecaster:
    """Base class: validation, the ``forecast`` shortcut and the frame layout."""

    name: ClassVar[str] = "forecaster"
    supports_exog: ClassVar[bool] = False

    def min_length(self) -> int:
        return 2

    def fit(self, y: pd.Series, exog: pd.DataFrame | None = None) -> Forecaster:
        y = check_series(y, name=self.name, minimum=self.min_length())
        self.y_ = y
        self.exog_ = exog
        self._fit(y, exog)
        return self

    def predict(self, h: int, exog_future: pd.DataFrame | None = None, level: Level = (80, 95)) -> pd.DataFrame:
        if not hasattr(self, "y_"):
            raise ForecastingError(f"{self.name}: call fit(y) before predict(h).")
        index = future_index(self.y_, h)
        level = check_level(level)
        frame = self._predict(int(h), index, exog_future, level)
        frame.index = index
        frame.index.name = self.y_.index.name
        return tidy_frame(frame, level)

    def forecast(
        self, y: pd.Series, h: int, exog: pd.DataFrame | None = None, exog_future: pd.DataFrame | None = None,
        level: Level = (80, 95),
    ) -> pd.DataFrame:
        return self.fit(y, exog).predict(h, exog_future, level)

    def frozen(self) -> Forecaster:
        """An unfitted copy restricted to the specification chosen by this fit (cheap refits in backtests)."""
        return clone(self)

    # to be implemented
    def _fit(self, y: pd.Series, exog: pd.DataFrame | None) -> None:  # pragma: no cover
        raise NotImplementedError

    def _predict(self, h: int, index: pd.PeriodIndex, exog_future: pd.DataFrame | None, level: Level) -> pd.DataFrame:
        raise NotImplementedError  # pragma: no cover

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


# ------------------------------------------------------------------------------------------------ benchmarks
class SeasonalNaive(Forecaster):
    """y[T+h] = y[T+h-12(k+1)], k = (h-1)//12; sd_h = sigma * sqrt(k+1), sigma from the seasonal differences."""

    name = "snaive"

    def min_length(self) -> int:
        return PERIOD + 1

    def _fit(self, y: pd.Series, exog: pd.DataFrame | None) -> None:
        v = y.to_numpy()
        resid = v[PERIOD:] - v[:-PERIOD]
        self.last_season_ = v[-PERIOD:]
        self.sigma_ = float(np.sqrt(np.mean(resid**2)))

    def _predict(self, h: int, index: pd.PeriodIndex, exog_future: pd.DataFrame | None, level: Level) -> pd.DataFrame:
        steps = np.arange(h)
        mean = self.last_season_[steps % PERIOD]
        sd = self.sigma_ * np.sqrt(steps // PERIOD + 1)
        return normal_frame(index, mean, sd, level)


class Naive2(Forecaster):
    """The M4 Naive2 benchmark: naive on the classically deseasonalised series, reseasonalised.

    The series is deseasonalised only when :func:`seasonality_test` passes (as in M4);
    multiplicative indices for strictly positive series, additive otherwise.  Intervals:
    random-walk sd ``sigma * sqrt(h)`` on the adjusted scale, reseasonalised.
    """

    name = "naive2"

    def _fit(self, y: pd.Series, exog: pd.DataFrame | None) -> None:
        v = y.to_numpy()
        self.seasonal_ = seasonality_test(v)
        self.multiplicative_ = bool((v > 0).all())
        if self.seasonal_:
            idx = classical_indices(v, multiplicative=self.multiplicative_)
            pos = np.arange(len(v)) % PERIOD
            adj = v / idx[pos] if self.multiplicative_ else v - idx[pos]
            self.indices_ = idx
        else:
            adj = v
            self.indices_ = np.ones(PERIOD) if self.multiplicative_ else np.zeros(PERIOD)
        self.level_ = float(adj[-1])
        self.sigma_ = float(np.sqrt(np.mean(np.diff(adj) ** 2)))

    def _predict(self, h: int, index: pd.PeriodIndex, exog_future: pd.DataFrame | None, level: Level) -> pd.DataFrame:
        n = len(self.y_)
        pos = (n + np.arange(h)) % PERIOD
        sd = self.sigma_ * np.sqrt(np.arange(1, h + 1))
        base = normal_frame(index, np.full(h, self.level_), sd, level)
        s = self.indices_[pos]
        return base.mul(s, axis=0) if self.multiplicative_ else base.add(s, axis=0)


# ------------------------------------------------------------------------------------------------ ETS
@dataclass(frozen=True)
class EtsSpec:
    error: Literal["add", "mul"]
    trend: Literal["add"] | None
    damped: bool
    seasonal: Literal["add", "mul"] | None

    @property
    def label(self) -> str:
        t = "N" if self.trend is None else ("Ad" if self.damped else "A")
        s = {None: "N", "add": "A", "mul": "M"}[self.seasonal]
        return f"{self.error[0].upper()}{t}{s}"


_ETS_CLASS: Any = None
#: Optimiser iterations of an ETS fit warm-started from the same form's parameters a month earlier.
ETS_WARM_ITERATIONS = 20


def ets_model_class() -> Any:
    """statsmodels' ``ETSModel`` whose results skip the parameter covariance matrix.

    statsmodels computes a complex-step Hessian of the likelihood each time it builds ETS results (a fit,
    a ``smooth``): about half the time of an ETS forecast, for standard errors no forecast or interval
    uses.  This subclass's results report NaN for them instead.
    """
    global _ETS_CLASS
    if _ETS_CLASS is None:
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel, ETSResults, ETSResultsWrapper

        class _Results(ETSResults):
            @property
            def cov_params_approx(self) -> np.ndarray:
                k = len(self.params)
                return np.full((k, k), np.nan)

        class _Model(ETSModel):
            @property
            def _res_classes(self) -> dict[str, Any]:
                return {"fit": (_Results, ETSResultsWrapper)}

        _ETS_CLASS = _Model
    return _ETS_CLASS


def _ets_candidates(kind: str, positive: bool) -> list[EtsSpec]:
    trends: list[tuple[Literal["add"] | None, bool]] = [(None, False), ("add", True), ("add", False)]
    additive: tuple[Literal["add"] | None, ...] = (None, "add")
    if kind == "fast":
        specs = [EtsSpec("add", t, d, s) for t, d in trends[:2] for s in additive]
        if positive:
            specs += [EtsSpec("mul", t, d, "mul") for t, d in trends[:2]]
        return specs
    errors: tuple[Literal["add", "mul"], ...] = ("add", "mul") if positive else ("add",)
    seasons: tuple[Literal["add", "mul"] | None, ...] = (None, "add", "mul") if positive else additive
    specs = [EtsSpec(e, t, d, s) for e in errors for t, d in trends for s in seasons]
    # the R forecast::ets restriction: additive error with multiplicative season is numerically unstable
    return [s for s in specs if not (s.error == "add" and s.seasonal == "mul")]


class ETS(Forecaster):
    """Exponential smoothing (statsmodels ``ETSModel``) with the specification chosen by AICc.

    Parameters
    ----------
    candidates
        ``"fast"`` (default: ANN, AAdN, ANA, AAdA, plus MNM and MAdM for positive series; when the M4
        seasonality test finds no seasonal pattern, ANN and AAdN, plus MNN and MAdN for positive series) or ``"full"``
        (every error/trend/damping/season combination except additive error with multiplicative season;
        multiplicative components only for strictly positive series), or an explicit list of labels
        such as ``["AAdA", "MNM"]``.
    simulations
        Repetitions for the simulated intervals of multiplicative-error models (seeded by ``seed``).
    """

    name = "ets"

    def __init__(self, candidates: Literal["fast", "full"] | Sequence[str] = "fast", *, simulations: int = 500,
                 seed: int = 0, start_params: Sequence[float] | None = None) -> None:
        self.candidates = candidates
        self.simulations = simulations
        self.seed = seed
        self.start_params = None if start_params is None else tuple(float(x) for x in start_params)

    def min_length(self) -> int:
        return 2 * PERIOD + 2

    def _specs(self, positive: bool) -> list[EtsSpec]:
        if isinstance(self.candidates, str):
            if self.candidates not in ("fast", "full"):
                raise ForecastingError(f"ETS candidates must be 'fast', 'full' or a list of labels; got {self.candidates!r}.")
            return _ets_candidates(self.candidates, positive)
        every = {s.label: s for s in _ets_candidates("full", True)} | {"ANM": EtsSpec("add", None, False, "mul")}
        unknown = [c for c in self.candidates if c not in every]
        if unknown:
            raise ForecastingError(f"unknown ETS labels {unknown}; use e.g. {sorted(every)}.")
        specs = [every[c] for c in self.candidates]
        if not positive:
            specs = [s for s in specs if s.error == "add" and s.seasonal != "mul"] or [EtsSpec("add", None, False, None)]
        return specs

    def _fit(self, y: pd.Series, exog: pd.DataFrame | None) -> None:
        ETSModel = ets_model_class()

        v = y.to_numpy()
        positive = bool((v > 0).all())
        if np.ptp(v) == 0:  # constant series: the likelihood is degenerate; ANN with zero variance is exact
            self.spec_, self.results_, self.aicc_ = EtsSpec("add", None, False, None), None, {}
            return
        best, best_aicc, table = None, np.inf, {}
        errors: list[str] = []
        specs = self._specs(positive)
        if self.candidates == "fast" and not seasonality_test(v):
            # no seasonal pattern by the M4 test: seasonal specifications would only fit noise (and are slow)
            specs = [sp for sp in specs if sp.seasonal is None] + \
                ([EtsSpec("mul", None, False, None), EtsSpec("mul", "add", True, None)] if positive else [])
        for spec in specs:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = ETSModel(pd.Series(v), error=spec.error, trend=spec.trend, damped_trend=spec.damped,
                                     seasonal=spec.seasonal, seasonal_periods=PERIOD if spec.seasonal else None)
                    warm = self.start_params is not None and len(specs) == 1 and \
                        len(self.start_params) == len(model.start_params)
                    if warm:  # production mode: last month's optimum of the same form, a few iterations on
                        res = model.fit(start_params=np.asarray(self.start_params), disp=False,
                                        maxiter=ETS_WARM_ITERATIONS)
                    else:
                        res = model.fit(disp=False, maxiter=200)
                aicc = float(res.aicc)
            except Exception as exc:  # one candidate failing is normal; all failing is an error below
                errors.append(f"{spec.label}: {exc}")
                continue
            table[spec.label] = aicc
            if np.isfinite(aicc) and aicc < best_aicc and np.isfinite(res.forecast(1)).all():
                best, best_aicc = (spec, res), aicc
        if best is None:
            raise ForecastingError(f"ETS: no candidate specification could be fitted ({'; '.join(errors[:3])}).")
        self.spec_, self.results_ = best
        self.aicc_ = table

    def _predict(self, h: int, index: pd.PeriodIndex, exog_future: pd.DataFrame | None, level: Level) -> pd.DataFrame:
        if self.results_ is None:
            return normal_frame(index, np.full(h, float(self.y_.iloc[-1])), np.zeros(h), level)
        res = self.results_
        n = len(self.y_)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.spec_.error == "add" and self.spec_.seasonal != "mul":
                pred = res.get_prediction(start=n, end=n + h - 1)
            else:
                pred = res.get_prediction(start=n, end=n + h - 1, method="simulated",
                                          simulate_repetitions=self.simulations,
                                          rng=np.random.default_rng(self.seed))
            frame = pd.DataFrame({"mean": np.asarray(pred.predicted_mean, dtype=float)})
            for lv in level:
                sf = pred.summary_frame(alpha=1 - float(lv) / 100)
                frame[f"lo-{_lname(lv)}"] = sf["pi_lower"].to_numpy()
                frame[f"hi-{_lname(lv)}"] = sf["pi_upper"].to_numpy()
        return frame

    def frozen(self) -> ETS:
        spec = getattr(self, "spec_", None)
        if spec is None:
            return clone(self)
        return ETS([spec.label], simulations=self.simulations, seed=self.seed)

    def __repr__(self) -> str:
        return f"ETS(candidates={self.candidates!r})"


# ------------------------------------------------------------------------------------------------ Theta
class Theta(Forecaster):
    """statsmodels ``ThetaModel`` (theta = 2), deseasonalised when the M4 test finds seasonality."""

    name = "theta"

    def min_length(self) -> int:
        return 2 * PERIOD + 2

    def _fit(self, y: pd.Series, exog: pd.DataFrame | None) -> None:
        from statsmodels.tsa.forecasting.theta import ThetaModel

        v = y.to_numpy()
        if np.ptp(v) == 0:
            self.results_ = None
            return
        method = "multiplicative" if (v > 0).all() else "additive"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.results_ = ThetaModel(v, period=PERIOD, method=method).fit()

    def _predict(self, h: int, index: pd.PeriodIndex, exog_future: pd.DataFrame | None, level: Level) -> pd.DataFrame:
        if self.results_ is None:
            return normal_frame(index, np.full(h, float(self.y_.iloc[-1])), np.zeros(h), level)
        _theta_sigma2(self.results_)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = pd.DataFrame({"mean": np.asarray(self.results_.forecast(h), dtype=float)})
            for lv in level:
                pi = self.results_.prediction_intervals(h, alpha=1 - float(lv) / 100)
                frame[f"lo-{_lname(lv)}"] = pi["lower"].to_numpy()
                frame[f"hi-{_lname(lv)}"] = pi["upper"].to_numpy()
        return frame


def _theta_sigma2(results: Any) -> None:
    """Set the Theta results' innovation variance without statsmodels' extra ARIMA(0,1,1) fit.

    statsmodels estimates it, on first use, by fitting an ARIMA(0,1,1) with drift to the deseasonalised
    series by maximum likelihood (0.1-0.5 s a call, most of a Theta forecast's time).  The same model with
    the Theta fit's own smoothing weight (MA coefficient ``alpha - 1``) gives the variance from one filter
    pass of its residuals.
    """
    if getattr(results, "_sigma2", 0.0) is not None:
        return
    from scipy import signal

    y = np.asarray(results.model._y, dtype=float)
    dy = np.diff(y)
    if dy.size < 2:
        return
    theta = float(results.params.iloc[1]) - 1.0
    e = signal.lfilter([1.0], [1.0, theta], dy - dy.mean())
    results._sigma2 = float(np.mean(e[1:] ** 2))


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


# ------------------------------------------------------------------------------------------------ registry
MODELS: dict[str, type[Forecaster]] = {
    "snaive": SeasonalNaive,
    "naive2": Naive2,
    "ets": ETS,
    "theta": Theta,
    "sarimax": SARIMAX,
}


#: Models defined in modules that build on this one (``arima`` in :mod:`forecasting.ensemble`), registered by those
#: modules when they load (importing :mod:`forecasting` loads them all), so this module imports none of them.
_REGISTERED: dict[str, Callable[..., Forecaster]] = {}


def register_model(name: str, factory: Callable[..., Forecaster]) -> None:
    """Make ``factory`` the model :func:`make_model` builds for ``name``."""
    _REGISTERED[name] = factory


def make_model(spec: str | Forecaster, **options: Any) -> Forecaster:
    """A fresh model from a name in :data:`MODELS` (or ``"combination"``), or a clone of an instance."""
    if isinstance(spec, Forecaster):
        return clone(spec)
    if spec == "combination":
        return Combination(**options)
    if spec in _REGISTERED:
        return _REGISTERED[spec](**options)
    if spec not in MODELS:
        raise ForecastingError(f"unknown model {spec!r}; choose from {sorted(MODELS) + sorted(_REGISTERED) + ['combination']}.")
    return MODELS[spec](**options)


def clone(model: _F) -> _F:
    """An unfitted copy (the constructor parameters, none of the ``_``-suffixed state)."""
    new = type(model).__new__(type(model))
    new.__dict__.update({k: v for k, v in model.__dict__.items() if not k.endswith("_")})
    return new


def model_name(model: str | Forecaster) -> str:
    if isinstance(model, str):
        return model
    name = model.name
    if (isinstance(model, SARIMAX) and model.calendar) or (name == "arima" and getattr(model, "calendar", None)):
        name = f"{name}_cal"
    return name


# ------------------------------------------------------------------------------------------------ combination
def combine_frames(frames: Mapping[str, pd.DataFrame], weights: Mapping[str, float]) -> pd.DataFrame:
    """Weighted mean of the members' means and, column by column, of their interval bounds.

    Averaging the bounds is averaging the members' quantiles (a "Vincentised" combination of their
    predictive distributions), which keeps each member's own horizon-dependent spread.
    """
    total = sum(weights[k] for k in frames)
    out = None
    for key, frame in frames.items():
        part = frame * (weights[key] / total)
        out = part if out is None else out + part
    assert out is not None
    return out


#: Weight (in pseudo-observations) of "the members' own intervals are right" in :func:`interval_scale`.
CALIBRATION_PRIOR = 12.0


def standardised_errors(frame: pd.DataFrame, actual: np.ndarray) -> np.ndarray:
    """Errors ``actual - mean`` divided by the standard deviation implied by the frame's first interval.

    The frame's first ``lo-L``/``hi-L`` pair is read as a central normal interval:
    ``sd = (hi - lo) / (2 z_L)``.  Rows without a finite, positive width or without an outcome are dropped.
    """
    lo_col = next(c for c in frame.columns if c.startswith("lo-"))
    lv = float(lo_col[3:])
    z = stats.norm.ppf(0.5 + lv / 200.0)
    m = min(len(frame), len(actual))
    lo = frame[lo_col].to_numpy(float)[:m]
    hi = frame["hi-" + lo_col[3:]].to_numpy(float)[:m]
    sd = (hi - lo) / (2 * z)
    e = np.asarray(actual, dtype=float)[:m] - frame["mean"].to_numpy(float)[:m]
    ok = np.isfinite(e) & np.isfinite(sd) & (sd > 0)
    z_scores: np.ndarray = e[ok] / sd[ok]
    return z_scores


def interval_scale(z: np.ndarray, *, prior: float = CALIBRATION_PRIOR, bounds: tuple[float, float] = (0.5, 2.5)) -> float:
    """Factor by which to widen (> 1) or narrow (< 1) model intervals, from out-of-sample standardised errors.

    The empirical scale is the 80th percentile of ``|z|`` over its normal value (1.2816): robust to the
    odd outlier and exactly what an 80 % interval needs.  It is shrunk towards 1 (in logs) with the weight
    of ``prior`` pseudo-observations, so a short track record moves the intervals little, and bounded.
    """
    z = np.abs(np.asarray(z, dtype=float))
    z = z[np.isfinite(z)]
    if z.size == 0:
        return 1.0
    raw = float(np.quantile(z, 0.8)) / stats.norm.ppf(0.9)
    if raw <= 0:
        return bounds[0]
    w = z.size / (z.size + prior)
    return float(np.clip(np.exp(w * np.log(raw)), *bounds))


def rescale_intervals(frame: pd.DataFrame, factor: float) -> pd.DataFrame:
    """Multiply every interval's distance from the mean by ``factor`` (keeps asymmetric bounds' shape)."""
    if factor == 1.0:
        return frame
    out = frame.copy()
    mean = out["mean"]
    for col in out.columns:
        if col.startswith(("lo-", "hi-")):
            out[col] = mean + (out[col] - mean) * factor
    return out


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
