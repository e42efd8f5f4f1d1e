"""The track record of the forecasts, nowcasts and target odds: past origins filled in, skill measured.

*Past origins.*  :func:`fill_past_origins` runs the forecast stage's parts at every origin of the last
``forecast.track_months`` months that has none stored (the demo's first run, or a platform just installed), so
that accuracy per series and horizon exists at once.  Each origin sees only what was known then: stored series
to that month, official statistics published by then (``nowcast.official_lag``), the parameters estimated
afresh on that history.  They are the current vintages of the series (a survey index revised since is read
revised; the official figures are not revised in the store).  It is incremental: a (series, origin) already
stored, a nowcast or odds origin already stored and a track record already scored are not recomputed.  It is
cheap in the production mode's way: each series is identified at its first missing origin and then only
re-estimated on that specification until ``forecast.review_months`` origins later.  The target odds of past
origins are computed only at the origins a publication reads (:data:`ODDS_MONTHS`: the month after each quarter,
which the dispatch report reads, and December, which the annual summary reads).  The series (one task each,
all its origins in turn), the nowcasts and the odds all share one pool of ``forecast.workers`` processes.

*Skill.*  :func:`forecast_skill` scores the stored forecasts whose outcome is known by an origin, per series and
horizon: mean absolute error, MASE (each error divided by the mean absolute seasonal difference of the series'
history up to that forecast's origin, the M4 scale: below 1 beats seasonal naive) and the coverage of the
80 % and 95 % intervals.  :func:`store_skill` keeps the track record as of each origin in ``forecast_skill``,
which the operation report prints next to each forecast and the analysts' API returns.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .engine import Engine
from .forecasts import (
    MIN_HISTORY,
    ForecastReport,
    key_history,
    model_choice,
    official_key,
    outcome_frame,
    resolve_keys,
    store_forecasts,
)
from .periods import month_text
from .settings import Settings
from .store import Store, forecast_queries
from .textout import first_failure

__all__ = ["TrackReport", "fill_past_origins", "forecast_skill", "read_skill", "store_skill", "store_skill_many"]

log = logging.getLogger(__name__)


@dataclass
class TrackReport:
    """What :func:`fill_past_origins` did."""

    origins: list[str] = field(default_factory=list)
    forecasts: int = 0
    nowcasts: int = 0
    odds: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def stored(self) -> int:
        return self.forecasts + self.nowcasts + self.odds

    def summary(self) -> str:
        span = f"{self.origins[0]}..{self.origins[-1]}" if self.origins else "none missing"
        text = (f"track record: past origins {span}: {self.forecasts} forecast rows, {self.nowcasts} nowcast "
                f"origins, {self.odds} odds origins stored, {len(self.failed)} failed in {self.seconds:.1f} s")
        text += first_failure(self.failed)
        return text


#: Origins between two full selections of the combination in the track record when ``forecast.review_months`` is 0
#: (the specification, members, weights and interval scale chosen at one origin are re-estimated on each later
#: origin's data until then).
RESELECT_EVERY = 12
#: Months whose past origins get target odds in the track record: the origins the publications read (the dispatch
#: report of a quarter reads the month after it, the annual summary December).
ODDS_MONTHS = (1, 4, 7, 10, 12)
SKIPPED = "skipped: too short a history at that origin"


@dataclass
class _TrackTask:
    key: str
    history: pd.Series
    cutoffs: list[tuple[str, str]]  # (origin, last month of data known at that origin)
    horizon: int
    models: tuple[str, ...] | None
    reselect: int
    calendar: str | None = None


def _run_track(task: _TrackTask) -> list[tuple[str, str, list[dict[str, object]] | None, str]]:
    """Forecasts of one series from each of its past origins, in a worker process.

    Honest reuse of fits: at the first origin (and every ``reselect`` origins) the forecaster is identified
    afresh on the data known then; at the origins in between only its parameters are re-estimated on that
    origin's data, the specification chosen earlier (which used only earlier data) being kept.  The default
    forecaster keeps its :attr:`~forecasting.ForecastResult.spec` (``forecast(..., spec=)``, the engine's
    production mode); a selection among named models keeps the members' specifications
    (:meth:`~forecasting.Forecaster.frozen`), weights and interval scale of its :class:`forecasting.Combination`.
    """
    import warnings as _w

    from forecasting import Combination, clean_outliers, fill_missing, forecast
    from forecasting.calibration import combine_frames, rescale_intervals

    out: list[tuple[str, str, list[dict[str, object]] | None, str]] = []
    combo = spec = None
    since = 0
    for origin, last in task.cutoffs:
        y = task.history.loc[:last]
        if len(y) < MIN_HISTORY:
            out.append((task.key, origin, None, SKIPPED))
            continue
        fresh = since >= task.reselect or (combo is None and spec is None)
        try:
            with _w.catch_warnings():
                _w.simplefilter("ignore")
                y = fill_missing(y, "linear")
                if task.models is None:  # the platform's default forecaster; its specification kept in between
                    cal: Literal["cn"] | None = "cn" if task.calendar == "cn" else None
                    result = forecast(y, task.horizon, calendar=cal, level=(80, 95),
                                      spec=None if fresh else spec)
                    spec, frame = result.spec, result.frame
                    name = "combination" if len(result.models) > 1 else result.models[0]
                    detail = result.notes[-1] if result.notes else "default"
                elif fresh:
                    combo = Combination(list(task.models), k=3, trim=1.5).fit(y)
                    frame = combo.predict(task.horizon, None, (80, 95))
                else:
                    yc = clean_outliers(y)
                    frames = {k: m.frozen().fit(yc).predict(task.horizon, None, (80, 95))
                              for k, m in combo.members_.items()}  # type: ignore[union-attr]
                    frame = rescale_intervals(combine_frames(frames, combo.weights_.to_dict()),  # type: ignore[union-attr]
                                              combo.scale_)  # type: ignore[union-attr]
                if task.models is not None:
                    name = "combination" if len(combo.members_) > 1 else next(iter(combo.members_))  # type: ignore[union-attr]
                    detail = " + ".join(f"{k} {w:.2f}" for k, w in combo.weights_.items())  # type: ignore[union-attr]
            since = 1 if fresh else since + 1
        except Exception as exc:  # one series failing does not stop the others
            out.append((task.key, origin, None, f"{type(exc).__name__}: {exc}"))
            combo = spec = None
            continue
        rows = [{"series_key": task.key, "origin": origin, "period": str(period), "model": name,
                 "mean": float(row["mean"]), "lower_80": float(row["lo-80"]), "upper_80": float(row["hi-80"]),
                 "lower_95": float(row["lo-95"]), "upper_95": float(row["hi-95"])} for period, row in frame.iterrows()]
        out.append((task.key, origin, rows, detail))
    return out


def _origin_job(args: tuple[str, Settings, str, bool, bool]) -> tuple[str, int, int, list[str]]:
    """Nowcast and odds of one past origin in a worker process (it opens its own connection to the store)."""
    from .nowcasts import nowcast_target, target_odds

    url, settings, origin, do_nowcast, do_odds = args
    period = pd.Period(origin, "M")
    failures: list[str] = []
    n_now = n_odds = 0
    with Store.open(url, migrate=False) as store:
        if do_nowcast:
            now = nowcast_target(store, settings, period)
            n_now = int(bool(now.stored))
            failures += [f"nowcast {origin} {k}: {v}" for k, v in now.failed.items()]
        if do_odds:
            odds = target_odds(store, settings, period, workers=1)  # already in a worker process
            n_odds = int(odds.stored > 0)
            failures += [f"odds {origin} {k}: {v}" for k, v in odds.failed.items()]
    return origin, n_now, n_odds, failures


def _job(item: tuple[str, object]) -> tuple[str, object]:
    """One item of the shared pool: a series' track (``"track"``) or an origin's nowcast and odds (``"origin"``)."""
    kind, payload = item
    if kind == "track":
        return kind, _run_track(payload)  # type: ignore[arg-type]
    return kind, _origin_job(payload)  # type: ignore[arg-type]


def _run_all(items: list[tuple[str, object]], workers: int) -> list[tuple[str, object]]:
    """Every item in one pool of ``workers`` processes, dearest first (here for one worker or one item)."""
    if workers <= 1 or len(items) <= 1:
        return [_job(i) for i in items]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_job, items))


def _cost(item: tuple[str, object]) -> float:
    """A rough relative cost, to start the dearest items first (the pool then balances the cheap ones)."""
    kind, payload = item
    if kind == "origin":
        return 8.0 if payload[4] else 1.0  # type: ignore[index]
    task: _TrackTask = payload  # type: ignore[assignment]
    fresh = 1 + len(task.cutoffs) // max(task.reselect, 1)
    return (10.0 if task.models is None else 1.0) * fresh + 0.1 * len(task.cutoffs)


def _track_failed(task: _TrackTask, exc: BaseException) -> list[tuple[str, str, None, str]]:
    """The results standing for a series whose worker died or could not run it: each of its origins fails."""
    return [(task.key, origin, None, f"worker failed ({type(exc).__name__}: {exc}); re-run `imon forecast`")
            for origin, _cutoff in task.cutoffs]


def fill_past_origins(store: Store, settings: Settings, end: pd.Period, *, months: int | None = None,
                      nowcasts: bool = True, engine: Engine | None = None) -> TrackReport:
    """Forecasts, nowcasts and odds at each of the ``months`` origins before ``end`` that has none stored; then
    the track record (``forecast_skill``) of every origin up to ``end`` whose record is missing or changed.

    ``engine`` (a Dask engine, :func:`monitor.engine.open_engine`) runs the series' past forecasts on its workers;
    the origins' nowcasts and odds (they read the store) then run here in ``forecast.workers`` processes."""
    from .store.forecast_queries import forecast_origins, nowcast_origins, odds_origins

    t0 = time.perf_counter()
    months = settings["forecast.track_months"] if months is None else months
    report = TrackReport()
    keys = resolve_keys(store, settings)
    origins = [end - k for k in range(months, 0, -1)]
    # only origins at which some series already had the history a forecast needs (a young store has none)
    first = min((h.index[0] for h in (key_history(store, settings, k, end)[0].dropna() for k in keys[:3])
                 if len(h)), default=None)
    origins = [o for o in origins if first is not None and (o - first).n + 1 >= MIN_HISTORY]
    if not origins:
        report.seconds = time.perf_counter() - t0
        return report
    have = forecast_origins(store)
    done = set(zip(have["series_key"], have["origin"], strict=True))
    lag = settings["nowcast.official_lag"]
    headline = {k.strip() for k in settings["forecast.series"].split(",")}
    reselect = settings["forecast.review_months"] or RESELECT_EVERY
    items: list[tuple[str, object]] = []
    for key in keys:
        todo = [o for o in origins if (key, str(o)) not in done]
        if not todo:
            continue
        history, _reach = key_history(store, settings, key, end - 1)
        if history.dropna().empty:
            continue
        official = official_key(key) is not None
        cutoffs = [(str(o), str(o - lag) if official else str(o)) for o in todo]
        models = settings["forecast.models"] if key in headline else settings["forecast.key_models"]
        calendar = None if official or history.attrs.get("adjusted") else "cn"
        items.append(("track", _TrackTask(key, history.dropna(), cutoffs, settings["forecast.horizon"],
                                          model_choice(models), reselect, calendar)))
    if nowcasts:
        now_have, odds_have = nowcast_origins(store), odds_origins(store)
        url = store.engine.url.render_as_string(hide_password=False)
        for o in origins:
            do_now = str(o) not in now_have
            do_odds = str(o) not in odds_have and o.month in ODDS_MONTHS
            if do_now or do_odds:
                items.append(("origin", (url, settings, str(o), do_now, do_odds)))
    workers = settings["forecast.workers"]
    items.sort(key=_cost, reverse=True)
    remote: list[tuple[str, object]] = []
    if engine is not None:
        tracks = [payload for kind, payload in items if kind == "track"]
        items = [item for item in items if item[0] != "track"]
        remote = [("track", rs) for rs in engine.map(_run_track, tracks, on_error=_track_failed)]
    if workers > 1 and len(items) > 1:
        store.engine.dispose()  # no connection crosses the fork
    outcomes = remote + _run_all(items, workers)
    results = [r for kind, rs in outcomes if kind == "track" for r in rs]  # type: ignore[attr-defined]
    by_origin: dict[str, list] = {}
    for r in results:
        by_origin.setdefault(r[1], []).append(r)
    for origin, rs in sorted(by_origin.items()):
        part = ForecastReport(origin)
        store_forecasts(store, origin, [r for r in rs if r[3] != SKIPPED], part)
        report.forecasts += part.rows
        report.failed.update({f"forecast {origin} {k}": v for k, v in part.failed.items()})
    jobs: list[tuple[str, int, int, list[str]]] = [payload for kind, payload in outcomes  # type: ignore[misc]
                                                   if kind == "origin"]
    for _origin, n_now, n_odds, failures in jobs:
        report.nowcasts += n_now
        report.odds += n_odds
        report.failed.update({f: "" for f in failures})
    filled = set(by_origin) | {j[0] for j in jobs}
    report.origins = [str(o) for o in origins if str(o) in filled]
    # the record as of an origin changes only when a forecast made before it was added
    stale = min(by_origin) if by_origin else None
    from .store.forecast_queries import skill_origins

    scored = skill_origins(store)
    redo = [o for o in origins if str(o) not in scored or (stale is not None and str(o) > stale)]
    store_skill_many(store, settings, redo)
    report.seconds = time.perf_counter() - t0
    return report


