"""The stage API: one function per stage of the monthly cycle, one report shape, one way to run them.

Every stage is a function ``stage(store, settings, period, **options) -> StageReport`` listed in :data:`STAGES`
(``collect``, ``compute``, ``adjust``, ``forecast``, ``publish``, ``alerts``); :data:`MONTHLY_STAGES` is the
monthly chain, in order.  The command line, the scheduler, the demo runner (:mod:`monitor.demo.runner`) and
notebooks all go through :func:`run_stage`, which records every run in the job history (``job_run``,
``imon schedule history``).  Each stage honours its ``period``: it uses the data up to that month, so re-running a
past month reproduces it (vintages keep what was published before).  One failing stage is recorded and reported;
the stages after it still run when they can.

Where the heavy work runs is decided here, by ``compute.engine`` (:func:`monitor.engine.open_engine`): the adjust
and forecast stages open a local process pool or a Dask cluster and hand it to the functions they call, which
gather the results and write them from this process; with ``dask`` the compute stage's electricity sums come from
the Parquet archive (:mod:`monitor.engine.electricity`).  Nothing else changes (``docs/scale-out.md``).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .exceptions import ConfigError, MonitorError
from .settings import Settings
from .store import Store
from .store.jobs import record_run as _record
from .store.survey import survey_month_span

__all__ = ["MONTHLY_STAGES", "STAGES", "Stage", "StageReport", "adjust_stage", "alerts_stage", "collect_stage",
           "compute_stage", "forecast_stage", "publish_stage", "record_run", "run_stage"]

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class StageReport:
    """What one stage run did: the same shape for every stage.

    Attributes
    ----------
    name
        The stage (``collect``, ``compute``, ...).
    status
        ``ok``, ``skipped`` (nothing to do) or ``failed`` (some or all of its work failed; see ``message``).
    message
        One line for the job history and the logs.
    seconds
        Wall time of the run (set by :func:`run_stage`).
    items_ok, items_failed
        Units of work done and failed (values, series, files, publications or rules, by stage).
    period
        The month the stage ran for (None when a command gave no period).
    detail
        The stage's own account for a caller that prints more (e.g. the command line): a
        :class:`~monitor.compute.ComputeReport`, an :class:`~monitor.adjust.AdjustReport`, the
        :class:`~monitor.ingest.FileOutcome` list, ... (None when skipped).
    """

    name: str
    status: str  # ok | skipped | failed
    message: str = ""
    seconds: float = 0.0
    items_ok: int = 0
    items_failed: int = 0
    period: pd.Period | None = None
    detail: Any = None

    @property
    def ok(self) -> bool:
        """True unless the stage failed."""
        return self.status != "failed"


Stage = Callable[..., StageReport]


def collect_stage(store: Store, settings: Settings, period: pd.Period | None, *,
                  paths: Sequence[Path] | None = None, dry_run: bool = False, force: bool = False,
                  progress: Progress | None = None) -> StageReport:
    """Ingest the month's input files: ``paths``, or by default the folder ``<inbox>/<YYYY-MM>`` of ``period``.

    Skipped when that folder does not exist.  Fails when a file was refused whole; rejected rows are counted in
    the files' outcomes (``detail``) and in ``imon collect report``.
    """
    from .ingest import collect_paths

    if paths is None:
        if period is None:
            raise ConfigError("the collect stage needs a period (its inbox folder) or paths")
        folder = settings.inbox_dir / str(period)
        if not folder.is_dir():
            return StageReport("collect", "skipped", f"no inbox folder {folder}", detail=[])
        paths = [folder]
    outcomes = collect_paths(store, settings, paths, dry_run=dry_run, force=force, progress=progress)
    by_status: dict[str, int] = {}
    for o in outcomes:
        by_status[o.status] = by_status.get(o.status, 0) + 1
    failed = by_status.get("failed", 0)
    message = (f"{len(outcomes)} file(s): " + ", ".join(f"{n} {s}" for s, n in sorted(by_status.items()))
               + f"; {sum(o.rows_new for o in outcomes):,} new or changed rows, "
               f"{sum(o.rows_rejected for o in outcomes):,} rejected, {sum(o.warnings for o in outcomes):,} warnings")
    return StageReport("collect", "failed" if failed else "ok", message, items_ok=len(outcomes) - failed,
                       items_failed=failed, detail=outcomes)


def compute_stage(store: Store, settings: Settings, period: pd.Period, *, first: pd.Period | None = None
                  ) -> StageReport:
    """Compute every indicator for the months ``first``..``period`` (default: from the first surveyed month).

    Only values that changed make new vintages.
    """
    from .compute import compute_range

    if first is None:
        earliest, _ = survey_month_span(store)
        if earliest is None:
            return StageReport("compute", "skipped", "no survey answers in the store")
        first = pd.Period(earliest, "M")
    report = compute_range(store, settings, first, period)
    detail = ", ".join(f"{k} {v:,}" for k, v in report.written.items())
    message = f"{report.first}..{report.last}: {report.total:,} values new or changed ({detail})"
    if report.failed:
        return StageReport("compute", "failed", message + "; failed: " + "; ".join(
            f"{k}: {v}" for k, v in report.failed.items()), items_ok=report.total, items_failed=len(report.failed),
            detail=report)
    return StageReport("compute", "ok", message, items_ok=report.total, detail=report)


def adjust_stage(store: Store, settings: Settings, period: pd.Period | None, *, pattern: str | Sequence[str] = "*",
                 force: bool = False, progress: Progress | None = None) -> StageReport:
    """Seasonally adjust every series the policy adjusts on the data up to ``period`` (None: all the data).

    Unchanged series are not re-estimated.
    """
    from .adjust import adjust_series
    from .engine import open_engine

    with open_engine(settings, workers=settings["adjust.processes"]) as engine:  # compute.engine: here or Dask
        report = adjust_series(store, settings, pattern=pattern, force=force, until=period, progress=progress,
                               engine=engine)
    status = "ok" if report.ok else "failed"
    return StageReport("adjust", status, report.summary(), items_ok=len(report.adjusted) + len(report.rebuilt),
                       items_failed=len(report.failed), detail=report)


def forecast_stage(store: Store, settings: Settings, period: pd.Period, *, nowcast: bool = True,
                   keys: Sequence[str] | None = None, track: bool = True, reidentify: bool = False) -> StageReport:
    """Forecast the configured and key series from ``period`` (``keys``: only these), nowcast the official
    target, the odds of the annual targets and the composite leading indicators (``nowcast=False``: only the
    forecasts); first fill in the past origins of the track record (``forecast.track_months``; ``track=False``
    or ``keys``: not) and store the track record as of ``period``.  ``reidentify``: identify the default
    forecaster's series afresh instead of re-using their stored specifications.  One failing part is recorded,
    the others still run.  ``detail`` maps ``track``, ``forecast``, ``nowcast``, ``odds``, ``leading`` to their reports."""
    from .engine import open_engine
    from .forecasts import forecast_series
    from .leading import build_leading
    from .nowcasts import nowcast_target, target_odds
    from .track_record import fill_past_origins, store_skill

    reports: dict[str, Any] = {}
    with open_engine(settings, workers=settings["forecast.workers"]) as engine:  # compute.engine: here or Dask
        remote = engine if engine.name == "dask" else None  # locally the forecast modules keep their own pools
        if track and keys is None:
            reports["track"] = fill_past_origins(store, settings, period, nowcasts=nowcast, engine=remote)
        reports["forecast"] = forecast_series(store, settings, period, keys=None if keys is None else list(keys),
                                              engine=remote, reidentify=reidentify)
    if nowcast and keys is None:
        reports["nowcast"] = nowcast_target(store, settings, period)
        reports["odds"] = target_odds(store, settings, period)
        reports["leading"] = build_leading(store, settings, period)
    store_skill(store, settings, period)
    failed = sum(len(r.failed) for r in reports.values())
    ok = sum(len(r.stored) if isinstance(r.stored, dict) else r.stored for r in reports.values())
    return StageReport("forecast", "failed" if failed else "ok", "; ".join(r.summary() for r in reports.values()),
                       items_ok=ok, items_failed=failed, detail=reports)


def publication_periods(period: pd.Period) -> list[tuple[str, str]]:
    """The four publications of a month: (kind, period) of the PMI release and operation report of the month,
    the dispatch report of the last complete quarter and the annual summary of the last complete year."""
    quarter = pd.Period(period, "Q") if period.month % 3 == 0 else pd.Period(period, "Q") - 1
    year = period.year if period.month == 12 else period.year - 1
    return [("pmi", str(period)), ("operations", str(period)), ("dispatch", f"{quarter.year}Q{quarter.quarter}"),
            ("annual", str(year))]


def publish_stage(store: Store, settings: Settings, period: pd.Period, *, kinds: Sequence[str] | None = None,
                  lang: str | None = None, final: bool = False, correct: str | None = None,
                  formats: str | None = None, out_dir: Path | None = None) -> StageReport:
    """Write the publications of ``period``.

    By default drafts of the four publications of the month (:func:`publication_periods`), in the configured
    language and then in the other one (zh and en).  With ``kinds``, those publications of ``period`` itself (a
    month, a quarter ``2026Q3`` or a year), in ``lang`` (default the configured language), ``final`` or
    ``correct``-ed as asked.  One publication failing is reported; the others are still written.  ``detail`` holds
    ``results`` (:class:`~monitor.publish.PublicationResult` list) and ``errors`` ((kind, period, lang, error)
    list).
    """
    from .publish import publish
    from .publish.check import check_publication

    if kinds is None:
        jobs = publication_periods(period)
        first = settings["language"] if settings["language"] in ("zh", "en") else "zh"
        langs = [first, "en" if first == "zh" else "zh"]
    else:
        jobs = [(kind, str(period)) for kind in kinds]
        langs = [lang or settings["language"]]
    done, results, errors, audits = [], [], [], []
    for language in langs:
        for kind, when in jobs:
            try:
                result = publish(store, settings, kind, when, lang=language, final=final, correct=correct,
                                 formats=formats, out_dir=out_dir)
            except MonitorError as exc:
                errors.append((kind, when, language, exc))
                continue
            results.append(result)
            done.append(f"{kind} {when} {language} {result.seconds['total']:.1f} s")
            if kinds is None and any(f.suffix == ".html" for f in result.files):
                # the demo and the monthly chain audit what they write (imon publish check, issue 13)
                audit = check_publication(store, settings, kind, when, lang=language)
                if not audit.ok:
                    audits.append(f"{kind} {when} {language}: {len(audit.findings)} failed, first "
                                  f"{audit.findings[0].line()}")
    where = out_dir or settings.outputs_dir / "publications"
    message = f"{len(done)} publications written ({', '.join(done)}) in {where}"
    if kinds is None and done:
        message += "; audit (imon publish check): " + ("all passed" if not audits else "; ".join(audits))
    detail = {"results": results, "errors": errors}
    if errors:
        failed = "; ".join(f"{k} {w} {lg}: {e}" for k, w, lg, e in errors)
        return StageReport("publish", "failed", message + "; failed: " + failed, items_ok=len(done),
                           items_failed=len(errors), detail=detail)
    return StageReport("publish", "ok", message, items_ok=len(done), detail=detail)


def alerts_stage(store: Store, settings: Settings, period: pd.Period | None, *, send: bool = True,
                 wait: float | None = None, kinds: tuple[str, ...] | None = None, today: dt.date | None = None
                 ) -> StageReport:
    """Evaluate the early-warning rules on the data up to ``period`` (None: all the data) and send the digests
    owed; ``kinds`` limits the rules (survey close), ``wait`` is how long to wait for a running scan."""
    from .alerts import run_scan
    from .alerts.scan import DEFAULT_WAIT

    report = run_scan(store, settings, period=period, send=send, kinds=kinds, today=today,
                      wait=DEFAULT_WAIT if wait is None else wait)
    status = "failed" if report.failed else "ok"
    return StageReport("alerts", status, report.summary(), items_ok=sum(report.findings.values()),
                       items_failed=len(report.failed), detail=report)


#: Every stage by name.
STAGES: dict[str, Stage] = {"collect": collect_stage, "compute": compute_stage, "adjust": adjust_stage,
                            "forecast": forecast_stage, "publish": publish_stage, "alerts": alerts_stage}

#: The monthly cycle: (name, function), run in order.  The early-warning scan judges what every other stage
#: produced, so it stays last.
MONTHLY_STAGES: list[tuple[str, Stage]] = [(name, STAGES[name]) for name in
                                           ("collect", "compute", "adjust", "forecast", "publish", "alerts")]


def record_run(store: Store, name: str, period: pd.Period | str | None, started: dt.datetime,
               report: StageReport) -> None:
    """Write one row of the job history for a run that is over."""
    _record(store, name, str(period) if period is not None else None, started, status=report.status,
            items_ok=report.items_ok, items_failed=report.items_failed, message=report.message)


def run_stage(store: Store, settings: Settings, name: str, period: pd.Period | None, *, stage: Stage | None = None,
              raise_errors: bool = False, **options: Any) -> StageReport:
    """Run one stage and record it in the job history; its failure is logged, recorded and returned.

    Parameters
    ----------
    store, settings
        The store and the effective settings.
    name
        A stage of :data:`STAGES`.
    period
        The month to run for (the stage uses the data up to it).
    stage
        Run this function under ``name`` instead of ``STAGES[name]`` (a custom chain).
    raise_errors
        Re-raise a :class:`~monitor.exceptions.MonitorError` after recording the failed run (the command line
        turns it into one line and an exit status).
    **options
        The stage's own options (``paths`` for collect, ``first`` for compute, ``pattern`` for adjust, ...).
    """
    func = stage or STAGES.get(name)
    if func is None:
        raise ConfigError(f"unknown stage {name!r}; the stages are {', '.join(STAGES)}")
    started = dt.datetime.now().replace(microsecond=0)
    t0 = time.perf_counter()
    error: MonitorError | None = None
    try:
        report = func(store, settings, period, **options)
    except MonitorError as exc:
        report, error = StageReport(name, "failed", str(exc)), exc
    except Exception as exc:
        if raise_errors:
            report = StageReport(name, "failed", f"{type(exc).__name__}: {exc}")
            report.period, report.seconds = period, time.perf_counter() - t0
            record_run(store, name, period, started, report)
            raise
        log.exception("stage %s failed for %s", name, period)
        report = StageReport(name, "failed", f"{type(exc).__name__}: {exc}")
    report.period = period
    report.seconds = time.perf_counter() - t0
    record_run(store, name, period, started, report)
    if error is not None and raise_errors:
        raise error
    return report
