"""Key series, the track record, the leading indicator and its alert, end to end on a small store (issue 15)."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import pytest

from monitor.alerts.evaluate import EvalContext, evaluate_rule
from monitor.alerts.rules import parse_rule
from monitor.api import AnalystStore
from monitor.cli import main
from monitor.compute import compute_range
from monitor.demo.generator import generate_demo
from monitor.demo.load import load_demo
from monitor.forecasts import forecast_series, resolve_keys
from monitor.leading import build_leading, leading_key
from monitor.pipeline import forecast_stage
from monitor.publish.operations import forecast_section
from monitor.publish.sources import Inputs
from monitor.reference import CITY_CODE
from monitor.results import write_series
from monitor.settings import load_settings
from monitor.store import models as m
from monitor.track_record import ODDS_MONTHS, fill_past_origins, forecast_skill, read_skill

ORIGIN = pd.Period("2019-10", "M")


@pytest.fixture(scope="module")
def long_demo():
    return generate_demo(seed=17, enterprises=30, start=pd.Period("2013-10", "M"), end=pd.Period("2019-12", "M"))


def _settings(tmp_path, **extra):
    return load_settings(environ={}, overrides={
        "data_dir": str(tmp_path), "forecast.series": "pmi/headline", "forecast.models": "theta,snaive",
        "forecast.key_models": "snaive,naive2", "odds.models": "naive2",
        "forecast.key_series": "iva/yoy@440100,output/ytd_yoy@440100,pmi/headline/district/440103,nothing/*",
        "forecast.horizon": "3", "forecast.track_months": "2", "forecast.workers": "2",
        "nowcast.inputs": "pmi/headline,pmi/production,pmi/new_orders", "nowcast.maxiter": "60",
        "odds.simulations": "200", "leading.min_months": "48", "compute.breakdowns": "city,district", **extra})


@pytest.fixture
def filled(store, long_demo, tmp_path):
    load_demo(store, long_demo)
    settings = _settings(tmp_path)
    compute_range(store, settings, pd.Period("2013-10", "M"), pd.Period("2019-12", "M"), vintage=dt.date(2020, 1, 5),
                  families=("survey",))
    return store, settings


def test_forecast_stage_fills_the_track_record_and_scores_it(filled):
    store, settings = filled
    keys = resolve_keys(store, settings)
    assert keys == ["pmi/headline", "iva/yoy@440100", "output/ytd_yoy@440100", "pmi/headline/district/440103"]
    result = forecast_stage(store, settings, ORIGIN)
    assert result.status == "ok", result.message
    assert "city: lead" in result.message, result.message
    origins = store.read_records("SELECT DISTINCT origin FROM forecast ORDER BY origin")["origin"].tolist()
    assert origins == ["2019-08", "2019-09", "2019-10"]
    per = store.read_records("SELECT origin, COUNT(DISTINCT series_key) AS n FROM forecast GROUP BY origin")
    assert (per["n"] == 4).all()
    assert set(store.read_records("SELECT DISTINCT origin FROM nowcast")["origin"]) == set(origins)
    # odds of past origins only where a publication reads them (ODDS_MONTHS: 2019-08 and -09 are not)
    assert set(store.read_records("SELECT DISTINCT origin FROM target_odds")["origin"]) == {"2019-10"}
    assert 8 not in ODDS_MONTHS and 9 not in ODDS_MONTHS
    # the release calendar: official figures of the origin month are not known at the origin
    iva = store.read_records("SELECT period FROM forecast WHERE origin = '2019-10' AND series_key = 'iva/yoy@440100' "
                             "ORDER BY period")["period"].tolist()
    assert iva == ["2019-10", "2019-11", "2019-12"]
    skill = read_skill(store, ORIGIN)
    assert {"pmi/headline", "iva/yoy@440100"} <= set(skill["series_key"])
    h1 = skill[(skill["series_key"] == "pmi/headline") & (skill["horizon"] == 1)].iloc[0]
    assert h1["n"] == 2 and h1["mase"] > 0 and 0 <= h1["coverage_80"] <= 1  # 2019-09..10 from 08..09
    # scored as of the origin: nothing made at or after it, no outcome after it
    now = forecast_skill(store, settings)
    assert now.loc[(now["series_key"] == "pmi/headline") & (now["horizon"] == 1), "n"].iloc[0] == 3
    # incremental: the past origins are there and scored, nothing is recomputed (the records not rewritten)
    before = store.read_records("SELECT origin, computed_at FROM forecast_skill ORDER BY origin, series_key, horizon")
    time.sleep(1.1)
    again = fill_past_origins(store, settings, ORIGIN)
    assert again.origins == [] and again.stored == 0 and "none missing" in again.summary()
    after = store.read_records("SELECT origin, computed_at FROM forecast_skill ORDER BY origin, series_key, horizon")
    assert after.equals(before)
    # one (series, origin) removed is the only one recomputed; the records after it are scored again
    with store.begin() as conn:
        conn.exec_driver_sql("DELETE FROM forecast WHERE origin = '2019-09' AND series_key = 'pmi/headline'")
    third = fill_past_origins(store, settings, ORIGIN)
    assert third.origins == ["2019-09"] and third.forecasts == 3 and third.nowcasts == third.odds == 0
    assert read_skill(store, ORIGIN).equals(skill)
    # the operation report prints the track record next to the forecasts, and the leading indicator
    section = forecast_section(Inputs(store), str(ORIGIN), "en", "Outlook")
    tables = [b for b in section.blocks if hasattr(b, "header")]
    assert tables and "Past MASE" in tables[0].header
    assert any("leading indicator" in getattr(b, "text", "") for b in section.blocks)
    api = AnalystStore(store, settings)
    assert len(api.track_record("pmi/headline")) == 3  # horizons 1..3
    assert set(api.track_record(origin="2019-10")["series_key"]) == set(skill["series_key"])
    lead = api.leading_indicators(CITY_CODE)
    assert len(lead) == 1 and lead["value"].iloc[0] > 0 and lead["lead"].iloc[0] >= 1
    _leading_alert(store, settings)


def test_official_figures_after_the_origin_do_not_move_the_forecast(store, long_demo, tmp_path):
    load_demo(store, long_demo)  # official statistics only: no survey index needed
    settings = _settings(tmp_path)
    first = forecast_series(store, settings, ORIGIN, keys=["iva/yoy@440100"], workers=1)
    before = store.read_records("SELECT period, mean FROM forecast WHERE origin = '2019-10' ORDER BY period")
    with store.begin() as conn:  # October's official figure (published in November) changes wildly
        conn.exec_driver_sql("UPDATE official_statistic SET value = value + 40 WHERE series = 'iva/yoy' "
                             "AND region = '440100' AND period >= '2019-10'")
    again = forecast_series(store, settings, ORIGIN, keys=["iva/yoy@440100"], workers=1)
    after = store.read_records("SELECT period, mean FROM forecast WHERE origin = '2019-10' ORDER BY period")
    assert first.rows == again.rows == 3
    np.testing.assert_allclose(after["mean"], before["mean"], rtol=0, atol=1e-9)
    later = forecast_series(store, settings, ORIGIN + 1, keys=["iva/yoy@440100"], workers=1)
    moved = store.read_records("SELECT mean FROM forecast WHERE origin = '2019-11' ORDER BY period")["mean"]
    # known a month later, the figure counts (the forecast of November moves)
    assert later.rows == 3 and abs(moved.iloc[0] - before["mean"].iloc[1]) > 0.5


def _leading_alert(store, settings):
    """The stage stored the city's indicator; the rule fires on a hand-made recent peak, not on a trough."""
    report = build_leading(store, settings, ORIGIN)
    assert CITY_CODE in report.stored, report.summary()
    cli = store.read_records("SELECT DISTINCT series_key FROM series_value WHERE series_key LIKE 'cli/%'")
    assert {leading_key(CITY_CODE), leading_key(CITY_CODE, "reference"), leading_key(CITY_CODE, "lead")} <= \
        set(cli["series_key"])
    # a hand-made indicator that peaked five months ago (2019-05), and one that troughed then
    months = pd.period_range("2014-01", ORIGIN, freq="M")
    t = np.arange(len(months))
    peak = 100 + np.sin(2 * np.pi * (t - (len(t) - 6 - 10)) / 40)
    trough = 100 - np.sin(2 * np.pi * (t - (len(t) - 6 - 10)) / 40)
    rows = pd.concat([pd.DataFrame({"series_key": "cli/district/440105", "period": months.astype(str), "raw": peak}),
                      pd.DataFrame({"series_key": "cli/district/440106", "period": months.astype(str), "raw": trough})])
    with store.begin() as conn:
        write_series(conn, rows, columns=("raw",))
    rule = parse_rule({"name": "lead_down", "kind": "leading_turn", "severity": "warning", "recipients": "district",
                       "series": "cli/district/*"}, "test", 0)
    found = {f.subject: f for f in evaluate_rule(rule, EvalContext(store, settings, ORIGIN))}
    assert found["cli/district/440105"].active and found["cli/district/440105"].labels["months_ago"] == 5
    assert not found["cli/district/440106"].active and found["cli/district/440106"].labels["turn"] == "trough"
    assert not any(k.startswith(("cli/lead/", "cli/reference/")) for k in found)


def test_forecast_command_refuses_bad_input_in_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for argv, expected in ((["forecast", "--period", "2019-13"], "--period must be a month"),
                           (["forecast", "--accuracy", "--series", "no/such/series"], "matches none"),
                           (["forecast", "--period", "2019-10", "--series", "pmi/nothing*"], "matches none")):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        err = capsys.readouterr().err.strip()
        assert exc.value.code == 2 and err.splitlines() == [err] and expected in err, err
        assert "Traceback" not in err
    assert m.ForecastSkill.__tablename__ == "forecast_skill"
