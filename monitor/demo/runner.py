"""The demo runner: build (or reuse) the demo store, then run the monthly chain on its last month.

An entry like the command line and the scheduler: it calls the stages of :mod:`monitor.pipeline` through
:func:`~monitor.pipeline.run_stage` (the demo's last month arrives as input files in the inbox, which the
``collect`` stage ingests like any month's).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import DemoError
from ..ingest import FileOutcome
from ..periods import last_complete_month, parse_month
from ..pipeline import MONTHLY_STAGES, Stage, StageReport, record_run, run_stage
from ..settings import Settings
from ..store import Store, open_store
from .generator import DemoParams, check_demo_range, generate_demo
from .inbox import write_inbox
from .load import demo_status, load_demo, refuse_foreign

__all__ = ["DemoRun", "build_demo", "demo_params", "run_demo"]

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


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
    rows: dict[str, int] = field(default_factory=dict)
    inbox: Path | None = None
    stages: list[StageReport] = field(default_factory=list)

    @property
    def collected(self) -> list[FileOutcome]:
        """The files the collect stage ingested from the inbox."""
        return [o for s in self.stages if s.name == "collect" for o in (s.detail or [])]

    @property
    def collect_seconds(self) -> float:
        return sum(s.seconds for s in self.stages if s.name == "collect")

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.stages)


def build_demo(store: Store, settings: Settings, params: DemoParams, *, rebuild: bool = False,
               progress: Progress | None = None) -> DemoRun:
    """Generate and load the demo panel unless the store already holds this very build.

    The history goes straight into the store; the last month is written as real input files into
    ``<inbox>/<YYYY-MM>``, for the ``collect`` stage (re-running finds nothing new).
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
        record_run(store, "demo.build", params.end, started,
                   StageReport("demo.build", "ok", params.command(), t2 - t0, sum(run.rows.values())))
    else:
        log.info("demo store already holds %s", params.command())
    run.inbox = inbox
    return run


def run_demo(settings: Settings, *, rebuild: bool = False, progress: Progress | None = None,
             today: dt.date | None = None, stages: Sequence[tuple[str, Stage]] | None = None) -> DemoRun:
    """Build (or reuse) the demo store and run the monthly chain for its last month.

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
    stages
        The chain to run (default :data:`monitor.pipeline.MONTHLY_STAGES`).
    """
    params = demo_params(settings, today=today)
    with open_store(settings, auto_upgrade=True) as store:
        run = build_demo(store, settings, params, rebuild=rebuild, progress=progress)
        for name, stage in (MONTHLY_STAGES if stages is None else stages):
            if progress:
                progress(f"stage: {name}")
            options: dict[str, Any] = {"progress": progress} if name == "collect" else {}
            run.stages.append(run_stage(store, settings, name, params.end, stage=stage, **options))
    return run
