"""The scheduler: the lock, runs claimed once, a short trigger running the chain, a second process refused."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from monitor.exceptions import SchedulerLockedError
from monitor.pipeline import StageReport
from monitor.scheduling import SchedulerService, run_job_once
from monitor.settings import load_settings
from monitor.store import Store
from monitor.store import models as m
from monitor.store.locks import acquire_lock, release_lock

OFF = {k: "" for k in ("survey_reminders", "survey_close", "monthly_chain", "alerts_scan", "quarterly_dispatch",
                       "annual_summary")}


def _config(tmp_path: Path, url: str, **jobs: str) -> Path:
    lines = [f'data_dir = "{tmp_path.as_posix()}"', "[store]", f'url = "{url}"', "[schedule]", 'lock_ttl = "4s"']
    lines += [f'{k} = "{v}"' for k, v in {**OFF, **jobs}.items()]
    cfg = tmp_path / "imon.toml"
    cfg.write_text("\n".join(lines) + "\n", "utf-8")
    return cfg


def test_lock_refuses_a_second_holder_and_takes_over_a_stale_one(store):
    ttl = dt.timedelta(seconds=30)
    acquire_lock(store, "a:1:x", ttl)
    with pytest.raises(SchedulerLockedError, match=r"another scheduler \(a:1:x\) already runs on this store"):
        acquire_lock(store, "b:2:y", ttl)
    later = dt.datetime.now() + dt.timedelta(minutes=5)  # a crashed holder stops renewing: the lock expires
    acquire_lock(store, "b:2:y", ttl, now=later)
    with store.engine.connect() as conn:
        assert conn.execute(select(m.SchedulerLock.owner)).scalar_one() == "b:2:y"
    release_lock(store, "b:2:y")
    acquire_lock(store, "c:3:z", ttl)


def test_a_scheduled_run_is_claimed_once(store):
    settings = load_settings(None, environ={})
    calls = []

    def job(store_, settings_, when):
        calls.append(when)
        return "ok", "done"

    when = dt.datetime(2026, 11, 12, 8, 0)
    assert run_job_once(store, settings, "monthly_chain", when, job, owner="me") == "ok"
    assert run_job_once(store, settings, "monthly_chain", when, job, owner="me") == "duplicate"
    assert calls == [when]


def test_short_trigger_runs_the_chain_once_and_a_restart_neither_repeats_nor_skips(tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    fire = (dt.datetime.now() + dt.timedelta(seconds=3)).second
    settings = load_settings(_config(tmp_path, url, monthly_chain=f"{fire} * * * * *"), environ={})
    ran: list[str] = []

    def trivial(store, settings, period):
        ran.append(str(period))
        return StageReport("trivial", "ok", "nothing to do")

    store = Store.open(url)
    try:
        service = SchedulerService(store, settings, stages=[("trivial", trivial)])
        thread = threading.Thread(target=service.run, kwargs={"max_seconds": 30, "handle_signals": False})
        thread.start()
        deadline = time.monotonic() + 8
        while not ran and time.monotonic() < deadline:
            time.sleep(0.2)
        next_run = service.next_runs()["monthly_chain"]
        service.stop_event.set()
        thread.join(10)
        assert len(ran) == 1
        runs = store.read_records("SELECT job, status, scheduled_for FROM job_run ORDER BY id")
        assert runs["job"].tolist() == ["schedule:monthly_chain", "trivial"]  # claimed, then run
        assert runs["status"].tolist() == ["ok", "ok"]
        # restart: the stored job keeps its next run time (nothing skipped), and nothing is run twice
        again = SchedulerService(store, settings, stages=[("trivial", trivial)])
        again.start()
        try:
            assert again.next_runs()["monthly_chain"] == next_run
            assert again.execute("monthly_chain") == "duplicate"  # the same scheduled time is not run again
        finally:
            again.stop()
        assert len(ran) == 1
    finally:
        store.close()


def test_a_second_scheduler_process_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    cfg = _config(tmp_path, url, alerts_scan="0 7 * * *")
    settings = load_settings(cfg, environ={})
    store = Store.open(url)
    service = SchedulerService(store, settings)
    thread = threading.Thread(target=service.run, kwargs={"max_seconds": 60, "handle_signals": False})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not service.next_runs() and time.monotonic() < deadline:
            time.sleep(0.1)
        env = {k: v for k, v in os.environ.items() if k not in ("IMON_CONFIG", "IMON_DATABASE_URL")}
        proc = subprocess.run([sys.executable, "-m", "monitor", "--config", str(cfg), "schedule", "run", "--for", "5"],
                              capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr
        assert "another scheduler" in proc.stderr and "already runs on this store" in proc.stderr
        assert "Traceback" not in proc.stderr
    finally:
        service.stop_event.set()
        thread.join(10)
        store.close()


# ------------------------------------------------------------------------------ restart semantics, end to end
TZ = ZoneInfo("Asia/Shanghai")  # schedule.timezone's default: job_run.scheduled_for is in it


def _recording_job(calls: list[dt.datetime]):
    def job(store_, settings_, when):
        calls.append(when)
        return "ok", "done"

    return job


def _scan_runs(store: Store) -> list[tuple[dt.datetime, str]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(m.JobRun.scheduled_for, m.JobRun.status, m.JobRun.scheduler)
                            .where(m.JobRun.job == "schedule:alerts_scan").order_by(m.JobRun.id)).all()
    return [(when, status) for when, status, _ in rows]


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_down_across_due_times_the_missed_run_is_made_once_on_restart(tmp_path):
    """Runs at s1, is stopped cleanly (what SIGTERM does), stays down across s2 and s3, restarts: the missed runs
    are made once (coalesced, claimed at s3), s2 is not made separately, s1 not again."""
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    s1 = dt.datetime.now(TZ).replace(microsecond=0, tzinfo=None) + dt.timedelta(seconds=3)
    s2, s3 = s1 + dt.timedelta(seconds=2), s1 + dt.timedelta(seconds=3)
    cron = f"{s1.second},{s2.second},{s3.second} * * * * *"  # next in a minute: beyond the test
    settings = load_settings(_config(tmp_path, url, alerts_scan=cron), environ={})
    calls: list[dt.datetime] = []
    store = Store.open(url)
    try:
        first = SchedulerService(store, settings, funcs={"alerts_scan": _recording_job(calls)})
        thread = threading.Thread(target=first.run, kwargs={"max_seconds": 30, "handle_signals": False})
        thread.start()
        assert _wait_for(lambda: bool(calls), 10), "the first run did not come"
        first.stop_event.set()  # the SIGTERM handler sets this very event
        thread.join(10)
        assert calls == [s1]
        down_until = s3 + dt.timedelta(seconds=1)
        while dt.datetime.now(TZ).replace(tzinfo=None) < down_until:  # down across s2 and s3
            time.sleep(0.1)
        second = SchedulerService(store, settings, funcs={"alerts_scan": _recording_job(calls)})
        second.start()
        try:
            assert _wait_for(lambda: len(calls) >= 2, 10), "the missed run was not made on restart"
            time.sleep(1.0)  # room for a wrong second run
        finally:
            second.stop()
        assert calls == [s1, s3]
        assert _scan_runs(store) == [(s1, "ok"), (s3, "ok")]
    finally:
        store.close()


SLOW_SCHEDULER = """
import sys, time
from pathlib import Path
from zoneinfo import ZoneInfo
from monitor.scheduling import SchedulerService
from monitor.settings import load_settings
from monitor.store import Store

