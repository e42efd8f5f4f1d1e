"""Nowcasts of industrial value added growth and the odds of meeting the annual targets, from an origin month.

Thin over :func:`forecasting.bridge.select_nowcast`, :func:`forecasting.nowcast` and :func:`forecasting.target_attainment` (pure).

*Release calendar.*  At an origin month ``P`` (the PMI release at the end of ``P``) the survey indices and
electricity of ``P`` are known, but the official statistics only up to ``P - nowcast.official_lag``
(value added for October is published in mid-November).  Official values after that are ignored here,
as they would not have been known, even when the store already holds them.

*Nowcast.*  ``nowcast.target`` (official, by region) is nowcast from ``nowcast.inputs`` (stored series:
PMI indices enter as deviations from 50, the adjusted value where there is one; growth rates as they are).
``nowcast.method = bridge`` (default): the origin month by the bridge equations chosen out of sample on the
earlier origins of the same type (:func:`forecasting.bridge.select_nowcast`); the row's ``news`` holds each
regressor's contribution to the change since the last published value.  ``dfm``: the dynamic factor model for
the months from the first unpublished one to the end of ``P``'s quarter, each origin's row keeping the EM
convergence and the news against the previous origin (the data as they stood one month earlier, with this
origin's parameters): which releases moved the nowcast and by how much.

*Target odds.*  For every target of ``P``'s year on a year-to-date rate (``.../ytd_yoy``) and every region
with the official series, the probability that December's value meets it (the ``monthly`` method where
the month-by-month rate is published, e.g. ``iva/yoy`` for ``iva/ytd_yoy``; else ``ytd``).  Annual
indicators without monthly data (shares, energy intensity) are skipped and listed.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .forecasts import series_history
from .periods import month_text
from .reference import CITY_CODE, region_series_key
from .settings import Settings
from .store import Store, forecast_queries
from .store import forecasts as forecasts_q
from .store import monitoring as monitoring_q
from .textout import first_failure

__all__ = ["NowcastReport", "OddsReport", "nowcast_accuracy", "nowcast_target", "read_nowcasts", "read_target_odds",
           "target_odds"]

log = logging.getLogger(__name__)


@dataclass
class NowcastReport:
    """What a nowcast run did."""

    origin: str
    stored: dict[str, str] = field(default_factory=dict)  # region -> "period mean [lo, hi]"
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        text = (f"nowcasts from {self.origin}: {len(self.stored)} region(s) stored, {len(self.skipped)} skipped, "
                f"{len(self.failed)} failed in {self.seconds:.1f} s")
        for region, why in self.skipped.items():
            text += f"; {region} skipped: {why}"
        for region, what in self.stored.items():
            text += f"; {region}: {what}"
        text += first_failure(self.failed)
        return text


@dataclass
class OddsReport:
    """What a target-odds run did."""

    origin: str
    stored: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        text = (f"target odds from {self.origin}: {self.stored} stored, {len(self.skipped)} skipped, "
                f"{len(self.failed)} failed in {self.seconds:.1f} s")
        text += first_failure(self.failed)
        return text


def _keys(text: str) -> list[str]:
    return [k.strip() for k in text.split(",") if k.strip()]


def _official(store: Store, series: list[str], known_by: pd.Period) -> pd.DataFrame:
    """Monthly official values (series, region, period, value) published by ``known_by``."""
    return monitoring_q.official_series(store, series=series, until=str(known_by), monthly=True)


def _input(store: Store, key: str, origin: pd.Period) -> pd.Series:
    return series_history(store, key, origin) - _offset(key)


def _offset(key: str) -> float:
    """What :func:`_input` subtracted from a series (50 for diffusion indices)."""
    return 50.0 if key.startswith("pmi/") else 0.0


def nowcast_target(store: Store, settings: Settings, origin: pd.Period) -> NowcastReport:
    """Nowcast ``nowcast.target`` for each region of ``nowcast.regions`` from ``origin``; store the results."""
    from forecasting.nowcast import MIN_TARGET_OBS

    t0 = time.perf_counter()
    report = NowcastReport(month_text(origin))
    target = settings["nowcast.target"]
    lag = settings["nowcast.official_lag"]
    known, known_before = origin - lag, origin - lag - 1
    official_now = _official(store, [target], known)
    regions = [CITY_CODE]
    if settings["nowcast.regions"] == "all":
        regions += sorted(set(official_now["region"]) - {CITY_CODE})
    quarter_end = pd.Period(origin.asfreq("Q").end_time, "M")
    created = dt.datetime.now().replace(microsecond=0)
    rows = []
    for region in regions:
        try:
            data: dict[str, pd.Series] = {}
            for key in _keys(settings["nowcast.inputs"]):
                s = _input(store, region_series_key(key, region), origin)
                if s.notna().sum() >= 36:
                    data[key] = s
            t = official_now[(official_now["region"] == region)]
            y = pd.Series(t["value"].to_numpy(float), index=pd.PeriodIndex(t["period"], freq="M"))
            if not data or len(y) < MIN_TARGET_OBS:
                report.skipped[region] = (f"needs {MIN_TARGET_OBS} published months of {target} and an input "
                                          f"with 36 months of history; has {len(y)} and {len(data)} input(s)")
                continue
            if settings["nowcast.method"] == "bridge":
                got = _bridge_rows(data, y, origin, target, region, report.origin, created)
            else:
                got = _dfm_rows(data, y, origin, known_before, quarter_end, target, region, report, created,
                                settings["nowcast.maxiter"])
            rows += got
            first = got[0]
            report.stored[region] = (f"{first['period']} {first['mean']:.1f} [{_fmt(first['lower_80'])}, "
                                     f"{_fmt(first['upper_80'])}] ({first['model']}"
                                     + (")" if first["converged"] else ", EM not converged)"))
        except Exception as exc:  # one region failing does not stop the others
            report.failed[region] = f"{type(exc).__name__}: {exc}"
            log.warning("nowcast %s %s from %s failed: %s", target, region, origin, exc)
    forecast_queries.replace_nowcasts(store, report.origin, target, list(report.stored), rows)
    report.seconds = time.perf_counter() - t0
    return report



def _bridge_rows(data: dict[str, pd.Series], y: pd.Series, origin: pd.Period, target: str, region: str,
                 origin_text: str, created: dt.datetime) -> list[dict[str, object]]:
    """The origin month's nowcast by the bridge equations chosen out of sample (:func:`forecasting.bridge`)."""
    from forecasting.bridge import select_nowcast
    from forecasting.calendar import working_days

    frame = pd.DataFrame(data).sort_index().loc[:origin]
    span = pd.period_range(min(y.index.min(), frame.index.min()), origin, freq="M")
    days = working_days(span, warn=False)
    # growth-rate inputs (electricity growth) are peers of the target: their gap to it enters the peer_* candidates
    peers = [k for k in frame.columns if _offset(k) == 0.0]
    result = select_nowcast(y.sort_index(), frame, origin, working_days=days, peers=peers)
    # what moved it: each regressor's contribution to the change since the last published value
    news = json.dumps([{**_news_source(label, target, origin, result.last_published), "actual": None,
                        "expected": None, "weight": None, "impact": round(value, 6)}
                       for label, value in result.contributions.items()], ensure_ascii=False)
    model = f"bridge:{result.method}"[:40]
    return [{"series_key": target, "region": region, "origin": origin_text, "period": str(origin), "model": model,
             "mean": result.mean, "lower_80": _finite(result.lo.get(80.0)), "upper_80": _finite(result.hi.get(80.0)),
             "lower_95": _finite(result.lo.get(95.0)), "upper_95": _finite(result.hi.get(95.0)), "previous": None,
             "converged": True, "iterations": None, "log_likelihood": None,
             "inputs": json.dumps(list(frame.columns), ensure_ascii=False), "news": news, "created_at": created}]


