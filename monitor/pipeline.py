"""The monthly cycle as plain functions over a store, and the demo that runs it end to end.

Every stage is a function ``stage(store, settings, period) -> StageResult``
registered in :data:`MONTHLY_STAGES`; the CLI, the scheduler and notebooks call
the same functions.  Each run is recorded in ``job_run``.  One failing stage is
recorded and reported; the stages after it still run when they can.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .demo.generator import DemoParams, check_demo_range, generate_demo
from .demo.inbox import write_inbox
from .demo.load import demo_status, load_demo, refuse_foreign
from .exceptions import DemoError, MonitorError
from .ingest import FileOutcome, collect_paths
from .periods import last_complete_month, parse_month
from .settings import Settings
from .store import Store, open_store
from .store import models as m

__all__ = ["StageResult", "Stage", "MONTHLY_STAGES", "DemoRun", "demo_params", "build_demo", "run_demo", "run_stage"]

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


@dataclass
class StageResult:
    """Outcome of one stage run."""

    name: str
    status: str  # ok | skipped | failed
    message: str = ""
    seconds: float = 0.0
    items_ok: int = 0
    items_failed: int = 0


Stage = Callable[[Store, Settings, pd.Period], StageResult]

def compute_stage(store: Store, settings: Settings, period: pd.Period) -> StageResult:
    """Compute every indicator for every surveyed month up to ``period`` (only changes make new vintages)."""
    from .compute import compute_range

    with store.engine.connect() as conn:
        first = conn.exec_driver_sql("SELECT MIN(period) FROM survey_response").scalar()
    if first is None:
        return StageResult("compute", "skipped", "no survey answers in the store")
    report = compute_range(store, settings, pd.Period(first, "M"), period)
    detail = ", ".join(f"{k} {v:,}" for k, v in report.written.items())
    message = f"{report.first}..{report.last}: {report.total:,} values new or changed ({detail})"
    if report.failed:
        return StageResult("compute", "failed", message + "; failed: " + "; ".join(
            f"{k}: {v}" for k, v in report.failed.items()), items_ok=report.total, items_failed=len(report.failed))
    return StageResult("compute", "ok", message, items_ok=report.total)


def adjust_stage(store: Store, settings: Settings, period: pd.Period) -> StageResult:
    """Seasonally adjust every series the policy adjusts (unchanged series are not re-estimated)."""
    from .adjust import adjust_series

    report = adjust_series(store, settings)
    status = "ok" if report.ok else "failed"
    return StageResult("adjust", status, report.summary(), items_ok=len(report.adjusted) + len(report.rebuilt),
                       items_failed=len(report.failed))


def forecast_stage(store: Store, settings: Settings, period: pd.Period) -> StageResult:
    """Forecast the configured and key series from ``period``, nowcast the official target, the odds of the
    annual targets and the composite leading indicators; first fill in the past origins of the track record
    (``forecast.track_months``) that have none stored, and store the track record as of ``period``."""
    from .forecasts import forecast_series
    from .leading import build_leading
    from .nowcasts import nowcast_target, target_odds
    from .track_record import fill_past_origins, store_skill

    reports = [fill_past_origins(store, settings, period), forecast_series(store, settings, period),
               nowcast_target(store, settings, period), target_odds(store, settings, period),
               build_leading(store, settings, period)]
    store_skill(store, settings, period)
    failed = sum(len(r.failed) for r in reports)
    ok = sum(len(r.stored) if isinstance(r.stored, dict) else r.stored for r in reports)
    return StageResult("forecast", "failed" if failed else "ok", "; ".join(r.summary() for r in reports),
                       items_ok=ok, items_failed=failed)


def publish_stage(store: Store, settings: Settings, period: pd.Period) -> StageResult:
    """Write drafts of the four publications for ``period`` (the PMI release and operation report of the month,
    the dispatch report of the last complete quarter, the annual summary of the last complete year), in the
    configured formats, in the configured language and then in the other one (zh and en).  One publication
    failing is reported; the others are still written."""
    from .publish import publish

    quarter = pd.Period(period, "Q") if period.month % 3 == 0 else pd.Period(period, "Q") - 1
    year = period.year if period.month == 12 else period.year - 1
    jobs = [("pmi", str(period)), ("operations", str(period)), ("dispatch", f"{quarter.year}Q{quarter.quarter}"),
            ("annual", str(year))]
    first = settings["language"] if settings["language"] in ("zh", "en") else "zh"
    done, failed = [], []
    for lang in (first, "en" if first == "zh" else "zh"):
        for kind, when in jobs:
            try:
                result = publish(store, settings, kind, when, lang=lang)
                done.append(f"{kind} {when} {lang} {result.seconds['total']:.1f} s")
            except MonitorError as exc:
                failed.append(f"{kind} {when} {lang}: {exc}")
    message = f"{len(done)} publications written ({', '.join(done)}) in {settings.outputs_dir / 'publications'}"
    if failed:
        return StageResult("publish", "failed", message + "; failed: " + "; ".join(failed), items_ok=len(done),
                           items_failed=len(failed))
    return StageResult("publish", "ok", message, items_ok=len(done))


#: The monthly cycle after the data are in: (name, function), run in order.  Later stages
#: (publish, alert) register here as they are built.
MONTHLY_STAGES: list[tuple[str, Stage]] = [("compute", compute_stage), ("adjust", adjust_stage),
                                           ("forecast", forecast_stage), ("publish", publish_stage)]


def alerts_stage(store: Store, settings: Settings, period: pd.Period) -> StageResult:
    """Evaluate the early-warning rules on the data up to ``period`` and send the digests owed (issue 8)."""
    from .alerts import run_scan

    report = run_scan(store, settings, period=period)
    status = "failed" if report.failed else "ok"
    return StageResult("alerts", status, report.summary(), items_ok=sum(report.findings.values()),
                       items_failed=len(report.failed))


# The early-warning scan judges what every other stage produced, so it stays last.
MONTHLY_STAGES.append(("alerts", alerts_stage))


def _record(store: Store, name: str, period: pd.Period | None, started: dt.datetime, result: StageResult) -> None:
    with store.begin() as conn:
        conn.execute(m.JobRun.__table__.insert().values(
            job=name, period=str(period) if period is not None else None, started_at=started,
            finished_at=dt.datetime.now().replace(microsecond=0), status=result.status,
            items_ok=result.items_ok, items_failed=result.items_failed, message=result.message[:2000],
        ))


def run_stage(store: Store, settings: Settings, name: str, stage: Stage, period: pd.Period) -> StageResult:
    """Run one stage, isolating its failure: it is logged, recorded and returned, not raised."""
    started = dt.datetime.now().replace(microsecond=0)
    t0 = time.perf_counter()
    try:
        result = stage(store, settings, period)
    except MonitorError as exc:
        result = StageResult(name, "failed", str(exc))
    except Exception as exc:
        log.exception("stage %s failed for %s", name, period)
        result = StageResult(name, "failed", f"{type(exc).__name__}: {exc}")
    result.seconds = time.perf_counter() - t0
    _record(store, name, period, started, result)
    return result


def demo_params(settings: Settings, *, today: dt.date | None = None) -> DemoParams:
    """The demo's parameters from settings, validated.

    Raises
    ------
    DemoError, PeriodError
        An end month in the future, or a start after the end.
    """
    last = last_complete_month(today)
    start = parse_month(settings["demo.start"], what="--start")
    end = parse_month(settings["demo.end"], what="--end") if settings["demo.end"] else last
    if end > last:
        raise DemoError(f"--end {end} is not a complete month yet (the last one is {last}); use --end {last} or earlier")
    if start > end:
        raise DemoError(f"--start {start} is after --end {end}; swap them")
    check_demo_range(settings["demo.enterprises"], start, end)
    return DemoParams(settings["demo.seed"], settings["demo.enterprises"], start, end)


@dataclass
class DemoRun:
    """What :func:`run_demo` did."""

    params: DemoParams
    built: bool
    store_url: str
    generator_seconds: float | None = None
    load_seconds: float | None = None
    inbox_seconds: float | None = None
    collect_seconds: float | None = None
    rows: dict[str, int] = field(default_factory=dict)
    inbox: Path | None = None
    collected: list[FileOutcome] = field(default_factory=list)
    stages: list[StageResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.status != "failed" for s in self.stages) and all(o.status != "failed" for o in self.collected)


def build_demo(store: Store, settings: Settings, params: DemoParams, *, rebuild: bool = False,
               progress: Progress | None = None) -> DemoRun:
    """Generate and load the demo panel unless the store already holds this very build, then collect its inbox.

    The history goes straight into the store; the last month is written as real input files into
    ``<inbox>/<YYYY-MM>`` and ingested through the collectors (re-running finds nothing new).
    """
    state, stored = demo_status(store)
    refuse_foreign(store, state)
    run = DemoRun(params, built=False, store_url=store.url)
    inbox = settings.inbox_dir / str(params.end)
    if not (state == "demo" and stored == params.as_dict() and not rebuild and inbox.is_dir()):
        started = dt.datetime.now().replace(microsecond=0)
        t0 = time.perf_counter()
        data = generate_demo(seed=params.seed, enterprises=params.enterprises, start=params.start, end=params.end,
                             progress=(lambda step: progress(f"generate: {step}")) if progress else None)
        t1 = time.perf_counter()
        run.rows = load_demo(store, data, until=str(params.end),
                             progress=(lambda t, n: progress(f"store: {t} {n:,} rows")) if progress else None)
        store.checkpoint()
        t2 = time.perf_counter()
        if progress:
            progress(f"inbox: writing {params.end} input files")
        inbox = write_inbox(data, settings.inbox_dir)
        run.inbox_seconds = time.perf_counter() - t2
        run.built, run.generator_seconds, run.load_seconds = True, t1 - t0, t2 - t1
        _record(store, "demo.build", params.end, started,
                StageResult("demo.build", "ok", params.command(), t2 - t0, sum(run.rows.values())))
    else:
        log.info("demo store already holds %s", params.command())
    t3 = time.perf_counter()
    run.inbox = inbox
    run.collected = collect_paths(store, settings, [inbox], progress=progress)
    run.collect_seconds = time.perf_counter() - t3
    return run


def run_demo(settings: Settings, *, rebuild: bool = False, progress: Progress | None = None,
             today: dt.date | None = None) -> DemoRun:
    """Build (or reuse) the demo store and run every monthly stage for its last month.

    Parameters
    ----------
    settings
        Effective settings (``demo.*``, ``store.url``/``data_dir``).
    rebuild
        Regenerate even when the store already holds this build.
    progress
        Called with a short description of each step.
    today
        Reference date for "the last complete month" (tests pin it).
    """
    params = demo_params(settings, today=today)
    with open_store(settings, auto_upgrade=True) as store:
        run = build_demo(store, settings, params, rebuild=rebuild, progress=progress)
        for name, stage in MONTHLY_STAGES:
            if progress:
                progress(f"stage: {name}")
            run.stages.append(run_stage(store, settings, name, stage, params.end))
    return run
