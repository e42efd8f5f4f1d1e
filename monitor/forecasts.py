"""``imon forecast``: forecasts of the configured series from a month, stored in the ``forecast`` table.

Thin over :func:`forecasting.forecast` (pure).  For each series in
``forecast.series`` the history up to the origin month is read (the adjusted
value where the series is seasonally adjusted, else the raw one), forecast
``forecast.horizon`` months ahead with 80 % and 95 % intervals, and stored under
(series, origin, period, model).  ``model`` is ``combination`` (or the single
model the combination fell back to); the members and their weights are logged.
One series failing is recorded and does not stop the others.

:func:`forecast_accuracy` compares stored forecasts with the outcomes as they
arrive (the latest vintage of the series).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import warnings
from dataclasses import dataclass, field

import pandas as pd

from .periods import month_text
from .results import read_series
from .settings import Settings
from .store import Store
from .store import models as m
from .store.forecasts import forecast_rows

__all__ = ["ForecastReport", "forecast_series", "forecast_accuracy", "series_history"]

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

    def summary(self) -> str:
        text = (f"forecasts from {self.origin}: {len(self.stored)} series stored ({self.rows} rows), "
                f"{len(self.skipped)} skipped, {len(self.failed)} failed in {self.seconds:.1f} s")
        if self.failed:
            key, message = next(iter(self.failed.items()))
            text += f"; first failure {key}: {message[:200]}"
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


def forecast_series(store: Store, settings: Settings, origin: pd.Period) -> ForecastReport:
    """Forecast every configured series from ``origin`` and store the forecasts (replacing that origin's)."""
    from forecasting import forecast

    t0 = time.perf_counter()
    report = ForecastReport(month_text(origin))
    horizon = settings["forecast.horizon"]
    chosen = settings["forecast.models"].strip()
    models = None if chosen == "default" else tuple(m.strip() for m in chosen.split(","))
    created = dt.datetime.now().replace(microsecond=0)
    rows = []
    for key in [k.strip() for k in settings["forecast.series"].split(",") if k.strip()]:
        history = series_history(store, key, origin)
        if len(history) < MIN_HISTORY or history.index[-1] != origin:
            report.skipped[key] = (f"needs {MIN_HISTORY} months of history ending {origin}; has {len(history)}"
                                   + (f" ending {history.index[-1]}" if len(history) else ""))
            continue
        # unadjusted values carry the Chinese calendar: the forecaster models it (#14)
        calendar = None if history.attrs.get("adjusted") else "cn"
        if history.isna().any() or len(history) != len(pd.period_range(history.index[0], origin, freq="M")):
            history = history.reindex(pd.period_range(history.index[0], origin, freq="M")).interpolate()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = forecast(history, horizon, models=models, calendar=calendar, level=(80, 95))
        except Exception as exc:
            report.failed[key] = f"{type(exc).__name__}: {exc}"
            log.warning("forecast %s from %s failed: %s", key, origin, exc)
            continue
        name = "combination" if len(result.models) > 1 else result.models[0]
        f = result.frame
        for period, row in f.iterrows():
            rows.append({"series_key": key, "origin": report.origin, "period": str(period), "model": name,
                         "mean": float(row["mean"]), "lower_80": float(row["lo-80"]), "upper_80": float(row["hi-80"]),
                         "lower_95": float(row["lo-95"]), "upper_95": float(row["hi-95"]), "created_at": created})
        report.stored[key] = " + ".join(f"{mm} {w:.2f}" for mm, w in result.weights.items())
        for note in result.notes:
            log.info("forecast %s: %s", key, note)
    table = m.Forecast.__table__
    with store.begin() as conn:
        conn.execute(table.delete().where(table.c.origin == report.origin,
                                          table.c.series_key.in_(list(report.stored) or [""])))
        if rows:
            conn.execute(table.insert(), rows)
    report.rows = len(rows)
    report.seconds = time.perf_counter() - t0
    return report


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
    outcomes = []
    for key in stored["series_key"].unique():
        s = read_series(store, key)
        value = s["sa"].where(s["sa"].notna(), s["raw"])
        outcomes.append(pd.DataFrame({"series_key": key, "period": s.index.astype(str), "actual": value.to_numpy()}))
    joined = stored.merge(pd.concat(outcomes), on=["series_key", "period"]).dropna(subset=["actual"])
    if joined.empty:
        return pd.DataFrame(columns=["series_key", "model", "horizon", "n", "mae", "coverage_80", "coverage_95"])
    joined["horizon"] = [(pd.Period(p, "M") - pd.Period(o, "M")).n for p, o in zip(joined["period"], joined["origin"])]
    joined["err"] = (joined["actual"] - joined["mean"]).abs()
    joined["in80"] = joined["actual"].between(joined["lower_80"], joined["upper_80"])
    joined["in95"] = joined["actual"].between(joined["lower_95"], joined["upper_95"])
    out = joined.groupby(["series_key", "model", "horizon"]).agg(
        n=("err", "size"), mae=("err", "mean"), coverage_80=("in80", "mean"), coverage_95=("in95", "mean"))
    return out.reset_index()