def _news_source(label: str, target: str, origin: pd.Period, last: pd.Period) -> dict[str, str]:
    """The series and month behind a bridge regressor (``d:pmi/headline`` -> the PMI of the origin)."""
    if ":" in label:
        kind, key = label.split(":", 1)
        period = {"d": str(origin), "gap": str(last)}.get(kind, f"{origin} / {origin - 12}")
        return {"series": key, "period": period}
    if "[-" in label:
        key, lag = label[:-1].split("[-")
        return {"series": key, "period": str(origin - int(lag))}
    period = {"own": str(last), "base": f"{origin - 12}", "base2": f"{origin - 24}", "wd": str(origin), "gap12": str(last),
              "level": str(last)}.get(label, str(origin))
    return {"series": target if label != "wd" else "working days", "period": period}


def _fmt(v: object) -> str:
    """A stored bound to one decimal; ``-`` when there is none."""
    return f"{v:.1f}" if isinstance(v, (int, float)) else "-"


def _finite(v: float | None) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def _dfm_rows(data: dict[str, pd.Series], y: pd.Series, origin: pd.Period, known_before: pd.Period,
              quarter_end: pd.Period, target: str, region: str, report: NowcastReport, created: dt.datetime,
              maxiter: int) -> list[dict[str, object]]:
    """The dynamic factor model's nowcasts from the origin to the end of its quarter, with the news."""
    from forecasting import nowcast

    frame = pd.DataFrame(data)
    frame[target] = y
    frame = frame.sort_index().loc[:origin]
    frame = frame.reindex(pd.period_range(frame.index[0], origin, freq="M"))
    # the data one month earlier: inputs to origin-1, the target to its previous release
    previous = frame.loc[: origin - 1].copy()
    previous.loc[previous.index > known_before, target] = np.nan
    extra = (quarter_end - origin).n
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = nowcast(frame, target, previous=previous, periods=extra, maxiter=maxiter)
    for w in caught:
        if "Nowcast" in type(w.message).__name__:
            report.notes.append(f"{region}: {w.message}")
    inputs = json.dumps(list(result.inputs), ensure_ascii=False)
    rows = []
    for period, row in result.frame.iterrows():
        news = None
        if result.news is not None:
            part = result.news[result.news["period"] == period]
            # in the series' own units: PMI indices entered the model as deviations from 50
            news = json.dumps([{"series": r.series, "period": str(r.update_period),
                                "actual": round(r.actual + _offset(r.series), 4),
                                "expected": round(r.expected + _offset(r.series), 4),
                                "weight": round(r.weight, 6), "impact": round(r.impact, 6)}
                               for r in part.itertuples()], ensure_ascii=False)
        prev = result.previous.get(period) if result.previous is not None else None
        rows.append({"series_key": target, "region": region, "origin": report.origin, "period": str(period),
                     "model": f"dfm{len(data)}", "mean": float(row["mean"]),
                     "lower_80": float(row["lo-80"]), "upper_80": float(row["hi-80"]),
                     "lower_95": float(row["lo-95"]), "upper_95": float(row["hi-95"]),
                     "previous": None if prev is None or not np.isfinite(prev) else float(prev),
                     "converged": bool(result.converged), "iterations": result.iterations,
                     "log_likelihood": float(result.llf), "inputs": inputs, "news": news,
                     "created_at": created})
    for note in result.notes:
        log.info("nowcast %s %s: %s", target, region, note)
    return rows


