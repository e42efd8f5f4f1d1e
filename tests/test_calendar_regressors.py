"""Chinese calendar regressors: festival dates, genhol semantics, working days with 调休."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasting import CalendarRuleWarning, ForecastingError
from forecasting.calendar import (
    DEFAULT_HOLIDAYS,
    LUNAR_HOLIDAYS,
    HolidayWindow,
    calendar_regressors,
    festival_dates,
    genhol,
    holiday_regressors,
    official_holidays,
    statutory_holidays,
    working_day_regressor,
    working_days,
)

DATA = Path(__file__).parent / "data"


def test_spring_festival_agrees_with_r_seasonal_1949_2030():
    ref = pd.read_csv(DATA / "cny" / "cny_dates_R_seasonal.csv")
    ref = ref[(ref["year"] >= 1949) & (ref["year"] <= 2030)]
    ours = festival_dates("spring_festival")
    assert len(ref) == 82
    mismatches = {int(y): (d, ours[y].date().isoformat()) for y, d in zip(ref["year"], ref["date"])
                  if ours[y].date().isoformat() != d}
    assert mismatches == {}


def test_festival_table_spans_1949_2050():
    for name in ("spring_festival", "dragon_boat", "mid_autumn"):
        dates = festival_dates(name)
        assert list(dates.index) == list(range(1949, 2051))
        assert (dates.dt.year == dates.index).all()
    assert festival_dates()[2024] == pd.Timestamp("2024-02-10")
    assert festival_dates("dragon_boat")[2024] == pd.Timestamp("2024-06-10")
    assert festival_dates("mid_autumn")[2024] == pd.Timestamp("2024-09-17")


@pytest.mark.parametrize(("festival", "label"), [("spring_festival", "春节"), ("dragon_boat", "端午"),
                                                  ("mid_autumn", "中秋")])
def test_lunar_festivals_are_official_days_off(festival, label):
    table = official_holidays()
    off = set(table.loc[table["off"] & table["name"].str.contains(label), "date"])
    dates = festival_dates(festival)
    missing = [y for y in range(2008, 2027) if dates[y] not in off]
    assert missing == []


@pytest.mark.parametrize("window", [*DEFAULT_HOLIDAYS, *LUNAR_HOLIDAYS, HolidayWindow("long", start=-60, end=45)])
def test_genhol_shares_sum_to_one_per_festival_before_centring(window):
    dates = festival_dates(window.festival)
    for year in range(1949, 2051):
        raw = genhol([dates[year]], window.start, window.end, center="none")
        assert raw.sum() == pytest.approx(1.0, abs=1e-12), year
        assert ((raw > -1e-12) & (raw < 1 + 1e-12)).all()
        assert (raw > 0).sum() <= 1 + (window.end - window.start) // 28 + 1
    everything = genhol(dates, window.start, window.end, center="none")
    assert everything.sum() == pytest.approx(len(dates))


def test_genhol_known_values():
    idx = pd.period_range("2020-01", "2024-12", freq="M")
    raw = genhol(festival_dates(), -20, -1, center="none", index=idx)
    # 2024: festival 10 Feb; window 21 Jan .. 9 Feb = 11 days in January, 9 in February
    assert raw[pd.Period("2024-01", "M")] == pytest.approx(11 / 20)
    assert raw[pd.Period("2024-02", "M")] == pytest.approx(9 / 20)
    during = genhol(festival_dates(), 0, 6, center="none", index=idx)
    assert during[pd.Period("2020-01", "M")] == pytest.approx(1.0)  # 25-31 Jan 2020
    assert during[pd.Period("2021-02", "M")] == pytest.approx(1.0)  # 12-18 Feb 2021


def test_calendar_centring_makes_calendar_month_means_zero():
    for window in (*DEFAULT_HOLIDAYS, *LUNAR_HOLIDAYS):
        centred = genhol(festival_dates(window.festival), window.start, window.end, center="calendar")
        inside = centred[(centred.index.year >= 1949) & (centred.index.year <= 2050)]
        means = inside.groupby(inside.index.month).mean()
        assert np.abs(means).max() < 1e-12, window
    mean_centred = genhol(festival_dates(), 0, 6, center="mean")
    assert abs(mean_centred.loc["1949-01":"2050-12"].mean()) < 1e-12


def test_holiday_regressors_frame_and_validation():
    idx = pd.period_range("2010-01", "2012-12", freq="M")
    frame = holiday_regressors(idx)
    assert list(frame.columns) == ["sf_before", "sf_during", "sf_after"]
    assert frame.index.equals(idx)
    with pytest.raises(ForecastingError, match="monthly pandas.PeriodIndex"):
        holiday_regressors(pd.date_range("2010-01-01", periods=3, freq="MS"))
    with pytest.raises(ForecastingError, match="1949-01..2050-12"):
        holiday_regressors(pd.period_range("2050-06", "2051-03", freq="M"))
    with pytest.raises(ForecastingError, match="start <= end"):
        HolidayWindow("bad", start=3, end=1)
    with pytest.raises(ForecastingError, match="at most 20 characters"):
        HolidayWindow("spring festival before")
    with pytest.raises(ForecastingError, match="festival must be one of"):
        HolidayWindow("lantern", festival="lantern")


def test_make_up_working_day_counts_as_working():
    # 2024: Spring Festival off 10-17 Feb; Sunday 4 Feb and Sunday 18 Feb are make-up working days (调休)
    table = official_holidays()
    makeup = table.loc[~table["off"], "date"]
    assert pd.Timestamp("2024-02-04") in set(makeup)
    assert pd.Timestamp("2024-02-04").day_of_week == 6
    feb = working_days(pd.period_range("2024-02", "2024-02", freq="M"))
    weekdays = int(np.sum(pd.date_range("2024-02-01", "2024-02-29").day_of_week < 5))
    off_weekdays = 5  # Mon 12 .. Fri 16 Feb
    assert feb.iloc[0] == weekdays - off_weekdays + 2 == 18


def test_working_days_known_months():
    counts = working_days(pd.period_range("2024-01", "2024-12", freq="M"))
    assert counts.tolist() == [22, 18, 21, 22, 21, 19, 23, 22, 21, 19, 21, 22]
    assert counts.sum() == 251


def test_working_day_regressor_is_calendar_centred_on_the_table_years():
    reg = working_day_regressor(pd.period_range("2007-01", "2026-12", freq="M"))
    assert np.abs(reg.groupby(reg.index.month).mean()).max() < 1e-12


def test_years_outside_the_table_use_the_rule_and_warn():
    with pytest.warns(CalendarRuleWarning, match=r"2027-2028") as record:
        counts = working_days(pd.period_range("2027-01", "2028-12", freq="M"))
    assert record[0].filename == __file__
    assert statutory_holidays(2027)[0] == dt.date(2027, 1, 1)
    # 2027 Spring Festival is 6 Feb (Saturday): eve Fri 5, days 6-8 -> weekday holidays Fri 5, Mon 8
    assert festival_dates()[2027] == pd.Timestamp("2027-02-06")
    assert counts[pd.Period("2027-02", "M")] == 20 - 2
    # October: 1-3 Oct 2027 are Fri-Sun -> one weekday lost
    assert counts[pd.Period("2027-10", "M")] == 21 - 1


def test_qingming_rule_matches_the_table():
    table = official_holidays()
    qingming = table[table["off"] & table["name"].str.contains("清明")]
    for year in range(2008, 2027):
        rule_day = [d for d in statutory_holidays(year) if d.month == 4][0]
        assert pd.Timestamp(rule_day) in set(qingming["date"]), year


def test_calendar_regressors_all_columns():
    idx = pd.period_range("2015-01", "2020-12", freq="M")
    frame = calendar_regressors(idx, holidays=(*DEFAULT_HOLIDAYS, *LUNAR_HOLIDAYS),
                                extra={"covid": pd.Series(0.0, index=idx)})
    assert list(frame.columns) == ["sf_before", "sf_during", "sf_after", "dragon_boat", "mid_autumn",
                                   "working_days", "covid"]
    assert not frame.isna().any().any()


def test_rule_warning_points_at_the_caller():
    idx = pd.period_range("2030-01", "2030-12", freq="M")
    for func in (working_day_regressor, calendar_regressors):
        with pytest.warns(CalendarRuleWarning, match="2030") as record:
            func(idx)
        assert record[0].filename == __file__, func.__name__
