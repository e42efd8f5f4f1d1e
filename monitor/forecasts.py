"""``imon forecast``: forecasts of the configured series from a month, stored in the ``forecast`` table.

Thin over :func:`forecasting.forecast` (pure).  The series are ``forecast.series`` (the headline ones, with
``forecast.models``) and the key series of ``forecast.key_series`` for the city, each district and the key
sectors (with ``forecast.key_models``): the PMI (adjusted), electricity, and the official value added growth,
output growth and investment as ``name@region`` keys (``iva/yoy@440103``).  A stored series' history runs to
the origin month (the adjusted value where the series is seasonally adjusted, else the raw one); an official
statistic's to what was published by then (``nowcast.official_lag``: value added of October is out in
November), with the unpublished January and February filled for estimation only.  Each is forecast
``forecast.horizon`` months ahead with 80 % and 95 % intervals in ``forecast.workers`` processes and stored
under (series, origin, period, model).  ``model`` is ``combination`` (or the single model the combination fell
back to).  One series failing is recorded and does not stop the others.

**Production mode** (issue 14).  A series forecast with the default forecaster keeps the specification of its
last identification (ARIMA orders, ETS form, interval scale: :attr:`forecasting.ForecastResult.spec`, stored in
``forecast_spec``) and only re-estimates the parameters, until ``forecast.review_months`` months after that
identification (the annual review) or ``--reidentify``; then it is identified afresh and the new specification
stored.  A specification that no longer fits (another calendar, a failed re-estimation) is identified afresh,
with a note.

:func:`forecast_accuracy` compares stored forecasts with the outcomes as they arrive (the latest vintage of
the series); :mod:`monitor.track_record` scores them against seasonal naive.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from .engine import Engine
from .periods import month_text
from .results import read_series
from .settings import Settings
from .store import Store
from .store.forecasts import forecast_rows
from .textout import first_failure

__all__ = ["ForecastReport", "forecast_accuracy", "forecast_series", "key_history", "official_key", "outcome_frame",
           "resolve_keys", "run_tasks", "series_history"]

log = logging.getLogger(__name__)

#: Fewest months of history a series needs before it is forecast.
MIN_HISTORY = 36


@dataclass
class ForecastReport:
    """What a forecast run did."""

    origin: str
    stored: dict[str, str] = field(default_factory=dict)  # series -> models used
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    seconds: float = 0.0
    #: default-forecaster series identified afresh (specification stored) / re-estimated on a kept specification
    identified: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (f"forecasts from {self.origin}: {len(self.stored)} series stored ({self.rows} rows), "
                f"{len(self.skipped)} skipped, {len(self.failed)} failed in {self.seconds:.1f} s")
        if self.identified or self.kept:
            text += (f" ({len(self.identified)} identified afresh, {len(self.kept)} on the specification kept "
                     "from their review)")
        text += first_failure(self.failed)
        return text


def series_history(store: Store, key: str, origin: pd.Period) -> pd.Series:
    """The stored values of ``key`` up to ``origin``: adjusted where the series has 36 adjusted months, else raw."""
    frame = read_series(store, key)
    if frame.empty:
        return pd.Series(dtype=float)
    adjusted = bool(frame["sa"].notna().sum() >= MIN_HISTORY)
    out = (frame["sa"] if adjusted else frame["raw"]).astype(float).loc[:origin].dropna()
    out.attrs["adjusted"] = adjusted
    return out


def official_key(key: str) -> tuple[str, str] | None:
    """``("iva/yoy", "440103")`` for an official-statistic key ``iva/yoy@440103``; None for a stored series."""
    if "@" not in key:
        return None
    name, region = key.rsplit("@", 1)
    return name, region


def resolve_keys(store: Store, settings: Settings) -> list[str]:
    """The series forecast each month: ``forecast.series`` and the expanded ``forecast.key_series`` patterns.

    A pattern is a stored series key or glob (``pmi/headline/district/*``) or an official statistic with its
    region or ``*`` for every region publishing it (``iva/yoy@*``).  Order: as configured, duplicates dropped.
    """
    from .store.forecast_queries import official_series_names, series_keys

    keys: list[str] = []
    official = None
    for pattern in _split(settings["forecast.series"]) + _split(settings["forecast.key_series"]):
        if "@" in pattern:
            name, region = pattern.rsplit("@", 1)
            if official is None:
                official = official_series_names(store)
            rows = official[(official["series"] == name) & (official["n"] >= MIN_HISTORY)]
            found = [f"{name}@{r}" for r in rows["region"] if region in ("*", r)]
        elif "*" in pattern:
            found = series_keys(store, pattern)
        else:
            found = [pattern]
        keys += [k for k in found if k not in keys]
    return keys


def _split(text: str) -> list[str]:
    return [k.strip() for k in str(text).split(",") if k.strip()]


def key_history(store: Store, settings: Settings, key: str, origin: pd.Period) -> tuple[pd.Series, pd.Period]:
    """The history of ``key`` as known at ``origin`` and the month it must reach to be forecast.

    Stored series: to ``origin`` (:func:`series_history`).  Official statistics (``name@region``): the values
    published by ``origin - nowcast.official_lag`` (the release calendar), which may end up to three months
    earlier (January and February are not published).
    """
    from .store.forecast_queries import official_history

    parsed = official_key(key)
    if parsed is None:
        return series_history(store, key, origin), origin
    known = origin - settings["nowcast.official_lag"]
    return official_history(store, parsed[0], parsed[1], known), known


@dataclass
class _Task:
    key: str
    origin: str
    history: pd.Series
    horizon: int
    models: tuple[str, ...] | None
    official: bool
    calendar: Literal["cn"] | None = None
    #: the stored specification (``ForecastSpec.as_dict()``) to re-estimate; ``None``: identify afresh
    spec: dict[str, Any] | None = None
    #: store the specification of a fresh identification (not when a later origin's is stored)
    store_spec: bool = True


def model_choice(text: str) -> tuple[str, ...] | None:
    """``None`` for ``default`` (the platform's default forecaster), else the candidate model names."""
    return None if text.strip() == "default" else tuple(_split(text))


def _run_task(task: _Task) -> tuple[Any, ...]:
    """Forecast one series from one origin (in a worker process).

    Returns ``(key, origin, rows or None, models or error, notes, spec, fresh)``: ``fresh`` whether the
    default forecaster identified the series afresh, ``spec`` the specification to store
    (``ForecastSpec.as_dict()``) or ``None``.
    """
    from forecasting import forecast
    from forecasting.ensemble import ForecastSpec

    history = task.history
    notes: list[str] = []
    try:
        span = pd.period_range(history.index[0], history.index[-1], freq="M")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gaps = len(span) != len(history) or bool(history.isna().any())
            y = history.reindex(span)
            missing: Literal["linear"] | None = "linear" if gaps else None
            result = None
            if task.spec is not None and task.models is None:
                try:
                    result = forecast(y, task.horizon, calendar=task.calendar, level=(80, 95), missing=missing,
                                      spec=ForecastSpec.from_dict(task.spec))
                except Exception as exc:  # the kept specification no longer fits: identify afresh, said
                    notes.append(f"stored specification not usable ({type(exc).__name__}: {exc}); identified afresh")
            fresh = result is None
            if result is None:
                result = forecast(y, task.horizon, models=task.models, calendar=task.calendar,
                                  level=(80, 95), missing=missing)
    except Exception as exc:  # one series failing does not stop the others
        return task.key, task.origin, None, f"{type(exc).__name__}: {exc}", notes, None, False
    name = "combination" if len(result.models) > 1 else result.models[0]
    rows = [{"series_key": task.key, "origin": task.origin, "period": str(period), "model": name,
             "mean": float(row["mean"]), "lower_80": float(row["lo-80"]), "upper_80": float(row["hi-80"]),
             "lower_95": float(row["lo-95"]), "upper_95": float(row["hi-95"])}
            for period, row in result.frame.iterrows()]
    fresh = fresh and result.spec is not None
    spec = result.spec.as_dict() if fresh and task.store_spec and result.spec is not None else None
    return (task.key, task.origin, rows, " + ".join(f"{mm} {w:.2f}" for mm, w in result.weights.items()),
            notes + list(result.notes), spec, fresh)


def _task_failed(task: _Task, exc: BaseException) -> tuple[Any, ...]:
    """The result standing for a task whose worker died or could not run it: that series fails."""
    return task.key, task.origin, None, f"worker failed ({type(exc).__name__}: {exc}); re-run `imon forecast`"


def run_tasks(tasks: list[_Task], workers: int, engine: Engine | None = None) -> list[tuple[Any, ...]]:
    """Run forecast tasks on ``engine`` (default ``workers`` local processes; in this process for 1 worker or a
    single task); results in task order."""
    if engine is None:
        if workers <= 1 or len(tasks) <= 1:
            return [_run_task(t) for t in tasks]
        from concurrent.futures.process import BrokenProcessPool

        try:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                return list(pool.map(_run_task, tasks, chunksize=max(1, len(tasks) // (8 * workers))))
        except BrokenProcessPool as exc:  # a worker died: run what is left here, failures stay per series
            log.warning("forecast worker pool broke (%s); running the tasks in this process", exc)
            return [_run_task(t) for t in tasks]
    results: list[tuple[Any, ...]] = engine.map(_run_task, tasks, on_error=_task_failed)
    return results


def make_tasks(store: Store, settings: Settings, origin: pd.Period, keys: list[str],
               report: ForecastReport, *, reidentify: bool = False) -> list[_Task]:
    """One task per key with enough history at ``origin``; the others are recorded as skipped.

    A series on the default forecaster gets its stored specification when it was identified less than
    ``forecast.review_months`` months before ``origin`` (and not after it), unless ``reidentify``.
    """
    from .store.forecast_queries import forecast_specs

    horizon = settings["forecast.horizon"]
    review = settings["forecast.review_months"]
    headline = set(_split(settings["forecast.series"]))
    tasks = []
    for key in keys:
        history, reach = key_history(store, settings, key, origin)
        history = history.dropna()
        official = official_key(key) is not None
        ok = len(history) >= MIN_HISTORY and (history.index[-1] >= reach - (3 if official else 0))
        if not ok:
            report.skipped[key] = (f"needs {MIN_HISTORY} months of history ending {reach}; has {len(history)}"
                                   + (f" ending {history.index[-1]}" if len(history) else ""))
            continue
        chosen = settings["forecast.models"] if key in headline else settings["forecast.key_models"]
        # unadjusted values carry the Chinese calendar: the default forecaster models it (#14)
        calendar: Literal["cn"] | None = None if official or history.attrs.get("adjusted") else "cn"
        tasks.append(_Task(key, month_text(origin), history, horizon, model_choice(chosen), official, calendar))
    default = [t.key for t in tasks if t.models is None]
    stored = {} if reidentify or review == 0 or not default else forecast_specs(store, default)
    for task in tasks:
        if task.key not in stored:
            continue
        identified, text = stored[task.key]
        age = (origin - pd.Period(identified, "M")).n
        spec = json.loads(text)
        if 0 <= age < review and spec.get("calendar") == task.calendar:
            task.spec = spec
        task.store_spec = age >= 0  # an earlier origin (a re-run, the track record) leaves the later review
    return tasks


def store_forecasts(store: Store, origin: str, results: list[tuple[Any, ...]],
                    report: ForecastReport) -> None:
    """Replace ``origin``'s forecasts of the series forecast with the new rows, and store the specifications of
    series identified afresh (results carrying one: ``(key, origin, rows, detail, notes, spec)``)."""
    from .store.forecast_queries import replace_forecasts

    created = dt.datetime.now().replace(microsecond=0)
    rows = []
    specs = []
    for key, _origin, got, detail, *extra in results:
        for note in (extra[0] if extra else []):
            log.info("forecast %s: %s", key, note)
        if got is None:
            report.failed[key] = detail
            log.warning("forecast %s from %s failed: %s", key, origin, detail)
            continue
        report.stored[key] = detail
        rows += [{**r, "created_at": created} for r in got]
        if len(extra) > 2:
            (report.identified if extra[2] else report.kept).append(key)
            if extra[1] is not None:
                specs.append({"series_key": key, "identified": origin, "spec": json.dumps(extra[1]),
                              "updated_at": created})
    replace_forecasts(store, origin, list(report.stored), rows, specs)
    report.rows = len(rows)


def forecast_series(store: Store, settings: Settings, origin: pd.Period, *, keys: list[str] | None = None,
                    workers: int | None = None, engine: Engine | None = None,
                    reidentify: bool = False) -> ForecastReport:
    """Forecast every configured series from ``origin`` and store the forecasts (replacing that origin's).

    Parameters
    ----------
    keys
        The series (default :func:`resolve_keys`: ``forecast.series`` and ``forecast.key_series``).
    workers
        Worker processes (default ``forecast.workers``).
    engine
        Where the series are forecast (:func:`monitor.engine.open_engine`: a Dask cluster with
        ``compute.engine = dask``); default a local pool of ``workers``.  The rows are written here, once.
    reidentify
        Identify every default-forecaster series afresh (and store the new specifications) instead of
        re-estimating the stored specifications (the production mode).
    """
    t0 = time.perf_counter()
    report = ForecastReport(month_text(origin))
    keys = resolve_keys(store, settings) if keys is None else keys
    tasks = make_tasks(store, settings, origin, keys, report, reidentify=reidentify)
    results = run_tasks(tasks, settings["forecast.workers"] if workers is None else workers, engine)
    store_forecasts(store, report.origin, results, report)
    report.seconds = time.perf_counter() - t0
    return report


def outcome_frame(store: Store, key: str) -> pd.DataFrame:
    """The outcomes of a forecast key now known: ``series_key, period, actual`` (the adjusted value where the
    series has one, like the forecasts; official statistics as published)."""
    from .store.forecast_queries import official_history

    parsed = official_key(key)
    if parsed is not None:
        s = official_history(store, parsed[0], parsed[1], "9999-12")
        return pd.DataFrame({"series_key": key, "period": s.index.astype(str), "actual": s.to_numpy(float)})
    s = read_series(store, key)
    value = s["sa"].where(s["sa"].notna(), s["raw"])
    return pd.DataFrame({"series_key": key, "period": s.index.astype(str), "actual": value.to_numpy(float)})


def forecast_accuracy(store: Store) -> pd.DataFrame:
    """Past forecasts against the outcomes now known.

    Returns
    -------
    pandas.DataFrame
        One row per series, model and horizon (months ahead): ``n`` forecasts with an outcome, mean absolute
        error ``mae``, and the share of outcomes inside the 80 % and 95 % intervals.
    """
    stored = forecast_rows(store)
    if stored.empty:
        return pd.DataFrame(columns=["series_key", "model", "horizon", "n", "mae", "coverage_80", "coverage_95"])
    outcomes = pd.concat([outcome_frame(store, k) for k in stored["series_key"].unique()])
    joined = stored.merge(outcomes, on=["series_key", "period"]).dropna(subset=["actual"])
    if joined.empty:
        return pd.DataFrame(columns=["series_key", "model", "horizon", "n", "mae", "coverage_80", "coverage_95"])
    joined["horizon"] = [(pd.Period(p, "M") - pd.Period(o, "M")).n for p, o in zip(joined["period"], joined["origin"])]
    joined["err"] = (joined["actual"] - joined["mean"]).abs()
    joined["in80"] = joined["actual"].between(joined["lower_80"], joined["upper_80"])
    joined["in95"] = joined["actual"].between(joined["lower_95"], joined["upper_95"])
    out = joined.groupby(["series_key", "model", "horizon"]).agg(
        n=("err", "size"), mae=("err", "mean"), coverage_80=("in80", "mean"), coverage_95=("in95", "mean"))
    return out.reset_index()