def _scales(outcomes: pd.DataFrame) -> dict[tuple[str, str], float]:
    """Mean absolute seasonal (lag 12) difference of each series' history up to each month."""
    out: dict[tuple[str, str], float] = {}
    for key, g in outcomes.groupby("series_key"):
        s = pd.Series(g["actual"].to_numpy(float), index=pd.PeriodIndex(g["period"], freq="M")).sort_index()
        s = s.reindex(pd.period_range(s.index[0], s.index[-1], freq="M"))
        diff = (s - s.shift(12)).abs()
        running = diff.expanding().mean()  # NaN months skipped by the mean
        for p, v in running.items():
            out[(str(key), str(p))] = float(v)
    return out


SKILL_COLUMNS = ["series_key", "horizon", "n", "mae", "mase", "coverage_80", "coverage_95"]


def _scored(store: Store, keys: list[str] | None = None) -> pd.DataFrame:
    """Every stored forecast with an outcome now known, scored: ``series_key, origin, period, horizon, err, scaled,
    in80, in95`` (the outcomes read once per series)."""
    from .store.forecast_queries import stored_forecasts

    stored = stored_forecasts(store)
    if keys is not None:
        stored = stored[stored["series_key"].isin(keys)]
    if stored.empty:
        return pd.DataFrame(columns=["series_key", "origin", "period", "horizon", "err", "scaled", "in80", "in95"])
    outcomes = pd.concat([outcome_frame(store, k) for k in stored["series_key"].unique()], ignore_index=True)
    outcomes = outcomes.dropna(subset=["actual"])
    joined = stored.merge(outcomes, on=["series_key", "period"])
    scales = _scales(outcomes)
    # official statistics are forecast from the last published month: horizon counts from the origin
    joined["horizon"] = [(pd.Period(p, "M") - pd.Period(o, "M")).n for p, o in
                         zip(joined["period"], joined["origin"], strict=True)]
    joined["err"] = (joined["actual"] - joined["mean"]).abs()
    joined["scale"] = [scales.get((k, o), np.nan) for k, o in zip(joined["series_key"], joined["origin"], strict=True)]
    joined["scaled"] = joined["err"] / joined["scale"].where(joined["scale"] > 0)
    joined["in80"] = joined["actual"].between(joined["lower_80"], joined["upper_80"])
    joined["in95"] = joined["actual"].between(joined["lower_95"], joined["upper_95"])
    return joined


