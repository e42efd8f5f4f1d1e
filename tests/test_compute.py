"""Computing indices into the store: vintages, idempotence, what the demo gets."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from monitor.compute import compute_range
from monitor.demo.load import load_demo
from monitor.results import read_series, write_series
from monitor.settings import load_settings
from monitor.store import models as m


def test_vintages_only_for_changed_values(store):
    rows = pd.DataFrame({"series_key": ["pmi/headline", "pmi/headline", "pmi/new_orders"],
                         "period": ["2017-01", "2017-02", "2017-01"], "raw": [51.0, 50.5, 52.25],
                         "se": [0.8, 0.9, 1.1], "n": [1100, 1090, 1099]})
    with store.begin() as conn:
        assert write_series(conn, rows, vintage=dt.date(2017, 2, 28)) == 3
        assert write_series(conn, rows, vintage=dt.date(2017, 3, 31)) == 0  # same values: no new vintage
    revised = rows.assign(raw=[51.0, 50.7, 52.25])
    with store.begin() as conn:
        assert write_series(conn, revised, vintage=dt.date(2017, 3, 31)) == 1
        # another writer adds the adjusted value without erasing the raw one
        assert write_series(conn, revised[["series_key", "period"]].assign(sa=[50.2, 50.1, 51.0]),
                            vintage=dt.date(2017, 4, 30), columns=("sa",)) == 3
    now = read_series(store, "pmi/headline")
    assert now.loc["2017-02", "raw"] == 50.7 and now.loc["2017-02", "sa"] == 50.1
    then = read_series(store, "pmi/headline", as_of="2017-03-01")
    assert then.loc["2017-02", "raw"] == 50.5 and np.isnan(then.loc["2017-02", "sa"])
    assert set(read_series(store, "pmi/*")["series_key"]) == {"pmi/headline", "pmi/new_orders"}
    assert store.count(m.SeriesValue) == 7


def test_compute_the_demo_panel_into_the_store(store, medium_demo, tmp_path):
    load_demo(store, medium_demo)
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path)})
    first, last = pd.Period("2019-07", "M"), pd.Period("2020-09", "M")
    report = compute_range(store, settings, first, last, vintage=dt.date(2020, 10, 31))
    assert not report.failed and report.written["survey"] > 1000
    head = read_series(store, "pmi/headline")
    assert list(head.index.astype(str)) == [str(p) for p in pd.period_range(first, last, freq="M")]
    assert head["raw"].between(0, 100).all() and (head["se"] > 0).all()
    assert head.loc["2020-02", "raw"] < head.loc["2019-11", "raw"] - 5  # the February 2020 collapse
    districts = read_series(store, "pmi/headline/district/*")
    assert districts["series_key"].nunique() >= 8 and (districts["n"] < 30).any()
    rate = read_series(store, "response_rate")
    assert rate["raw"].between(60, 100).all()
    assert report.written["monitoring"] > 500
    elec = read_series(store, "electricity/yoy/city")
    months = set(elec.index.astype(str))
    assert "2020-02" in months and "2020-01" not in months  # January-February published combined, in February
    assert elec.loc["2020-02", "raw"] < elec.loc["2019-11", "raw"] - 10  # the February 2020 shutdown
    stopped = read_series(store, "status/stopped_share/city")
    assert stopped.loc["2020-02", "raw"] > stopped.loc["2019-11", "raw"]
    lamps = read_series(store, "lamps/composite")
    assert lamps["raw"].between(20, 200).all() and len(lamps) >= 3
    again = compute_range(store, settings, first, last, vintage=dt.date(2020, 11, 30))
    assert again.total == 0  # recomputing the same data writes nothing


@pytest.mark.parametrize("weighting", ["size", "design"])  # the default is unweighted
def test_weighting_setting_reaches_the_engine(store, small_demo, tmp_path, weighting):
    load_demo(store, small_demo)
    base = load_settings(environ={}, overrides={"data_dir": str(tmp_path)})
    other = base.with_overrides(compute__weighting=weighting)
    p = pd.Period("2020-06", "M")
    compute_range(store, base, p, p, vintage=dt.date(2020, 7, 1))
    compute_range(store, other, p, p, vintage=dt.date(2020, 7, 2))
    both = read_series(store, "pmi/new_orders", as_of="2020-07-01"), read_series(store, "pmi/new_orders")
    assert both[0].loc["2020-06", "raw"] != both[1].loc["2020-06", "raw"]


def test_crossed_breakdowns_from_the_settings(store, small_demo, tmp_path):
    load_demo(store, small_demo)
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp_path),
                                                    "compute.breakdowns": "city, district+size"})
    p = pd.Period("2020-06", "M")
    compute_range(store, settings, p, p, vintage=dt.date(2020, 7, 1), families=("survey",))
    crossed = read_series(store, "pmi/new_orders/district+size/*")
    assert len(crossed) >= 5 and crossed["series_key"].str.match(r"pmi/new_orders/district\+size/4401\d\d\.").all()
    assert read_series(store, "pmi/new_orders/industry/*").empty  # not asked for


def test_database_meter_sums_give_the_same_indicators_as_daily_readings(store, medium_demo):
    from monitor.compute_monitoring import monthly_meter
    from monitor.indicators import electricity_indicators

    load_demo(store, medium_demo)
    months = [str(p) for p in pd.period_range("2019-07", "2020-09", freq="M")]
    meter = monthly_meter(store, dt.date(2017, 7, 1))
    daily = medium_demo.electricity
    from_db = electricity_indicators(meter, medium_demo.enterprises, months=months)
    from_days = electricity_indicators(daily, medium_demo.enterprises, months=months)
    pd.testing.assert_frame_equal(from_db.series.reset_index(drop=True), from_days.series.reset_index(drop=True),
                                  check_dtype=False, rtol=1e-9)
    assert np.allclose(from_db.firms["ratio"], from_days.firms["ratio"], equal_nan=True)