def _odds_job(kwargs: dict[str, Any]) -> Any:
    """One target's odds (in a worker process): the :class:`forecasting.Attainment`, or the error as text."""
    from forecasting import target_attainment

    args = dict(kwargs)
    args["rng"] = np.random.default_rng(list(args.pop("seed")))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return target_attainment(**args)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def _map_odds(jobs: list[dict[str, Any]], workers: int) -> list[Any]:
    """:func:`_odds_job` over ``jobs`` in ``workers`` processes (here for one worker or a few jobs)."""
    if workers <= 1 or len(jobs) < 8:
        return [_odds_job(j) for j in jobs]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_odds_job, jobs))


def target_odds(store: Store, settings: Settings, origin: pd.Period, *, workers: int | None = None) -> OddsReport:
    """Probability of meeting each ytd target of ``origin``'s year, per region; stored in ``target_odds``.

    The targets are computed in ``workers`` processes (default ``forecast.workers``); each draws from its own
    stream of ``odds.seed``, so the odds do not depend on the number of processes.
    """
    t0 = time.perf_counter()
    report = OddsReport(month_text(origin))
    known = origin - settings["nowcast.official_lag"]
    targets = monitoring_q.targets(store, year=origin.year)
    if targets.empty:
        report.skipped["*"] = f"no target for {origin.year}"
    monthly_of = {ind: ind[: -len("ytd_yoy")] + "yoy" for ind in targets["indicator"].unique()
                  if ind.endswith("ytd_yoy")}
    official = _official(store, sorted(set(monthly_of) | set(monthly_of.values())), known)
    grouped = {key: g for key, g in official.groupby(["series", "region"])}

    def series(name: str, region: str) -> pd.Series | None:
        g = grouped.get((name, region))
        if g is None or g.empty:
            return None
        return pd.Series(g["value"].to_numpy(float), index=pd.PeriodIndex(g["period"], freq="M")).sort_index()

    created = dt.datetime.now().replace(microsecond=0)
    jobs: list[tuple[str, Any, dict[str, object]]] = []  # (label, the target row of itertuples, odds arguments)
    for rec in targets.sort_values(["indicator", "region"]).itertuples(index=False):
        label = f"{rec.indicator} {rec.region}"
        if rec.indicator not in monthly_of:
            report.skipped[label] = "annual indicator without monthly data"
            continue
        ytd = series(rec.indicator, rec.region)
        if ytd is None or not (ytd.index.year == origin.year).any():
            report.skipped[label] = f"no year-to-date value of {origin.year} published by {known}"
            continue
        # each target its own stream of the seed: the same odds whichever process computes them
        jobs.append((label, rec, {
            "year": origin.year, "origin": known if known.year == origin.year else origin, "target": float(rec.value),
            "comparison": rec.comparison, "ytd": ytd, "monthly": series(monthly_of[rec.indicator], rec.region),
            "simulations": settings["odds.simulations"], "seed": (settings["odds.seed"], len(jobs)),
            "models": tuple(_keys(settings["odds.models"]))}))
    workers = settings["forecast.workers"] if workers is None else workers
    outcomes = _map_odds([kw for _l, _r, kw in jobs], workers)
    rows = []
    for (label, rec, _kw), odds in zip(jobs, outcomes, strict=True):
        if isinstance(odds, str):
            report.failed[label] = odds
            log.warning("target odds %s from %s failed: %s", label, origin, odds)
            continue
        rows.append({"year": origin.year, "indicator": rec.indicator, "region": rec.region, "origin": report.origin,
                     "comparison": rec.comparison, "target": float(rec.value), "ytd": odds.ytd,
                     "required": odds.required, "expected": odds.expected, "lower_80": odds.lower_80,
                     "upper_80": odds.upper_80, "probability": odds.probability, "method": odds.method,
                     "simulations": odds.simulations, "created_at": created})
    forecast_queries.replace_target_odds(store, report.origin, origin.year, rows)
    report.stored = len(rows)
    report.seconds = time.perf_counter() - t0
    return report