def _skill_as_of(joined: pd.DataFrame, as_of: pd.Period | None, lag: int) -> pd.DataFrame:
    """The record of the scored forecasts made before ``as_of`` whose outcome was known by it (None: all)."""
    if as_of is not None and not joined.empty:
        joined = joined[joined["origin"] < str(as_of)]
        official = {k: official_key(k) is not None for k in joined["series_key"].unique()}
        known_by = {True: str(as_of - lag), False: str(as_of)}
        joined = joined[[p <= known_by[official[k]] for k, p in
                         zip(joined["series_key"], joined["period"], strict=True)]]
    if joined.empty:
        return pd.DataFrame(columns=SKILL_COLUMNS)
    out = joined.groupby(["series_key", "horizon"]).agg(
        n=("err", "size"), mae=("err", "mean"), mase=("scaled", "mean"), coverage_80=("in80", "mean"),
        coverage_95=("in95", "mean"))
    return out.reset_index()[SKILL_COLUMNS]


def forecast_skill(store: Store, settings: Settings | None = None, *, as_of: pd.Period | None = None,
                   keys: list[str] | None = None) -> pd.DataFrame:
    """The track record of the stored forecasts per series and horizon.

    Parameters
    ----------
    as_of
        Score only forecasts made before this origin whose outcome was known by it (official statistics: by
        ``as_of - nowcast.official_lag``); None: every outcome known now.
    keys
        Only these series.

    Returns
    -------
    pandas.DataFrame
        ``series_key, horizon, n, mae, mase, coverage_80, coverage_95`` (MASE below 1 beats seasonal naive).
    """
    lag = settings["nowcast.official_lag"] if settings is not None else 1
    return _skill_as_of(_scored(store, keys), as_of, lag)


