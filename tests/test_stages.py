"""The stage API: one function per stage, one report shape, the same run from every entry.

A stage run from the library (notebooks), the command line, the scheduler's monthly chain and the demo runner
stores the same values and records the same job-history row; every stage honours its period.
"""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from monitor.cli import main
from monitor.demo.runner import run_demo
from monitor.pipeline import MONTHLY_STAGES, STAGES, StageReport, adjust_stage, collect_stage, compute_stage, run_stage
from monitor.results import write_series
from monitor.scheduling import SchedulerService, run_job_once
from monitor.settings import load_settings
from monitor.store import Store
from monitor.store import models as m

END = pd.Period("2024-06", "M")
DEMO = {"demo.seed": "5", "demo.enterprises": "30", "demo.start": "2023-05", "demo.end": str(END)}


def _settings(data_dir):
    return load_settings(environ={}, overrides={"data_dir": str(data_dir), **DEMO})


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """A small demo store whose last month was collected from its inbox (no indicators computed yet)."""
    base = tmp_path_factory.mktemp("collected")
    run = run_demo(_settings(base), stages=[("collect", collect_stage)], today=dt.date(2024, 7, 15))
    assert run.ok and run.collected and run.stages[0].name == "collect"
    return base


def _copy(collected, tmp_path, name):
    target = tmp_path / name
    shutil.copytree(collected, target)
    return target


def _values(settings) -> pd.DataFrame:
    with Store.open(settings.store_url) as store:
        t = m.SeriesValue.__table__
        frame = store.read_frame(select(t.c.series_key, t.c.period, t.c.raw, t.c.se, t.c.n))
    return frame.sort_values(["series_key", "period"]).reset_index(drop=True)


def _runs(settings, job: str) -> list[tuple]:
    with Store.open(settings.store_url) as store:
        t = m.JobRun.__table__
        rows = store.read_frame(select(t.c.job, t.c.period, t.c.status, t.c.items_ok, t.c.items_failed, t.c.message)
                                .where(t.c.job == job))
    return [tuple(r) for r in rows.itertuples(index=False)]


def test_every_stage_is_registered_once_in_chain_order():
    assert [name for name, _ in MONTHLY_STAGES] == ["collect", "compute", "adjust", "forecast", "publish", "alerts"]
    assert all(STAGES[name] is func for name, func in MONTHLY_STAGES)


def test_a_stage_gives_the_same_result_through_every_entry(collected, tmp_path, monkeypatch, capsys):
    """Library, command line, scheduler and demo: the same stored values and the same job-history row."""
    # the library (what a notebook calls)
    lib = _settings(_copy(collected, tmp_path, "library"))
    with Store.open(lib.store_url) as store:
        report = run_stage(store, lib, "compute", END)
    assert isinstance(report, StageReport) and report.status == "ok" and report.period == END
    assert report.items_ok > 0 and report.detail.total == report.items_ok
    expected = _values(lib)
    assert expected["series_key"].str.startswith("pmi/headline").any()

    # the command line (its range is the stage's default: from the first surveyed month)
    cli_dir = _copy(collected, tmp_path, "cli")
    monkeypatch.chdir(cli_dir)
    cli = _settings(cli_dir)
    (cli_dir / "imon.toml").write_text(f'data_dir = "{cli_dir.as_posix()}"\n', "utf-8")
    main(["--config", "imon.toml", "compute", "--from", "2023-05", "--to", str(END)])
    assert f"{report.items_ok:,} values written" in capsys.readouterr().out

    # the scheduler's monthly chain (for the month before the run)
    sched = _settings(_copy(collected, tmp_path, "scheduler"))
    with Store.open(sched.store_url) as store:
        service = SchedulerService(store, sched, stages=[("compute", compute_stage)])
        when = dt.datetime(2024, 7, 12, 8, 0)
        assert run_job_once(store, sched, "monthly_chain", when, service.funcs["monthly_chain"],
                            owner="test") == "ok"

    # the demo runner (reusing the store it built)
    demo = _settings(_copy(collected, tmp_path, "demo"))
    run = run_demo(demo, stages=[("compute", compute_stage)], today=dt.date(2024, 7, 15))
    assert not run.built and [s.name for s in run.stages] == ["compute"]
    assert run.stages[0].message == report.message and run.stages[0].items_ok == report.items_ok

    row = ("compute", str(END), "ok", report.items_ok, 0, report.message)
    for settings in (lib, cli, sched, demo):
        assert _runs(settings, "compute") == [row], settings.data_dir
        pd.testing.assert_frame_equal(_values(settings), expected, check_exact=False, rtol=1e-12)


def test_a_failing_stage_is_recorded_and_raised_only_when_asked(collected, tmp_path):
    settings = _settings(_copy(collected, tmp_path, "fail"))

    def broken(store, settings, period):
        raise ValueError("boom")

    with Store.open(settings.store_url) as store:
        report = run_stage(store, settings, "compute", END, stage=broken)
        assert report.status == "failed" and report.message == "ValueError: boom" and not report.ok
        with pytest.raises(ValueError, match="boom"):
            run_stage(store, settings, "compute", END, stage=broken, raise_errors=True)
    assert [r[2] for r in _runs(settings, "compute")] == ["failed", "failed"]


def test_collect_stage_without_an_inbox_for_the_month_is_skipped(collected, tmp_path):
    settings = _settings(_copy(collected, tmp_path, "skip"))
    with Store.open(settings.store_url) as store:
        report = run_stage(store, settings, "collect", END + 1)
    assert report.status == "skipped" and "no inbox folder" in report.message


def _synthetic(start: str, months: int, seed: int) -> pd.DataFrame:
    idx = pd.period_range(start, periods=months, freq="M")
    rng = np.random.default_rng(seed)
    seasonal = np.array([-1.5, -4.0, 4.5, 1.0, 0.5, -0.5, -1.0, -0.5, 1.5, -0.5, 0.5, 0.0])[idx.month - 1]
    values = 50 + 2.0 * np.sin(np.arange(months) / 9.0) + seasonal + rng.normal(0, 0.4, months)
    return pd.DataFrame({"period": idx.astype(str), "raw": values, "series_key": "pmi/new_orders"})


@pytest.mark.x13
def test_adjust_stage_honours_its_period(tmp_path):
    """Adjusting a past month on today's store gives what a store holding data only to that month gives."""
    full = _synthetic("2012-01", 96, seed=1)
    past = pd.Period("2017-12", "M")
    results = []
    for name, frame in (("full", full), ("cut", full[full["period"] <= str(past)])):
        settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path / name)})
        with Store.open(settings.store_url) as store:
            with store.begin() as conn:
                write_series(conn, frame, vintage=dt.date(2019, 1, 31), columns=("raw",))
            report = adjust_stage(store, settings, past, pattern="pmi/new_orders")
            assert report.status == "ok" and report.items_ok == 1, report.message
            t = m.SeriesValue.__table__
            sa = store.read_frame(select(t.c.period, t.c.sa).where(t.c.sa.is_not(None)))
        results.append(sa.sort_values("period").reset_index(drop=True))
    assert results[0]["period"].max() == str(past)
    pd.testing.assert_frame_equal(results[0], results[1], check_exact=False, atol=1e-9)