def read_nowcasts(store: Store, origin: pd.Period | str | None = None) -> pd.DataFrame:
    """Stored nowcasts (all origins, or one), newest origin first."""
    return forecasts_q.nowcast_rows(store, str(origin) if origin is not None else None)


def read_target_odds(store: Store, origin: pd.Period | str | None = None) -> pd.DataFrame:
    """Stored target-attainment probabilities (all origins, or one)."""
    return forecasts_q.target_odds_rows(store, str(origin) if origin is not None else None)


def nowcast_accuracy(store: Store) -> pd.DataFrame:
    """Stored nowcasts against the official figures published since.

    Returns
    -------
    pandas.DataFrame
        One row per series, region and lead (``months ahead``: 0 for the nowcast of the origin month itself,
        1 for the next month, ...): ``n`` nowcasts with an outcome, mean absolute error ``mae``, and the share
        of outcomes inside the 80 % interval.
    """
    columns = ["series_key", "region", "horizon", "n", "mae", "coverage_80"]
    stored, official = forecasts_q.nowcast_outcomes(store)
    if stored.empty:
        return pd.DataFrame(columns=columns)
    joined = stored.merge(official, on=["series_key", "region", "period"])
    if joined.empty:
        return pd.DataFrame(columns=columns)
    joined["horizon"] = [(pd.Period(p, "M") - pd.Period(o, "M")).n for p, o in zip(joined["period"], joined["origin"])]
    joined["err"] = (joined["value"] - joined["mean"]).abs()
    joined["in80"] = joined["value"].between(joined["lower_80"], joined["upper_80"])
    out = joined.groupby(["series_key", "region", "horizon"]).agg(n=("err", "size"), mae=("err", "mean"),
                                                                  coverage_80=("in80", "mean"))
    return out.reset_index()
