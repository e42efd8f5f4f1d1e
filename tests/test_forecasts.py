"""Forecasts stored from an origin month, and their accuracy once outcomes arrive."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from monitor.compute import compute_range
from monitor.demo.load import load_demo
from monitor.forecasts import forecast_accuracy, forecast_series
from monitor.settings import load_settings
from monitor.store import models as m


def test_forecasts_are_stored_per_origin_and_scored(store, medium_demo, tmp_path):
    load_demo(store, medium_demo)
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path), "forecast.horizon": "3",
                                                    "forecast.series": "pmi/headline,pmi/new_orders,nothing/here"})
    compute_range(store, settings, pd.Period("2017-07", "M"), pd.Period("2020-09", "M"), vintage=dt.date(2020, 10, 1),
                  families=("survey",))
    early = forecast_series(store, settings, pd.Period("2020-07", "M"))
    assert set(early.stored) == {"pmi/headline", "pmi/new_orders"} and "nothing/here" in early.skipped
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
