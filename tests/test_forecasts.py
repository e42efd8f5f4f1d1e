"""Forecasts stored from an origin month, and their accuracy once outcomes arrive."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pandas as pd
import pytest

from monitor.compute import compute_range
from monitor.demo.generator import generate_demo
from monitor.demo.load import load_demo
from monitor.forecasts import forecast_accuracy, forecast_series
from monitor.nowcasts import nowcast_accuracy, nowcast_target, read_nowcasts, read_target_odds, target_odds
from monitor.reference import CITY_CODE
from monitor.results import read_series
from monitor.settings import load_settings
from monitor.store import models as m


def test_forecasts_are_stored_per_origin_and_scored(store, medium_demo, tmp_path, caplog):
    load_demo(store, medium_demo)
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path), "forecast.horizon": "3",
                                                    "forecast.series": "pmi/headline,pmi/new_orders,nothing/here",
                                                    "forecast.key_series": ""})
    compute_range(store, settings, pd.Period("2017-07", "M"), pd.Period("2020-09", "M"), vintage=dt.date(2020, 10, 1),
                  families=("survey",))
    with caplog.at_level(logging.INFO, logger="monitor.forecasts"):
        early = forecast_series(store, settings, pd.Period("2020-07", "M"))
    assert set(early.stored) == {"pmi/headline", "pmi/new_orders"} and "nothing/here" in early.skipped
    # the platform default (#14): mean of ARIMA, ETS, Theta; unadjusted series get the Chinese calendar
    assert all(set(v.split(" + ")) >= {"arima 0.33", "ets 0.33", "theta 0.33"} for v in early.stored.values())
    assert "Chinese calendar" in caplog.text
    assert not early.failed and early.rows == 6
    frame = store.read_frame(m.Forecast.__table__.select().where(m.Forecast.origin == "2020-07"))
    assert list(frame.sort_values(["series_key", "period"])["period"].unique()) == ["2020-08", "2020-09", "2020-10"]
    assert ((frame["lower_95"] <= frame["lower_80"]) & (frame["lower_80"] <= frame["mean"])
            & (frame["mean"] <= frame["upper_80"]) & (frame["upper_80"] <= frame["upper_95"])).all()
    again = forecast_series(store, settings, pd.Period("2020-07", "M"))  # re-running replaces that origin's rows
    assert again.rows == 6 and store.count(m.Forecast) == 6
    acc = forecast_accuracy(store)
    assert set(acc["horizon"]) == {1, 2}  # 2020-08 and 2020-09 are known; 2020-10 is not yet
    assert (acc["n"] == 1).all() and (acc["mae"] >= 0).all()
    short = forecast_series(store, settings, pd.Period("2019-12", "M"))
    assert not short.stored and "needs 36 months" in short.skipped["pmi/headline"]


@pytest.fixture(scope="module")
def long_demo():
    """Seven years: enough official history for the nowcast (36 published months) and the odds."""
    return generate_demo(seed=17, enterprises=60, start=pd.Period("2013-01", "M"), end=pd.Period("2019-12", "M"))


def test_nowcasts_and_target_odds_are_stored_and_scored(store, long_demo, tmp_path):
    load_demo(store, long_demo)
    settings = load_settings(environ={}, overrides={
        "data_dir": str(tmp_path), "nowcast.inputs": "pmi/headline,pmi/production,pmi/new_orders",
        "nowcast.maxiter": "200", "odds.simulations": "500", "nowcast.method": "dfm"})
    compute_range(store, settings, pd.Period("2013-01", "M"), pd.Period("2019-12", "M"), vintage=dt.date(2020, 1, 5),
                  families=("survey",))
    first = nowcast_target(store, settings, pd.Period("2019-10", "M"))
    assert not first.failed and set(first.stored) == {CITY_CODE}, first.summary()
    rows = read_nowcasts(store, "2019-10")
    # the official October figure is in the store, but not yet published at the October origin: nowcast
    assert list(rows["period"]) == ["2019-10", "2019-11", "2019-12"]  # to the end of the quarter
    assert ((rows["lower_95"] < rows["lower_80"]) & (rows["lower_80"] < rows["mean"])
            & (rows["mean"] < rows["upper_80"]) & (rows["upper_80"] < rows["upper_95"])).all()
    news = json.loads(rows["news"].iloc[0])
    assert {"pmi/headline", "iva/yoy"} <= {n["series"] for n in news}  # new survey data and the September release
    assert sum(n["impact"] for n in news) == pytest.approx(rows["mean"].iloc[0] - rows["previous"].iloc[0], abs=1e-4)
    headline = next(n for n in news if n["series"] == "pmi/headline" and n["period"] == "2019-10")
    stored = read_series(store, "pmi/headline").loc[pd.Period("2019-10", "M"), "raw"]
    assert headline["actual"] == pytest.approx(stored, abs=1e-3)  # in index points, not deviations from 50
    assert rows["converged"].map(bool).isin([True, False]).all() and (rows["iterations"] > 0).all()
    again = nowcast_target(store, settings, pd.Period("2019-10", "M"))  # replaces that origin's rows
    assert not again.failed and store.count(m.Nowcast) == 3
    nowcast_target(store, settings, pd.Period("2019-11", "M"))
    acc = nowcast_accuracy(store)
    assert set(acc["horizon"]) == {0, 1, 2} and (acc["mae"] >= 0).all()

    odds = target_odds(store, settings, pd.Period("2019-10", "M"))
    assert not odds.failed and odds.stored > 0, odds.summary()
    assert "advanced_manufacturing/share 440100" in odds.skipped  # annual indicator
    table = read_target_odds(store, "2019-10")
    assert table["probability"].between(0, 1).all() and (table["year"] == 2019).all()
    assert set(table["region"]) > {CITY_CODE}  # the city and the districts
    iva = table[(table["indicator"] == "iva/ytd_yoy") & (table["region"] == CITY_CODE)].iloc[0]
    assert iva["method"] == "monthly" and iva["ytd"] == pytest.approx(store.read_records(
        "SELECT value FROM official_statistic WHERE series = 'iva/ytd_yoy' AND region = :r AND period = '2019-09'",
        r=CITY_CODE)["value"].iloc[0])  # September's ytd: October's is not out at the October origin
    # each target draws from its own stream of the seed: one process or two give the same odds
    assert target_odds(store, settings, pd.Period("2019-10", "M"), workers=1).stored == odds.stored
    pd.testing.assert_frame_equal(read_target_odds(store, "2019-10").drop(columns="created_at"),
                                  table.drop(columns="created_at"))
    assert store.count(m.TargetOdds) == odds.stored


def test_production_mode_keeps_each_series_specification_until_its_review(store, medium_demo, tmp_path, caplog):
    """#14: the forecast stage stores each default-forecaster series' specification when it identifies it, re-uses
    it (parameters re-estimated) in the following months, and identifies afresh after forecast.review_months
    or on request."""
    from monitor.store.forecast_queries import forecast_specs

    load_demo(store, medium_demo)
    overrides = {"data_dir": str(tmp_path), "forecast.horizon": "3", "forecast.series": "pmi/headline",
                 "forecast.key_series": "", "forecast.workers": "1"}
    settings = load_settings(environ={}, overrides=overrides)
    compute_range(store, settings, pd.Period("2017-07", "M"), pd.Period("2020-09", "M"), vintage=dt.date(2020, 10, 1),
                  families=("survey",))
    first = forecast_series(store, settings, pd.Period("2020-06", "M"))
    assert first.identified == ["pmi/headline"] and not first.kept, first.summary()
    identified, text = forecast_specs(store, ["pmi/headline"])["pmi/headline"]
    spec = json.loads(text)
    assert identified == "2020-06" and spec["arima"] is not None and spec["calendar"] == "cn"
    with caplog.at_level(logging.INFO, logger="monitor.forecasts"):
        second = forecast_series(store, settings, pd.Period("2020-07", "M"))
    assert second.kept == ["pmi/headline"] and not second.identified and not second.failed
    assert "specification kept from the review" in caplog.text
    assert "1 on the specification kept" in second.summary()
    assert forecast_specs(store, ["pmi/headline"])["pmi/headline"][0] == "2020-06"  # unchanged
    again = forecast_series(store, settings, pd.Period("2020-07", "M"), reidentify=True)
    assert again.identified == ["pmi/headline"]
    assert forecast_specs(store, ["pmi/headline"])["pmi/headline"][0] == "2020-07"
    yearly = load_settings(environ={}, overrides={**overrides, "forecast.review_months": "1"})
    due = forecast_series(store, yearly, pd.Period("2020-08", "M"))  # a month after the identification: review due
    assert due.identified == ["pmi/headline"]
    earlier = forecast_series(store, settings, pd.Period("2020-06", "M"))  # before the identification: afresh ...
    assert earlier.identified == ["pmi/headline"]
    assert forecast_specs(store, ["pmi/headline"])["pmi/headline"][0] == "2020-08"  # ... the later review stays
    # the stage and the command line pass the flag through
    from monitor.cli import cli
    from monitor.pipeline import run_stage

    stage = run_stage(store, settings, "forecast", pd.Period("2020-09", "M"), nowcast=False, keys=["pmi/headline"],
                      reidentify=True)
    assert stage.detail["forecast"].identified == ["pmi/headline"], stage.summary
    from click.testing import CliRunner

    assert "--reidentify" in CliRunner().invoke(cli, ["forecast", "--help"]).output
