"""``forecasting.forecast``: one call from a monthly series to a forecast with intervals and a record.

Per-series failure isolation (STYLE habit 7): a model that fails is skipped and recorded in
:attr:`ForecastResult.notes` (and a :class:`~forecasting.exceptions.ModelFailureWarning` is issued);
if every model fails, seasonal naive (Naive2 for series shorter than 13 months) is used, recorded
the same way, never silently.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from .ensemble import Ensemble, ForecastSpec
from .exceptions import ForecastingError, ModelFailureWarning
from .gaps import fill_missing
from .models import (
    Forecaster,
    Naive2,
    SeasonalNaive,
    _lname,
    check_level,
    check_series,
    future_index,
    make_model,
    model_name,
)
from .outliers import clean_outliers
from .selection import SARIMAX, Combination

__all__ = ["ForecastResult", "forecast"]


@dataclass
class ForecastResult:
    """The outcome of :func:`forecast`.

    Attributes
    ----------
    series
        The history the models were fitted on.
    frame
        ``mean``, ``lo-L``, ``hi-L`` per level, indexed by the forecast months.
    models
        Names of the models the point forecast is made of (the combination's members, or the one model).
    weights
        Weight of each model in ``models`` (sums to 1).
    per_model
        Forecast frame of every candidate model that could be fitted (members or not).
    notes
        What went wrong or was decided (skipped models, fallbacks), in order.
    level
        Interval levels (percent).
    spec
        The default forecaster's specification (ARIMA orders, ETS form, interval scale): pass it back as
        ``forecast(..., spec=result.spec)`` to re-estimate only the parameters (production mode).
        ``None`` for the ``models=`` path.
    alternatives
        The default forecaster's other combinations of the same members (``"median"``, ``"mean"``,
        ``"select"``), each with its own calibrated intervals, for comparison.
    """

    series: pd.Series
    frame: pd.DataFrame
    models: tuple[str, ...]
    weights: pd.Series
    per_model: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)
    level: tuple[float, ...] = (80, 95)
    spec: ForecastSpec | None = None
    alternatives: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def mean(self) -> pd.Series:
        return self.frame["mean"]

    def lower(self, level: float | None = None) -> pd.Series:
        return self.frame[f"lo-{_lname(self.level[0] if level is None else level)}"]

    def upper(self, level: float | None = None) -> pd.Series:
        return self.frame[f"hi-{_lname(self.level[0] if level is None else level)}"]

    def plot(self, ax: Any = None, *, history: int | None = 60, members: bool = False) -> Any:
        """History, point forecast and interval bands (matplotlib, imported here); returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(9, 4))
        hist = self.series if history is None else self.series.iloc[-history:]
        ax.plot(hist.index.to_timestamp(), hist.to_numpy(), color="black", lw=1.2, label="observed")
        x = self.frame.index.to_timestamp()
        for lv, alpha in zip(sorted(self.level, reverse=True), (0.2, 0.35, 0.5), strict=False):
            ax.fill_between(x, self.lower(lv), self.upper(lv), color="tab:blue", alpha=alpha, lw=0, label=f"{lv:g} %")
        ax.plot(x, self.mean.to_numpy(), color="tab:blue", lw=1.6, label="+".join(self.models))
        if members:
            for key, frame in self.per_model.items():
                ax.plot(x, frame["mean"].to_numpy(), lw=0.8, ls="--", label=key)
        ax.set_title(str(self.series.name or "forecast"))
        ax.legend(loc="best", fontsize="small")
        return ax


def _instances(models: Sequence[str | Forecaster], calendar: bool) -> list[str | Forecaster]:
    out: list[str | Forecaster] = []
    for m in models:
        if calendar and m == "sarimax":
            out.append(SARIMAX(calendar=True))
        else:
            make_model(m)  # validates the name early
            out.append(m)
    return out