settings = load_settings(Path(sys.argv[1]), environ={})
marker = Path(sys.argv[2])
store = Store.open(settings.store_url)

def slow(store, settings, when):
    marker.write_text(when.isoformat())
    time.sleep(120)  # killed in here
    return "ok", "never"

SchedulerService(store, settings, funcs={"alerts_scan": slow}).run(max_seconds=120)
"""


def test_a_run_killed_mid_job_is_made_once_at_the_next_start(tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    cfg = _config(tmp_path, url, alerts_scan="*/2 * * * * *")
    cfg.write_text(cfg.read_text("utf-8").replace('lock_ttl = "4s"', 'lock_ttl = "3s"'), "utf-8")
    settings = load_settings(cfg, environ={})
    Store.open(url).close()  # migrated before two processes race for it
    script, marker = tmp_path / "slow.py", tmp_path / "started"
    script.write_text(SLOW_SCHEDULER, "utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("IMON_CONFIG", "IMON_DATABASE_URL")}
    proc = subprocess.Popen([sys.executable, str(script), str(cfg), str(marker)], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert _wait_for(marker.exists, 60), proc.stderr.read().decode() if proc.poll() is not None else "no run"
        time.sleep(0.2)
        crashed = dt.datetime.fromisoformat(marker.read_text())
    finally:
        proc.kill()  # SIGKILL mid-job: no cleanup, the lock and a 'running' claim are left behind
        proc.wait(10)
        proc.stderr.close()
    store = Store.open(url)
    calls: list[dt.datetime] = []
    try:
        assert _scan_runs(store) == [(crashed, "running")]
        again = SchedulerService(store, settings, funcs={"alerts_scan": _recording_job(calls)})
        deadline = time.monotonic() + 15
        while True:  # the crashed holder's lock expires after schedule.lock_ttl
            try:
                again.start()
                break
            except SchedulerLockedError:
                assert time.monotonic() < deadline, "the crashed scheduler's lock never expired"
                time.sleep(0.5)
        try:
            assert _wait_for(lambda: crashed in calls, 10), "the interrupted run was not made again"
            time.sleep(2.5)  # the trigger fires on: new times only
        finally:
            again.stop()
        assert calls.count(crashed) == 1
        runs = _scan_runs(store)
        assert [status for when, status in runs if when == crashed] == ["ok"]  # one row, re-run, finished
        assert len(runs) == len({when for when, _ in runs}) and len(calls) == len(set(calls))
        assert all(status == "ok" for _, status in runs)
    finally:
        store.close()


# ------------------------------------------------------------------------------ one scan at a time
def test_a_second_scan_refuses_or_waits_while_one_runs(tmp_path, monkeypatch, capsys):
    from monitor.alerts import scan as scan_mod
    from monitor.alerts.scan import ScanLockedError
    from monitor.cli import main

    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    settings = load_settings(_config(tmp_path, url), environ={})
    store = Store.open(url)
    inside, release = threading.Event(), threading.Event()
    real = scan_mod._scan

    def slow_scan(*args, **kwargs):
        inside.set()
        release.wait(20)
        return real(*args, **kwargs)

    monkeypatch.setattr(scan_mod, "_scan", slow_scan)
    results: dict[str, object] = {}
    first = threading.Thread(target=lambda: results.update(first=scan_mod.run_scan(store, settings, send=False)))
    try:
        first.start()
        assert inside.wait(10)
        inside.clear()
        with pytest.raises(ScanLockedError, match=r"another alert scan \(.+\) is running on this store .*--wait"):
            scan_mod.run_scan(store, settings, send=False, wait=0)
        # the CLI: one line, exit 1 (anything but SystemExit would be a traceback)
        capsys.readouterr()
        with pytest.raises(SystemExit) as exited:
            main(["--config", str(tmp_path / "imon.toml"), "alerts", "scan", "--no-send"])
        err = capsys.readouterr().err
        assert exited.value.code == 1
        assert err.count("\n") == 1 and err.startswith("imon: error: another alert scan"), err
        # a scan that may wait starts once the first is done
        second = threading.Thread(target=lambda: results.update(
            second=scan_mod.run_scan(store, settings, send=False, wait=20)))
        second.start()
        time.sleep(1.0)
        assert not inside.is_set()  # still waiting: the first holds the lock
        release.set()
        first.join(20)
        second.join(20)
        assert inside.is_set() and {"first", "second"} <= set(results)
        with store.engine.connect() as conn:
            assert conn.execute(select(m.SchedulerLock.name)).all() == []  # both released
    finally:
        release.set()
        first.join(20)
        store.close()