def store_skill(store: Store, settings: Settings, origin: pd.Period) -> int:
    """Store the track record as known at ``origin`` (replacing that origin's); returns the rows written."""
    return store_skill_many(store, settings, [origin])


def store_skill_many(store: Store, settings: Settings, origins: list[pd.Period]) -> int:
    """Store the track record as known at each of ``origins`` (the forecasts scored once); returns the rows."""
    if not origins:
        return 0
    joined = _scored(store)
    lag = settings["nowcast.official_lag"]
    created = dt.datetime.now().replace(microsecond=0)
    total = 0
    for origin in origins:
        skill = _skill_as_of(joined, origin, lag)
        rows = [{"series_key": r.series_key, "origin": month_text(origin), "horizon": int(r.horizon), "n": int(r.n),
                 "mae": _num(r.mae), "mase": _num(r.mase), "coverage_80": _num(r.coverage_80),
                 "coverage_95": _num(r.coverage_95), "computed_at": created} for r in skill.itertuples()]
        forecast_queries.replace_skill(store, month_text(origin), rows)
        total += len(rows)
    return total


def _num(v: object) -> float | None:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


def read_skill(store: Store, origin: pd.Period | str | None = None) -> pd.DataFrame:
    """The stored track record (``forecast_skill``) as of one origin, or of the latest origin stored."""
    from .store.forecast_queries import skill_rows

    return skill_rows(store, None if origin is None else str(origin))