def forecast(
    series: pd.Series,
    horizon: int,
    *,
    calendar: Literal["cn"] | bool | None = None,
    spec: ForecastSpec | None = None,
    method: Literal["median", "mean", "select"] = "mean",
    exog: pd.DataFrame | None = None,
    level: Sequence[int | float] = (80, 95),
    models: Sequence[str | Forecaster] | None = None,
    combine: bool = True,
    k: int = 3,
    weights: Literal["equal", "inverse_mase"] = "equal",
    missing: Literal["linear", "seasonal"] | None = None,
    outliers: Literal["keep", "clean"] | None = None,
    trim: float | None = 1.5,
    window: int | None = None,
) -> ForecastResult:
    """Forecast ``series`` ``horizon`` months ahead with intervals.

    ``forecast(y, h)`` is the platform's default (what ``imon forecast`` runs): the mean of automatic
    ARIMA, ETS and Theta (:class:`forecasting.ensemble.Ensemble`) with intervals calibrated on its track
    record; ``forecast(y, h, calendar="cn")`` the same for a series that carries the Chinese calendar
    (ARIMA with the Spring Festival and working-day regressors).  ``models=[...]`` instead runs the older
    selection among named candidates by an in-sample rolling backtest
    (:class:`~forecasting.selection.Combination`).

    Parameters
    ----------
    series
        Monthly series (complete PeriodIndex, no missing values unless ``missing`` is given).
    horizon
        Number of months to forecast.
    calendar
        ``"cn"``: the series carries the Chinese calendar (``True`` is accepted for ``"cn"``).
    spec
        Production mode: the :attr:`ForecastResult.spec` of an earlier run (the annual review); the
        specification is kept and only the parameters are re-estimated.
    method
        How the default members are combined: ``"mean"`` (default), ``"median"``, or ``"select"`` (the best
        member on the track record).
    exog
        Regressors for models that take them (ARIMA, SARIMAX), indexed by months covering the series *and*
        the horizon; other models ignore them (noted).
    level
        Interval levels in percent.
    models
        ``None`` (default): the platform's default forecaster.  Otherwise candidate models (names of
        :data:`forecasting.models.MODELS` or instances) for the selection path.
    combine
        Selection path only. ``True``: :class:`~forecasting.selection.Combination` of the best ``k`` candidates
        by an in-sample rolling backtest (``weights`` equal or inverse-MASE).  ``False``: the first candidate
        that fits.
    missing
        ``None``: the series must be complete.  ``"linear"`` or ``"seasonal"``: fill missing months first
        with :func:`forecasting.fill_missing` (noted in ``notes``); trailing missing months are not filled.
        Filled months (these, or those a complete series lists in ``series.attrs["filled"]``, as
        :func:`~forecasting.fill_missing` returns it) are missing values of the ARIMA member's likelihood.
    trim
        Selection path: the combination drops candidates whose backtest MASE is worse than ``trim`` times
        the best one's (``None``: keep the best ``k`` whatever their scores).
    outliers
        ``"clean"``: models are fitted on the series passed through :func:`forecasting.clean_outliers`
        (knowing ``calendar``; replaced months listed in ``notes``); ``"keep"``: on the series as given.
        ``None`` (default): ``"keep"`` for the default forecaster (the festival months are modelled by the
        calendar regressors, never cleaned), ``"clean"`` for the selection path.
    window
        Fit on the last ``window`` months only (``None``: the whole series).
    """
    cal = "cn" if calendar is True else (None if calendar is False else calendar)
    if models is None:
        return _default(series, horizon, calendar=cal, spec=spec, method=method, exog=exog, level=level,
                        missing=missing, outliers=outliers or "keep", window=window)
    outliers = outliers or "clean"
    calendar = cal is not None
    fill_note = []
    if missing is not None:
        series = fill_missing(series, missing)
        if len(series.attrs["filled"]):
            fill_note = [f"{len(series.attrs['filled'])} missing months filled ({missing}) before fitting"]
    y = check_series(series, name="forecast", minimum=2)
    y.name = series.name
    if window is not None:
        y = y.iloc[-window:]
    index = future_index(y, horizon)
    level = check_level(level)
    if not models:
        raise ForecastingError("models is empty; pass e.g. ('ets', 'theta', 'sarimax', 'snaive').")
    candidates = _instances(models, calendar)
    exog_in = exog_future = None
    if exog is not None:
        if isinstance(exog, pd.Series):
            exog = exog.to_frame()
        need = y.index.append(index)
        missing = need.difference(exog.index)
        if len(missing):
            raise ForecastingError(f"exog must cover {need[0]}..{need[-1]} (history and horizon); "
                                   f"missing {list(map(str, missing[:3]))}.")
        exog_in, exog_future = exog.loc[y.index], exog.loc[index]
        ignoring = [model_name(m) for m in candidates if not make_model(m).supports_exog]
        notes_exog = [f"{', '.join(ignoring)}: no exogenous regressors (exog ignored)"] if ignoring else []
    else:
        notes_exog = []
    notes: list[str] = fill_note + list(notes_exog)
    per_model: dict[str, pd.DataFrame] = {}
    frame: pd.DataFrame | None
    used: tuple[str, ...]
    if combine:
        combo = Combination(candidates, k=k, weights=weights, outliers=outliers, trim=trim)
        combo.fit(y, exog_in)
        notes += combo.notes_
        frame = combo.predict(horizon, exog_future, level)
        for key, model in {**combo.fitted_, **combo.members_}.items():
            try:
                per_model[key] = model.predict(horizon, exog_future if model.supports_exog else None, level)
            except Exception as exc:
                notes.append(f"{key}: predict failed ({type(exc).__name__}: {exc})")
        used, w = tuple(combo.weights_.index), combo.weights_
    else:
        frame = None
        if outliers == "clean":
            cleaned = clean_outliers(y, calendar=cal)
            if len(cleaned.attrs["outliers"]):
                notes.append("outliers replaced before fitting: " + ", ".join(map(str, cleaned.attrs["outliers"])))
            y_fit = cleaned
        else:
            y_fit = y
        for cand in candidates:
            key = model_name(cand)
            model = make_model(cand)
            try:
                fc = model.forecast(y_fit, horizon, exog_in if model.supports_exog else None,
                                    exog_future if model.supports_exog else None, level)
            except Exception as exc:
                notes.append(f"{key}: skipped, fit failed ({type(exc).__name__}: {exc})")
                continue
            per_model[key] = fc
            if frame is None:
                frame, used = fc, (key,)
        if frame is None:
            fallback = SeasonalNaive() if len(y) >= SeasonalNaive().min_length() else Naive2()
            notes.append(f"all candidate models failed; fell back to {fallback.name}")
            frame = fallback.forecast(y_fit, horizon, level=level)
            per_model[fallback.name] = frame
            used = (fallback.name,)
        w = pd.Series({used[0]: 1.0}, name="weight")
    for note in notes:
        if "failed" in note or "fell back" in note or "skipped" in note:
            warnings.warn(f"{y.name or 'series'}: {note}", ModelFailureWarning, stacklevel=2)
    return ForecastResult(series=y, frame=frame, models=tuple(used), weights=w, per_model=per_model,
                          notes=notes, level=level)


