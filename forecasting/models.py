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

``SARIMAX`` and ``Combination`` (the selection path) are in :mod:`forecasting.selection`, ``ARIMA`` and the
default ``Ensemble`` in :mod:`forecasting.ensemble`, the interval calibration in :mod:`forecasting.calibration`;
all are built with :func:`make_model` by name.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
import pandas as pd
from scipy import stats

from .decompose import PERIOD, classical_indices, seasonality_test
from .exceptions import ForecastingError, SeriesTooShortError

__all__ = [
    "ETS",
    "MODELS",
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



# ------------------------------------------------------------------------------------------------ registry
MODELS: dict[str, type[Forecaster]] = {
    "snaive": SeasonalNaive,
    "naive2": Naive2,
    "ets": ETS,
    "theta": Theta,
}


#: Models defined in modules that build on this one (``arima`` in :mod:`forecasting.ensemble`, ``sarimax`` and
#: ``combination`` in :mod:`forecasting.selection`), registered by those
#: modules when they load (importing :mod:`forecasting` loads them all), so this module imports none of them.
_REGISTERED: dict[str, Callable[..., Forecaster]] = {}


def register_model(name: str, factory: Callable[..., Forecaster]) -> None:
    """Make ``factory`` the model :func:`make_model` builds for ``name``."""
    _REGISTERED[name] = factory


def make_model(spec: str | Forecaster, **options: Any) -> Forecaster:
    """A fresh model from a name in :data:`MODELS` or a registered one (``"arima"``, ``"sarimax"``,
    ``"combination"``), or a clone of an instance."""
    if isinstance(spec, Forecaster):
        return clone(spec)
    if spec in _REGISTERED:
        return _REGISTERED[spec](**options)
    if spec not in MODELS:
        raise ForecastingError(f"unknown model {spec!r}; choose from {sorted(MODELS) + sorted(_REGISTERED)}.")
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
    if name in ("sarimax", "arima") and getattr(model, "calendar", None):
        name = f"{name}_cal"
    return name
