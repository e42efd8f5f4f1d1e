"""The unattended scheduler: APScheduler 3.x in one process, its job store in the project's database.

This is the only module that imports :mod:`apscheduler` (a 4.x migration touches this file alone).

Guarantees (PEERS 4.3):

- **One scheduler per store.**  A row of ``scheduler_lock`` is taken at start and renewed by a heartbeat; a
  second scheduler on the same store refuses to start with :class:`~monitor.exceptions.SchedulerLockedError`
  (the locks live in :mod:`monitor.store.locks`).
  A lock whose holder stopped renewing it for ``schedule.lock_ttl`` (a crash) is taken over.
- **No run twice, none skipped.**  Jobs have fixed ids; at start a job whose trigger is unchanged keeps its
  stored next run time (re-adding it would silently skip the runs missed while the scheduler was down), so
  missed runs are made once on restart (``coalesce``, ``schedule.misfire_grace``).  Every run first claims the
  key (job, scheduled time) in ``job_run`` (unique), so a run is never made twice; a run interrupted by a crash
  (still ``running`` under a lock holder that is gone) is made again at the next start.
- Clean shutdown on SIGTERM/SIGINT (running jobs finish, the lock is released); structured logs.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from .exceptions import ConfigError
from .settings import Settings, parse_duration
from .store import Store, jobs
from .store.locks import acquire_lock, new_owner, release_lock, renew_lock

__all__ = ["JOBS", "JobSpec", "SchedulerService", "run_job_once", "job_history", "make_trigger"]

log = logging.getLogger(__name__)
JOB_PREFIX = "schedule:"

JobFunc = Callable[[Store, Settings, dt.datetime], tuple[str, str]]


@dataclass(frozen=True)
class JobSpec:
    """A scheduled job: its id, the setting holding its cron line, and what it does."""

    id: str
    setting: str
    help: str


JOBS: tuple[JobSpec, ...] = (
    JobSpec("survey_reminders", "schedule.survey_reminders", "who has not answered this month's survey, by district"),
    JobSpec("survey_close", "schedule.survey_close", "close last month's survey: data-quality rules"),
    JobSpec("monthly_chain", "schedule.monthly_chain", "the monthly stages for last month (release day)"),
    JobSpec("alerts_scan", "schedule.alerts_scan", "the daily early-warning scan"),
    JobSpec("quarterly_dispatch", "schedule.quarterly_dispatch", "the dispatch report of the quarter just ended"),
    JobSpec("annual_summary", "schedule.annual_summary", "the annual summary of the year just ended"),
)


# ------------------------------------------------------------------------------------------------ jobs
def _previous_month(when: dt.datetime) -> pd.Period:
    return pd.Period(when.date(), "M") - 1


def _job_survey_reminders(store: Store, settings: Settings, when: dt.datetime) -> tuple[str, str]:
    from .survey_admin import survey_status

    period = pd.Period(when.date(), "M")
    status = survey_status(store, period, lang=settings["language"])
    missing = getattr(status, "missing", None)
    count = len(missing) if missing is not None else 0
    return "ok", f"{period}: {count} enterprises still to answer"


def _job_survey_close(store: Store, settings: Settings, when: dt.datetime) -> tuple[str, str]:
    from .pipeline import alerts_stage

    report = alerts_stage(store, settings, _previous_month(when), today=when.date(),
                          kinds=("response_rate", "no_response"))
    return report.status, report.message


def _job_alerts_scan(store: Store, settings: Settings, when: dt.datetime) -> tuple[str, str]:
    from .pipeline import alerts_stage

    report = alerts_stage(store, settings, None, today=when.date())
    return report.status, report.message


def _publish(kind: str, period: pd.Period, store: Store, settings: Settings) -> tuple[str, str]:
    from .pipeline import publish_stage

    report = publish_stage(store, settings, period, kinds=[kind])
    if report.detail["errors"]:  # as before: a publication that cannot be built fails the run with its error
        raise report.detail["errors"][0][3]
    return report.status, report.message


def _job_quarterly_dispatch(store: Store, settings: Settings, when: dt.datetime) -> tuple[str, str]:
    return _publish("dispatch", pd.Period(when.date(), "Q") - 1, store, settings)


def _job_annual_summary(store: Store, settings: Settings, when: dt.datetime) -> tuple[str, str]:
    return _publish("annual", pd.Period(str(when.year - 1), "Y"), store, settings)


def _chain(stages: Sequence[tuple[str, Any]] | None) -> JobFunc:
    def run(store: Store, settings: Settings, when: dt.datetime) -> tuple[str, str]:
        from .pipeline import MONTHLY_STAGES, run_stage

        period = _previous_month(when)
        results = [run_stage(store, settings, name, period, stage=stage)
                   for name, stage in (stages or MONTHLY_STAGES)]
        status = "failed" if any(r.status == "failed" for r in results) else "ok"
        return status, f"{period}: " + "; ".join(f"{r.name} {r.status}" for r in results)

    return run


def _default_funcs(stages: Sequence[tuple[str, Any]] | None) -> dict[str, JobFunc]:
    return {"survey_reminders": _job_survey_reminders, "survey_close": _job_survey_close,
            "monthly_chain": _chain(stages), "alerts_scan": _job_alerts_scan,
            "quarterly_dispatch": _job_quarterly_dispatch, "annual_summary": _job_annual_summary}


# ------------------------------------------------------------------------------------------------ runs
def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def run_job_once(store: Store, settings: Settings, job_id: str, scheduled_for: dt.datetime, func: JobFunc, *,
                 owner: str, recover: bool = False) -> str:
    """Run ``func`` for ``(job_id, scheduled_for)`` unless that run was already claimed; return the status.

    The claim is a ``job_run`` row (unique on job and scheduled time) inserted before the work; ``recover``
    re-claims a run left ``interrupted`` by a crash.
    """
    name = JOB_PREFIX + job_id
    claimed = jobs.claim_run(store, name, scheduled_for, owner=owner, started=_now(), recover=recover)
    if not claimed:
        log.info("scheduled run already made; not repeated job=%s scheduled_for=%s", job_id, scheduled_for,
                 extra={"job": job_id, "scheduled_for": str(scheduled_for)})
        return "duplicate"
    log.info("scheduled run started job=%s scheduled_for=%s", job_id, scheduled_for,
             extra={"job": job_id, "scheduled_for": str(scheduled_for)})
    try:
        status, message = func(store, settings, scheduled_for)
    except Exception as exc:  # a failing job is recorded; the scheduler goes on
        log.exception("scheduled run failed", extra={"job": job_id})
        status, message = "failed", f"{type(exc).__name__}: {exc}"
    jobs.finish_run(store, name, scheduled_for, status=status, message=message, finished=_now())
    log.info("scheduled run finished job=%s scheduled_for=%s status=%s", job_id, scheduled_for, status,
             extra={"job": job_id, "scheduled_for": str(scheduled_for), "status": status})
    return status


def job_history(store: Store, *, limit: int = 30, job: str | None = None) -> pd.DataFrame:
    """The latest runs of scheduled jobs and pipeline stages (``job_run``), newest first."""
    return jobs.job_history(store, limit=limit, jobs=[job, JOB_PREFIX + job] if job else None)


# ------------------------------------------------------------------------------------------------ triggers
def make_trigger(cron: str, timezone: str) -> Any:
    """A CronTrigger from a crontab line (5 fields; 6 with seconds first).

    Raises
    ------
    ConfigError
        An unknown time zone or a malformed line.
    """
    from apscheduler.triggers.cron import CronTrigger

    try:
        tz = ZoneInfo(timezone)
    except Exception:
        raise ConfigError(f"schedule.timezone = {timezone!r} is not a known time zone; use e.g. Asia/Shanghai") from None
    fields = cron.split()
    try:
        if len(fields) == 6:
            second, minute, hour, day, month, dow = fields
            return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month, day_of_week=dow,
                               timezone=tz)
        return CronTrigger.from_crontab(cron, timezone=tz)
    except ValueError as exc:
        raise ConfigError(f"cron line {cron!r} is invalid ({exc}); write 'minute hour day month weekday'") from None


#: The running service of this process, looked up by the job callable stored in the database.
_ACTIVE: dict[str, SchedulerService] = {}


def _dispatch(job_id: str, recover_at: str | None = None) -> None:
    """The callable APScheduler stores (by reference): run ``job_id`` in the active service."""
    service = _ACTIVE.get("service")
    if service is None:
        log.error("no scheduler service is active in this process; job %s not run", job_id)
        return
    service.execute(job_id, dt.datetime.fromisoformat(recover_at) if recover_at else None)


class SchedulerService:
    """The scheduler of one store.

    Parameters
    ----------
    store, settings
        The store (its engine holds APScheduler's job table) and the settings (cron lines, lock TTL).
    funcs
        Job id -> function, replacing the built-in jobs (tests).
    stages
        The monthly chain's stages (default :data:`monitor.pipeline.MONTHLY_STAGES`).
    """

    def __init__(self, store: Store, settings: Settings, *, funcs: dict[str, JobFunc] | None = None,
                 stages: Sequence[tuple[str, Any]] | None = None) -> None:
        self.store, self.settings = store, settings
        self.funcs = {**_default_funcs(stages), **(funcs or {})}
        self.owner = new_owner()
        self.ttl = dt.timedelta(seconds=max(parse_duration(settings["schedule.lock_ttl"]), 3))
        self.tz = settings["schedule.timezone"]
        self.triggers = {j.id: make_trigger(settings[j.setting], self.tz) for j in JOBS if settings[j.setting]}
        self.stop_event = threading.Event()
        self._scheduler: Any = None

    # -------------------------------------------------------------- one run
    def scheduled_time(self, job_id: str, now: dt.datetime | None = None) -> dt.datetime:
        """The latest fire time of the job's trigger at or before ``now`` (naive, the schedule's zone)."""
        trigger = self.triggers[job_id]
        tz = ZoneInfo(self.tz)
        now_aware = (now.replace(tzinfo=tz) if now else dt.datetime.now(tz)) + dt.timedelta(milliseconds=500)
        last = None
        for span in (2, 120, 7200, 172800, 40 * 86400, 400 * 86400):  # widen until a fire time is found
            t = trigger.get_next_fire_time(None, now_aware - dt.timedelta(seconds=span))
            while t is not None and t <= now_aware:
                last = t
                t = trigger.get_next_fire_time(t, t + dt.timedelta(seconds=1))
            if last is not None:
                break
        chosen = last or now_aware
        return chosen.astimezone(tz).replace(tzinfo=None, microsecond=0)

    def execute(self, job_id: str, recover_at: dt.datetime | None = None) -> str:
        """Run one job now for its latest scheduled time (or the interrupted run ``recover_at``)."""
        when = recover_at or self.scheduled_time(job_id)
        return run_job_once(self.store, self.settings, job_id, when, self.funcs[job_id], owner=self.owner,
                            recover=recover_at is not None)

    # -------------------------------------------------------------- lifecycle
    def _interrupted(self) -> list[tuple[str, dt.datetime]]:
        return [(job.removeprefix(JOB_PREFIX), when)
                for job, when in jobs.interrupt_runs(self.store, prefix=JOB_PREFIX, owner=self.owner)]

    def _heartbeat(self) -> None:
        interval = max(self.ttl.total_seconds() / 4, 0.5)
        while not self.stop_event.wait(interval):
            try:
                if not renew_lock(self.store, self.owner, self.ttl):
                    log.error("scheduler lock lost (another scheduler took it); stopping")
                    self.stop_event.set()
            except Exception:
                log.exception("scheduler heartbeat failed; retrying")

    def start(self) -> None:
        """Take the lock, set up APScheduler on the store and start it in the background."""
        from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        acquire_lock(self.store, self.owner, self.ttl)
        _ACTIVE["service"] = self
        try:
            grace = parse_duration(self.settings["schedule.misfire_grace"])
            scheduler = BackgroundScheduler(
                jobstores={"default": SQLAlchemyJobStore(engine=self.store.engine)},
                executors={"default": ThreadPoolExecutor(1)},
                job_defaults={"misfire_grace_time": grace, "coalesce": True, "max_instances": 1},
                timezone=ZoneInfo(self.tz))
            scheduler.add_listener(lambda e: log.warning("scheduled run missed (beyond schedule.misfire_grace)",
                                                         extra={"job": e.job_id,
                                                                "scheduled_for": str(e.scheduled_run_time)}),
                                   EVENT_JOB_MISSED)
            scheduler.add_listener(lambda e: log.error("scheduled job raised", extra={"job": e.job_id}),
                                   EVENT_JOB_ERROR)
            scheduler.start(paused=True)
            self._scheduler = scheduler
            self._sync_jobs()
            for job_id, when in self._interrupted():
                if job_id in self.funcs:
                    log.warning("re-running a run interrupted by a crash", extra={"job": job_id,
                                                                                  "scheduled_for": str(when)})
                    scheduler.add_job(_dispatch, "date", args=[job_id, when.isoformat()],
                                      id=f"recover-{job_id}-{when:%Y%m%d%H%M%S}", replace_existing=True,
                                      misfire_grace_time=None)
            scheduler.resume()
        except BaseException:
            _ACTIVE.pop("service", None)
            release_lock(self.store, self.owner)
            raise
        threading.Thread(target=self._heartbeat, name="imon-scheduler-heartbeat", daemon=True).start()
        log.info("scheduler started owner=%s jobs=%s", self.owner, ",".join(sorted(self.triggers)),
                 extra={"owner": self.owner, "jobs": ",".join(sorted(self.triggers))})

    def _sync_jobs(self) -> None:
        """Add the configured jobs; keep a stored job whose trigger is unchanged (its next run time stays)."""
        scheduler = self._scheduler
        stored = {j.id: j for j in scheduler.get_jobs()}
        for job_id, trigger in self.triggers.items():
            old = stored.get(job_id)
            if old is not None and str(old.trigger) == str(trigger) and old.args == (job_id,):
                continue
            scheduler.add_job(_dispatch, trigger, args=[job_id], id=job_id, name=job_id, replace_existing=True)
        for job_id in stored:
            if job_id not in self.triggers and not job_id.startswith("recover-"):
                scheduler.remove_job(job_id)

    def next_runs(self) -> dict[str, dt.datetime | None]:
        """Job id -> next run time."""
        return {j.id: j.next_run_time for j in self._scheduler.get_jobs()} if self._scheduler else {}

    def stop(self) -> None:
        """Stop taking new runs, wait for the running one, release the lock."""
        self.stop_event.set()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        _ACTIVE.pop("service", None)
        release_lock(self.store, self.owner)
        log.info("scheduler stopped owner=%s", self.owner, extra={"owner": self.owner})

    def run(self, *, max_seconds: float | None = None, handle_signals: bool = True) -> None:
        """Start, wait until SIGTERM/SIGINT (or ``max_seconds``, or :attr:`stop_event`), stop cleanly."""
        previous: dict[signal.Signals, Any] = {}
        if handle_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous[sig] = signal.signal(sig, lambda *_: self.stop_event.set())
        try:
            self.start()
            self.stop_event.wait(max_seconds)
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
