"""The scheduler: the lock, runs claimed once, a short trigger running the chain, a second process refused."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.exceptions import SchedulerLockedError
from monitor.pipeline import StageResult
from monitor.scheduling import SchedulerService, acquire_lock, release_lock, run_job_once
from monitor.settings import load_settings
from monitor.store import Store
from monitor.store import models as m

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
        return StageResult("trivial", "ok", "nothing to do")

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
