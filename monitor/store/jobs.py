"""The job history (``job_run``): one row per stage run and per scheduled run.

A scheduled run first claims its key (job, scheduled time): the unique constraint makes a second claim fail, so a
run is never made twice; a run interrupted by a crash is found and claimed again at the next start.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Table, and_, select, update
from sqlalchemy.exc import IntegrityError

from . import models as m
from .core import Store

__all__ = ["record_run", "claim_run", "finish_run", "interrupt_runs", "job_history"]

_RUN: Table = m.JobRun.__table__  # type: ignore[assignment]


def record_run(store: Store, job: str, period: str | None, started: dt.datetime, *, status: str, items_ok: int,
               items_failed: int, message: str) -> None:
    """Write one row of the job history for a run that is over."""
    with store.begin() as conn:
        conn.execute(_RUN.insert().values(
            job=job, period=period, started_at=started, finished_at=dt.datetime.now().replace(microsecond=0),
            status=status, items_ok=items_ok, items_failed=items_failed, message=message[:2000]))


def claim_run(store: Store, job: str, scheduled_for: dt.datetime, *, owner: str, started: dt.datetime,
              recover: bool = False) -> bool:
    """Claim the run (``job``, ``scheduled_for``) as ``running`` for ``owner``; False when already claimed.

    ``recover`` re-claims a run left ``interrupted`` by a crash instead of inserting a new one.
    """
    with store.begin() as conn:
        if recover:
            return conn.execute(update(_RUN).where(and_(_RUN.c.job == job, _RUN.c.scheduled_for == scheduled_for,
                                                        _RUN.c.status == "interrupted"))
                                .values(status="running", started_at=started, scheduler=owner)).rowcount == 1
        try:
            with conn.begin_nested():
                conn.execute(_RUN.insert().values(job=job, period=None, started_at=started, status="running",
                                                  items_ok=0, items_failed=0, scheduled_for=scheduled_for,
                                                  scheduler=owner, message=None))
            return True
        except IntegrityError:
            return False


def finish_run(store: Store, job: str, scheduled_for: dt.datetime, *, status: str, message: str,
               finished: dt.datetime) -> None:
    """Record the outcome of a claimed run."""
    with store.begin() as conn:
        conn.execute(update(_RUN).where(and_(_RUN.c.job == job, _RUN.c.scheduled_for == scheduled_for))
                     .values(status=status, finished_at=finished, message=message[:2000],
                             items_ok=int(status == "ok"), items_failed=int(status == "failed")))


def interrupt_runs(store: Store, *, prefix: str, owner: str) -> list[tuple[str, dt.datetime]]:
    """Mark the scheduled runs (jobs named ``prefix...``) still ``running`` under another owner as
    ``interrupted`` (their scheduler crashed); return their (job, scheduled time)."""
    with store.begin() as conn:
        rows = conn.execute(select(_RUN.c.id, _RUN.c.job, _RUN.c.scheduled_for).where(and_(
            _RUN.c.status == "running", _RUN.c.scheduled_for.is_not(None), _RUN.c.scheduler != owner,
            _RUN.c.job.like(prefix + "%")))).all()
        for r in rows:
            conn.execute(update(_RUN).where(_RUN.c.id == r.id).values(status="interrupted"))
    return [(r.job, r.scheduled_for) for r in rows]


def job_history(store: Store, *, limit: int = 30, jobs: list[str] | None = None) -> pd.DataFrame:
    """The latest runs (of some jobs), newest first."""
    query = select(_RUN.c.id, _RUN.c.job, _RUN.c.period, _RUN.c.scheduled_for, _RUN.c.started_at,
                   _RUN.c.finished_at, _RUN.c.status, _RUN.c.message).order_by(_RUN.c.id.desc()).limit(limit)
    if jobs:
        query = query.where(_RUN.c.job.in_(jobs))
    return store.read_frame(query)
