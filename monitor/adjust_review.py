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
from dataclasses import dataclass, field

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
    apply_factors,
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
        where nothing was published before), ``unit`` and ``relative``: the revision in that unit -- index
        ``points`` for diffusion indices and headlines, ``percent`` of the old value for levels adjusted in
        logs (kWh), so that revisions of series in different units are never averaged together. Months of
        ``year`` carry the projected adjustment.
    sliding_spans
        One row per series whose re-estimation ran X-13's sliding spans (X-11, at least ten years):
        ``series, a_pct, mm_pct, yy_pct`` -- percent of months flagged for the seasonal factors, the
        month-to-month and the year-on-year changes (Findley et al.: A% above 15 is doubtful, above 25
        unstable).
    """

    year: int
    report: AdjustReport
    revisions: pd.DataFrame
    sliding_spans: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["series", "a_pct", "mm_pct", "yy_pct"]))

    def revisions_by_unit(self) -> pd.DataFrame:
        """Revisions summarised per unit: ``unit, series, values, mean_abs, max_abs`` (in that unit)."""
        rev = self.revisions.dropna(subset=["relative"])
        if rev.empty:
            return pd.DataFrame(columns=["unit", "series", "values", "mean_abs", "max_abs"])
        size = rev["relative"].abs()
        return (rev.assign(size=size).groupby("unit")
                .agg(series=("series", "nunique"), values=("size", "size"), mean_abs=("size", "mean"),
                     max_abs=("size", "max")).reset_index())

    def summary_lines(self, largest: int = 5) -> list[str]:
        """The revisions per unit with the largest of each, and the sliding spans, for the command line."""
        lines = []
        for row in self.revisions_by_unit().itertuples():
            unit = "points" if row.unit == "points" else "% of the level"
            lines.append(f"revisions in {unit}: {row.values:,} values of {row.series} series, mean absolute "
                         f"{row.mean_abs:.2f}, largest {row.max_abs:.2f}:")
            rev = self.revisions[self.revisions["unit"] == row.unit].dropna(subset=["relative"])
            top = rev.assign(size=rev["relative"].abs()).sort_values("size", ascending=False).head(largest)
            for rec in top.itertuples():
                lines.append(f"  {rec.series} {rec.period}: {rec.old_sa:,.2f} -> {rec.new_sa:,.2f} "
                             f"({rec.relative:+.2f}{' points' if row.unit == 'points' else ' %'})")
        spans = self.sliding_spans.dropna(subset=["a_pct"])
        if len(spans):
            flagged = spans[spans["a_pct"] > 15]
            lines.append(f"sliding spans: {len(spans)} series, median A% {spans['a_pct'].median():.1f}; "
                         f"{len(flagged)} above 15 % (seasonal factors unstable){':' if len(flagged) else ''}")
            for rec in flagged.sort_values("a_pct", ascending=False).head(largest).itertuples():
                lines.append(f"  {rec.series}: A% {rec.a_pct:.1f}, MM% {rec.mm_pct:.1f}, YY% {rec.yy_pct:.1f}")
        return lines


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
                           _shock_outliers(history), sliding_spans=True))
    fits += _run_tasks(tasks, processes, progress)
    for fit in fits:
        fit.row["kind"] = "review"
        if fit.status == "ok" and fit.factors:
            raw = raws[fit.key].dropna()
            f = pd.Series(fit.factors, dtype=float)
            f.index = pd.PeriodIndex(f.index, freq="M")
            inyear = raw.index.intersection(months)
            proj = apply_factors(raw[inyear], f[inyear], str(fit.row.get("mode")))
            fit.sa.update({str(p): float(v) for p, v in proj.items()})
            fit.row["notes"] = "\n".join(filter(None, [
                f"annual review of {year}: estimated with data to {cut}; factors projected for {months[0]}..{months[-1]}",
                str(fit.row.get("notes") or "")]))
    _record(fits, report)
    # headlines from the revised components (this run's values, else the stored ones)
    # (a Series from the dict keyed by text months, re-indexed by Periods, was all NaN: every headline then
    # failed with "no adjusted values stored" right after its components were adjusted)
    sa_new = {f.key: pd.Series(list(f.sa.values()), index=pd.PeriodIndex(list(f.sa), freq="M"), dtype=float)
              for f in fits if f.status == "ok"}
    sa_now = {k: d["sa"] for k, d in plan.data.items()}
    sa_now.update(sa_new)
    raw_now = {k: d["raw"].loc[d.index <= months[-1]] for k, d in plan.data.items()}
    heads = _rebuild_headlines(plan.headlines, {k: v.loc[v.index <= months[-1]] for k, v in sa_now.items()},
                               raw_now, report.failed, "review", report.skipped)
    _record(heads, report, rebuilt=True)
    revisions = _revisions([*fits, *heads], plan.data)
    spans = pd.DataFrame([{"series": f.key, "a_pct": f.spans.get("a_pct"), "mm_pct": f.spans.get("mm_pct"),
                           "yy_pct": f.spans.get("yy_pct")} for f in fits if f.status == "ok" and f.spans],
                         columns=["series", "a_pct", "mm_pct", "yy_pct"]).astype(
        {"a_pct": float, "mm_pct": float, "yy_pct": float})
    if write:
        _write(store, [*fits, *heads], vintage, "review", {}, report)
    report.seconds = time.perf_counter() - t0
    log.info(report.summary())
    return ReviewReport(year, report, revisions, spans)


def _unit(key: str) -> str:
    """``points`` for index series, ``percent`` for levels adjusted in logs (revisions read relative to the level)."""
    mode = adjustment_policy(key).treatment
    return "percent" if mode in ("log-additive", "multiplicative") else "points"


def _revisions(fits: Sequence[_Fit], data: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    frames = []
    for fit in fits:
        if fit.status != "ok" or not fit.sa:
            continue
        new = pd.Series(list(fit.sa.values()), index=pd.PeriodIndex(list(fit.sa), freq="M"), dtype=float)
        old = data[fit.key]["sa"].reindex(new.index) if fit.key in data else pd.Series(np.nan, index=new.index)
        unit = _unit(fit.key)
        old_v, new_v = old.to_numpy(float), new.to_numpy(float)
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = 100.0 * (new_v / old_v - 1.0) if unit == "percent" else new_v - old_v
        frames.append(pd.DataFrame({"series": fit.key, "period": new.index, "old_sa": old_v, "new_sa": new_v,
                                    "unit": unit, "relative": relative}))
    columns = ["series", "period", "old_sa", "new_sa", "revision", "unit", "relative"]
    if not frames:
        return pd.DataFrame({"series": pd.Series(dtype=str), "period": pd.Series(dtype="period[M]"),
                             "old_sa": pd.Series(dtype=float), "new_sa": pd.Series(dtype=float),
                             "revision": pd.Series(dtype=float), "unit": pd.Series(dtype=str),
                             "relative": pd.Series(dtype=float)})
    out = pd.concat(frames, ignore_index=True)
    out["revision"] = out["new_sa"] - out["old_sa"]
    return out[columns].sort_values(["series", "period"]).reset_index(drop=True)
