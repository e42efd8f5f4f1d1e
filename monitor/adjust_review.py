"""The annual review of seasonal factors: re-estimate once a year, project the coming year, report revisions.

The ISM / national practice (METHODOLOGY 8 item 5): every January the factors are re-estimated with the full
history to December of the previous year, the seasonal and calendar factors of the coming twelve months are
projected, the adjusted history is revised once, and the months of the new year are published as raw minus
(or divided by) the projected factor (``adjust.policy = projected``).  :func:`review_year` does that and
returns the revisions report; the monthly runs live in :mod:`monitor.adjust`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .adjust import (
    MIN_OBSERVATIONS,
    AdjustError,
    AdjustReport,
    Progress,
    _complete,
    _engine_options,
    _Fit,
    _plan,
    _rebuild_headlines,
    _record,
    _run_tasks,
    _shock_outliers,
    _skip,
    _Task,
    _write,
    adjustment_policy,
)
from .settings import Settings
from .store import Store
from .store.vintages import as_of_limit, as_vintage, new_vintage

__all__ = ["ReviewReport", "review_year"]

log = logging.getLogger(__name__)


@dataclass
class ReviewReport:
    """The annual review: the run and its revisions report.

    Attributes
    ----------
    year
        The year whose factors were projected.
    report
        The :class:`AdjustReport` of the review run.
    revisions
        One row per series and month: ``series, period, old_sa, new_sa, revision`` (``new - old``; NaN
        where nothing was published before). Months of ``year`` carry the projected adjustment.
    """

    year: int
    report: AdjustReport
    revisions: pd.DataFrame


# ------------------------------------------------------------------------------------------------ worker
def review_year(
    store: Store,
    settings: Settings,
    year: int,
    *,
    pattern: str | Sequence[str] = "*",
    as_of: dt.date | dt.datetime | str | None = None,
    vintage: dt.datetime | dt.date | None = None,
    processes: int | None = None,
    write: bool = True,
    progress: Progress | None = None,
) -> ReviewReport:
    """The annual review: re-estimate with data to December of ``year - 1``, project the factors for ``year``.

    Every adjusted series is re-estimated (X-13, X-11) on its raw values up to December of
    ``year - 1``; its adjusted history is revised, and the combined seasonal and calendar factors X-13
    projects for January-December of ``year`` (table D16 with ``appendfcst``) are stored in
    ``series_adjustment.factors`` (``kind = 'review'``). Months of ``year`` already in the store are
    adjusted with those factors. Headlines are rebuilt from the revised components. With
    ``adjust.policy = 'projected'``, :func:`adjust_series` then adjusts the new months of ``year`` with
    the stored factors.

    Parameters
    ----------
    store, settings
        As for :func:`adjust_series`.
    year
        The year whose factors are projected (``imon adjust --review 2018`` reviews with data to 2017-12).
    pattern, as_of, processes, progress
        As for :func:`adjust_series`.
    vintage
        Vintage of what is written (default today).
    write
        ``False`` computes the revisions report without storing anything.

    Returns
    -------
    ReviewReport
        The run and the revisions report (``series, period, old_sa, new_sa, revision``).

    Raises
    ------
    AdjustError
        When ``year`` is not a plausible year.
    """
    t0 = time.perf_counter()
    if not isinstance(year, (int, np.integer)) or not 1990 <= int(year) <= 2100:
        raise AdjustError(f"review year must be a year like 2018; got {year!r}")
    year = int(year)
    vintage = new_vintage() if vintage is None else as_vintage(vintage)
    as_of_date = as_of_limit(as_of)
    method, arima = _engine_options(settings)
    processes = settings["adjust.processes"] if processes is None else max(1, int(processes))
    report = AdjustReport(vintage, "review")
    plan = _plan(store, pattern, as_of_date, report)
    cut = pd.Period(f"{year - 1}-12", "M")
    months = pd.period_range(f"{year}-01", f"{year}-12", freq="M")
    fits: list[_Fit] = []
    tasks: list[_Task] = []
    raws: dict[str, pd.Series] = {}
    for key in plan.series:
        raw = _complete(plan.data[key]["raw"]) if key in plan.data else pd.Series(dtype=float)
        raws[key] = raw
        history = _complete(raw[raw.index <= cut]) if len(raw) else raw
        if int(history.notna().sum()) < MIN_OBSERVATIONS:
            fits.append(_skip(key, history, "review", f"the review of {year} (data to {cut})"))
            continue
        mode = str(adjustment_policy(key).treatment)
        tasks.append(_Task(key, str(history.index[0]), tuple(history.to_numpy(float)), mode, method, arima, year,
                           _shock_outliers(history)))
    fits += _run_tasks(tasks, processes, progress)
    for fit in fits:
        fit.row["kind"] = "review"
        if fit.status == "ok" and fit.factors:
            raw = raws[fit.key].dropna()
            f = pd.Series(fit.factors, dtype=float)
            f.index = pd.PeriodIndex(f.index, freq="M")
            inyear = raw.index.intersection(months)
            proj = raw[inyear] - f[inyear] if fit.row.get("mode") == "additive" else raw[inyear] / f[inyear]
            fit.sa.update({str(p): float(v) for p, v in proj.items()})
            fit.row["notes"] = "\n".join(filter(None, [
                f"annual review of {year}: estimated with data to {cut}; factors projected for {months[0]}..{months[-1]}",
                str(fit.row.get("notes") or "")]))
    _record(fits, report)
    # headlines from the revised components (this run's values, else the stored ones)
    sa_new = {f.key: pd.Series(f.sa, index=pd.PeriodIndex(list(f.sa), freq="M"), dtype=float)
              for f in fits if f.status == "ok"}
    sa_now = {k: d["sa"] for k, d in plan.data.items()}
    sa_now.update(sa_new)
    raw_now = {k: d["raw"].loc[d.index <= months[-1]] for k, d in plan.data.items()}
    heads = _rebuild_headlines(plan.headlines, {k: v.loc[v.index <= months[-1]] for k, v in sa_now.items()},
                               raw_now, report.failed, "review", report.skipped)
    _record(heads, report, rebuilt=True)
    revisions = _revisions([*fits, *heads], plan.data)
    if write:
        _write(store, [*fits, *heads], vintage, "review", {}, report)
    report.seconds = time.perf_counter() - t0
    log.info(report.summary())
    return ReviewReport(year, report, revisions)


def _revisions(fits: Sequence[_Fit], data: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    frames = []
    for fit in fits:
        if fit.status != "ok" or not fit.sa:
            continue
        new = pd.Series(fit.sa, dtype=float)
        new.index = pd.PeriodIndex(new.index, freq="M")
        old = data[fit.key]["sa"].reindex(new.index) if fit.key in data else pd.Series(np.nan, index=new.index)
        frames.append(pd.DataFrame({"series": fit.key, "period": new.index, "old_sa": old.to_numpy(float),
                                    "new_sa": new.to_numpy(float)}))
    if not frames:
        return pd.DataFrame({"series": pd.Series(dtype=str), "period": pd.Series(dtype="period[M]"),
                             "old_sa": pd.Series(dtype=float), "new_sa": pd.Series(dtype=float),
                             "revision": pd.Series(dtype=float)})
    out = pd.concat(frames, ignore_index=True)
    out["revision"] = out["new_sa"] - out["old_sa"]
    return out.sort_values(["series", "period"]).reset_index(drop=True)