def _default(series: pd.Series, horizon: int, *, calendar: str | None, spec: ForecastSpec | None, method: str,
             exog: pd.DataFrame | None, level: Sequence[int | float], missing: Literal["linear", "seasonal"] | None,
             outliers: str, window: int | None) -> ForecastResult:
    """The default forecaster (:class:`~forecasting.ensemble.Ensemble`), with the fallback recorded."""
    notes: list[str] = []
    if missing is not None:
        series = fill_missing(series, missing)
        if len(series.attrs["filled"]):
            notes.append(f"{len(series.attrs['filled'])} missing months filled ({missing}) before fitting")
    filled = tuple(str(m) for m in series.attrs.get("filled", ()))
    y = check_series(series, name="forecast", minimum=2)
    y.name = series.name
    if window is not None:
        if window < 36:
            raise ForecastingError(f"window must be at least 36 months (3 years); got {window}.")
        y = y.iloc[-window:]
    index = future_index(y, horizon)
    levels = check_level(level)
    if outliers not in ("keep", "clean"):
        raise ForecastingError(f"outliers must be 'keep' or 'clean'; got {outliers!r}.")
    y_fit = y
    if outliers == "clean":
        y_fit = clean_outliers(y, calendar=calendar)
        if len(y_fit.attrs["outliers"]):
            notes.append("outliers replaced before fitting: " + ", ".join(map(str, y_fit.attrs["outliers"])))
    exog_in = exog_future = None
    if exog is not None:
        exog = exog.to_frame() if isinstance(exog, pd.Series) else exog
        need = y.index.append(index)
        gap = need.difference(exog.index)
        if len(gap):
            raise ForecastingError(f"exog must cover {need[0]}..{need[-1]} (history and horizon); "
                                   f"missing {list(map(str, gap[:3]))}.")
        exog_in, exog_future = exog.loc[y.index], exog.loc[index]
    if spec is not None and spec.calendar != calendar:
        raise ForecastingError(f"spec was identified with calendar={spec.calendar!r}; this call has "
                               f"calendar={calendar!r}. Pass the same calendar or identify afresh (spec=None).")
    model = Ensemble(method=method, calendar=calendar, spec=spec, filled=filled)  # type: ignore[arg-type]
    try:
        model.fit(y_fit, exog_in)
    except Exception as exc:  # too short, or every member failed: a benchmark, recorded
        fallback: Forecaster = SeasonalNaive() if len(y) >= SeasonalNaive().min_length() else Naive2()
        notes.append(f"default forecaster failed ({type(exc).__name__}: {exc}); fell back to {fallback.name}")
        frame = fallback.forecast(y_fit, horizon, level=levels)
        for note in notes:
            warnings.warn(f"{y.name or 'series'}: {note}", ModelFailureWarning, stacklevel=3)
        return ForecastResult(series=y, frame=frame, models=(fallback.name,),
                              weights=pd.Series({fallback.name: 1.0}, name="weight"),
                              per_model={fallback.name: frame}, notes=notes, level=levels)
    notes += model.notes_
    if calendar == "cn":
        notes.append("arima: regression on the Chinese calendar (Spring Festival windows, working days)")
    frame = model.predict(horizon, exog_future, levels)
    per_model = dict(model.member_forecasts_)
    alternatives = {m: model.combined(per_model, m, levels) for m in ("median", "mean", "select")}
    used = tuple(per_model)
    chosen = model.spec.method if model.spec is not None else method
    if chosen == "select" and model.scores_.notna().any():
        used = (str(model.scores_.idxmin()),)
    notes.append(f"{chosen} of {', '.join(per_model)}" + (" (specification kept from the review)" if spec else ""))
    for note in notes:
        if "failed" in note or "fell back" in note or "rejected" in note:
            warnings.warn(f"{y.name or 'series'}: {note}", ModelFailureWarning, stacklevel=3)
    return ForecastResult(series=y, frame=frame, models=used,
                          weights=pd.Series({m: 1.0 / len(used) for m in used}, name="weight"),
                          per_model=per_model, notes=notes, level=levels, spec=model.specification(),
                          alternatives=alternatives)
