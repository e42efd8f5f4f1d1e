"""The imon command line: end to end on a small demo, and one clear line for bad input."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.periods import last_complete_month
from monitor.store.migrate import head_revision


def run(capsys, *argv):
    """Run ``imon argv`` in-process; return (exit status, stdout, stderr)."""
    try:
        main(list(argv))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


SMALL = ("demo", "--enterprises", "40", "--start", "2023-01", "--end", "2024-06", "--seed", "5")


def test_demo_builds_runs_and_summarises_then_reuses_the_store(capsys, workdir):
    code, out, err = run(capsys, *SMALL)
    assert code == 0, err
    assert "demo panel built: seed 5, 40 enterprises a month, 2023-01..2024-06" in out
    for text in ("样本面板（2024-06）", "黄埔区", "按月回收率", "2024-06", "数据库: sqlite:///", "输出目录:"):
        assert text in out
    assert (workdir / "var" / "imon.sqlite").is_file()
    assert (workdir / "var" / "imon.log").is_file()
    code, out, _ = run(capsys, *SMALL)
    assert code == 0 and "already holds seed 5" in out
    code, out, _ = run(capsys, "db", "status")
    assert code == 0 and "survey_response" in out and f"schema revision: {head_revision()}" in out


def test_each_data_folder_gets_its_own_log_file(capsys, tmp_path, monkeypatch):
    # One process, two commands in two folders (a notebook, a reconfigured scheduler, this suite): the log file
    # follows the folder of the latest settings instead of staying with the first one.
    logger = logging.getLogger("monitor")
    before = list(logger.handlers)
    try:
        for name in ("first", "second"):
            folder = tmp_path / name
            (folder / "var").mkdir(parents=True)
            monkeypatch.chdir(folder)
            code, out, err = run(capsys, "db", "upgrade")
            assert code == 0, err
            assert (folder / "var" / "imon.log").is_file(), name
        files = [h for h in logger.handlers if isinstance(h, logging.FileHandler)]
        assert [Path(h.baseFilename).parent.parent.name for h in files] == ["second"]
    finally:
        for handler in logger.handlers:
            if handler not in before:
                handler.close()
        logger.handlers[:] = before


def test_summary_in_english(capsys, workdir):
    (workdir / "imon.toml").write_text('language = "en"\n', "utf-8")
    code, out, err = run(capsys, *SMALL)
    assert code == 0, err
    assert "Sample panel (2024-06)" in out and "Huangpu" in out and "Response by month" in out


def test_config_show_masks_secrets_and_names_sources(capsys, workdir, monkeypatch):
    monkeypatch.setenv("IMON_DATABASE_URL", "postgresql+psycopg://imon:hunter2@db.example/imon")
    code, out, _ = run(capsys, "config", "show")
    assert code == 0
    assert "hunter2" not in out
    assert 'store.url = "postgresql+psycopg://imon:***@db.example/imon"' in out and "# IMON_DATABASE_URL" in out
    code, out, _ = run(capsys, "config", "show", "--json")
    shown = json.loads(out)  # plain JSON values, not TOML text (issue 13: "\"zh\"" for a string)
    assert shown["demo.enterprises"] == {"value": 1200, "source": "default"}
    assert shown["language"]["value"] == "zh" and shown["publish.timezone"]["value"] == "Asia/Shanghai"
    assert shown["store.url"]["value"] == "postgresql+psycopg://imon:***@db.example/imon" and "hunter2" not in out


@pytest.mark.parametrize(("argv", "message"), [
    (("demo", "--bogus"), "No such option '--bogus'"),
    (("demo", "--start", "2017-13"), "YYYY-MM"),
    (("demo", "--enterprises", "many"), "'many' is not a valid integer"),
    (("demo", "--start", "2003-01", "--end", "2004-06"), "no earlier than 2005-01"),
    (("demo", "--end", str(last_complete_month() + 2)), "is not a complete month yet"),
    (("demo", "--start", "2020-01", "--end", "2019-01"), "after --end"),
    (("nosuch",), "No such command 'nosuch'"),
])
def test_bad_options_give_one_line_exit_2_and_write_nothing(capsys, workdir, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("imon: error:") and message in err
    assert not (workdir / "var").exists()


def test_malformed_config_file(capsys, workdir):
    (workdir / "bad.toml").write_text("[demo]\nseed = = 3\n", "utf-8")
    code, _, err = run(capsys, "--config", "bad.toml", "demo")
    assert code == 2 and "bad.toml" in err and "not valid TOML" in err and err.count("\n") == 1
    assert not (workdir / "var").exists()


def test_a_malformed_alert_rule_is_refused_at_start(capsys, workdir):
    """The settings layer keeps the rules as read; the command line checks them before any command runs."""
    (workdir / "bad.toml").write_text('[[alerts.rules]]\nname = "x"\nkind = "level"\nrecipients = "mayor"\n'
                                      'series = "a"\nbelow = 1\n', "utf-8")
    code, _, err = run(capsys, "--config", "bad.toml", "demo")
    assert code == 2 and err.count("\n") == 1
    assert "bad.toml" in err and "recipients = 'mayor', which is not a group" in err
    assert not (workdir / "var").exists()


def test_unreachable_database(capsys, workdir, monkeypatch):
    monkeypatch.setenv("IMON_DATABASE_URL", "postgresql+psycopg://imon:pw@127.0.0.1:1/imon")
    code, _, err = run(capsys, *SMALL)
    assert code == 2 and err.count("\n") == 1
    assert "cannot reach the store" in err and "IMON_DATABASE_URL" in err and "pw@" not in err


def test_demo_refuses_a_store_with_real_data(capsys, workdir):
    from monitor.settings import load_settings
    from monitor.store import models as m
    from monitor.store import open_store

    with open_store(load_settings(environ={})) as store, store.begin() as conn:
        conn.execute(m.IngestSource.__table__.insert().values(
            kind="survey_workbook", path="a.xlsx", sha256="1" * 64, received_at=dt.datetime(2024, 1, 1),
            rows_accepted=0, rows_rejected=0, status="loaded"))
    code, _, err = run(capsys, *SMALL)
    assert code == 2 and "did not write" in err


def test_python_dash_m_monitor_works():
    done = subprocess.run([sys.executable, "-m", "monitor", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "demo" in done.stdout and "config" in done.stdout


def test_survey_template_status_and_collect_report(capsys, workdir, monkeypatch):
    code, out, err = run(capsys, *SMALL)
    assert code == 0, err
    code, out, err = run(capsys, "survey", "status", "--period", "2024-06")
    assert code == 0 and "问卷回收" in out and "未回收" in out
    code, out, err = run(capsys, "survey", "template", "--period", "2024-06", "--all", "--out", "q")
    assert code == 0 and "questionnaire(s) for 2024-06" in out
    assert "\r" not in err and "questionnaires" not in err  # piped: quiet
    files = sorted((workdir / "q").glob("2024-06_*.xlsx"))
    assert len(files) >= 35
    # on a terminal (issue 13: `survey template --all` ran 35 s showing nothing) a line counts the workbooks
    with monkeypatch.context() as patch:
        patch.setattr(sys.stderr, "isatty", lambda: True)
        code, _, err = run(capsys, "survey", "template", "--period", "2024-06", "--all", "--out", "q2")
    assert code == 0 and f"questionnaires 1/{len(files)} " in err and f"questionnaires {len(files)}/{len(files)} " in err
    assert err.count("\r") >= len(files) and err.endswith("\r\x1b[K")  # rewritten in place, cleared at the end
    code, _, err = run(capsys, "survey", "template", "--period", "2024-06", "--out", "q")
    assert code == 2 and "--enterprise CODE or --all" in err
    code, _, err = run(capsys, "survey", "template", "--period", "2024-06", "--enterprise", "X", "--out", "q")
    assert code == 2 and "not in the sample" in err
    # A blank questionnaire is a valid file with no answers; a broken one makes `collect` exit 1.
    (workdir / "bad").mkdir()
    (workdir / "bad" / "broken.xlsx").write_bytes(files[0].read_bytes()[:500])
    code, out, _ = run(capsys, "collect", "bad", "--dry-run")
    assert code == 1 and "broken.xlsx: failed" in out and "dry run" in out
    code, out, _ = run(capsys, "collect", "var/inbox")
    assert code == 0 and "0 new or changed rows" in out
    code, out, _ = run(capsys, "collect", "report", "--last", "3")
    assert code == 0 and "accepted" in out
    assert re.search(r"^#\d+ \d{4}-\d\d-\d\d \d\d:\d\d 北京时间 ", out, re.M)  # the bureau's zone, labelled


def test_an_internal_error_is_one_line_and_the_traceback_goes_to_the_log(capsys, workdir, monkeypatch):
    import monitor.track_record

    def broken(*args, **kwargs):
        raise RuntimeError("boom in a library function")

    monkeypatch.setattr(monitor.track_record, "forecast_skill", broken)
    monkeypatch.delenv("IMON_DEBUG", raising=False)
    logger = logging.getLogger("monitor")  # logging is set up once per process: here, afresh for this folder
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.delattr(logger, "_imon_configured", raising=False)
    code, out, err = run(capsys, "forecast", "--accuracy")
    assert code == 70
    assert err.strip().splitlines() == [err.strip()]  # one line
    assert "internal error: RuntimeError: boom in a library function" in err and "Traceback" not in err
    log = (workdir / "var" / "imon.log").read_text("utf-8")
    assert "Traceback" in log and "boom in a library function" in log


def test_survey_status_counts_respondents_as_the_release_does_and_says_why_they_differ(capsys, workdir):
    """Issue 13: `survey status` said 1,116 respondents while the release said 1,112.  It prints the release's
    count (the headline's n, one definition) and the reason for any difference from the returns."""
    from monitor.settings import load_settings
    from monitor.store import open_store

    code, _, err = run(capsys, *SMALL)
    assert code == 0, err
    with open_store(load_settings(environ={})) as store:
        stored_n = int(store.read_records("SELECT n FROM series_value WHERE series_key = 'pmi/headline' AND "
                                          "period = '2024-06' ORDER BY vintage DESC LIMIT 1")["n"].iloc[0])
        returned = int(store.read_records("SELECT count(DISTINCT enterprise_id) AS c FROM survey_response WHERE "
                                          "period = '2024-06'")["c"].iloc[0])
    code, out, _ = run(capsys, "survey", "status", "--period", "2024-06")
    assert code == 0 and f"问卷回收：{returned}/" in out
    assert f"计入PMI的有效问卷：{stored_n}份" in out and "已计算的PMI基于" not in out
    # a return that skipped a PMI component: the returns and the release differ, and the status says why
    with open_store(load_settings(environ={})) as store, store.begin() as conn:
        from sqlalchemy import text

        eid = conn.execute(text("SELECT min(enterprise_id) FROM survey_response WHERE period = '2024-06'")).scalar()
        conn.execute(text("DELETE FROM survey_response WHERE period = '2024-06' AND enterprise_id = :e AND "
                          "question = 'new_orders'"), {"e": eid})
    code, out, _ = run(capsys, "survey", "status", "--period", "2024-06")
    assert code == 0 and f"问卷回收：{returned}/" in out
    assert "1份问卷缺少PMI分项的回答" in out
    if stored_n == returned:
        assert f"计入PMI的有效问卷：{stored_n - 1}份" in out and f"已计算的PMI基于{stored_n}份" in out
    code, out, _ = run(capsys, "compute", "--period", "2024-06")
    # the vintage is printed as its id (UTC, what as_of takes) and in the bureau's time, labelled
    assert code == 0 and re.search(r"as vintage \S+ \S+ UTC \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d 北京时间\)", out), out
    code, out, _ = run(capsys, "survey", "status", "--period", "2024-06")
    assert "已计算的PMI基于" not in out  # recomputed: the stored headline's n is the count printed
