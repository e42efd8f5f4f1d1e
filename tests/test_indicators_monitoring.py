"""Monitoring indicators: electricity, stopped enterprises, inventory, costs (hand-computed and on the demo)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from monitor.demo.generator import generate_demo
from monitor.indicators.electricity import (
    electricity_indicators,
    infer_status,
    production_status_indicators,
    status_enterprises,
)
from monitor.indicators.monitoring import (
    MonitoringDataError,
    cost_indicators,
    high_cost_shares,
    inventory_indicators,
    monitoring_rows,
    price_scissors,
)

M = pd.Period
TOL = 1e-9

# Spring Festival: 2019-02-05 (window -7..+15: Jan 29 - Feb 20), 2020-01-25 (Jan 18 - Feb 9).
SF_2019 = (pd.Timestamp("2019-01-29"), pd.Timestamp("2019-02-20"))
SF_2020 = (pd.Timestamp("2020-01-18"), pd.Timestamp("2020-02-09"))


def _enterprises() -> pd.DataFrame:
    return pd.DataFrame({
        "id": [1, 2, 3],
        "name_zh": ["甲厂", "乙厂", "丙厂"],
        "district_code": ["440106", "440112", "440112"],
        "industry_code": ["36", "39", "26"],
        "size_class": ["large", "small", "micro"],
    })


def _readings() -> pd.DataFrame:
    """Three firms, daily readings 2019-01-01 .. 2021-03-31.

    Firm 1: 100 kWh a day in 2019, 110 in 2020, 121 in 2021.
    Firm 2: 200 a day, 20 a day inside the Spring Festival window; 2020-06 at 10 a day (stopped),
    2020-07 at 80 (semi-stopped), 2020-08 at 120 (normal at the default threshold).
    Firm 3: only from 2020-01 (no history: outside the matched sample, no baseline), 50 a day.
    """
    days = pd.date_range("2019-01-01", "2021-03-31", freq="D")
    f1 = np.select([days.year == 2019, days.year == 2020], [100.0, 110.0], 121.0)
    festival = ((days >= SF_2019[0]) & (days <= SF_2019[1])) | ((days >= SF_2020[0]) & (days <= SF_2020[1]))
    month = days.to_period("M")
    f2 = np.where(festival, 20.0, 200.0)
    f2 = np.where(month == M("2020-06", "M"), 10.0, f2)
    f2 = np.where(month == M("2020-07", "M"), 80.0, f2)
    f2 = np.where(month == M("2020-08", "M"), 120.0, f2)
    later = days >= pd.Timestamp("2020-01-01")
    return pd.concat([
        pd.DataFrame({"enterprise_id": 1, "day": days, "kwh": f1}),
        pd.DataFrame({"enterprise_id": 2, "day": days, "kwh": f2}),
        pd.DataFrame({"enterprise_id": 3, "day": days[later], "kwh": 50.0}),
    ], ignore_index=True)


def _value(frame: pd.DataFrame, key: str, period: str) -> pd.Series:
    row = frame[(frame["series_key"] == key) & (frame["period"] == M(period, "M"))]
    assert len(row) == 1, f"{key} {period}: {len(row)} rows"
    return row.iloc[0]


@pytest.fixture(scope="module")
def hand():
    return electricity_indicators(_readings(), _enterprises())


# --------------------------------------------------------------------------------------------- electricity
def test_jan_feb_cumulative_growth_and_no_january(hand):
    s = hand.series
    # Firm 1: 110 x (31 + 29) against 100 x (31 + 28) (2020 is a leap year).
    f1_now, f1_then = 110 * 60, 100 * 59
    # Firm 2: 2020 window covers Jan 18-31 (14 days) and Feb 1-9 (9); 2019 Jan 29-31 (3) and Feb 1-20 (20).
    f2_now = (17 * 200 + 14 * 20) + (20 * 200 + 9 * 20)
    f2_then = (28 * 200 + 3 * 20) + (8 * 200 + 20 * 20)
    row = _value(s, "electricity/yoy/city", "2020-02")
    assert row["value"] == pytest.approx(100 * ((f1_now + f2_now) / (f1_then + f2_then) - 1), abs=TOL)
    assert row["n"] == 2  # firm 3 has no 2019 readings: not matched
    assert _value(s, "electricity/yoy/industry/36", "2020-02")["value"] == pytest.approx(
        100 * (f1_now / f1_then - 1), abs=TOL)
    assert not ((s["measure"] == "yoy") & (s["period"].dt.month == 1)).any()
    # The total is every firm with readings, January included.
    total = _value(s, "electricity/total/district/440112", "2020-01")
    assert total["value"] == pytest.approx(17 * 200 + 14 * 20 + 31 * 50, abs=TOL)
    assert total["n"] == 2


def test_plain_monthly_growth_without_the_jan_feb_rule():
    s = electricity_indicators(_readings(), _enterprises(), combine_jan_feb=False).series
    assert _value(s, "electricity/yoy/district/440106", "2020-01")["value"] == pytest.approx(10.0, abs=TOL)
    # February alone: 29 days against 28.
    assert _value(s, "electricity/yoy/district/440106", "2020-02")["value"] == pytest.approx(
        100 * (110 * 29 / (100 * 28) - 1), abs=TOL)


def test_matched_sample_leaves_out_new_firms(hand):
    row = _value(hand.series, "electricity/yoy/district/440112", "2020-12")
    assert row["value"] == pytest.approx(0.0, abs=TOL)  # firm 2 unchanged; firm 3 (new) would add 50 x 31
    assert row["n"] == 1


def test_breakdown_keys(hand):
    keys = set(hand.series["series_key"])
    assert {"electricity/total/city", "electricity/yoy/district/440106", "electricity/yoy/industry/36",
            "electricity/yoy/size/small", "electricity/yoy/key_sector/autos"} <= keys
    assert "electricity/yoy/size/micro" not in keys  # micro counted with small, as in the survey indices
    micro_small = _value(hand.series, "electricity/total/size/small", "2020-03")
    assert micro_small["n"] == 2


def _firm(result, eid: int, period: str) -> pd.Series:
    f = result.firms
    return f[(f["enterprise_id"] == eid) & (f["period"] == M(period, "M"))].iloc[0]


def test_baseline_median_of_two_years(hand):
    # March 2021: median (= mean) of 110 (2020) and 100 (2019).
    row = _firm(hand, 1, "2021-03")
    assert row["baseline"] == pytest.approx(105.0, abs=TOL)
    assert row["ratio"] == pytest.approx(121 / 105, abs=TOL)
    # One year of history is enough for a baseline; none gives none.
    assert _firm(hand, 1, "2020-03")["baseline"] == pytest.approx(100.0, abs=TOL)
    assert np.isnan(_firm(hand, 1, "2019-03")["baseline"])
    assert np.isnan(_firm(hand, 3, "2020-12")["ratio"]) and pd.isna(_firm(hand, 3, "2020-12")["inferred_status"])


def test_january_february_baseline_is_pooled_and_festival_days_left_out(hand):
    # Outside the festival window firm 2 draws 200 a day in every month: ratio 1 in both months, although
    # the festival fell in February 2019 and in January 2020.
    for period in ("2020-01", "2020-02", "2021-01", "2021-02"):
        assert _firm(hand, 2, period)["ratio"] == pytest.approx(1.0, abs=TOL)
    assert _firm(hand, 2, "2020-01")["inferred_status"] == "normal"


def test_january_february_baseline_plain_rule():
    r = electricity_indicators(_readings(), _enterprises(), festival_window=None)
    jan_2020 = (17 * 200 + 14 * 20) / 31
    pooled_2019 = ((28 * 200 + 3 * 20) + (8 * 200 + 20 * 20)) / 59  # Jan + Feb 2019, per day
    row = _firm(r, 2, "2020-01")
    assert row["baseline"] == pytest.approx(pooled_2019, abs=TOL)
    assert row["ratio"] == pytest.approx(jan_2020 / pooled_2019, abs=TOL)
    # The same-month rule would have compared with January 2019 alone (no festival): lower still.
    assert jan_2020 / ((28 * 200 + 3 * 20) / 31) < row["ratio"]


def test_inferred_status_and_thresholds(hand):
    assert _firm(hand, 2, "2020-06")["ratio"] == pytest.approx(10 / 200, abs=TOL)
    assert [_firm(hand, 2, p)["inferred_status"] for p in ("2020-06", "2020-07", "2020-08")] == \
        ["stopped", "semi_stopped", "normal"]
    strict = electricity_indicators(_readings(), _enterprises(), semi_threshold=0.7, stop_threshold=0.04)
    assert [_firm(strict, 2, p)["inferred_status"] for p in ("2020-06", "2020-07", "2020-08")] == \
        ["semi_stopped", "semi_stopped", "semi_stopped"]
    assert list(infer_status(np.array([0.0999, 0.1, 0.4999, 0.5, np.nan]))) == \
        ["stopped", "semi_stopped", "semi_stopped", "normal", None]
    with pytest.raises(MonitoringDataError, match="0 < stop_threshold <= semi_threshold"):
        infer_status(np.array([0.5]), stop_threshold=0.6, semi_threshold=0.5)


def test_reading_errors_state_the_rule():
    readings = _readings()
    with pytest.raises(MonitoringDataError, match=r"unknown ids \[9\]"):
        electricity_indicators(pd.concat([readings, pd.DataFrame({"enterprise_id": [9], "day": [pd.Timestamp(
            "2020-01-01")], "kwh": [1.0]})]), _enterprises())
    with pytest.raises(MonitoringDataError, match="one reading a day"):
        electricity_indicators(pd.concat([readings, readings.iloc[:1]]), _enterprises())
    bad = readings.copy()
    bad.loc[5, "kwh"] = -1.0
    with pytest.raises(MonitoringDataError, match="non-negative"):
        electricity_indicators(bad, _enterprises())
    with pytest.raises(MonitoringDataError, match=r"needs the columns \['kwh'\]"):
        electricity_indicators(readings.drop(columns="kwh"), _enterprises())


def test_days_as_text_and_requested_months():
    readings = _readings()
    readings["day"] = readings["day"].dt.strftime("%Y-%m-%d")
    r = electricity_indicators(readings, _enterprises(), months=["2020-02", "2020-06"])
    assert set(r.series["period"].astype(str)) == {"2020-02", "2020-06"}
    assert _firm(r, 2, "2020-06")["inferred_status"] == "stopped"


# --------------------------------------------------------------------------------------------- status
def _reports() -> pd.DataFrame:
    periods = [str(p) for p in pd.period_range("2020-05", "2020-08", freq="M")]
    rows = []
    for eid in (1, 2, 3):
        for p in periods:
            status = "normal"
            if (eid, p) == (2, "2020-06"):
                status = "stopped"
            if (eid, p) == (1, "2020-07"):
                status = "semi_stopped"
            rows.append((eid, p, status))
    return pd.DataFrame(rows, columns=["enterprise_id", "period", "production_status"])


def test_status_counts_reported_and_inferred(hand):
    st = production_status_indicators(_reports(), _enterprises(), hand, months=["2020-06", "2020-07"])
    row = _value(st, "status/stopped_share/district/440112", "2020-06")
    assert (row["value"], row["n"]) == (pytest.approx(50.0, abs=TOL), 2)  # firm 2 of firms 2 and 3
    assert _value(st, "status/stopped_count/district/440112", "2020-06")["value"] == 1
    inferred = _value(st, "status/inferred_stopped_share/district/440112", "2020-06")
    assert (inferred["value"], inferred["n"]) == (pytest.approx(100.0, abs=TOL), 1)  # firm 3: no baseline
    assert _value(st, "status/semi_stopped_share/city", "2020-07")["value"] == pytest.approx(100 / 3, abs=TOL)
    assert _value(st, "status/inferred_semi_stopped_count/city", "2020-07")["value"] == 1
    # Thresholds are the function's own.
    st2 = production_status_indicators(_reports(), _enterprises(), hand, months=["2020-08"], semi_threshold=0.7)
    assert _value(st2, "status/inferred_semi_stopped_count/city", "2020-08")["value"] == 1
    st3 = production_status_indicators(_reports(), _enterprises(), months=["2020-08"])
    assert not st3["measure"].str.startswith("inferred").any()


def test_status_enterprises_lists_who_is_behind_the_counts(hand):
    lst = status_enterprises(_reports(), _enterprises(), hand, months=["2020-06", "2020-07"])
    assert list(zip(lst["period"].astype(str), lst["enterprise_id"], lst["reported_status"].astype(str),
                    lst["inferred_status"].astype(str), lst["mismatch"], strict=True)) == [
        ("2020-06", 2, "stopped", "stopped", False),
        ("2020-07", 1, "semi_stopped", "normal", True),
        ("2020-07", 2, "normal", "semi_stopped", True),
    ]
    assert lst.loc[2, "ratio"] == pytest.approx(0.4, abs=TOL)
    assert lst.loc[2, "name_zh"] == "乙厂" and lst.loc[2, "district_code"] == "440112"
    st = production_status_indicators(_reports(), _enterprises(), hand, months=["2020-06", "2020-07"])
    for (period, district), group in lst.groupby([lst["period"].astype(str), "district_code"]):
        count = _value(st, f"status/inferred_semi_stopped_count/district/{district}", period)["value"] \
            if ((st["series_key"] == f"status/inferred_semi_stopped_count/district/{district}")
                & (st["period"] == M(period, "M"))).any() else 0
        assert count == (group["inferred_status"] == "semi_stopped").sum()


def test_unknown_status_is_rejected():
    rep = _reports()
    rep.loc[0, "production_status"] = "closed"
    with pytest.raises(MonitoringDataError, match=r"production_status must be one of .*'closed'"):
        production_status_indicators(rep, _enterprises())


# --------------------------------------------------------------------------------------------- inventory, costs
def _monthly() -> pd.DataFrame:
    rows = []
    for eid in (1, 2):
        for p in pd.period_range("2019-01", "2020-12", freq="M"):
            later = p.year == 2020
            if (eid, str(p)) == (2, "2020-01"):
                continue  # firm 2 skips January 2020: out of the Jan-Feb comparison, back in March
            scale = 1.0 if eid == 1 else 3.0
            rows.append({
                "enterprise_id": eid, "period": str(p),
                "output_value": scale * (110.0 if later else 100.0),
                "finished_goods_inventory": scale * (60.0 if later else 50.0) * (20 if str(p) == "2020-01" else 1),
                "raw_material_cost": scale * (66.0 if later else 60.0),
                "labour_cost": scale * (25.0 if later else 20.0),
                "energy_cost": scale * 5.0,
                "other_cost": scale * (4.0 if later else 5.0),
                "production_status": "normal",
            })
    return pd.DataFrame(rows)


def test_inventory_against_output():
    inv = inventory_indicators(_monthly(), _enterprises())
    for period, n in (("2020-02", 1), ("2020-03", 2)):
        assert _value(inv, "inventory/fg_yoy/city", period)["value"] == pytest.approx(20.0, abs=TOL)
        assert _value(inv, "inventory/output_yoy/city", period)["value"] == pytest.approx(10.0, abs=TOL)
        gap = _value(inv, "inventory/gap/city", period)
        assert (gap["value"], gap["n"]) == (pytest.approx(10.0, abs=TOL), n)
        assert _value(inv, "inventory/fg_faster_share/city", period)["value"] == pytest.approx(100.0, abs=TOL)
    assert not (inv["period"].dt.month == 1).any()  # the January stock of 20 x 60 is never compared
    plain = inventory_indicators(_monthly(), _enterprises(), combine_jan_feb=False)
    assert _value(plain, "inventory/fg_yoy/city", "2020-01")["value"] == pytest.approx(2300.0, abs=TOL)


def test_costs_by_item_and_per_100_output():
    c = cost_indicators(_monthly(), _enterprises())
    expected = {"raw_material_yoy": 10.0, "labour_yoy": 25.0, "energy_yoy": 0.0, "other_yoy": -20.0,
                "total_yoy": 100 * (100 / 90 - 1)}
    for measure, value in expected.items():
        assert _value(c, f"costs/{measure}/city", "2020-05")["value"] == pytest.approx(value, abs=TOL)
    assert _value(c, "costs/per_100_output/city", "2020-05")["value"] == pytest.approx(100 * 100 / 110, abs=TOL)
    assert _value(c, "costs/per_100_output/city", "2019-01")["value"] == pytest.approx(90.0, abs=TOL)
    assert ((c["measure"] == "per_100_output") & (c["period"] == M("2020-01", "M"))).any()  # a level: January kept
    assert not ((c["measure"] == "total_yoy") & (c["period"].dt.month == 1)).any()
    assert _value(c, "costs/total_yoy/city", "2020-02")["n"] == 1


def test_price_scissors_from_dis():
    idx = pd.period_range("2021-01", "2021-04", freq="M")
    ps = price_scissors(pd.Series([60.0, 55, 52, 50], idx), pd.Series([50.0, 50, 51, 52], idx))
    level = ps[ps["series_key"] == "costs/price_scissors/city"]
    assert level["value"].tolist() == pytest.approx([10, 5, 1, -2], abs=TOL)
    change = ps[ps["series_key"] == "costs/price_scissors_change/city"]
    assert change["value"].tolist() == pytest.approx([-12.0], abs=TOL)
    frame = pd.DataFrame({"input_prices": [60.0, 55], "output_prices": [50.0, 50]}, index=idx[:2])
    d = price_scissors(frame, breakdown="district", code="440106")
    assert set(d["series_key"]) == {"costs/price_scissors/district/440106"}
    with pytest.raises(MonitoringDataError, match="monthly PeriodIndex"):
        price_scissors(pd.Series([1.0], index=[0]), pd.Series([1.0], index=[0]))
    with pytest.raises(MonitoringDataError, match="output_prices=<Series>"):
        price_scissors(pd.Series([1.0], idx[:1]))


def test_high_cost_share_is_an_unweighted_count():
    respondents = pd.DataFrame({"enterprise_id": [1, 1, 2, 3], "period": "2020-05"})  # firm 1 answered twice
    problems = pd.DataFrame({
        "enterprise_id": [1, 2, 2, 3, 2],
        "period": ["2020-05", "2020-05", "2020-05", "2020-05", "2020-06"],
        "problem": ["high_raw_material_cost", "high_raw_material_cost", "high_labour_cost", "insufficient_demand",
                    "high_logistics_cost"],
    })
    h = high_cost_shares(problems, respondents, _enterprises())
    assert _value(h, "costs/high_cost_share/city", "2020-05")["value"] == pytest.approx(200 / 3, abs=TOL)
    assert _value(h, "costs/high_cost_share/city", "2020-05")["n"] == 3
    assert _value(h, "costs/high_labour_cost_share/city", "2020-05")["value"] == pytest.approx(100 / 3, abs=TOL)
    assert _value(h, "costs/high_raw_material_cost_share/district/440112", "2020-05")["value"] == \
        pytest.approx(50.0, abs=TOL)
    # A tick without a response row still makes a respondent.
    june = _value(h, "costs/high_cost_share/city", "2020-06")
    assert (june["value"], june["n"]) == (pytest.approx(100.0, abs=TOL), 1)


def test_monitoring_rows(hand):
    rows = monitoring_rows(hand.series, cost_indicators(_monthly(), _enterprises()))
    assert list(rows.columns) == ["series_key", "period", "raw", "n"]
    assert rows["period"].str.fullmatch(r"\d{4}-\d{2}").all()
    one = rows[(rows["series_key"] == "electricity/yoy/city") & (rows["period"] == "2020-02")].iloc[0]
    assert one["n"] == 2 and one["raw"] == pytest.approx(_value(hand.series, "electricity/yoy/city", "2020-02")["value"])
    assert str(rows["n"].dtype) == "Int64"
    with pytest.raises(MonitoringDataError, match="appears once a month"):
        monitoring_rows(hand.series, hand.series)


# --------------------------------------------------------------------------------------------- on the demo
@pytest.fixture(scope="module")
def demo():
    return generate_demo(seed=2017, enterprises=300, start=M("2018-01", "M"), end=M("2021-12", "M"))


@pytest.fixture(scope="module")
def demo_electricity(demo):
    return electricity_indicators(demo.electricity, demo.enterprises)


def _joined(demo, result) -> pd.DataFrame:
    monthly = demo.monthly.assign(period=pd.PeriodIndex(demo.monthly["period"], freq="M"))
    both = monthly.merge(result.firms, on=["enterprise_id", "period"])
    return both[both["ratio"].notna()]


def test_demo_inferred_stopped_agrees_with_reported(demo, demo_electricity):
    both = _joined(demo, demo_electricity)
    reported, inferred = both["production_status"].astype(str), both["inferred_status"].astype(str)
    assert (reported == "stopped").sum() > 100
    recall = (inferred[reported == "stopped"] == "stopped").mean()
    precision = (reported[inferred == "stopped"] == "stopped").mean()
    assert recall >= 0.95 and precision >= 0.95, (recall, precision)
    semi = (inferred[reported == "semi_stopped"] == "semi_stopped").mean()
    assert semi >= 0.75, semi  # semi-stopped plants run at 30-45 %: near the 50 % line after a year's growth
    assert (inferred[reported == "normal"] == "normal").mean() >= 0.99


def test_demo_spring_festival_does_not_fake_stoppages(demo, demo_electricity):
    both = _joined(demo, demo_electricity)
    jan_feb = both[both["period"].dt.month.isin([1, 2]) & (both["production_status"] == "normal")]
    assert len(jan_feb) > 500
    assert (jan_feb["inferred_status"].astype(str) != "normal").mean() < 0.01


def test_demo_electricity_collapses_in_february_2020(demo_electricity):
    s = demo_electricity.series
    city = s[s["series_key"] == "electricity/yoy/city"].set_index("period")["value"]
    before = city[(city.index >= M("2019-03", "M")) & (city.index <= M("2019-12", "M"))].mean()
    assert city[M("2020-02", "M")] < -8.0
    assert city[M("2020-02", "M")] < before - 15.0
    assert city[M("2021-02", "M")] > 25.0  # the base effect a year later


def test_demo_stopped_share_peaks_in_february_2020(demo, demo_electricity):
    st = production_status_indicators(demo.monthly, demo.enterprises, demo_electricity)
    city = st[st["series_key"] == "status/inferred_stopped_share/city"].set_index("period")["value"]
    assert city[M("2020-02", "M")] > 15.0
    assert city.drop(M("2020-02", "M")).max() < 10.0
    assert {f"status/stopped_share/district/{d}" for d in demo.enterprises["district_code"].unique()} <= \
        set(st["series_key"])


@pytest.mark.parametrize("years", [1, 2, 3, 4])
def test_baseline_is_the_median_of_the_available_years(years):
    from monitor.indicators.electricity import _baseline
    from monitor.indicators.monitoring import _Grid

    rng = np.random.default_rng(years)
    grid = _Grid(M("2015-01", "M").ordinal, 72)
    kwh = rng.uniform(0, 100, (40, grid.T))
    days = np.where(rng.random((40, grid.T)) < 0.3, 0, 30)
    kwh = np.where(days > 0, kwh, 0.0)
    per_day, baseline = _baseline(kwh, days, grid, years)
    t = 50  # 2019-03: a plain month
    history = np.stack([per_day[:, t - 12 * y] for y in range(1, years + 1)], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # firms without history: NaN
        expected = np.nanmedian(history, axis=1)
    np.testing.assert_allclose(baseline[:, t], expected, rtol=1e-12, equal_nan=True)
